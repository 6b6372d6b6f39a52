//! What a probe is aimed at: an IP address, a host name (optionally with a
//! port, `host:port`), or an `http(s)://` URL (whose host is pinged and
//! whose port the TCP fallback uses).

use std::net::IpAddr;

use reqwest::Url;

use super::ProbeError;

/// A parsed probe target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Ip { ip: IpAddr, port: Option<u16> },
    Host { name: String, port: Option<u16> },
    Url(Url),
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, ProbeError> {
        let s = s.trim();
        let bad = || ProbeError::BadTarget(s.chars().take(100).collect());
        if s.contains("://") {
            let url: Url = s.parse().map_err(|_| bad())?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(bad());
            }
            return Ok(Target::Url(url));
        }
        if let Ok(ip) = s
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(Target::Ip { ip, port: None });
        }
        // `host:port` or `[v6]:port`.
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => {
                (h, Some(p.parse::<u16>().map_err(|_| bad())?))
            }
            _ => (s, None),
        };
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(Target::Ip { ip, port });
        }
        let valid_name = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !valid_name {
            return Err(bad());
        }
        Ok(Target::Host {
            name: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The host part, as a name or an address literal.
    pub fn host(&self) -> String {
        match self {
            Target::Ip { ip, .. } => ip.to_string(),
            Target::Host { name, .. } => name.clone(),
            Target::Url(url) => url
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        }
    }

    /// The port the target names (a URL's, explicit or its scheme's default).
    pub fn port(&self) -> Option<u16> {
        match self {
            Target::Ip { port, .. } | Target::Host { port, .. } => *port,
            Target::Url(url) => url.port_or_known_default(),
        }
    }

    pub fn url(&self) -> Option<&Url> {
        match self {
            Target::Url(url) => Some(url),
            _ => None,
        }
    }

    /// The address to probe: the literal, or the first IPv4 address the name
    /// resolves to (IPv6 if it has none).
    pub async fn resolve(&self) -> Result<IpAddr, ProbeError> {
        let host = self.host();
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(ip);
        }
        let resolve_error = |cause: String| ProbeError::Resolve {
            host: host.clone(),
            cause,
        };
        let addresses: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map_err(|e| resolve_error(e.to_string()))?
            .map(|a| a.ip())
            .collect();
        addresses
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addresses.first())
            .copied()
            .ok_or_else(|| resolve_error("no address".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let cases: Vec<(&str, Target)> = vec![
            (
                "127.0.0.1",
                Target::Ip {
                    ip: ip("127.0.0.1"),
                    port: None,
                },
            ),
            (
                "::1",
                Target::Ip {
                    ip: ip("::1"),
                    port: None,
                },
            ),
            (
                "[::1]:8080",
                Target::Ip {
                    ip: ip("::1"),
                    port: Some(8080),
                },
            ),
            (
                "10.0.0.1:53",
                Target::Ip {
                    ip: ip("10.0.0.1"),
                    port: Some(53),
                },
            ),
            (
                "DNS.Google",
                Target::Host {
                    name: "dns.google".into(),
                    port: None,
                },
            ),
            (
                "dichvucong.gov.vn:443",
                Target::Host {
                    name: "dichvucong.gov.vn".into(),
                    port: Some(443),
                },
            ),
        ];
        for (s, want) in cases {
            assert_eq!(Target::parse(s).expect(s), want, "{s}");
        }
        let url = Target::parse("https://kiemke.example.gov.vn/x").expect("url");
        assert_eq!(url.host(), "kiemke.example.gov.vn");
        assert_eq!(url.port(), Some(443));
        assert_eq!(
            Target::parse("http://127.0.0.1:8080/").expect("url").port(),
            Some(8080)
        );
        for bad in ["", "ftp://x", "bad host", "host:99999", "a/b", "http://"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn literals_resolve_to_themselves() {
        let t = Target::parse("127.0.0.1").expect("ip");
        assert_eq!(
            t.resolve().await.ok(),
            Some("127.0.0.1".parse().expect("ip"))
        );
        let t = Target::parse("localhost").expect("name");
        assert!(t.resolve().await.expect("localhost resolves").is_loopback());
    }
}
