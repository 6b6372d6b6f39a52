//! A device's entry in the commune's asset register (sổ tài sản): asset tag,
//! in-service date, original cost, and where it belongs. Set by an officer
//! (`PUT /api/v1/devices/{id}/asset`); the authoritative age evidence.

use chrono::{DateTime, NaiveDate, Utc};
use kiemke_shared::{CommuneCode, SiteCode, SiteKind};
use serde::{Deserialize, Serialize};

use super::category::Category;

/// The largest original cost accepted (1,000 billion đồng): a typo guard.
pub const MAX_COST_VND: u64 = 1_000_000_000_000;

/// One device's register entry. Every field is optional: a commune may know
/// the date but not the cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRecord {
    /// Mã tài sản, as written on the label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    /// Ngày đưa vào sử dụng (or purchase date when that is all there is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_service: Option<NaiveDate>,
    /// Nguyên giá, in đồng.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_vnd: Option<u64>,
    /// Overrides the category read from the chassis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The commune the device belongs to, until enrollment records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<CommuneCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteCode>,
    /// Selects the line target (service center: 200 Mbps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_kind: Option<SiteKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Set by the server when the entry is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl AssetRecord {
    /// Checks an entry sent by a user; the error names the field and says
    /// what to fix, in Vietnamese and in English.
    pub fn validate(&self, today: NaiveDate) -> Result<(), (&'static str, String, String)> {
        if let Some(date) = self.in_service {
            let earliest = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN);
            if date < earliest || date > today {
                return Err((
                    "in_service",
                    format!(
                        "Ngày đưa vào sử dụng phải từ 01/01/1990 đến hôm nay ({}).",
                        today.format("%d/%m/%Y")
                    ),
                    format!("The in-service date must be between 1990-01-01 and today ({today})."),
                ));
            }
        }
        if self.cost_vnd.is_some_and(|c| c == 0 || c > MAX_COST_VND) {
            return Err((
                "cost_vnd",
                "Nguyên giá (đồng) phải lớn hơn 0 và không quá 1.000 tỷ đồng.".into(),
                "The original cost (đồng) must be above 0 and at most 1,000 billion đồng.".into(),
            ));
        }
        for (field, value, max) in [
            ("asset_tag", &self.asset_tag, 64),
            ("note", &self.note, 500),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > max || v.chars().any(char::is_control))
            {
                return Err((
                    field,
                    format!("Tối đa {max} ký tự, không có ký tự điều khiển."),
                    format!("At most {max} characters, no control characters."),
                ));
            }
        }
        Ok(())
    }
}
