//! A small SNMP v2c/v1 client over the `snmp2` crate: GET and walks with a
//! per-request timeout and retries, values copied out into owned
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
    V2c,
    V1,
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
    /// Opens a session to `addr`: v2c first, v1 if v2c gets no answer. The
    /// probe is a GET of sysDescr; `None` when neither version answers.
    pub async fn open(
        addr: SocketAddr,
        options: &SnmpOptions,
    ) -> Result<Option<Session>, SnmpError> {
        for version in [SnmpVersion::V2c, SnmpVersion::V1] {
            let community = options.community.as_bytes();
            let start_id = rand::random::<u16>().into();
            let inner = match version {
                SnmpVersion::V2c => AsyncSession::new_v2c(addr, community, start_id).await,
                SnmpVersion::V1 => AsyncSession::new_v1(addr, community, start_id).await,
            }
            .map_err(|e| SnmpError::Socket(e.to_string()))?;
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
