//! IPv4 subnets to sweep: parsing `a.b.c.d/n`, listing their hosts, and the
//! size limit that keeps one office PC from sweeping a whole province.

use std::net::Ipv4Addr;

/// The largest subnet swept without `--allow-large-subnet` (a /22: 1022
/// hosts, the biggest office LAN a commune runs).
pub const DEFAULT_MAX_PREFIX: u8 = 22;
/// Never sweep more than a /16, whatever the flags say.
pub const HARD_MAX_PREFIX: u8 = 16;

/// An IPv4 network, stored with its host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

/// Why a subnet cannot be swept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubnetError {
    #[error("not an IPv4 subnet a.b.c.d/n: {0}")]
    Invalid(String),
    #[error(
        "subnet {0} is larger than /{DEFAULT_MAX_PREFIX}; pass --allow-large-subnet to sweep it"
    )]
    TooLarge(String),
    #[error("subnet {0} is larger than /{HARD_MAX_PREFIX}, which is never swept")]
    FarTooLarge(String),
}

impl SubnetError {
    /// The message a user reads.
    pub fn message(&self, lang: kiemke_shared::Lang) -> String {
        match (self, lang) {
            (SubnetError::Invalid(s), kiemke_shared::Lang::Vi) => {
                format!("không phải dải mạng IPv4 dạng a.b.c.d/n: {s}")
            }
            (SubnetError::TooLarge(s), kiemke_shared::Lang::Vi) => format!(
                "dải mạng {s} lớn hơn /{DEFAULT_MAX_PREFIX}; thêm --allow-large-subnet nếu thật sự muốn quét"
            ),
            (SubnetError::FarTooLarge(s), kiemke_shared::Lang::Vi) => {
                format!("dải mạng {s} lớn hơn /{HARD_MAX_PREFIX}, không bao giờ quét")
            }
            (_, kiemke_shared::Lang::En) => self.to_string(),
        }
    }
}

impl Subnet {
    /// Parses `a.b.c.d/n` (a bare address is a /32) and checks its size.
    pub fn parse(s: &str, allow_large: bool) -> Result<Subnet, SubnetError> {
        let (ip, prefix) = s.trim().split_once('/').unwrap_or((s.trim(), "32"));
        let ip: Ipv4Addr = ip.parse().map_err(|_| SubnetError::Invalid(s.to_owned()))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| SubnetError::Invalid(s.to_owned()))?;
        Subnet::new(ip, prefix, allow_large).map_err(|e| match e {
            SubnetError::TooLarge(_) => SubnetError::TooLarge(s.to_owned()),
            SubnetError::FarTooLarge(_) => SubnetError::FarTooLarge(s.to_owned()),
            other => other,
        })
    }

    /// The subnet holding `ip`, checked for size.
    pub fn new(ip: Ipv4Addr, prefix: u8, allow_large: bool) -> Result<Subnet, SubnetError> {
        let shown = format!("{ip}/{prefix}");
        if prefix < HARD_MAX_PREFIX {
            return Err(SubnetError::FarTooLarge(shown));
        }
        if prefix < DEFAULT_MAX_PREFIX && !allow_large {
            return Err(SubnetError::TooLarge(shown));
        }
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
        Ok(Subnet {
            network: Ipv4Addr::from(u32::from(ip) & mask),
            prefix,
        })
    }

    /// Whether `ip` lies in this subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.network)
    }

    /// The addresses to probe: every address but the network and broadcast
    /// ones (a /31 and a /32 keep all theirs).
    pub fn hosts(&self) -> Vec<Ipv4Addr> {
        let base = u32::from(self.network);
        let size = 1u64 << (32 - u32::from(self.prefix));
        let (first, last) = if size <= 2 {
            (0, size - 1)
        } else {
            (1, size - 2)
        };
        (first..=last)
            .filter_map(|i| u32::try_from(i).ok())
            .map(|i| Ipv4Addr::from(base.wrapping_add(i)))
            .collect()
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_lists_hosts() {
        let s = Subnet::parse("192.168.1.77/24", false).expect("parse");
        assert_eq!(s.to_string(), "192.168.1.0/24");
        let hosts = s.hosts();
        assert_eq!(hosts.len(), 254);
        assert_eq!(hosts[0], Ipv4Addr::new(192, 168, 1, 1));
        assert_eq!(hosts[253], Ipv4Addr::new(192, 168, 1, 254));
        assert!(s.contains(Ipv4Addr::new(192, 168, 1, 200)));
        assert!(!s.contains(Ipv4Addr::new(192, 168, 2, 1)));
        assert_eq!(
            Subnet::parse("10.0.0.5", false).expect("/32").hosts().len(),
            1
        );
        assert_eq!(
            Subnet::parse("10.0.0.4/31", false)
                .expect("/31")
                .hosts()
                .len(),
            2
        );
        assert_eq!(
            Subnet::parse("10.0.0.0/22", false)
                .expect("/22")
                .hosts()
                .len(),
            1022
        );
    }

    #[test]
    fn large_subnets_need_the_flag() {
        for (input, allow, ok) in [
            ("10.0.0.0/21", false, false),
            ("10.0.0.0/21", true, true),
            ("10.0.0.0/16", true, true),
            ("10.0.0.0/15", true, false),
            ("10.0.0.0/33", true, false),
            ("nonsense/24", true, false),
        ] {
            assert_eq!(Subnet::parse(input, allow).is_ok(), ok, "{input} {allow}");
        }
        let err = Subnet::parse("10.0.0.0/20", false).expect_err("large");
        assert!(
            err.message(kiemke_shared::Lang::Vi)
                .contains("--allow-large-subnet")
        );
    }
}
