//! The agent's line probes next to the reference tools on one
//! [`ShapedLink`], as the shaped-link tests and the `kiemke-probe-bench`
//! benchmark both run them: the real server in the server namespace, the
//! real agent binary in the client namespace, `iperf3`/`fping` on the same
//! link in the same run. Returns figures; judging them is the caller's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use kiemke_shared::probes::{PingResult, SpeedResult};
use serde::de::DeserializeOwned;

use crate::baseline::{self, Direction, Iperf3Result};
use crate::echo_loss::{self, EchoLoss, Ledger};
use crate::netns::{ShapedLink, Side};
use crate::server::ServerProcess;
use crate::stats::{diff_pct, median};

/// The binaries under test (cargo's `CARGO_BIN_EXE_*` in tests, the
/// benchmark's siblings otherwise).
#[derive(Debug, Clone)]
pub struct Binaries {
    pub agent: PathBuf,
    pub server: PathBuf,
}

impl Binaries {
    /// "debug" or "release", from the agent's path: stated with every
    /// figure, since the agent's CPU cost differs.
    pub fn profile(&self) -> &'static str {
        if self.agent.components().any(|c| c.as_os_str() == "release") {
            "release"
        } else {
            "debug"
        }
    }
}

/// The real server in the link's server namespace, on its link address.
pub struct ServerInNs {
    server: ServerProcess,
    /// The server's sled, removed with it.
    _data: tempfile::TempDir,
}

impl ServerInNs {
    pub fn start(link: &ShapedLink, server_bin: &Path) -> anyhow::Result<ServerInNs> {
        let data = tempfile::tempdir()?;
        // Plain HTTP on the test link, explicitly: the measurement compares
        // goodput with iperf3's (unencrypted) on a 2-core machine.
        let mut command = link.command_in(Side::Server, server_bin);
        command.env("KIEMKE_SERVER_INSECURE_HTTP", "true");
        let server =
            ServerProcess::start_command(command, data.path(), &format!("{}:0", link.server_addr))?;
        Ok(ServerInNs {
            server,
            _data: data,
        })
    }

    pub fn url(&self) -> &str {
        &self.server.url
    }
}

/// Runs `kiemke-agent --lang en <args> --json` in the client namespace (as
/// root, or as `nobody`) and parses its JSON.
pub fn agent_json<T: DeserializeOwned>(
    link: &ShapedLink,
    agent_bin: &Path,
    unprivileged: bool,
    args: &[&str],
) -> anyhow::Result<T> {
    let mut command: Command = if unprivileged {
        link.command_unprivileged_in(Side::Client, agent_bin)
    } else {
        link.command_in(Side::Client, agent_bin)
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

/// Cores and load average, printed next to every figure: these
/// measurements share the machine with whatever else runs.
pub fn machine_note() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, load {}", load_average())
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a throughput comparison runs.
#[derive(Debug, Clone, Copy)]
pub struct ThroughputPlan {
    /// The agent's default stream counts; iperf3 mirrors them with `-P`.
    pub streams_down: u32,
    pub streams_up: u32,
    /// iperf3 runs `omit + seconds`; the agent `agent_duration` with its
    /// 2 s warm-up discarded: the same measured window after the same
    /// warm-up.
    pub iperf_seconds: u32,
    pub iperf_omit: u32,
    pub agent_duration: u32,
}

impl Default for ThroughputPlan {
    fn default() -> Self {
        ThroughputPlan {
            streams_down: 6,
            streams_up: 4,
            iperf_seconds: 6,
            iperf_omit: 2,
            agent_duration: 8,
        }
    }
}

/// iperf3 and the agent on one link, both directions.
pub struct ThroughputFigures {
    pub rate_mbit: f64,
    pub rtt_ms: f64,
    pub iperf_down: Iperf3Result,
    pub iperf_up: Iperf3Result,
    pub agent: SpeedResult,
    /// CPU seconds the wire's Python process used during the whole run.
    pub wire_cpu_s: Option<f64>,
    /// Wall-clock seconds of the whole run.
    pub wall_s: f64,
    /// [`machine_note`] at the end of the run.
    pub machine: String,
    /// [`load_average`] at the end of the run.
    pub load: String,
}

impl ThroughputFigures {
    pub fn agent_down(&self) -> f64 {
        self.agent.download_mbps.get()
    }

    pub fn agent_up(&self) -> f64 {
        self.agent.upload_mbps.get()
    }

    /// (direction, agent Mbit/s, iperf3) for both directions.
    pub fn pairs(&self) -> [(&'static str, f64, &Iperf3Result); 2] {
        [
            ("download", self.agent_down(), &self.iperf_down),
            ("upload", self.agent_up(), &self.iperf_up),
        ]
    }

    /// A readable account: per-direction figures, per-stream iperf3,
    /// per-second agent percentiles, CPU.
    pub fn report(&self, profile: &str) -> String {
        let a = &self.agent;
        let mut out = format!(
            "shaped {} Mbit/s, RTT {} ms ({}, {profile} build; wire CPU {}):\n",
            self.rate_mbit,
            self.rtt_ms,
            self.machine,
            self.wire_cpu_s.map_or("?".to_owned(), |s| format!(
                "{s:.1} s in {:.0} s",
                self.wall_s
            )),
        );
        for ((way, agent, iperf), per_second) in self
            .pairs()
            .into_iter()
            .zip([&a.download_per_second_mbps, &a.upload_per_second_mbps])
        {
            out += &format!(
                "  {way:<8}: agent {agent:7.2} Mbit/s (per second p10/p50/p90 {:.1}/{:.1}/{:.1}), \
                 iperf3 {:7.2} Mbit/s (streams {:?}, {} retransmits, cpu client {:.0} % server {:.0} %), \
                 agent/iperf3 {:+.2} %, agent/rate {:.1} %\n",
                per_second.p10,
                per_second.p50,
                per_second.p90,
                iperf.mbps,
                iperf
                    .per_stream_mbps
                    .iter()
                    .map(|m| (m * 10.0).round() / 10.0)
                    .collect::<Vec<_>>(),
                iperf.retransmits,
                iperf.cpu_client_pct,
                iperf.cpu_server_pct,
                diff_pct(agent, iperf.mbps),
                100.0 * agent / self.rate_mbit,
            );
        }
        out += &format!(
            "  agent latency idle {} ms, loaded {} ms; measured {} s down / {} s up after {} s warm-up\n",
            a.latency_idle_ms.map_or("-".into(), |v| format!("{v:.1}")),
            a.latency_loaded_ms
                .map_or("-".into(), |v| format!("{v:.1}")),
            a.measured_down_s,
            a.measured_up_s,
            a.warmup_s
        );
        out
    }
}

/// iperf3 down, the agent (down then up) against the real server, iperf3
/// up, on `link`: each direction's two measurements as close in time as
/// they can be, so that both see the same machine load.
pub fn throughput(
    link: &ShapedLink,
    bins: &Binaries,
    plan: ThroughputPlan,
) -> anyhow::Result<ThroughputFigures> {
    let started = std::time::Instant::now();
    let wire_cpu_before = link.wire_cpu_seconds();
    let iperf_server = link.spawn_iperf3_server()?;
    let iperf_down = baseline::iperf3(
        link,
        Direction::Download,
        plan.streams_down,
        plan.iperf_seconds,
        plan.iperf_omit,
    )?;
    let server = ServerInNs::start(link, &bins.server)?;
    let agent: SpeedResult = agent_json(
        link,
        &bins.agent,
        false,
        &[
            "probe",
            "speed",
            "--server",
            server.url(),
            "--streams-down",
            &plan.streams_down.to_string(),
            "--streams-up",
            &plan.streams_up.to_string(),
            "--duration",
            &plan.agent_duration.to_string(),
        ],
    )?;
    let iperf_up = baseline::iperf3(
        link,
        Direction::Upload,
        plan.streams_up,
        plan.iperf_seconds,
        plan.iperf_omit,
    )?;
    drop(iperf_server);
    let wire_cpu_s = wire_cpu_before
        .zip(link.wire_cpu_seconds())
        .map(|(before, after)| after - before);
    Ok(ThroughputFigures {
        rate_mbit: link.spec.rate_mbit.unwrap_or(f64::NAN),
        rtt_ms: 2.0 * link.spec.delay_ms,
        iperf_down,
        iperf_up,
        agent,
        wire_cpu_s,
        wall_s: started.elapsed().as_secs_f64(),
        machine: machine_note(),
        load: load_average(),
    })
}

/// One burst's figures, from the agent or from fping.
#[derive(Debug, Clone)]
pub struct Burst {
    pub label: String,
    pub sent: u64,
    pub received: u64,
    pub loss_pct: f64,
    pub median_ms: f64,
    pub jitter_ms: Option<f64>,
}

impl Burst {
    fn from_agent(label: &str, r: &PingResult) -> Burst {
        Burst {
            label: label.to_owned(),
            sent: r.sent.into(),
            received: r.received.into(),
            loss_pct: r.loss_pct,
            median_ms: r.rtt_ms.as_ref().map_or(f64::NAN, |rtt| rtt.median),
            jitter_ms: r.jitter_ms,
        }
    }

    pub fn line(&self) -> String {
        format!(
            "{:<26} sent {} received {} loss {:.2} %, median {:.2} ms, jitter {}",
            self.label,
            self.sent,
            self.received,
            self.loss_pct,
            self.median_ms,
            self.jitter_ms
                .map_or("-".to_owned(), |j| format!("{j:.2} ms"))
        )
    }
}

/// One agent burst and the fping burst run beside it, with what the wire
/// did to each one's requests.
pub struct SideBySide {
    pub result: PingResult,
    pub agent: Burst,
    pub fping: Burst,
    /// The agent's requests: dropped on purpose, received by the server.
    pub agent_wire: Ledger,
    /// fping's.
    pub fping_wire: Ledger,
}

/// A ping burst's shape.
#[derive(Debug, Clone, Copy)]
pub struct PingPlan {
    pub count: u32,
    pub interval_ms: u32,
    pub timeout_ms: u32,
}

/// The agent's ICMP burst to the server address (as root or as `nobody`)
/// and fping's, at the same time, so that both see the same link and the
/// same machine load (the wire's Python loop is delayed by whatever else
/// runs: medians measured a minute apart differed by up to 0.8 ms here).
/// `loss` drops a known share of each one's requests and counts what the
/// server received of each ([`crate::echo_loss`]).
pub fn ping_side_by_side(
    link: &ShapedLink,
    loss: &EchoLoss,
    bins: &Binaries,
    label: &str,
    unprivileged: bool,
    plan: PingPlan,
) -> anyhow::Result<SideBySide> {
    let before = (
        loss.ledger(link, echo_loss::AGENT)?,
        loss.ledger(link, echo_loss::FPING)?,
    );
    let (agent, fping) = std::thread::scope(|scope| {
        let fping =
            scope.spawn(|| baseline::fping(link, plan.count, plan.interval_ms, plan.timeout_ms));
        let agent: anyhow::Result<PingResult> = agent_json(
            link,
            &bins.agent,
            unprivileged,
            &[
                "probe",
                "ping",
                &link.server_addr.to_string(),
                "--count",
                &plan.count.to_string(),
                "--interval-ms",
                &plan.interval_ms.to_string(),
                "--timeout-ms",
                &plan.timeout_ms.to_string(),
                "--method",
                "icmp",
            ],
        );
        let fping = fping
            .join()
            .map_err(|_| anyhow::anyhow!("fping thread panicked"))
            .and_then(|r| r);
        (agent, fping)
    });
    let (agent, fping) = (agent?, fping?);
    let agent_wire = loss.ledger(link, echo_loss::AGENT)? - before.0;
    let fping_wire = loss.ledger(link, echo_loss::FPING)? - before.1;
    let rtts: Vec<f64> = fping.rtts_ms.iter().flatten().copied().collect();
    let fping_burst = Burst {
        label: "fping, alongside".to_owned(),
        sent: fping.sent() as u64,
        received: fping.received() as u64,
        loss_pct: fping.loss_pct(),
        median_ms: median(rtts.clone()).unwrap_or(f64::NAN),
        jitter_ms: mean_abs_diff(&rtts),
    };
    Ok(SideBySide {
        agent: Burst::from_agent(label, &agent),
        result: agent,
        fping: fping_burst,
        agent_wire,
        fping_wire,
    })
}

/// The agent's jitter definition (mean absolute difference of consecutive
/// RTTs), for fping's RTTs.
pub fn mean_abs_diff(rtts: &[f64]) -> Option<f64> {
    (rtts.len() >= 2).then(|| {
        rtts.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (rtts.len() - 1) as f64
    })
}
