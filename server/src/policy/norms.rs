//! Equipment norms and prices for proposals (`[norms]` in the policy file):
//! what each item type may cost at most, how many staff one unit serves,
//! and which flagged categories it replaces. Defaults from QĐ 15/2025/QĐ-TTg
//! as amended by QĐ 10/2026/QĐ-TTg (see `docs/proposals.md`); a province
//! edits them in its copy of the file.

use serde::{Deserialize, Serialize};

use super::category::Category;

/// The largest unit price accepted anywhere (100 billion đồng): a typo guard.
pub const MAX_PRICE_VND: u64 = 100_000_000_000;

/// The `[norms]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Norms {
    /// The legal source printed as "định mức áp dụng".
    pub source_vi: String,
    pub source_en: String,
    /// Item types, in the order documents list them.
    pub items: Vec<NormItem>,
    /// Upgrading a line below its site's target.
    pub line_upgrade: LineUpgrade,
}

/// One item type with its norm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NormItem {
    /// Stable key, e.g. `desktop`: price overrides name it.
    pub key: String,
    /// "Máy vi tính để bàn".
    pub name_vi: String,
    pub name_en: String,
    /// ĐVT, e.g. "Bộ", "Chiếc".
    pub unit_vi: String,
    /// The configuration proposed (cấu hình/thông số).
    pub spec_vi: String,
    /// The norm's maximum unit price (đồng).
    pub max_price_vnd: u64,
    /// The estimated unit price used by default; the maximum when absent.
    #[serde(default)]
    pub price_vnd: Option<u64>,
    /// Flagged devices of these categories are replaced by this item.
    #[serde(default)]
    pub replaces: Vec<Category>,
    /// One unit per this many staff of a site (printers 3, scanners 15):
    /// a site holding fewer gets the difference proposed.
    #[serde(default)]
    pub staff_per_unit: Option<u32>,
    /// Categories held that count toward the per-staff norm besides those
    /// it `replaces`: a multifunction printer is replaced by a printer but
    /// also serves as a scanner (`counts-also = ["mfp"]` for scanners).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counts_also: Vec<Category>,
    /// The norm as printed in the annex, e.g. "Tối đa 13 triệu đồng/chiếc;
    /// 01 chiếc/03 người".
    pub norm_vi: String,
}

impl NormItem {
    /// The default unit price (never above the maximum: checked on load).
    pub fn default_price(&self) -> u64 {
        self.price_vnd.unwrap_or(self.max_price_vnd)
    }

    /// The categories a site's holdings of this item are counted from
    /// ([`Self::replaces`] and [`Self::counts_also`]).
    pub fn held_categories(&self) -> impl Iterator<Item = Category> + '_ {
        self.replaces
            .iter()
            .chain(
                self.counts_also
                    .iter()
                    .filter(|c| !self.replaces.contains(c)),
            )
            .copied()
    }
}

/// Upgrading a line below its site's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LineUpgrade {
    pub name_vi: String,
    pub unit_vi: String,
    /// The estimated one-off cost per line (equipment, installation);
    /// 0: priced by the carrier's quotation, shown as such.
    #[serde(default)]
    pub price_vnd: u64,
    pub norm_vi: String,
}

impl Norms {
    pub fn item(&self, key: &str) -> Option<&NormItem> {
        self.items.iter().find(|i| i.key == key)
    }

    /// The item that replaces devices of `category`, if any.
    pub fn replacing(&self, category: Category) -> Option<&NormItem> {
        self.items.iter().find(|i| i.replaces.contains(&category))
    }

    /// Checks the section; the error names the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.items.is_empty() {
            return Err((
                "norms.items".into(),
                "cần ít nhất một mục / at least one item is needed".into(),
            ));
        }
        for (i, item) in self.items.iter().enumerate() {
            let field = |f: &str| format!("norms.items[{i}].{f}");
            if item.key.is_empty()
                || !item
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err((
                    field("key"),
                    "chỉ gồm chữ thường, số và dấu gạch ngang / lower-case letters, digits and dashes only".into(),
                ));
            }
            if self.items[..i].iter().any(|o| o.key == item.key) {
                return Err((
                    field("key"),
                    format!("trùng khóa / duplicate key {:?}", item.key),
                ));
            }
            if item.max_price_vnd == 0 || item.max_price_vnd > MAX_PRICE_VND {
                return Err((
                    field("max-price-vnd"),
                    "phải lớn hơn 0 và không quá 100 tỷ đồng / must be above 0 and at most 100 billion đồng".into(),
                ));
            }
            if item.price_vnd.is_some_and(|p| p > item.max_price_vnd) {
                return Err((
                    field("price-vnd"),
                    "đơn giá mặc định vượt giá tối đa / the default price is above the maximum"
                        .into(),
                ));
            }
            if item.staff_per_unit == Some(0) {
                return Err((
                    field("staff-per-unit"),
                    "phải lớn hơn 0 / must be above 0".into(),
                ));
            }
            for category in &item.replaces {
                if self.items[..i]
                    .iter()
                    .any(|o| o.replaces.contains(category))
                {
                    return Err((
                        field("replaces"),
                        format!(
                            "loại {category} đã được mục khác thay thế / category {category} is already replaced by another item"
                        ),
                    ));
                }
            }
        }
        if self.line_upgrade.price_vnd > MAX_PRICE_VND {
            return Err((
                "norms.line-upgrade.price-vnd".into(),
                "không quá 100 tỷ đồng / at most 100 billion đồng".into(),
            ));
        }
        Ok(())
    }
}
