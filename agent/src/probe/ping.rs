//! ICMP echo bursts with surge-ping.
//!
//! On Linux an unprivileged ICMP *datagram* socket is tried first (allowed
//! when the process's group is inside `net.ipv4.ping_group_range`); the
//! kernel then picks the identifier and hands each socket only its own
//! replies. Otherwise (root, or Windows where the service runs as
//! LocalSystem) a raw socket is used: every raw socket sees every echo reply,
//! so each burst takes a random identifier and its own socket, and replies
//! are matched on (address, identifier, sequence): concurrent bursts, ours or
//! another program's, do not mix. Probes are sent on schedule whether or not
//! earlier ones were answered, like `ping` and `fping`.

use std::net::IpAddr;

use kiemke_shared::probes::RttMethod;
use socket2::Type;
use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use super::{Burst, PingOptions, ProbeError, ms_f64, send_offset};

/// The payload of each echo request: 56 bytes, like `ping`'s default.
const PAYLOAD: [u8; 56] = [0x6b; 56];

/// Which kind of ICMP socket the OS gave us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// Unprivileged ICMP datagram socket (Linux `ping_group_range`).
    Datagram,
    /// Raw socket (root, CAP_NET_RAW, or an administrator on Windows).
    Raw,
}

/// Opens an ICMP socket for `ip`'s family: datagram first on Linux, raw
/// first elsewhere (surge-ping tries the other kind when the first fails).
pub fn open(ip: IpAddr) -> Result<(Client, SocketKind), ProbeError> {
    let kind = if ip.is_ipv4() { ICMP::V4 } else { ICMP::V6 };
    let hint = if cfg!(target_os = "linux") {
        Type::DGRAM
    } else {
        Type::RAW
    };
    let mut config = Config::builder().kind(kind).sock_type_hint(hint);
    if cfg!(windows) {
        // Winsock refuses recvfrom on an unbound raw socket (WSAEINVAL,
        // 10022): bind to the unspecified address of the family first.
        let any: IpAddr = if ip.is_ipv4() {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        };
        config = config.bind(std::net::SocketAddr::new(any, 0));
    }
    let config = config.build();
    let client = Client::new(&config).map_err(|e| ProbeError::IcmpNotPermitted(e.to_string()))?;
    let socket_kind = if client.get_socket().get_type() == Type::RAW {
        SocketKind::Raw
    } else {
        SocketKind::Datagram
    };
    Ok((client, socket_kind))
}

/// Sends `options.count` echo requests `options.interval` apart and waits
/// for each reply up to `options.timeout`.
pub async fn burst(ip: IpAddr, options: &PingOptions) -> Result<Burst, ProbeError> {
    let (client, _) = open(ip)?;
    burst_on(&client, ip, options).await
}

/// [`burst`] on an already open client (tests choose the socket kind).
pub async fn burst_on(
    client: &Client,
    ip: IpAddr,
    options: &PingOptions,
) -> Result<Burst, ProbeError> {
    let ident = PingIdentifier(rand::random());
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..options.count {
        sleep_until(start + send_offset(options.interval, i)).await;
        let mut pinger = client.pinger(ip, ident).await;
        pinger.timeout(options.timeout);
        // Sequences wrap at 2^16; a burst has at most 10 000 probes.
        let seq = PingSequence((i % 65_536) as u16);
        tasks.spawn(async move { (i, pinger.ping(seq, &PAYLOAD).await) });
    }
    let mut replies = vec![None; options.count as usize];
    let mut refused = 0u32;
    let mut last_error = None;
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, outcome)) = joined else {
            continue;
        };
        match outcome {
            Ok((_, rtt)) => {
                if let Some(slot) = replies.get_mut(i as usize) {
                    *slot = Some(ms_f64(rtt));
                }
            }
            Err(SurgeError::Timeout { .. }) => {}
            Err(SurgeError::IOError(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                refused += 1;
                last_error = Some(e.to_string());
            }
            Err(e) => {
                tracing::debug!(seq = i, cause = %e, "gói ICMP không gửi được / echo request failed");
                last_error = Some(e.to_string());
            }
        }
    }
    // A firewall rule or policy refusing every send: ICMP is not usable here,
    // which is different from a line losing every packet.
    if refused == options.count {
        return Err(ProbeError::IcmpNotPermitted(last_error.unwrap_or_default()));
    }
    Ok(Burst {
        method: RttMethod::Icmp,
        port: None,
        replies,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn quick(count: u32) -> PingOptions {
        PingOptions {
            count,
            interval: Duration::from_millis(10),
            timeout: Duration::from_millis(500),
            ..PingOptions::default()
        }
    }

    fn is_root() -> bool {
        crate::state::is_privileged() == Some(true)
    }

    /// CI runs as root: a raw socket is always available there.
    #[tokio::test]
    async fn icmp_to_loopback_as_root() {
        if !is_root() {
            eprintln!("skipped: needs root (CI runs as root)");
            return;
        }
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let b = burst(ip, &quick(10)).await.expect("root may use ICMP");
        assert_eq!(b.method, RttMethod::Icmp);
        assert_eq!(b.replies.len(), 10);
        let answered = b.replies.iter().flatten().count();
        assert_eq!(answered, 10, "loopback loses nothing: {b:?}");
        assert!(
            b.replies
                .iter()
                .flatten()
                .all(|rtt| *rtt >= 0.0 && *rtt < 500.0)
        );
    }

    /// Two bursts to the same address at once, each on its own socket with
    /// its own identifier: each gets exactly its own replies.
    #[tokio::test]
    async fn concurrent_bursts_do_not_mix_replies() {
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let options = quick(30);
        let (a, b) = tokio::join!(burst(ip, &options), burst(ip, &options));
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.replies.iter().flatten().count(), 30);
                assert_eq!(b.replies.iter().flatten().count(), 30);
            }
            (Err(ProbeError::IcmpNotPermitted(_)), _) if !is_root() => {
                eprintln!("skipped: ICMP not permitted for this user");
            }
            (a, b) => panic!("unexpected: {a:?} {b:?}"),
        }
    }
}
