//! The agent's line probes against the real server across shaped links
//! (issue 3, "Validation against real peers"): two network namespaces joined
//! by `linkemu` ([`kiemke_tests::netns`]), the server in one, the agent
//! binary in the other, and `iperf3` / `fping` on the same link in the same
//! test as the reference ([`kiemke_tests::measure`]). Needs root (CI runs as
//! root); without it, or without `iperf3`/`fping`/`python3`/`nft`, these tests fail
//! and say what is missing.
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

use std::sync::{Mutex, MutexGuard};

use kiemke_tests::measure::Binaries;

use crate::{agent_bin, server_bin};

/// Held by every test that moves much data, for its whole run.
static SERIAL: Mutex<()> = Mutex::new(());

/// One measuring test at a time; a failed (panicked) test does not block
/// the others.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The binaries cargo built for this test run.
fn binaries() -> Binaries {
    Binaries {
        agent: agent_bin().to_owned(),
        server: server_bin().to_owned(),
    }
}
