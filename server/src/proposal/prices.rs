//! Unit prices a proposal's author sets per item: never above the norm's
//! maximum unless the author gives a reason, which the documents print.

use serde::{Deserialize, Serialize};

use crate::policy::norms::{MAX_PRICE_VND, Norms};

/// The key of the line-upgrade item among price overrides.
pub const LINE_UPGRADE_KEY: &str = "line-upgrade";

/// The longest reason accepted for a price above the norm.
pub const MAX_REASON_CHARS: usize = 500;

/// One item's unit price set by the author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    /// The norm item's key (`desktop`, `printer`, ...) or `line-upgrade`.
    pub item: String,
    pub unit_price_vnd: u64,
    /// Required when the price is above the norm's maximum: printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above_norm_reason: Option<String>,
}

/// Why a price cannot be used: the field and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {en}")]
pub struct PriceError {
    pub field: String,
    pub vi: String,
    pub en: String,
}

/// Checks the overrides against the norms.
pub fn check(norms: &Norms, prices: &[PriceOverride]) -> Result<(), PriceError> {
    if prices.len() > norms.items.len() + 1 {
        return Err(PriceError {
            field: "prices".into(),
            vi: "Mỗi mục chỉ đặt một đơn giá.".into(),
            en: "Set one price per item.".into(),
        });
    }
    for (i, p) in prices.iter().enumerate() {
        let field = format!("prices[{i}]");
        if prices[..i].iter().any(|o| o.item == p.item) {
            return Err(PriceError {
                field,
                vi: format!("Mục {:?} được đặt giá hai lần.", p.item),
                en: format!("Item {:?} is priced twice.", p.item),
            });
        }
        let max = match norms.item(&p.item) {
            Some(item) => Some((item.max_price_vnd, item.name_vi.as_str())),
            None if p.item == LINE_UPGRADE_KEY => None,
            None => {
                let keys: Vec<&str> = norms.items.iter().map(|i| i.key.as_str()).collect();
                return Err(PriceError {
                    field: format!("{field}.item"),
                    vi: format!(
                        "Không có mục {:?} trong định mức. Các mục: {}, {LINE_UPGRADE_KEY}.",
                        p.item,
                        keys.join(", ")
                    ),
                    en: format!(
                        "No item {:?} in the norms. Items: {}, {LINE_UPGRADE_KEY}.",
                        p.item,
                        keys.join(", ")
                    ),
                });
            }
        };
        if p.unit_price_vnd > MAX_PRICE_VND {
            return Err(PriceError {
                field: format!("{field}.unit_price_vnd"),
                vi: "Đơn giá không quá 100 tỷ đồng.".into(),
                en: "A unit price is at most 100 billion đồng.".into(),
            });
        }
        let reason = p.above_norm_reason.as_deref().map(str::trim).unwrap_or("");
        if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(PriceError {
                field: format!("{field}.above_norm_reason"),
                vi: format!("Lý do tối đa {MAX_REASON_CHARS} ký tự, không có ký tự điều khiển."),
                en: format!(
                    "The reason takes at most {MAX_REASON_CHARS} characters, no control characters."
                ),
            });
        }
        if let Some((max, name)) = max
            && p.unit_price_vnd > max
            && reason.is_empty()
        {
            return Err(PriceError {
                field: format!("{field}.above_norm_reason"),
                vi: format!(
                    "Đơn giá {} đ của {name} vượt giá tối đa theo định mức ({} đ). Hãy giảm đơn giá, \
                     hoặc ghi lý do vượt định mức (above_norm_reason): lý do được in trong tờ trình.",
                    super::text::money(p.unit_price_vnd),
                    super::text::money(max)
                ),
                en: format!(
                    "The unit price {} đ for {name} is above the norm's maximum ({} đ). Lower it, or \
                     give the reason (above_norm_reason): it is printed in the document.",
                    super::text::money(p.unit_price_vnd),
                    super::text::money(max)
                ),
            });
        }
    }
    Ok(())
}
