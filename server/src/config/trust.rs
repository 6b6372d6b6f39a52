//! The trust settings of the configuration: how the server speaks TLS and
//! the admin token. Plain HTTP is for loopback; on any other address the
//! server speaks HTTPS, with the operator's certificate or, without one, its
//! own CA (see `crate::tls`), unless `insecure-http` says otherwise.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::ConfigError;

/// How the server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain HTTP: loopback, or non-loopback with `--insecure-http`.
    Off,
    /// HTTPS with the operator's certificate chain and key (PEM).
    Files { cert: PathBuf, key: PathBuf },
    /// HTTPS with a certificate from the server's own CA, generated in the
    /// data directory on first start and reused afterwards.
    SelfSigned,
}

impl TlsMode {
    /// Decides from the flags: a certificate if given; else the own CA if
    /// asked for, or if the address is not loopback and plain HTTP was not
    /// explicitly allowed; else plain HTTP.
    pub fn resolve(
        listen: SocketAddr,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
        self_signed: bool,
        insecure_http: bool,
    ) -> Result<TlsMode, ConfigError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(TlsMode::Files { cert, key }),
            (Some(_), None) | (None, Some(_)) => Err(ConfigError::Invalid {
                key: "tls-cert",
                problem: "tls-cert và tls-key phải đi cùng nhau / give both tls-cert and tls-key"
                    .into(),
            }),
            (None, None) if self_signed => Ok(TlsMode::SelfSigned),
            (None, None) if !listen.ip().is_loopback() && !insecure_http => Ok(TlsMode::SelfSigned),
            (None, None) => Ok(TlsMode::Off),
        }
    }

    pub fn is_on(&self) -> bool {
        !matches!(self, TlsMode::Off)
    }
}

/// The administrator's bearer token for `/api/v1/admin/*`. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// Long enough that guessing it is hopeless.
    pub const MIN_LEN: usize = 24;

    pub fn parse(s: &str) -> Result<AdminToken, ConfigError> {
        let s = s.trim();
        if s.chars().count() < Self::MIN_LEN || s.contains(char::is_whitespace) {
            return Err(ConfigError::Invalid {
                key: "admin-token",
                problem: format!(
                    "cần ít nhất {} ký tự, không có khoảng trắng / at least {} characters, no spaces",
                    Self::MIN_LEN,
                    Self::MIN_LEN
                ),
            });
        }
        Ok(AdminToken(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_on_off_loopback_unless_plain_http_is_explicit() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        let resolve = |addr, self_signed, insecure| {
            TlsMode::resolve(addr, None, None, self_signed, insecure).expect("valid")
        };
        assert_eq!(resolve(lo, false, false), TlsMode::Off);
        assert_eq!(resolve(lo, true, false), TlsMode::SelfSigned);
        assert_eq!(resolve(any, false, false), TlsMode::SelfSigned);
        assert_eq!(resolve(any, false, true), TlsMode::Off);
        let files = TlsMode::resolve(any, Some("c".into()), Some("k".into()), false, true);
        assert!(matches!(files, Ok(TlsMode::Files { .. })));
        assert!(TlsMode::resolve(lo, Some("c".into()), None, false, false).is_err());
    }

    #[test]
    fn admin_tokens_are_long_and_hidden() {
        assert!(AdminToken::parse("short").is_err());
        let token = AdminToken::parse("0123456789abcdef01234567").expect("long enough");
        assert!(!format!("{token:?}").contains("0123"));
    }
}
