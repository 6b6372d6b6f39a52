//! Line probes: what the agent measures about the line this PC uses.
//!
//! Plain async functions, so the CLI (`kiemke-agent probe ...`), the daemon
//! and the tests call the same code:
//! - [`run_ping`]: one burst of probes to one target: ICMP echo when the OS
//!   lets us ([`ping`]), else TCP-connect or HTTP round trips
//!   ([`rtt_fallback`]), labelled in the result; summarised by [`stats`].
//! - [`speed::run`]: a multi-stream download-then-upload throughput test
//!   against our server or a LibreSpeed server ([`speed`]), with the
//!   interface used and its counters ([`link`]).
//! - [`gateway::default_gateway`]: the default gateway, a daemon target.
//! - [`target`]: what a probe may aim at (IP, host name, URL).
//! - [`render`]: the readable output of `probe ping` / `probe speed`.
//!
//! Results are the wire types of [`kiemke_shared::probes`].

pub mod gateway;
pub mod link;
pub mod ping;
pub mod render;
pub mod rtt_fallback;
pub mod speed;
pub mod stats;
pub mod target;

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use kiemke_shared::Lang;
use kiemke_shared::probes::{PingResult, RttMethod, TargetRole};

pub use self::target::Target;

/// Named defaults and limits of a ping burst.
pub mod defaults {
    use std::time::Duration;

    /// 20 probes 200 ms apart: a 4-second burst, enough for a loss figure of
    /// 5 % resolution and a stable median, short enough to run every 5 min.
    pub const COUNT: u32 = 20;
    pub const INTERVAL: Duration = Duration::from_millis(200);
    /// A reply later than this is counted as lost (satellite links aside,
    /// nothing a commune office uses takes a second).
    pub const TIMEOUT: Duration = Duration::from_millis(1000);
    pub const MAX_COUNT: u32 = 10_000;
    /// Below 10 ms a burst becomes a flood on a slow line.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(10);
    pub const MAX_INTERVAL: Duration = Duration::from_secs(60);
    pub const MIN_TIMEOUT: Duration = Duration::from_millis(10);
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
    /// The TCP port tried for a target without one when ICMP is not allowed.
    pub const FALLBACK_PORT: u16 = 443;
}

/// How to measure round trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MethodChoice {
    /// ICMP if the OS allows it, else TCP connect.
    #[default]
    Auto,
    Icmp,
    TcpConnect,
    Http,
}

impl std::str::FromStr for MethodChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(MethodChoice::Auto),
            "icmp" => Ok(MethodChoice::Icmp),
            "tcp" | "tcp-connect" => Ok(MethodChoice::TcpConnect),
            "http" => Ok(MethodChoice::Http),
            _ => Err(format!(
                "phương thức không hỗ trợ / unsupported method: {s} (auto, icmp, tcp, http)"
            )),
        }
    }
}

/// One burst's settings.
#[derive(Debug, Clone)]
pub struct PingOptions {
    pub count: u32,
    pub interval: Duration,
    pub timeout: Duration,
    pub method: MethodChoice,
    /// TCP port for the fallback when the target does not name one.
    pub port: Option<u16>,
    pub role: Option<TargetRole>,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: defaults::COUNT,
            interval: defaults::INTERVAL,
            timeout: defaults::TIMEOUT,
            method: MethodChoice::Auto,
            port: None,
            role: None,
        }
    }
}

/// Why a probe could not run at all (a lost reply is not an error, it is
/// a measurement).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{what} must be between {min} and {max}, got {got}")]
    OutOfRange {
        what: &'static str,
        min: u64,
        max: u64,
        got: u64,
    },
    #[error("invalid target {0:?}")]
    BadTarget(String),
    #[error("cannot resolve {host}: {cause}")]
    Resolve { host: String, cause: String },
    #[error("ICMP is not permitted here: {0}")]
    IcmpNotPermitted(String),
    #[error("HTTP probes need an http:// or https:// target")]
    HttpNeedsUrl,
    #[error("network error: {0}")]
    Network(String),
    #[error("the test server refused the test: {0}")]
    ServerRefused(String),
}

impl ProbeError {
    /// The message a user reads.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (
                ProbeError::OutOfRange {
                    what,
                    min,
                    max,
                    got,
                },
                Lang::Vi,
            ) => {
                let what = match *what {
                    "count" => "Số gói (--count)",
                    "interval-ms" => "Khoảng cách giữa các gói (--interval-ms)",
                    "timeout-ms" => "Thời gian chờ (--timeout-ms)",
                    "streams" => "Số luồng (--streams)",
                    "duration" => "Thời gian đo (--duration)",
                    other => other,
                };
                format!("{what} phải trong khoảng {min}–{max}, nhận được {got}")
            }
            (ProbeError::BadTarget(t), Lang::Vi) => format!(
                "Địa chỉ đích {t:?} không hợp lệ: hãy nhập tên máy, địa chỉ IP hoặc URL http(s)://"
            ),
            (ProbeError::Resolve { host, cause }, Lang::Vi) => {
                format!("Không phân giải được tên {host} (kiểm tra DNS hoặc tên máy): {cause}")
            }
            (ProbeError::IcmpNotPermitted(cause), Lang::Vi) => format!(
                "Hệ điều hành không cho gửi gói ICMP (cần quyền quản trị, hoặc bật net.ipv4.ping_group_range trên Linux); dùng --method tcp để đo bằng kết nối TCP: {cause}"
            ),
            (ProbeError::HttpNeedsUrl, Lang::Vi) => {
                "Đo bằng HTTP cần địa chỉ dạng http:// hoặc https://".to_owned()
            }
            (ProbeError::Network(cause), Lang::Vi) => format!("Lỗi mạng: {cause}"),
            (ProbeError::ServerRefused(cause), Lang::Vi) => {
                format!("Máy chủ đo từ chối phép đo (thử lại sau): {cause}")
            }
            (_, Lang::En) => self.to_string(),
        }
    }
}

/// Checks a value against its limits.
pub fn check_range(what: &'static str, got: u64, min: u64, max: u64) -> Result<(), ProbeError> {
    if (min..=max).contains(&got) {
        Ok(())
    } else {
        Err(ProbeError::OutOfRange {
            what,
            min,
            max,
            got,
        })
    }
}

impl PingOptions {
    /// Refuses settings outside [`defaults`]' limits.
    pub fn check(&self) -> Result<(), ProbeError> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        check_range("count", self.count.into(), 1, defaults::MAX_COUNT.into())?;
        check_range(
            "interval-ms",
            ms(self.interval),
            ms(defaults::MIN_INTERVAL),
            ms(defaults::MAX_INTERVAL),
        )?;
        check_range(
            "timeout-ms",
            ms(self.timeout),
            ms(defaults::MIN_TIMEOUT),
            ms(defaults::MAX_TIMEOUT),
        )
    }
}

/// The replies of one burst, in the order the probes were sent: `Some(rtt
/// in ms)` for an answered probe, `None` for a lost one.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    pub method: RttMethod,
    pub port: Option<u16>,
    pub replies: Vec<Option<f64>>,
}

/// Pings `target` once with `options`, choosing and labelling the method.
pub async fn run_ping(target: &str, options: &PingOptions) -> Result<PingResult, ProbeError> {
    options.check()?;
    let parsed = Target::parse(target)?;
    let started_at = Utc::now();
    let address = parsed.resolve().await?;
    let burst = match options.method {
        MethodChoice::Icmp => ping::burst(address, options).await?,
        MethodChoice::TcpConnect => {
            let port = parsed
                .port()
                .or(options.port)
                .unwrap_or(defaults::FALLBACK_PORT);
            rtt_fallback::tcp_burst(address, port, options).await
        }
        MethodChoice::Http => {
            let url = parsed.url().ok_or(ProbeError::HttpNeedsUrl)?;
            rtt_fallback::http_burst(url, options).await?
        }
        MethodChoice::Auto => match ping::burst(address, options).await {
            Ok(burst) => burst,
            Err(ProbeError::IcmpNotPermitted(cause)) => {
                let port = parsed
                    .port()
                    .or(options.port)
                    .unwrap_or(defaults::FALLBACK_PORT);
                tracing::info!(%cause, port, "ICMP không được phép, đo bằng kết nối TCP / ICMP not permitted, using TCP connect");
                rtt_fallback::tcp_burst(address, port, options).await
            }
            Err(other) => return Err(other),
        },
    };
    Ok(summarize(target, Some(address), options, started_at, burst))
}

/// A burst that could not run (the name did not resolve): recorded by the
/// daemon as a total loss with the reason, since for the office it is one.
pub fn failed(target: &str, options: &PingOptions, error: &ProbeError) -> PingResult {
    PingResult {
        target: target.to_owned(),
        address: None,
        role: options.role,
        method: RttMethod::Icmp,
        port: None,
        started_at: Utc::now(),
        sent: 0,
        received: 0,
        loss_pct: 100.0,
        rtt_ms: None,
        jitter_ms: None,
        interval_ms: millis(options.interval),
        timeout_ms: millis(options.timeout),
        error: Some(error.to_string().chars().take(200).collect()),
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// Turns a burst into the wire result.
pub fn summarize(
    target: &str,
    address: Option<IpAddr>,
    options: &PingOptions,
    started_at: chrono::DateTime<Utc>,
    burst: Burst,
) -> PingResult {
    let rtts: Vec<f64> = burst.replies.iter().flatten().copied().collect();
    let sent = u32::try_from(burst.replies.len()).unwrap_or(u32::MAX);
    let received = u32::try_from(rtts.len()).unwrap_or(u32::MAX);
    PingResult {
        target: target.to_owned(),
        address: address.map(|a| a.to_string()),
        role: options.role,
        method: burst.method,
        port: burst.port,
        started_at,
        sent,
        received,
        loss_pct: stats::loss_pct(sent, received),
        rtt_ms: stats::rtt_summary(&rtts),
        jitter_ms: stats::jitter(&rtts),
        interval_ms: millis(options.interval),
        timeout_ms: millis(options.timeout),
        error: None,
    }
}

/// When probe `i` of a burst is due, relative to its start.
pub(crate) fn send_offset(interval: Duration, i: u32) -> Duration {
    interval.saturating_mul(i)
}

/// Milliseconds of a duration, as the wire's floating-point RTT.
pub(crate) fn ms_f64(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced_with_a_readable_message() {
        let bad = [
            PingOptions {
                count: 0,
                ..PingOptions::default()
            },
            PingOptions {
                count: 10_001,
                ..PingOptions::default()
            },
            PingOptions {
                interval: Duration::from_millis(5),
                ..PingOptions::default()
            },
            PingOptions {
                timeout: Duration::from_secs(61),
                ..PingOptions::default()
            },
        ];
        for options in bad {
            let err = options.check().expect_err("out of range");
            assert!(err.message(Lang::Vi).contains("phải trong khoảng"), "{err}");
        }
        assert!(PingOptions::default().check().is_ok());
    }

    #[test]
    fn a_burst_is_summarised() {
        let burst = Burst {
            method: RttMethod::TcpConnect,
            port: Some(443),
            replies: vec![Some(10.0), None, Some(12.0), Some(11.0)],
        };
        let r = summarize(
            "example.invalid",
            None,
            &PingOptions::default(),
            Utc::now(),
            burst,
        );
        assert_eq!((r.sent, r.received), (4, 3));
        assert!((r.loss_pct - 25.0).abs() < 1e-9);
        assert_eq!(r.method, RttMethod::TcpConnect);
        assert_eq!(r.rtt_ms.map(|s| s.median), Some(11.0));
        // |12 − 10| and |11 − 12|: the lost probe is skipped.
        assert_eq!(r.jitter_ms, Some(1.5));
    }

    #[test]
    fn nothing_received_means_null_rtt() {
        let burst = Burst {
            method: RttMethod::Icmp,
            port: None,
            replies: vec![None, None],
        };
        let r = summarize("10.0.0.1", None, &PingOptions::default(), Utc::now(), burst);
        assert_eq!(r.rtt_ms, None);
        assert_eq!(r.jitter_ms, None);
        assert!((r.loss_pct - 100.0).abs() < 1e-9);
        let json = serde_json::to_value(&r).expect("json");
        assert!(json["rtt_ms"].is_null());
    }
}
