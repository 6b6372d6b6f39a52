//! Sites inside a commune (trụ sở UBND, TTPVHCC, trạm y tế, ...) and their
//! lines: the vocabulary the server, the agent and the policy share.
//!
//! A site is addressed by its commune's official code plus a short code that
//! is unique inside the commune ([`SiteCode`], e.g. `ttpvhcc`). Agents are
//! bound to a site at enrollment; lines are judged against the target of the
//! site's [`SiteKind`] (targets live in the policy file, not here).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::CommuneCode;
use crate::lang::Lang;

/// What a site is. The kind selects the line target and the equipment norms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteKind {
    /// Trụ sở UBND xã/phường: the commune headquarters.
    Headquarters,
    /// Trung tâm Phục vụ hành chính công: the one-stop service center.
    ServiceCenter,
    /// Trạm y tế: the health station.
    HealthStation,
    /// Trường học: a school.
    School,
    /// Nhà văn hóa thôn: a village hall.
    VillageHall,
    /// Anything else.
    Other,
}

impl SiteKind {
    pub const ALL: [SiteKind; 6] = [
        SiteKind::Headquarters,
        SiteKind::ServiceCenter,
        SiteKind::HealthStation,
        SiteKind::School,
        SiteKind::VillageHall,
        SiteKind::Other,
    ];

    /// The wire/config spelling (`service-center`, ...).
    pub fn key(self) -> &'static str {
        match self {
            SiteKind::Headquarters => "headquarters",
            SiteKind::ServiceCenter => "service-center",
            SiteKind::HealthStation => "health-station",
            SiteKind::School => "school",
            SiteKind::VillageHall => "village-hall",
            SiteKind::Other => "other",
        }
    }

    /// The name a user reads.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            SiteKind::Headquarters => lang.pick("Trụ sở UBND", "Commune headquarters"),
            SiteKind::ServiceCenter => lang.pick(
                "Trung tâm Phục vụ hành chính công",
                "Public administration service center",
            ),
            SiteKind::HealthStation => lang.pick("Trạm y tế", "Health station"),
            SiteKind::School => lang.pick("Trường học", "School"),
            SiteKind::VillageHall => lang.pick("Nhà văn hóa thôn", "Village hall"),
            SiteKind::Other => lang.pick("Khác", "Other"),
        }
    }
}

impl FromStr for SiteKind {
    type Err = SiteError;
    fn from_str(s: &str) -> Result<Self, SiteError> {
        let s = s.trim().to_ascii_lowercase();
        SiteKind::ALL
            .into_iter()
            .find(|k| k.key() == s)
            .ok_or_else(|| SiteError::Kind(s.chars().take(32).collect()))
    }
}

impl fmt::Display for SiteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Why a site code or kind is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    #[error(
        "site code must be 1–40 characters of a–z, 0–9 and '-', not starting or ending with '-', got {0:?}"
    )]
    Code(String),
    #[error(
        "site kind must be one of headquarters, service-center, health-station, school, village-hall, other, got {0:?}"
    )]
    Kind(String),
}

/// A site's short code, unique within its commune: lowercase ASCII letters,
/// digits and hyphens, 1–40 characters (e.g. `ttpvhcc`, `tram-y-te`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SiteCode(String);

impl SiteCode {
    pub const MAX_LEN: usize = 40;

    pub fn parse(s: &str) -> Result<Self, SiteError> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && !s.starts_with('-')
            && !s.ends_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(SiteError::Code(s.chars().take(48).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SiteCode {
    type Err = SiteError;
    fn from_str(s: &str) -> Result<Self, SiteError> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for SiteCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A site's full address: its commune and its code within the commune.
/// Displayed and parsed as `COMMUNE/SITE`, e.g. `24118/ttpvhcc`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SiteRef {
    pub commune: CommuneCode,
    pub site: SiteCode,
}

impl fmt::Display for SiteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.commune, self.site)
    }
}

/// Who provides a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isp {
    Vnpt,
    Viettel,
    Fpt,
    Other,
}

/// What a line is: public internet, or the government's dedicated data
/// network (mạng truyền số liệu chuyên dùng, TSLCD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    Internet,
    Tslcd,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_codes() {
        for ok in ["ttpvhcc", "tram-y-te", "thon-3", " a "] {
            assert!(SiteCode::parse(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(41);
        for bad in [
            "",
            "-a",
            "a-",
            "TTPVHCC",
            "trạm",
            "a b",
            "a/b",
            long.as_str(),
        ] {
            assert!(SiteCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn site_kinds_round_trip_by_key() {
        for kind in SiteKind::ALL {
            assert_eq!(kind.key().parse::<SiteKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{}\"", kind.key()));
        }
        assert!("ttpvhcc".parse::<SiteKind>().is_err());
    }
}
