//! A throughput test: download, then upload, each over several parallel
//! TCP connections, against our server (`/api/v1/speedtest/...`) or any
//! LibreSpeed server (`/garbage`, `/empty`).
//!
//! Order of a test: find the interface the server is reached by and its
//! link speed ([`crate::probe::link`]); measure idle latency; download for
//! `duration` with `streams_down` staggered streams while measuring loaded
//! latency; the same for upload. Each direction's bytes are counted in
//! 100 ms buckets ([`meter`]); the warm-up is discarded and goodput is the
//! bytes of the remaining window over its length. Interface counters before
//! and after each direction tell whether other traffic shared the line.
//!
//! - [`transfer`]: the streams and the server paths.
//! - [`meter`]: buckets and the measured window.
//! - [`latency`]: idle and loaded RTT.

pub mod latency;
pub mod meter;
pub mod transfer;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kiemke_shared::Mbps;
use kiemke_shared::auth::AgentCredential;
use kiemke_shared::probes::{LimitedBy, SpeedApi, SpeedResult, SpeedTrigger};
use reqwest::Url;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use self::meter::{Meter, Window};
use self::transfer::Endpoints;
use super::{ProbeError, Target, check_range, link};
use crate::tls::ServerTrust;

/// Named defaults and limits of a throughput test.
pub mod defaults {
    use std::time::Duration;

    /// Several streams fill a line with some loss or a long RTT, where one
    /// TCP connection cannot; uploads need fewer (the office's upstream is
    /// usually the same size or smaller).
    pub const STREAMS_DOWN: u32 = 6;
    pub const STREAMS_UP: u32 = 4;
    pub const MAX_STREAMS: u32 = 32;
    /// Each direction lasts this long, warm-up included.
    pub const DURATION: Duration = Duration::from_secs(10);
    pub const MIN_DURATION: Duration = Duration::from_secs(4);
    pub const MAX_DURATION: Duration = Duration::from_secs(60);
    /// At least this much of each direction is discarded (slow start).
    pub const WARMUP: Duration = Duration::from_secs(2);
    /// Streams start this far apart, so their slow starts do not collide.
    pub const STAGGER: Duration = Duration::from_millis(100);
    /// Random data posted, sliced: larger than any compressor's window.
    pub const PAYLOAD_BYTES: usize = 8 << 20;
    /// The provincial target for commune lines.
    pub const TARGET_MBPS: f64 = 100.0;
    /// Interval of latency probes during the transfer.
    pub const LOADED_PROBE_INTERVAL: Duration = Duration::from_millis(250);
}

/// One test's settings.
#[derive(Debug, Clone)]
pub struct SpeedOptions {
    /// The server's base URL.
    pub server: Url,
    /// `None`: ask the server whether it is ours, else assume LibreSpeed.
    pub api: Option<SpeedApi>,
    pub streams_down: u32,
    pub streams_up: u32,
    pub duration: Duration,
    pub warmup: Duration,
    /// What the line should reach (for `limited_by`).
    pub target_mbps: f64,
    /// The agent's credential, sent (as on reports) only to the server it
    /// enrolled with, which then limits tests per agent rather than per
    /// address. `None` for any other server.
    pub credential: Option<AgentCredential>,
    /// How the server's certificate is checked (the enrolled server's
    /// pinned CA; the public CAs for others).
    pub trust: ServerTrust,
    pub trigger: Option<SpeedTrigger>,
}

impl SpeedOptions {
    pub fn new(server: Url) -> SpeedOptions {
        SpeedOptions {
            server,
            api: None,
            streams_down: defaults::STREAMS_DOWN,
            streams_up: defaults::STREAMS_UP,
            duration: defaults::DURATION,
            warmup: defaults::WARMUP,
            target_mbps: defaults::TARGET_MBPS,
            credential: None,
            trust: ServerTrust::System,
            trigger: None,
        }
    }

    pub fn check(&self) -> Result<(), ProbeError> {
        for streams in [self.streams_down, self.streams_up] {
            check_range("streams", streams.into(), 1, defaults::MAX_STREAMS.into())?;
        }
        check_range(
            "duration",
            self.duration.as_secs(),
            defaults::MIN_DURATION.as_secs(),
            defaults::MAX_DURATION.as_secs(),
        )
    }
}

/// Whether `base` is a Kiểm kê server (it answers our health endpoint).
pub async fn detect_api(base: &Url, trust: &ServerTrust) -> SpeedApi {
    let Ok(url) = base.join(kiemke_shared::protocol::HEALTH_PATH.trim_start_matches('/')) else {
        return SpeedApi::Librespeed;
    };
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(5));
    if let Ok(Some(tls)) = crate::tls::client_config(trust) {
        builder = builder.use_preconfigured_tls(tls);
    }
    let Ok(client) = builder.build() else {
        return SpeedApi::Librespeed;
    };
    let health = async {
        let response = client.get(url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json::<kiemke_shared::api::Health>().await.ok()
    };
    match health.await {
        Some(_) => SpeedApi::Kiemke,
        None => SpeedApi::Librespeed,
    }
}

/// What one direction measured.
struct Direction {
    meter: Arc<Meter>,
    window: Window,
    /// Bytes the interface counters saw in this direction meanwhile.
    interface_bytes: Option<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Down,
    Up,
}

/// Runs a test.
pub async fn run(options: &SpeedOptions) -> Result<SpeedResult, ProbeError> {
    options.check()?;
    let started_at = Utc::now();
    let ip = Target::Url(options.server.clone()).resolve().await?;
    let link = link::route_to(ip).await;
    let api = match options.api {
        Some(api) => api,
        None => detect_api(&options.server, &options.trust).await,
    };
    let endpoints = Endpoints::new(&options.server, api)?;
    tracing::info!(server = %options.server, ?api, interface = ?link.interface, link_mbps = ?link.link_mbps, "bắt đầu đo tốc độ / throughput test starting");

    let mut prober = latency::Prober::open(
        ip,
        endpoints.upload.clone(),
        &options.trust,
        options.credential.as_ref(),
    )
    .await;
    let idle = match prober.as_mut() {
        Some(p) => {
            let now = Instant::now();
            let rtts = p
                .rtts_between(
                    now,
                    now + Duration::from_secs(1),
                    Duration::from_millis(100),
                )
                .await;
            latency::median(&rtts)
        }
        None => None,
    };
    let payload = tokio::task::spawn_blocking(|| transfer::random_payload(defaults::PAYLOAD_BYTES))
        .await
        .map_err(|e| ProbeError::Network(e.to_string()))?;

    let mut loaded = Vec::new();
    let iface = link.interface.as_deref();
    // One id for both directions: the server counts them as one test.
    let tester = transfer::Tester {
        credential: options.credential.clone(),
        test: uuid::Uuid::new_v4(),
    };
    let down = direction(
        Way::Down,
        options,
        tester.clone(),
        &endpoints,
        &payload,
        &mut prober,
        &mut loaded,
        iface,
    )
    .await?;
    let up = direction(
        Way::Up,
        options,
        tester,
        &endpoints,
        &payload,
        &mut prober,
        &mut loaded,
        iface,
    )
    .await?;

    let busy = [(&down, Way::Down), (&up, Way::Up)].iter().any(|(d, _)| {
        d.interface_bytes
            .is_some_and(|seen| other_traffic(seen, d.meter.total()))
    });
    let limited_by = limited_by(
        down.meter.server_limited() || up.meter.server_limited(),
        link.link_mbps,
        options.target_mbps,
        down.window.mbps.max(up.window.mbps),
        busy,
    );
    Ok(SpeedResult {
        server: options.server.to_string(),
        api,
        trigger: options.trigger,
        started_at,
        download_mbps: Mbps::saturating(down.window.mbps),
        upload_mbps: Mbps::saturating(up.window.mbps),
        streams_down: options.streams_down,
        streams_up: options.streams_up,
        duration_s: options.duration.as_secs_f64(),
        warmup_s: down.window.warmup.max(up.window.warmup).as_secs_f64(),
        measured_down_s: down.window.measured.as_secs_f64(),
        measured_up_s: up.window.measured.as_secs_f64(),
        bytes_down: down.meter.total(),
        bytes_up: up.meter.total(),
        measured_bytes_down: down.window.bytes,
        measured_bytes_up: up.window.bytes,
        download_per_second_mbps: down.window.per_second,
        upload_per_second_mbps: up.window.per_second,
        latency_idle_ms: idle,
        latency_loaded_ms: latency::median(&loaded),
        latency_method: prober.as_ref().map(latency::Prober::method),
        interface: link.interface.clone(),
        link_mbps: link.link_mbps,
        wireless: link.wireless,
        target_mbps: Mbps::saturating(options.target_mbps),
        limited_by,
        interface_bytes_down: down.interface_bytes,
        interface_bytes_up: up.interface_bytes,
    })
}

#[allow(clippy::too_many_arguments)]
async fn direction(
    way: Way,
    options: &SpeedOptions,
    tester: transfer::Tester,
    endpoints: &Endpoints,
    payload: &bytes::Bytes,
    prober: &mut Option<latency::Prober>,
    loaded: &mut Vec<f64>,
    interface: Option<&str>,
) -> Result<Direction, ProbeError> {
    let streams = match way {
        Way::Down => options.streams_down,
        Way::Up => options.streams_up,
    };
    let before = interface.and_then(link::counters);
    let start = Instant::now() + Duration::from_millis(20);
    let deadline = start + options.duration;
    let meter = Arc::new(Meter::new(start.into_std(), options.duration));
    let mut tasks = JoinSet::new();
    for i in 0..streams {
        let client = transfer::stream_client(&options.trust)?;
        let start_at = start + defaults::STAGGER * i;
        let meter = meter.clone();
        let agent = tester.clone();
        match way {
            Way::Down => {
                let url = endpoints.download.clone();
                tasks.spawn(transfer::download(
                    client, url, agent, meter, start_at, deadline,
                ));
            }
            Way::Up => {
                let (url, api, data) = (endpoints.upload.clone(), endpoints.api, payload.clone());
                tasks.spawn(transfer::upload(
                    client, url, api, agent, meter, data, start_at, deadline,
                ));
            }
        }
    }
    match prober.as_mut() {
        Some(p) => {
            let from = start + options.warmup;
            loaded.extend(
                p.rtts_between(from, deadline, defaults::LOADED_PROBE_INTERVAL)
                    .await,
            );
        }
        None => sleep_until(deadline).await,
    }
    while tasks.join_next().await.is_some() {}
    let after = interface.and_then(link::counters);
    let interface_bytes = match (before, after, way) {
        (Some(b), Some(a), Way::Down) => Some(a.rx.saturating_sub(b.rx)),
        (Some(b), Some(a), Way::Up) => Some(a.tx.saturating_sub(b.tx)),
        _ => None,
    };
    if meter.total() == 0 {
        let cause = meter.first_error().unwrap_or("no data").to_owned();
        return Err(if meter.server_limited() {
            ProbeError::ServerRefused(cause)
        } else {
            ProbeError::Network(cause)
        });
    }
    let window = match (way, meter.last_acknowledged()) {
        // Uploads are counted when the server acknowledges them (see
        // `transfer`): the window runs to the last acknowledgement.
        (Way::Up, Some(end)) => {
            Window::until_acknowledged(&meter.snapshot(), options.warmup, meter.total(), end)
        }
        _ => Window::choose(&meter.snapshot(), options.warmup),
    };
    Ok(Direction {
        meter,
        window,
        interface_bytes,
    })
}

/// Whether the interface carried much more than our own test: more than a
/// quarter again, beyond protocol overhead (headers and ACKs are ~5 %), and
/// at least 1 MB.
pub fn other_traffic(interface_bytes: u64, ours: u64) -> bool {
    let others = interface_bytes.saturating_sub(ours) as f64;
    others > 0.25 * ours as f64 && others > 1e6
}

/// What limited a test, when the agent can tell. The server first (its
/// refusals are certain), then the PC's link (below the target, or run at
/// ≥ 90 % of its speed), then other traffic.
pub fn limited_by(
    server_limited: bool,
    link_mbps: Option<u32>,
    target_mbps: f64,
    best_mbps: f64,
    busy: bool,
) -> Option<LimitedBy> {
    if server_limited {
        return Some(LimitedBy::Server);
    }
    if let Some(link) = link_mbps.map(f64::from) {
        if link < target_mbps || best_mbps >= 0.9 * link {
            return Some(LimitedBy::PcLink);
        }
    }
    busy.then_some(LimitedBy::BusyLine)
}

/// The server host of a test, as an address (for the daemon's targets).
pub async fn server_address(server: &Url) -> Option<IpAddr> {
    Target::Url(server.clone()).resolve().await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let url: Url = "http://127.0.0.1:1/".parse().expect("url");
        let mut o = SpeedOptions::new(url);
        assert!(o.check().is_ok());
        o.streams_down = 0;
        assert!(o.check().is_err());
        o.streams_down = 6;
        o.duration = Duration::from_secs(600);
        assert!(o.check().is_err());
    }

    #[test]
    fn what_limited_a_test() {
        // 100 Mbps NIC, target 100: 94 Mbps is the NIC's ceiling.
        assert_eq!(
            limited_by(false, Some(100), 100.0, 94.0, false),
            Some(LimitedBy::PcLink)
        );
        // A Wi-Fi link at 65 Mbps cannot show a 100 Mbps line.
        assert_eq!(
            limited_by(false, Some(65), 100.0, 40.0, false),
            Some(LimitedBy::PcLink)
        );
        // Gigabit NIC, 60 Mbps measured, others using the line.
        assert_eq!(
            limited_by(false, Some(1000), 100.0, 60.0, true),
            Some(LimitedBy::BusyLine)
        );
        // Nothing to blame: the line is what it is.
        assert_eq!(limited_by(false, Some(1000), 100.0, 60.0, false), None);
        assert_eq!(limited_by(false, None, 200.0, 60.0, false), None);
        // The server ended streams: that outranks everything.
        assert_eq!(
            limited_by(true, Some(100), 100.0, 94.0, true),
            Some(LimitedBy::Server)
        );
    }

    #[test]
    fn other_traffic_needs_a_clear_margin() {
        let ours = 100_000_000;
        assert!(!other_traffic(105_000_000, ours), "protocol overhead");
        assert!(other_traffic(160_000_000, ours));
        assert!(!other_traffic(1_500_000, 1_000_000), "under 1 MB is noise");
    }
}
