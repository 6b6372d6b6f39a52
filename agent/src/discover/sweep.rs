//! The ICMP sweep: which addresses of a subnet answer an echo request, so
//! that SNMP goes only to hosts that exist. Paced (at most `rate_per_sec`
//! echo requests a second) and bounded (at most `concurrency` outstanding),
//! so a /24 sweep is a trickle on the office network, not a flood.
//!
//! On Linux an unprivileged ICMP datagram socket is tried first (allowed by
//! `net.ipv4.ping_group_range`), then a raw one (root, or an administrator
//! on Windows). Each host gets its own random identifier.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use socket2::Type;
use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How hard to sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Echo requests outstanding at once.
    pub concurrency: usize,
    /// Echo requests started per second.
    pub rate_per_sec: u32,
    /// How long to wait for each reply.
    pub timeout: Duration,
    /// Echo requests per host (the next only when the previous got no reply).
    pub attempts: u32,
}

/// Why no sweep could be made.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("cannot open an ICMP socket (needs root or ping_group_range): {0}")]
    NotPermitted(String),
}

const PAYLOAD: [u8; 32] = [0x6b; 32];

/// Opens the ICMP socket the sweep shares.
pub fn open() -> Result<Client, SweepError> {
    let hint = if cfg!(target_os = "linux") {
        Type::DGRAM
    } else {
        Type::RAW
    };
    let config = Config::builder()
        .kind(ICMP::V4)
        .sock_type_hint(hint)
        .build();
    Client::new(&config).map_err(|e| SweepError::NotPermitted(e.to_string()))
}

/// The hosts among `hosts` that answered, in the order given.
pub async fn sweep(
    hosts: &[Ipv4Addr],
    options: &SweepOptions,
) -> Result<Vec<Ipv4Addr>, SweepError> {
    let client = open()?;
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let pace = Duration::from_secs(1) / options.rate_per_sec.max(1);
    let mut ticker = tokio::time::interval(pace);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tasks = JoinSet::new();
    for (i, host) in hosts.iter().copied().enumerate() {
        ticker.tick().await;
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let client = client.clone();
        let timeout = options.timeout;
        let attempts = options.attempts.max(1);
        tasks.spawn(async move {
            let _permit = permit;
            let mut pinger = client
                .pinger(IpAddr::V4(host), PingIdentifier(rand::random()))
                .await;
            pinger.timeout(timeout);
            for seq in 0..attempts {
                let seq = u16::try_from(seq).unwrap_or(u16::MAX);
                if pinger.ping(PingSequence(seq), &PAYLOAD).await.is_ok() {
                    return (i, true);
                }
            }
            (i, false)
        });
    }
    let mut alive = vec![false; hosts.len()];
    while let Some(done) = tasks.join_next().await {
        if let Ok((i, true)) = done {
            if let Some(slot) = alive.get_mut(i) {
                *slot = true;
            }
        }
    }
    Ok(hosts
        .iter()
        .zip(alive)
        .filter_map(|(h, a)| a.then_some(*h))
        .collect())
}
