//! The reference tools the agent's probes are judged against, run across a
//! [`ShapedLink`]: `iperf3` for throughput, `fping` for latency and loss
//! (both Debian packages, installed by `.ci/run`).

use std::process::Output;

use anyhow::Context;

use crate::netns::{ShapedLink, Side};
use crate::stats;

/// Transfer direction, from the client's (the agent's) point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Server to client (`iperf3 -R`).
    Download,
    /// Client to server.
    Upload,
}

/// What `iperf3 -J` said about one run.
#[derive(Debug, Clone)]
pub struct Iperf3Result {
    /// Receiver-side goodput over the measured (non-omitted) seconds.
    pub mbps: f64,
    /// Receiver-side goodput of each stream.
    pub per_stream_mbps: Vec<f64>,
    /// TCP retransmissions seen by the sender.
    pub retransmits: u64,
    /// CPU use of the client and server processes, in percent of one core
    /// summed over cores: iperf3's own view of whether it was CPU-bound.
    pub cpu_client_pct: f64,
    pub cpu_server_pct: f64,
}

/// `iperf3 -c <server> -P streams [-R] -t seconds -O omit -J` from the
/// client namespace; needs [`ShapedLink::spawn_iperf3_server`] first.
pub fn iperf3(
    link: &ShapedLink,
    direction: Direction,
    streams: u32,
    seconds: u32,
    omit: u32,
) -> anyhow::Result<Iperf3Result> {
    let mut command = link.command_in(Side::Client, "iperf3");
    command
        .args(["-c", &link.server_addr.to_string()])
        .args(["-P", &streams.to_string()])
        .args(["-t", &seconds.to_string()])
        .args(["-O", &omit.to_string()])
        .arg("-J");
    if direction == Direction::Download {
        command.arg("-R");
    }
    let output = command.output().context("Failed to run iperf3")?;
    parse_iperf3(&output)
}

fn parse_iperf3(output: &Output) -> anyhow::Result<Iperf3Result> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "iperf3 printed no JSON: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    if let Some(error) = json.get("error") {
        anyhow::bail!("iperf3 failed: {error}");
    }
    let end = &json["end"];
    let bits = |v: &serde_json::Value| v["bits_per_second"].as_f64().unwrap_or(0.0) / 1e6;
    let per_stream_mbps = end["streams"]
        .as_array()
        .map(|streams| streams.iter().map(|s| bits(&s["receiver"])).collect())
        .unwrap_or_default();
    Ok(Iperf3Result {
        mbps: bits(&end["sum_received"]),
        per_stream_mbps,
        retransmits: end["sum_sent"]["retransmits"].as_u64().unwrap_or(0),
        cpu_client_pct: end["cpu_utilization_percent"]["host_total"]
            .as_f64()
            .unwrap_or(0.0),
        cpu_server_pct: end["cpu_utilization_percent"]["remote_total"]
            .as_f64()
            .unwrap_or(0.0),
    })
}

/// What `fping -C` measured: one entry per probe, `None` for a lost one.
#[derive(Debug, Clone)]
pub struct FpingResult {
    pub rtts_ms: Vec<Option<f64>>,
}

impl FpingResult {
    pub fn sent(&self) -> usize {
        self.rtts_ms.len()
    }

    pub fn received(&self) -> usize {
        self.rtts_ms.iter().flatten().count()
    }

    pub fn loss_pct(&self) -> f64 {
        100.0 * (self.sent() - self.received()) as f64 / self.sent().max(1) as f64
    }

    pub fn median_ms(&self) -> Option<f64> {
        stats::median(self.rtts_ms.iter().flatten().copied().collect())
    }
}

/// `fping -C count -p period -t timeout -q <server>` from the client
/// namespace.
///
/// The timeout must be given: in count mode fping 5 lowers its default
/// timeout to the period, so with `-p 20` every reply slower than 20 ms is
/// counted lost (what the linkemu README saw as "fping -p 20 lost every
/// reply" on a 30 ms link).
pub fn fping(
    link: &ShapedLink,
    count: u32,
    period_ms: u32,
    timeout_ms: u32,
) -> anyhow::Result<FpingResult> {
    let output = link
        .command_in(Side::Client, "fping")
        .args(["-C", &count.to_string()])
        .args(["-p", &period_ms.to_string()])
        .args(["-t", &timeout_ms.to_string()])
        // Its packets' size tells them from the agent's on the wire.
        .args(["-b", &crate::echo_loss::FPING_PAYLOAD.to_string()])
        .arg("-q")
        .arg(link.server_addr.to_string())
        .output()
        .context("Failed to run fping")?;
    // -C prints "<host> : 20.1 - 19.8 ..." on stderr; exit status 1 when
    // some probes were lost, which is expected here.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains(" : "))
        .with_context(|| format!("fping printed no per-probe line: {stderr}"))?;
    let (_, values) = line.split_once(" : ").context("fping line")?;
    let rtts_ms = values
        .split_whitespace()
        .map(|v| if v == "-" { None } else { v.parse().ok() })
        .collect::<Vec<_>>();
    anyhow::ensure!(
        rtts_ms.len() == count as usize,
        "fping reported {} of {count} probes: {line}",
        rtts_ms.len()
    );
    Ok(FpingResult { rtts_ms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    #[test]
    fn iperf3_json_gives_receiver_goodput_per_stream() {
        let stdout = br#"{"end":{"streams":[{"receiver":{"bits_per_second":4.0e7}},
            {"receiver":{"bits_per_second":6.0e7}}],
            "sum_received":{"bits_per_second":1.0e8},
            "sum_sent":{"bits_per_second":1.01e8,"retransmits":3},
            "cpu_utilization_percent":{"host_total":5.0,"remote_total":7.5}}}"#;
        let output = Output {
            status: ExitStatus::from_raw(0),
            stdout: stdout.to_vec(),
            stderr: Vec::new(),
        };
        let result = parse_iperf3(&output).expect("parses");
        assert_eq!(result.mbps, 100.0);
        assert_eq!(result.per_stream_mbps, vec![40.0, 60.0]);
        assert_eq!(result.retransmits, 3);
    }

    #[test]
    fn iperf3_error_is_an_error() {
        let output = Output {
            status: ExitStatus::from_raw(256),
            stdout: br#"{"start":{},"error":"unable to connect to server"}"#.to_vec(),
            stderr: Vec::new(),
        };
        assert!(parse_iperf3(&output).is_err());
    }
}
