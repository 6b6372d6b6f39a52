//! Latency to the test server before and during a transfer (bufferbloat:
//! a line whose RTT balloons under load hangs video calls and web forms
//! even when its Mbps look fine).
//!
//! ICMP echo to the server's address when the OS allows it and the server
//! answers; otherwise HTTP round trips to its `empty` endpoint over a
//! connection of their own. The result says which.

use std::net::IpAddr;
use std::time::Duration;

use kiemke_shared::probes::RttMethod;
use reqwest::Url;
use surge_ping::{Client, PingIdentifier, PingSequence};
use tokio::time::{Instant, sleep_until};

use crate::probe::rtt_fallback::HttpRtt;
use crate::probe::{ms_f64, ping, stats};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Measures round trips to the test server, one at a time.
pub enum Prober {
    Icmp {
        client: Client,
        ip: IpAddr,
        ident: PingIdentifier,
        seq: u16,
    },
    Http(HttpRtt),
}

impl Prober {
    /// ICMP if a probe gets an answer, else HTTP to `http_url` (the
    /// server's certificate checked as `trust` says, with the agent's
    /// credential for its own server).
    pub async fn open(
        ip: IpAddr,
        http_url: Url,
        trust: &crate::tls::ServerTrust,
        credential: Option<&kiemke_shared::auth::AgentCredential>,
    ) -> Option<Prober> {
        if let Ok((client, _)) = ping::open(ip) {
            let mut icmp = Prober::Icmp {
                client,
                ip,
                ident: PingIdentifier(rand::random()),
                seq: 0,
            };
            for _ in 0..3 {
                if icmp.probe().await.is_some() {
                    return Some(icmp);
                }
            }
        }
        let http = HttpRtt::with_trust(http_url, PROBE_TIMEOUT, trust, credential).ok()?;
        http.warm_up().await;
        Some(Prober::Http(http))
    }

    pub fn method(&self) -> RttMethod {
        match self {
            Prober::Icmp { .. } => RttMethod::Icmp,
            Prober::Http(_) => RttMethod::Http,
        }
    }

    /// One round trip in ms; `None` when lost.
    pub async fn probe(&mut self) -> Option<f64> {
        match self {
            Prober::Icmp {
                client,
                ip,
                ident,
                seq,
            } => {
                *seq = seq.wrapping_add(1);
                let mut pinger = client.pinger(*ip, *ident).await;
                pinger.timeout(PROBE_TIMEOUT);
                let (_, rtt) = pinger.ping(PingSequence(*seq), &[0x6b; 56]).await.ok()?;
                Some(ms_f64(rtt))
            }
            Prober::Http(http) => http.probe().await,
        }
    }

    /// Probes every `interval` from `from` until `until`; the RTTs of the
    /// answered probes.
    pub async fn rtts_between(
        &mut self,
        from: Instant,
        until: Instant,
        interval: Duration,
    ) -> Vec<f64> {
        let mut rtts = Vec::new();
        let mut next = from;
        while next < until {
            sleep_until(next).await;
            if Instant::now() >= until {
                break;
            }
            rtts.extend(self.probe().await);
            next = (next + interval).max(Instant::now());
        }
        rtts
    }
}

/// The median of some RTTs.
pub fn median(rtts: &[f64]) -> Option<f64> {
    stats::rtt_summary(rtts).map(|s| s.median)
}
