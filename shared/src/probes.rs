//! The line-quality section of a report: ping bursts (latency, jitter, loss)
//! and throughput tests, as measured by the agent. The same types are what
//! `kiemke-agent probe ping --json` and `probe speed --json` print, so the
//! JSON keys are a public contract (see `docs/protocol.md`, "Probes").
//!
//! Units are in the key names: milliseconds (`_ms`), seconds (`_s`), decimal
//! megabits per second of TCP goodput (`_mbps`, 10^6 bit/s, no fudge factor).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Lang;
use crate::units::Mbps;

/// Everything one report carries about the line. A report may batch several
/// bursts and tests (the agent sends probe results in batches, not one
/// report per burst).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Probes {
    /// Ping bursts, oldest first.
    #[serde(default)]
    pub pings: Vec<PingResult>,
    /// Throughput tests, oldest first.
    #[serde(default)]
    pub speed_tests: Vec<SpeedResult>,
}

impl Probes {
    pub fn is_empty(&self) -> bool {
        self.pings.is_empty() && self.speed_tests.is_empty()
    }
}

/// How round-trip times were measured. Only `icmp` is a ping in the usual
/// sense; the fallbacks measure a TCP handshake or an HTTP exchange, which
/// include the far end's accept/response time and are labelled so nobody
/// compares them with ICMP figures unknowingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RttMethod {
    /// ICMP echo (datagram socket unprivileged on Linux, raw socket as root
    /// or on Windows).
    Icmp,
    /// Time to complete a TCP handshake (connect) to `port`.
    TcpConnect,
    /// Time of an HTTP request on an already open connection.
    Http,
}

impl RttMethod {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            RttMethod::Icmp => "ICMP",
            RttMethod::TcpConnect => lang.pick("kết nối TCP", "TCP connect"),
            RttMethod::Http => "HTTP",
        }
    }
}

/// Why a probe target was pinged: lets the server tell the PC's own LAN
/// (gateway) from the line (the province server, public services).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetRole {
    /// The default gateway: the office LAN and router.
    Gateway,
    /// The Kiểm kê province server the agent reports to.
    Server,
    /// A target from the agent's configuration (DNS, data center, portals).
    Configured,
    /// Run by hand from the command line.
    Manual,
}

/// Round-trip time summary of the replies received, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RttSummary {
    pub min: f64,
    pub median: f64,
    pub p95: f64,
    pub max: f64,
}

/// One burst of probes to one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingResult {
    /// The target as given: host name, IP address, or URL.
    pub target: String,
    /// The address actually probed; `null` when the name did not resolve.
    #[serde(default)]
    pub address: Option<String>,
    /// Why this target (absent from older agents and from `probe ping`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<TargetRole>,
    pub method: RttMethod,
    /// The TCP port for `tcp-connect` and `http`; `null` for ICMP.
    #[serde(default)]
    pub port: Option<u16>,
    pub started_at: DateTime<Utc>,
    /// Probes sent.
    pub sent: u32,
    /// Probes answered within the timeout (duplicates not counted).
    pub received: u32,
    /// `100 × (sent − received) / sent`; 100 when nothing could be sent.
    pub loss_pct: f64,
    /// `null` when nothing was received.
    pub rtt_ms: Option<RttSummary>,
    /// Mean absolute difference of consecutive RTTs (RFC 3550 style, without
    /// smoothing); `null` with fewer than two replies.
    pub jitter_ms: Option<f64>,
    pub interval_ms: u32,
    pub timeout_ms: u32,
    /// Why the burst could not run normally, e.g. the name did not resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Which API a throughput server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpeedApi {
    /// Our server's `/api/v1/speedtest/{garbage,empty,ip}`.
    Kiemke,
    /// A LibreSpeed server's `/garbage`, `/empty`, `/getIP` (or
    /// `backend/*.php`).
    Librespeed,
}

/// Why a test started: scheduled tests are spread outside office hours;
/// on-demand ones were asked for by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpeedTrigger {
    Manual,
    Scheduled,
    OnDemand,
}

/// Per-second throughput percentiles over the measured window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerSecond {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// What kept a throughput test from showing the line's capacity, when the
/// agent can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitedBy {
    /// The PC's own network card or Wi-Fi: its link speed is below the
    /// target, or the test ran at the link speed.
    PcLink,
    /// Other traffic on the interface during the test: the line was shared.
    BusyLine,
    /// The test server ended or refused streams (its caps, or its own line).
    Server,
}

impl LimitedBy {
    /// A sentence for the person reading the result.
    pub fn explain(self, lang: Lang) -> &'static str {
        match self {
            LimitedBy::PcLink => lang.pick(
                "Card mạng hoặc Wi-Fi của máy này chậm hơn mức cần đo: kết quả phản ánh máy tính, không phải đường truyền.",
                "This PC's network card or Wi-Fi is slower than what was to be measured: the result reflects the PC, not the line.",
            ),
            LimitedBy::BusyLine => lang.pick(
                "Trong lúc đo có nhiều lưu lượng khác trên mạng của máy: đường truyền đang bận, kết quả thấp hơn khả năng thực.",
                "Much other traffic crossed this PC's interface during the test: the line was busy, so the result is below its capacity.",
            ),
            LimitedBy::Server => lang.pick(
                "Máy chủ đo đã ngắt hoặc từ chối một số luồng: giới hạn nằm ở phía máy chủ.",
                "The test server ended or refused some streams: the limit is at the server end.",
            ),
        }
    }
}

/// One throughput test: download, then upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedResult {
    /// The server's base URL.
    pub server: String,
    pub api: SpeedApi,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<SpeedTrigger>,
    pub started_at: DateTime<Utc>,
    /// Goodput over the measured window (after warm-up), all streams.
    pub download_mbps: Mbps,
    pub upload_mbps: Mbps,
    pub streams_down: u32,
    pub streams_up: u32,
    /// Requested length of each direction, warm-up included.
    pub duration_s: f64,
    /// Warm-up discarded at the start of each direction.
    pub warmup_s: f64,
    /// Length of the measured window of each direction.
    pub measured_down_s: f64,
    pub measured_up_s: f64,
    /// Body bytes moved in each direction, warm-up included.
    pub bytes_down: u64,
    pub bytes_up: u64,
    /// Of those, the bytes inside the measured window (what the Mbps are
    /// computed from: `bytes × 8 / measured_s / 10^6`).
    pub measured_bytes_down: u64,
    pub measured_bytes_up: u64,
    /// Percentiles of the per-second throughput in the measured window.
    pub download_per_second_mbps: PerSecond,
    pub upload_per_second_mbps: PerSecond,
    /// Median RTT to the server before the transfer, and while loaded
    /// (bufferbloat shows as a large difference).
    pub latency_idle_ms: Option<f64>,
    pub latency_loaded_ms: Option<f64>,
    pub latency_method: Option<RttMethod>,
    /// The interface the traffic left by, its link speed and whether it is
    /// Wi-Fi, where the agent can tell.
    pub interface: Option<String>,
    pub link_mbps: Option<u32>,
    pub wireless: Option<bool>,
    /// The speed the test was judged against for `limited_by` (the site's
    /// target; 100 Mbps unless configured).
    pub target_mbps: Mbps,
    pub limited_by: Option<LimitedBy>,
    /// Bytes the interface counters saw in each direction during the test
    /// (ours included); `null` where counters are unavailable.
    #[serde(default)]
    pub interface_bytes_down: Option<u64>,
    #[serde(default)]
    pub interface_bytes_up: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        let cases = [
            (serde_json::to_value(RttMethod::TcpConnect), "tcp-connect"),
            (serde_json::to_value(LimitedBy::PcLink), "pc-link"),
            (serde_json::to_value(SpeedTrigger::OnDemand), "on-demand"),
            (serde_json::to_value(TargetRole::Gateway), "gateway"),
        ];
        for (value, want) in cases {
            assert_eq!(value.ok(), Some(serde_json::Value::from(want)));
        }
        for l in [LimitedBy::PcLink, LimitedBy::BusyLine, LimitedBy::Server] {
            assert_ne!(l.explain(Lang::Vi), l.explain(Lang::En));
        }
    }

    #[test]
    fn an_older_report_without_sections_decodes() {
        let p: Probes = serde_json::from_str("{}").expect("empty object");
        assert!(p.is_empty());
    }
}
