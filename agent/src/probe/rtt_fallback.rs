//! Round trips without ICMP, for PCs where the OS does not allow it (Linux
//! without root and without `ping_group_range`, Windows run by a normal
//! user) or targets that drop ICMP:
//!
//! - **TCP connect**: the time from sending SYN to the handshake completing.
//!   A refused connection (the host answered SYN with RST) is a reply too:
//!   the round trip happened. The kernel answers the handshake, so this is
//!   close to ICMP, slightly above it.
//! - **HTTP**: the time of a small request on an already open keep-alive
//!   connection (the first request, which opens it, is not counted). It
//!   includes the server's response time, so it is the upper bound.
//!
//! Results carry their method (`tcp-connect`, `http`) so nobody mistakes
//! them for ICMP figures.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use kiemke_shared::probes::RttMethod;
use reqwest::{Url, header};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};

use super::{Burst, PingOptions, ProbeError, ms_f64, send_offset};

/// One TCP handshake to `addr`; `None` when nothing answered in time.
pub async fn tcp_rtt(addr: SocketAddr, limit: Duration) -> Option<f64> {
    let t0 = Instant::now();
    match timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            let rtt = t0.elapsed();
            drop(stream);
            Some(ms_f64(rtt))
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Some(ms_f64(t0.elapsed()))
        }
        _ => None,
    }
}

/// A burst of TCP handshakes, sent on schedule like ICMP probes.
pub async fn tcp_burst(ip: IpAddr, port: u16, options: &PingOptions) -> Burst {
    let addr = SocketAddr::new(ip, port);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..options.count {
        sleep_until(start + send_offset(options.interval, i)).await;
        let limit = options.timeout;
        tasks.spawn(async move { (i, tcp_rtt(addr, limit).await) });
    }
    let mut replies = vec![None; options.count as usize];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, rtt)) = joined {
            if let Some(slot) = replies.get_mut(i as usize) {
                *slot = rtt;
            }
        }
    }
    Burst {
        method: RttMethod::TcpConnect,
        port: Some(port),
        replies,
    }
}

/// Times small HTTP requests to one URL over one keep-alive connection.
pub struct HttpRtt {
    client: reqwest::Client,
    url: Url,
    limit: Duration,
    /// `Authorization` for our own server's test endpoints (a speed test's
    /// loaded-latency probes count against the agent's own test, not the
    /// address's).
    authorization: Option<String>,
}

impl HttpRtt {
    pub fn new(url: Url, limit: Duration) -> Result<HttpRtt, ProbeError> {
        HttpRtt::with_trust(url, limit, &crate::tls::ServerTrust::System, None)
    }

    /// With the server's certificate checked as `trust` says, and the
    /// agent's credential when the server is the one it enrolled with.
    pub fn with_trust(
        url: Url,
        limit: Duration,
        trust: &crate::tls::ServerTrust,
        credential: Option<&kiemke_shared::auth::AgentCredential>,
    ) -> Result<HttpRtt, ProbeError> {
        let tls =
            crate::tls::client_config(trust).map_err(|e| ProbeError::Network(e.to_string()))?;
        let builder = match tls {
            Some(mut config) => {
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                reqwest::Client::builder().use_preconfigured_tls(config)
            }
            None => reqwest::Client::builder(),
        };
        let client = builder
            .user_agent(concat!("kiemke-agent/", env!("CARGO_PKG_VERSION")))
            .http1_only()
            .no_gzip()
            .pool_max_idle_per_host(1)
            .connect_timeout(limit)
            .build()
            .map_err(|e| ProbeError::Network(e.to_string()))?;
        Ok(HttpRtt {
            client,
            url,
            limit,
            authorization: credential.map(kiemke_shared::auth::AgentCredential::authorization),
        })
    }

    /// Opens the connection (not timed).
    pub async fn warm_up(&self) {
        let _ = self.probe().await;
    }

    /// One request's round trip, body included; `None` on failure or
    /// timeout.
    pub async fn probe(&self) -> Option<f64> {
        let t0 = Instant::now();
        let exchange = async {
            let mut request = self
                .client
                .get(self.url.clone())
                .header(header::ACCEPT_ENCODING, "identity")
                .header(header::CACHE_CONTROL, "no-store");
            if let Some(authorization) = &self.authorization {
                request = request.header(header::AUTHORIZATION, authorization);
            }
            let response = request.send().await.ok()?;
            // Any answer is a round trip, even an error status.
            response.bytes().await.ok()?;
            Some(())
        };
        match timeout(self.limit, exchange).await {
            Ok(Some(())) => Some(ms_f64(t0.elapsed())),
            _ => None,
        }
    }

    pub fn port(&self) -> Option<u16> {
        self.url.port_or_known_default()
    }
}

/// A burst of HTTP round trips. Requests on one connection cannot overlap,
/// so a probe whose slot comes while the previous one is still waiting is
/// sent right after it.
pub async fn http_burst(url: &Url, options: &PingOptions) -> Result<Burst, ProbeError> {
    let prober = HttpRtt::new(url.clone(), options.timeout)?;
    prober.warm_up().await;
    let start = Instant::now();
    let mut replies = Vec::with_capacity(options.count as usize);
    for i in 0..options.count {
        sleep_until(start + send_offset(options.interval, i)).await;
        replies.push(prober.probe().await);
    }
    Ok(Burst {
        method: RttMethod::Http,
        port: prober.port(),
        replies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(count: u32) -> PingOptions {
        PingOptions {
            count,
            interval: Duration::from_millis(10),
            timeout: Duration::from_millis(500),
            ..PingOptions::default()
        }
    }

    #[tokio::test]
    async fn tcp_connect_to_a_loopback_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        // Accept and drop, so the backlog never fills.
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                drop(s);
            }
        });
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let b = tcp_burst(ip, port, &quick(5)).await;
        assert_eq!(b.method, RttMethod::TcpConnect);
        assert_eq!(b.port, Some(port));
        assert_eq!(b.replies.iter().flatten().count(), 5, "{b:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_round_trip() {
        // Bind then drop: the port is closed, the kernel answers RST.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let rtt = tcp_rtt(
            SocketAddr::new("127.0.0.1".parse().expect("ip"), port),
            Duration::from_millis(500),
        )
        .await;
        assert!(rtt.is_some());
    }
}
