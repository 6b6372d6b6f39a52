//! A small SNMP client over the `snmp2` crate (v2c, v1, and v3 when a user
//! is configured: [`V3Credentials`]): GET and walks with a per-request
//! timeout and retries, values copied out into owned
//! [`SnmpValue`]s so the interpretation ([`super::printer_mib`]) is pure and
//! testable without a network.
//!
//! `snmp2` waits forever for an answer, so every request here is bounded by
//! `tokio::time::timeout`; a silent host costs `timeout × (retries + 1)` per
//! version tried, never more.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use snmp2::{AsyncSession, Oid, Value};

/// What the discovery reads from one host: dotted OID (no leading dot) to
/// value.
pub type Snapshot = BTreeMap<String, SnmpValue>;

/// An SNMP value, owned and reduced to what discovery reads.
#[derive(Debug, Clone, PartialEq)]
pub enum SnmpValue {
    Int(i64),
    /// Counter32, Gauge32/Unsigned32, Counter64, TimeTicks.
    Unsigned(u64),
    Bytes(Vec<u8>),
    Oid(String),
    Other,
}

impl SnmpValue {
    /// The value as text (octet strings, lossy UTF-8; numbers in decimal).
    pub fn text(&self) -> Option<String> {
        match self {
            SnmpValue::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            SnmpValue::Int(i) => Some(i.to_string()),
            SnmpValue::Unsigned(u) => Some(u.to_string()),
            SnmpValue::Oid(o) => Some(o.clone()),
            SnmpValue::Other => None,
        }
    }

    /// The value as a signed number, when it is one (or a decimal string,
    /// as some printers report counters).
    pub fn int(&self) -> Option<i64> {
        match self {
            SnmpValue::Int(i) => Some(*i),
            SnmpValue::Unsigned(u) => i64::try_from(*u).ok(),
            SnmpValue::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    fn from_value(v: &Value<'_>) -> Option<SnmpValue> {
        Some(match v {
            Value::Integer(i) => SnmpValue::Int(*i),
            Value::Counter32(u) | Value::Unsigned32(u) | Value::Timeticks(u) => {
                SnmpValue::Unsigned(u64::from(*u))
            }
            Value::Counter64(u) => SnmpValue::Unsigned(*u),
            Value::OctetString(b) => SnmpValue::Bytes(b.to_vec()),
            Value::ObjectIdentifier(oid) => SnmpValue::Oid(oid.to_id_string()),
            Value::IpAddress(a) => SnmpValue::Bytes(a.to_vec()),
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView | Value::Null => {
                return None;
            }
            _ => SnmpValue::Other,
        })
    }
}

/// Which SNMP version a host answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnmpVersion {
    V3,
    V2c,
    V1,
}

/// SNMPv3 authentication protocols (`--snmp-v3-auth-protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum V3Auth {
    Md5,
    Sha,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// SNMPv3 privacy (encryption) protocols (`--snmp-v3-priv-protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum V3Priv {
    Des,
    Aes,
    Aes192,
    Aes256,
}

/// An SNMPv3 user. The passphrases come from a file or the environment,
/// never the command line, and are never printed (see the `Debug` impl).
#[derive(Clone)]
pub struct V3Credentials {
    pub user: String,
    /// With `auth_pass`: authNoPriv; with `priv_pass` too: authPriv;
    /// neither: noAuthNoPriv.
    pub auth: V3Auth,
    pub auth_pass: Option<String>,
    pub privacy: V3Priv,
    pub priv_pass: Option<String>,
    /// The context (snmpsim and some agents pick a view by it); empty by
    /// default.
    pub context: String,
}

impl std::fmt::Debug for V3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V3Credentials")
            .field("user", &self.user)
            .field("auth", &self.auth)
            .field("auth_pass", &self.auth_pass.as_ref().map(|_| "***"))
            .field("privacy", &self.privacy)
            .field("priv_pass", &self.priv_pass.as_ref().map(|_| "***"))
            .field("context", &self.context)
            .finish()
    }
}

impl V3Credentials {
    /// The `snmp2` security parameters.
    fn security(&self) -> snmp2::v3::Security {
        use snmp2::v3::{Auth, AuthProtocol, Cipher, Security};
        let protocol = match self.auth {
            V3Auth::Md5 => AuthProtocol::Md5,
            V3Auth::Sha => AuthProtocol::Sha1,
            V3Auth::Sha224 => AuthProtocol::Sha224,
            V3Auth::Sha256 => AuthProtocol::Sha256,
            V3Auth::Sha384 => AuthProtocol::Sha384,
            V3Auth::Sha512 => AuthProtocol::Sha512,
        };
        let cipher = match self.privacy {
            V3Priv::Des => Cipher::Des,
            V3Priv::Aes => Cipher::Aes128,
            V3Priv::Aes192 => Cipher::Aes192,
            V3Priv::Aes256 => Cipher::Aes256,
        };
        let auth = match (&self.auth_pass, &self.priv_pass) {
            (Some(_), Some(p)) => Auth::AuthPriv {
                cipher,
                privacy_password: p.as_bytes().to_vec(),
            },
            (Some(_), None) => Auth::AuthNoPriv,
            (None, _) => Auth::NoAuthNoPriv,
        };
        let pass = self.auth_pass.as_deref().unwrap_or_default();
        Security::new(self.user.as_bytes(), pass.as_bytes())
            .with_auth_protocol(protocol)
            .with_auth(auth)
            .with_context_name(&self.context)
    }
}

/// How to talk to hosts.
#[derive(Debug, Clone)]
pub struct SnmpOptions {
    pub community: String,
    pub port: u16,
    /// Per request.
    pub timeout: Duration,
    /// Extra tries after a timeout.
    pub retries: u32,
    /// Walks stop after this many rows (a broken agent can loop forever).
    pub max_walk: usize,
    /// An SNMPv3 user, tried before v2c/v1.
    pub v3: Option<V3Credentials>,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SnmpError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("SNMP error: {0}")]
    Protocol(String),
    #[error("cannot open a UDP socket: {0}")]
    Socket(String),
}

/// An open session to one host, of the version that host answered.
pub struct Session {
    inner: AsyncSession,
    options: SnmpOptions,
    pub version: SnmpVersion,
}

impl Session {
    /// Opens a session to `addr`: v3 first when a user is configured, then
    /// v2c, then v1. The probe is a GET of sysDescr; `None` when no version
    /// answers.
    pub async fn open(
        addr: SocketAddr,
        options: &SnmpOptions,
    ) -> Result<Option<Session>, SnmpError> {
        let versions = if options.v3.is_some() {
            &[SnmpVersion::V3, SnmpVersion::V2c, SnmpVersion::V1][..]
        } else {
            &[SnmpVersion::V2c, SnmpVersion::V1][..]
        };
        for version in versions.iter().copied() {
            let community = options.community.as_bytes();
            let start_id = rand::random::<u16>().into();
            let inner = match (version, &options.v3) {
                (SnmpVersion::V3, Some(v3)) => {
                    match Self::open_v3(addr, v3, start_id, options.timeout).await {
                        Ok(inner) => inner,
                        Err(e) => {
                            tracing::debug!(%addr, cause = %e, "SNMPv3 không được / SNMPv3 failed");
                            continue;
                        }
                    }
                }
                (SnmpVersion::V1, _) => AsyncSession::new_v1(addr, community, start_id)
                    .await
                    .map_err(|e| SnmpError::Socket(e.to_string()))?,
                _ => AsyncSession::new_v2c(addr, community, start_id)
                    .await
                    .map_err(|e| SnmpError::Socket(e.to_string()))?,
            };
            let mut session = Session {
                inner,
                options: options.clone(),
                version,
            };
            match session.get(super::printer_mib::SYS_DESCR).await {
                Ok(_) => return Ok(Some(session)),
                Err(e) => {
                    tracing::debug!(%addr, ?version, cause = %e, "không trả lời SNMP / no SNMP answer");
                }
            }
        }
        Ok(None)
    }

    /// A v3 session, its engine discovered (bounded by `timeout`).
    async fn open_v3(
        addr: SocketAddr,
        v3: &V3Credentials,
        start_id: i32,
        timeout: Duration,
    ) -> Result<AsyncSession, SnmpError> {
        let mut inner = AsyncSession::new_v3(addr, start_id, v3.security())
            .await
            .map_err(|e| SnmpError::Socket(e.to_string()))?;
        match tokio::time::timeout(timeout, inner.init()).await {
            Err(_) => Err(SnmpError::Timeout(timeout)),
            Ok(Err(e)) => Err(SnmpError::Protocol(format!("{e:?}"))),
            Ok(Ok(())) => Ok(inner),
        }
    }

    /// GETs one OID; `Ok(None)` when the host has no such object.
    pub async fn get(&mut self, oid: &str) -> Result<Option<SnmpValue>, SnmpError> {
        let parsed = parse_oid(oid)?;
        let timeout = self.options.timeout;
        for _ in 0..=self.options.retries {
            match tokio::time::timeout(timeout, self.inner.get(&parsed)).await {
                Err(_) => continue,
                Ok(Err(snmp2::Error::Receive)) => {
                    // ICMP port unreachable: no agent, retrying will not help.
                    return Err(SnmpError::Protocol("port unreachable".into()));
                }
                Ok(Err(e)) => return Err(SnmpError::Protocol(format!("{e:?}"))),
                Ok(Ok(mut pdu)) => {
                    if pdu.error_status != 0 {
                        // v1 noSuchName and friends: no such object.
                        return Ok(None);
                    }
                    return Ok(pdu
                        .varbinds
                        .next()
                        .and_then(|(_, v)| SnmpValue::from_value(&v)));
                }
            }
        }
        Err(SnmpError::Timeout(timeout))
    }

    /// GETs each OID in turn (one per request, so a v1 agent's noSuchName
    /// for one object does not hide the others) into `into`.
    pub async fn get_into(&mut self, oids: &[&str], into: &mut Snapshot) -> Result<(), SnmpError> {
        for oid in oids {
            if let Some(v) = self.get(oid).await? {
                into.insert((*oid).to_owned(), v);
            }
        }
        Ok(())
    }

    /// Walks the subtree under `prefix` with GETNEXT into `into`.
    pub async fn walk_into(&mut self, prefix: &str, into: &mut Snapshot) -> Result<(), SnmpError> {
        let mut current = prefix.to_owned();
        let subtree = format!("{prefix}.");
        let timeout = self.options.timeout;
        for _ in 0..self.options.max_walk {
            let parsed = parse_oid(&current)?;
            let mut answer = None;
            for _ in 0..=self.options.retries {
                match tokio::time::timeout(timeout, self.inner.getnext(&parsed)).await {
                    Err(_) => continue,
                    Ok(Err(e)) => return Err(SnmpError::Protocol(format!("{e:?}"))),
                    Ok(Ok(mut pdu)) => {
                        answer = Some(if pdu.error_status != 0 {
                            None
                        } else {
                            pdu.varbinds
                                .next()
                                .map(|(oid, v)| (oid.to_id_string(), SnmpValue::from_value(&v)))
                        });
                        break;
                    }
                }
            }
            let Some(answer) = answer else {
                return Err(SnmpError::Timeout(timeout));
            };
            match answer {
                Some((oid, Some(value))) if oid.starts_with(&subtree) => {
                    into.insert(oid.clone(), value);
                    current = oid;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}

fn parse_oid(oid: &str) -> Result<Oid<'static>, SnmpError> {
    let arcs: Result<Vec<u64>, _> = oid.split('.').map(str::parse).collect();
    let arcs = arcs.map_err(|_| SnmpError::Protocol(format!("bad OID {oid}")))?;
    Oid::from(&arcs).map_err(|e| SnmpError::Protocol(format!("bad OID {oid}: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_text_and_numbers() {
        assert_eq!(SnmpValue::Bytes(b"  42 ".to_vec()).int(), Some(42));
        assert_eq!(SnmpValue::Unsigned(7).int(), Some(7));
        assert_eq!(SnmpValue::Int(-3).text().as_deref(), Some("-3"));
        assert_eq!(SnmpValue::Other.int(), None);
        assert!(parse_oid("1.3.6.1.2.1.1.1.0").is_ok());
        assert!(parse_oid("1.3.x").is_err());
    }
}
