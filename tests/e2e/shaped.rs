//! The agent's line probes against the real server across shaped links
//! (issue 3, "Validation against real peers"): two network namespaces joined
//! by `linkemu` ([`kiemke_tests::netns`]), the server in one, the agent
//! binary in the other, and `iperf3` / `fping` on the same link in the same
//! test as the reference. Needs root (CI runs as root); without it, or
//! without `iperf3`/`fping`/`python3`, these tests fail and say what is
//! missing.
//!
//! The tests run one at a time ([`serial`]): two throughput tests at once on
//! two cores would measure each other. Figures are printed before any
//! assertion (`cargo test shaped -- --nocapture` shows them).
//!
//! - [`throughput`]: 50/100/200 Mbit/s, agent vs iperf3 both ways; one
//!   stream vs many on a lossy long link.
//! - [`ping`]: latency and loss vs the link and vs fping, ICMP via raw and
//!   datagram sockets, and the TCP fallback.

mod ping;
mod throughput;

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use anyhow::Context;
use kiemke_tests::netns::{ShapedLink, Side};
use kiemke_tests::server::ServerProcess;
use serde::de::DeserializeOwned;

use crate::{agent_bin, server_bin};

/// Held by every shaped test for its whole run.
static SERIAL: Mutex<()> = Mutex::new(());

/// One shaped test at a time; a failed (panicked) test does not block the
/// others.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The real server in the link's server namespace, on its link address.
struct ServerInNs {
    server: ServerProcess,
    /// The server's sled, removed when the test ends.
    _data: tempfile::TempDir,
}

impl ServerInNs {
    fn start(link: &ShapedLink) -> anyhow::Result<ServerInNs> {
        let data = tempfile::tempdir()?;
        let server = ServerProcess::start_with(
            link.command_in(Side::Server, server_bin()),
            data.path(),
            &format!("{}:0", link.server_addr),
        )?;
        Ok(ServerInNs {
            server,
            _data: data,
        })
    }

    fn url(&self) -> &str {
        &self.server.url
    }
}

/// Runs `kiemke-agent <args> --json` in the client namespace (as root, or as
/// `nobody`) and parses its JSON.
fn agent_json<T: DeserializeOwned>(
    link: &ShapedLink,
    unprivileged: bool,
    args: &[&str],
) -> anyhow::Result<T> {
    let mut command: Command = if unprivileged {
        link.command_unprivileged_in(Side::Client, agent_bin())
    } else {
        link.command_in(Side::Client, agent_bin())
    };
    command.args(["--lang", "en"]).args(args).arg("--json");
    if std::env::var_os("TEST_LOG").is_none() {
        command.env("RUST_LOG", "warn");
    }
    let output = command
        .output()
        .with_context(|| format!("Failed to run the agent: {command:?}"))?;
    anyhow::ensure!(
        output.status.success(),
        "agent {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "agent printed no JSON: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Load average and core count, printed next to every figure: these
/// measurements share two cores with whatever else runs.
fn machine_note() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cores} cores, load {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The profile of the binaries under test (debug unless `cargo test
/// --release`), stated with the figures: the agent's CPU cost differs.
fn build_profile() -> &'static str {
    if Path::new(env!("CARGO_BIN_EXE_kiemke-agent-e2e"))
        .components()
        .any(|c| c.as_os_str() == "release")
    {
        "release"
    } else {
        "debug"
    }
}
