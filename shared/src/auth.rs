//! Trust on the wire: enrollment tokens, agent credentials, and the bodies of
//! `POST /api/v1/enroll`.
//!
//! - An **enrollment token** (`kkt_<id>_<secret>`) is created by the province
//!   for one commune (optionally one site), with an expiry and a use limit. An
//!   officer types it once on each PC (`kiemke-agent enroll`). Underscores,
//!   not dots, so a double-click selects the whole token.
//! - An **agent credential** (`<agent_id>.<secret>`) is issued by the server
//!   at enrollment, once per agent; every report carries it as
//!   `Authorization: Bearer <agent_id>.<secret>`.
//!
//! Secrets are 256 random bits written as 64 lowercase hex digits. The
//! server keeps only their SHA-256; `Debug` never prints them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, CommuneCode};
use crate::site::SiteCode;

/// Bytes of randomness in every secret.
pub const SECRET_BYTES: usize = 32;

/// The authentication scheme of the `Authorization` header.
pub const BEARER: &str = "Bearer";

/// Why a token or credential string is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("a secret must be {} lowercase hex digits", SECRET_BYTES * 2)]
    Secret,
    #[error("an enrollment token looks like kkt_<12 hex digits>_<64 hex digits>")]
    Token,
    #[error("an agent credential looks like <agent id>.<64 hex digits>")]
    Credential,
    #[error("the Authorization header must be \"Bearer <agent id>.<secret>\"")]
    Header,
}

/// A 256-bit secret in hex. Compared by the server only through its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps raw random bytes (the server draws them).
    pub fn from_bytes(bytes: &[u8; SECRET_BYTES]) -> Secret {
        Secret(hex(bytes))
    }

    pub fn parse(s: &str) -> Result<Secret, CredentialError> {
        let s = s.trim();
        if s.len() == SECRET_BYTES * 2 && s.bytes().all(is_lower_hex) {
            Ok(Secret(s.to_owned()))
        } else {
            Err(CredentialError::Secret)
        }
    }

    /// The secret itself: for hashing and for writing it where it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The public half of an enrollment token: how the province lists and
/// revokes it. 12 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TokenId(String);

impl TokenId {
    pub const LEN: usize = 12;

    pub fn from_bytes(bytes: &[u8; Self::LEN / 2]) -> TokenId {
        TokenId(hex(bytes))
    }

    pub fn parse(s: &str) -> Result<TokenId, CredentialError> {
        let s = s.trim();
        if s.len() == Self::LEN && s.bytes().all(is_lower_hex) {
            Ok(TokenId(s.to_owned()))
        } else {
            Err(CredentialError::Token)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TokenId {
    type Err = CredentialError;
    fn from_str(s: &str) -> Result<Self, CredentialError> {
        TokenId::parse(s)
    }
}

impl<'de> Deserialize<'de> for TokenId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        TokenId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An enrollment token as typed by the officer: `kkt_<id>_<secret>`.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollmentToken {
    pub id: TokenId,
    pub secret: Secret,
}

impl EnrollmentToken {
    const PREFIX: &'static str = "kkt_";

    pub fn parse(s: &str) -> Result<EnrollmentToken, CredentialError> {
        let rest = s
            .trim()
            .strip_prefix(Self::PREFIX)
            .ok_or(CredentialError::Token)?;
        let (id, secret) = rest.split_once('_').ok_or(CredentialError::Token)?;
        Ok(EnrollmentToken {
            id: TokenId::parse(id)?,
            secret: Secret::parse(secret).map_err(|_| CredentialError::Token)?,
        })
    }
}

/// The whole token, secret included: printed once when it is created.
impl fmt::Display for EnrollmentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}_{}", Self::PREFIX, self.id, self.secret.0)
    }
}

impl fmt::Debug for EnrollmentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnrollmentToken({}, …)", self.id)
    }
}

impl FromStr for EnrollmentToken {
    type Err = CredentialError;
    fn from_str(s: &str) -> Result<Self, CredentialError> {
        EnrollmentToken::parse(s)
    }
}

impl Serialize for EnrollmentToken {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EnrollmentToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        EnrollmentToken::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One agent's credential: `<agent_id>.<secret>`.
#[derive(Clone, PartialEq, Eq)]
pub struct AgentCredential {
    pub agent_id: AgentId,
    pub secret: Secret,
}

impl AgentCredential {
    pub fn parse(s: &str) -> Result<AgentCredential, CredentialError> {
        let (id, secret) = s
            .trim()
            .split_once('.')
            .ok_or(CredentialError::Credential)?;
        Ok(AgentCredential {
            agent_id: id.parse().map_err(|_| CredentialError::Credential)?,
            secret: Secret::parse(secret).map_err(|_| CredentialError::Credential)?,
        })
    }

    /// The value of the `Authorization` header.
    pub fn authorization(&self) -> String {
        format!("{BEARER} {self}")
    }

    /// Reads an `Authorization` header value (`Bearer <agent_id>.<secret>`;
    /// the scheme is case-insensitive, as HTTP says).
    pub fn from_authorization(value: &str) -> Result<AgentCredential, CredentialError> {
        let (scheme, rest) = value
            .trim()
            .split_once(' ')
            .ok_or(CredentialError::Header)?;
        if !scheme.eq_ignore_ascii_case(BEARER) {
            return Err(CredentialError::Header);
        }
        AgentCredential::parse(rest)
    }
}

impl fmt::Display for AgentCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.agent_id, self.secret.0)
    }
}

impl fmt::Debug for AgentCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentCredential({}, …)", self.agent_id)
    }
}

impl Serialize for AgentCredential {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AgentCredential {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        AgentCredential::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `POST /api/v1/enroll`: an agent exchanges a token for its credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub token: EnrollmentToken,
    /// The installation to enroll; later reports must carry this id.
    pub agent_id: AgentId,
    /// For the province's agent list (informative, not an identity).
    #[serde(default)]
    pub hostname: Option<String>,
    /// The agent build, for support.
    #[serde(default)]
    pub agent_version: Option<String>,
}

/// The answer to a successful enrollment. The credential is shown this once:
/// the server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub credential: AgentCredential,
    /// The commune the agent's reports are filed under (decided by the token,
    /// never by the agent).
    pub commune: CommuneCode,
    #[serde(default)]
    pub site: Option<SiteCode>,
    /// The site's name, when the site is in the registry.
    #[serde(default)]
    pub site_name: Option<String>,
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Lowercase hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_bytes(&[0xab; SECRET_BYTES])
    }

    #[test]
    fn tokens_round_trip_and_hide_their_secret() {
        let token = EnrollmentToken {
            id: TokenId::from_bytes(&[1, 2, 3, 4, 5, 6]),
            secret: secret(),
        };
        let text = token.to_string();
        assert!(text.starts_with("kkt_010203040506_abab"), "{text}");
        assert_eq!(
            EnrollmentToken::parse(&format!(" {text}\n")),
            Ok(token.clone())
        );
        assert!(!format!("{token:?}").contains("abab"));
        for bad in [
            "",
            "kkt_",
            "kkt_010203040506",
            "kkt_01020304050_abab",
            &text.replace("kkt_", "kka_"),
            &text.to_uppercase(),
            &text[..text.len() - 1],
        ] {
            assert!(EnrollmentToken::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credentials_round_trip_through_the_header() {
        let credential = AgentCredential {
            agent_id: AgentId::generate(),
            secret: secret(),
        };
        let header = credential.authorization();
        assert!(header.starts_with("Bearer "));
        assert_eq!(
            AgentCredential::from_authorization(&header),
            Ok(credential.clone())
        );
        assert_eq!(
            AgentCredential::from_authorization(&header.replace("Bearer", "bearer")),
            Ok(credential.clone())
        );
        assert!(!format!("{credential:?}").contains("abab"));
        for bad in [
            "",
            "Bearer",
            "Basic abc",
            &header.replace("Bearer ", "Token "),
            &format!("Bearer {}", credential.agent_id),
            "Bearer not-a-uuid.abababababababababababababababababababababababababababababababab",
        ] {
            assert!(AgentCredential::from_authorization(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn enroll_bodies_round_trip() {
        let request = EnrollRequest {
            token: EnrollmentToken {
                id: TokenId::from_bytes(&[9; 6]),
                secret: secret(),
            },
            agent_id: AgentId::generate(),
            hostname: Some("MOTCUA-PC01".into()),
            agent_version: None,
        };
        let json = serde_json::to_string(&request).expect("serialise");
        assert!(json.contains("\"token\":\"kkt_090909090909_"), "{json}");
        let back: EnrollRequest = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, request);
    }
}
