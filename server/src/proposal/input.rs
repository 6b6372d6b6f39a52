//! What a proposal is built from, frozen with it when it is saved: the
//! communes with their sites (staff, lines measured, equipment held) and
//! their flagged devices, the date, and the norms in force. Building
//! ([`super::build`]) is a pure function of this, so an old proposal
//! regenerates the same document however the inventory changed since.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kiemke_shared::{CommuneCode, DeviceId, SiteCode, SiteKind};
use serde::{Deserialize, Serialize};

use crate::policy::norms::Norms;
use crate::policy::{Category, Status};

/// Who issues the proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "commune", rename_all = "snake_case")]
pub enum Scope {
    /// One commune's UBND, to the province.
    Commune(CommuneCode),
    /// The province's consolidation of the selected communes.
    Province,
}

/// Everything a proposal is built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalInput {
    pub scope: Scope,
    /// The day flags and wear were evaluated on.
    pub as_of: NaiveDate,
    /// Whether devices flagged `watch` are proposed for replacement too.
    pub include_watch: bool,
    /// The lifecycle policy's name and version, printed in the notes.
    pub policy: String,
    pub norms: Norms,
    /// "Gia Lai": from the communes registry; `None` when no commune of the
    /// proposal is registered.
    pub province: Option<String>,
    pub communes: Vec<CommuneInput>,
}

/// One commune, as it stood on `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneInput {
    pub code: CommuneCode,
    /// "xã Ia Grai"; "xã 24118" when the commune is not registered.
    pub full_name_vi: String,
    /// "Ia Grai" (the place in "Ia Grai, ngày …"); the code when unknown.
    pub place_vi: String,
    /// Whether the communes registry knows it (else the names are made up
    /// from the code, and the notes say so).
    pub registered: bool,
    pub sites: Vec<SiteInput>,
    /// Devices flagged `replace` (and `watch` when included).
    pub devices: Vec<DeviceInput>,
    /// Categories no agent sees whose holdings are counted from the
    /// commune's register of assets entered by hand (photocopiers, when
    /// the commune keeps one): per-staff shortfalls are proposed for them
    /// too. Empty in proposals saved before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hand_counted: Vec<Category>,
}

/// One site of a commune; `code: None` gathers devices whose site is not
/// known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteInput {
    pub code: Option<SiteCode>,
    pub name: String,
    pub kind: Option<SiteKind>,
    /// Staff at the site, when entered: the per-staff norms need it.
    pub staff: Option<u32>,
    /// Equipment held, by category (PCs from reports, printers and
    /// scanners from the peripherals the PCs reported).
    pub held: BTreeMap<Category, u32>,
    /// The site's line target (policy `[line-targets]`).
    pub line_target_mbps: u32,
    /// The best throughput measured at the site, if any (see
    /// [`super::lines`]).
    pub line: Option<LineReading>,
}

/// What is known about a site's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineReading {
    /// The best download measured (a line is judged by its best
    /// measurement).
    pub best_download_mbps: f64,
    /// The upload of that same test.
    pub best_upload_mbps: f64,
    /// How many tests were taken.
    pub tests: u32,
    /// The day of the best test.
    pub measured_on: NaiveDate,
    /// The verdict of [`crate::lines::judge_window`] (the one owner of line
    /// status): only a `below` line is proposed for an upgrade, not one
    /// only slow PCs measured. `null` in proposals frozen before it was
    /// kept; those are judged by their best download, as then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<crate::lines::Verdict>,
}

/// One flagged device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceInput {
    pub id: DeviceId,
    pub category: Category,
    pub status: Status,
    pub site: Option<SiteCode>,
    pub hostname: Option<String>,
    /// "Dell OptiPlex 3020".
    pub model: Option<String>,
    pub serial: Option<String>,
    pub asset_tag: Option<String>,
    /// From the asset register.
    pub in_service: Option<NaiveDate>,
    /// The estimate's range of years, when there is no register date.
    pub estimated_years: Option<(i32, i32)>,
    /// Nguyên giá, from the register.
    pub cost_vnd: Option<u64>,
    /// Giá trị còn lại on `as_of`, with a register cost and date.
    pub residual_vnd: Option<u64>,
    /// The service life applied and its regime, e.g. (7, "tt141-2025").
    pub life: Option<(u8, String)>,
    /// Warning and blocking reasons.
    pub reasons: Vec<ReasonInput>,
}

/// One reason of a device's flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonInput {
    pub rule: String,
    pub blocking: bool,
    pub vi: String,
}

impl DeviceInput {
    /// The year it entered service, or the estimate's latest year.
    pub fn year(&self) -> Option<i32> {
        use chrono::Datelike;
        self.in_service
            .map(|d| d.year())
            .or(self.estimated_years.map(|(_, latest)| latest))
    }

    /// "2019", or "2013–2014 (ước tính)".
    pub fn year_text(&self) -> String {
        use chrono::Datelike;
        match (self.in_service, self.estimated_years) {
            (Some(d), _) => d.year().to_string(),
            (None, Some((a, b))) if a == b => format!("{a} (ước tính)"),
            (None, Some((a, b))) => format!("{a}–{b} (ước tính)"),
            (None, None) => "chưa rõ".into(),
        }
    }

    /// Asset tag, else serial, else host name: what identifies it on paper.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(tag) = &self.asset_tag {
            parts.push(format!("Mã TS {tag}"));
        }
        if let Some(serial) = &self.serial {
            parts.push(format!("S/N {serial}"));
        }
        if parts.is_empty() {
            parts.push(self.hostname.clone().unwrap_or_else(|| self.id.to_string()));
        }
        parts.join(", ")
    }
}
