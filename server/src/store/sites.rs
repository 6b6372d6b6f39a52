//! The sites registry (minimal): each commune's sites and their lines, so a
//! token can bind agents to a site and the survey can judge each line
//! against its site's target.
//!
//! Tree `sites`: `COMMUNE/SITE` → [`SiteRecord`] (JSON). Keys sort by commune,
//! so one commune's sites are a prefix scan.

use chrono::{DateTime, Utc};
use kiemke_shared::site::{Isp, LineKind};
use kiemke_shared::{CommuneCode, SiteKind, SiteRef};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, record};

/// One site of a commune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRecord {
    pub site: SiteRef,
    /// Selects the line target and the equipment norms.
    pub kind: SiteKind,
    /// As the commune calls it, e.g. "Trung tâm Phục vụ hành chính công xã Ia Grai".
    pub name: String,
    /// The site's lines (a site may have several: internet and TSLCD).
    #[serde(default)]
    pub lines: Vec<Line>,
    /// Staff working at the site, when entered: the equipment norms
    /// (printers 1 per 3 staff, scanners 1 per 15) are counted from it.
    #[serde(default)]
    pub staff: Option<u32>,
    pub created_at: DateTime<Utc>,
}

/// One line into a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub isp: Isp,
    pub kind: LineKind,
    /// The speed in the contract, when known: what measurements are compared
    /// with besides the policy's target.
    #[serde(default)]
    pub contracted_mbps: Option<u32>,
}

impl Line {
    /// Parses `ISP:KIND[:MBPS]`, e.g. `vnpt:internet:100` or `viettel:tslcd`.
    pub fn parse(s: &str) -> Result<Line, String> {
        let mut parts = s.trim().split(':');
        let word = |p: Option<&str>| -> Result<String, String> {
            p.map(|w| format!("\"{}\"", w.trim().to_ascii_lowercase()))
                .ok_or_else(|| format!("{s:?}: ISP:KIND[:MBPS]"))
        };
        let isp: Isp = serde_json::from_str(&word(parts.next())?)
            .map_err(|_| format!("{s:?}: ISP là vnpt, viettel, fpt hoặc other"))?;
        let kind: LineKind = serde_json::from_str(&word(parts.next())?)
            .map_err(|_| format!("{s:?}: loại đường truyền là internet hoặc tslcd"))?;
        let contracted_mbps = match parts.next() {
            Some(mbps) => Some(
                mbps.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("{s:?}: tốc độ phải là số Mbps"))?,
            ),
            None => None,
        };
        if parts.next().is_some() {
            return Err(format!("{s:?}: ISP:KIND[:MBPS]"));
        }
        Ok(Line {
            isp,
            kind,
            contracted_mbps,
        })
    }
}

fn site_key(site: &SiteRef) -> String {
    site.to_string()
}

impl Store {
    /// Adds a site; `false` if the commune already has a site with that code.
    pub fn add_site(&self, site: &SiteRecord) -> Result<bool, StoreError> {
        let inserted = self
            .sites
            .compare_and_swap(
                site_key(&site.site),
                None::<&[u8]>,
                Some(record::encode(site)?),
            )?
            .is_ok();
        self.db.flush()?;
        Ok(inserted)
    }

    pub fn site(&self, site: &SiteRef) -> Result<Option<SiteRecord>, StoreError> {
        match self.sites.get(site_key(site))? {
            Some(bytes) => record::decode("sites", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The sites of one commune, or of all communes; by commune, then code.
    pub fn sites(&self, commune: Option<&CommuneCode>) -> Result<Vec<SiteRecord>, StoreError> {
        let prefix = commune.map(|c| format!("{c}/")).unwrap_or_default();
        self.sites
            .scan_prefix(prefix)
            .values()
            .map(|v| record::decode("sites", &v?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse() {
        let line = Line::parse("VNPT:internet:100").expect("parses");
        assert_eq!(line.isp, Isp::Vnpt);
        assert_eq!(line.kind, LineKind::Internet);
        assert_eq!(line.contracted_mbps, Some(100));
        assert_eq!(
            Line::parse("viettel:tslcd").map(|l| l.contracted_mbps),
            Ok(None)
        );
        for bad in [
            "",
            "vnpt",
            "cmc:internet",
            "vnpt:wifi",
            "vnpt:internet:-1",
            "a:b:1:2",
        ] {
            assert!(Line::parse(bad).is_err(), "{bad}");
        }
    }
}
