//! From the frozen input to the proposal's items: a pure function, so the
//! same input and prices always give the same items.
//!
//! Items, in the norms' order, each item type first as a replacement then
//! as a shortfall, and the line upgrades last:
//! - **replacement**: one unit per device flagged `replace` (and `watch`
//!   when asked) whose category the item replaces; the reason counts the
//!   devices per rule (past service life with the years and regime, CPU
//!   without Windows 11, ...) and the item lists every device it replaces;
//! - **shortfall**: per site with a staff count, one unit per
//!   `staff-per-unit` staff rounded up, less what the site holds;
//! - **line upgrade**: one per site whose best measured download is below
//!   the site's target.
//!
//! A consolidated proposal merges the communes' items per type and keeps
//! how many units each commune asked for.

use std::collections::BTreeMap;

use kiemke_shared::CommuneCode;
use serde::{Deserialize, Serialize};

use super::input::{CommuneInput, DeviceInput, ProposalInput, SiteInput};
use super::prices::{LINE_UPGRADE_KEY, PriceOverride};
use super::text::{mbps, money};
use super::words;
use crate::lines::Verdict;
use crate::policy::Category;
use crate::policy::norms::NormItem;

/// Categories whose holdings the inventory sees (PCs from their reports,
/// printers and scanners from the PCs' peripherals). Photocopiers are not
/// seen: their holdings come from the commune's register of assets entered
/// by hand ([`CommuneInput::hand_counted`]); a commune without one gets no
/// shortfall for them (the notes say so).
pub const OBSERVED: [Category; 8] = [
    Category::Desktop,
    Category::Laptop,
    Category::Tablet,
    Category::Printer,
    Category::Mfp,
    Category::Scanner,
    Category::NetworkGear,
    Category::Other,
];

/// Why an item is proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Replacement,
    Shortfall,
    LineUpgrade,
}

/// One line of the annex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// STT, from 1.
    pub no: u32,
    /// The norm item's key, or `line-upgrade`.
    pub key: String,
    pub purpose: Purpose,
    /// Tên tài sản: "Máy vi tính để bàn (thay thế)".
    pub name_vi: String,
    pub spec_vi: String,
    pub unit_vi: String,
    /// Số lượng hiện có.
    pub held: u32,
    /// Năm sử dụng of the devices replaced ("2013–2019"), else empty.
    pub years_vi: String,
    /// Nguyên giá and giá trị còn lại of the devices replaced (sums of
    /// the known values).
    pub original_cost_vnd: Option<u64>,
    pub residual_vnd: Option<u64>,
    pub quantity: u32,
    pub unit_price_vnd: u64,
    pub amount_vnd: u64,
    pub norm_vi: String,
    pub reason_vi: String,
    /// Printed when the price is above the norm's maximum.
    pub price_note_vi: Option<String>,
    pub replaces: Vec<ReplacedDevice>,
    /// Units per commune, in commune order.
    pub by_commune: Vec<(CommuneCode, u32)>,
}

/// A device an item replaces, as the devices sheet lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplacedDevice {
    pub commune_vi: String,
    pub site_vi: String,
    pub category_vi: String,
    /// "Mã TS UBND-MT-2019-01, S/N JQ2G8Y1".
    pub label: String,
    pub model: Option<String>,
    pub year_vi: String,
    pub original_cost_vnd: Option<u64>,
    pub residual_vnd: Option<u64>,
    pub status_vi: String,
    pub reasons_vi: String,
}

/// Amount and units per category or per commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subtotal {
    pub key: String,
    pub name_vi: String,
    pub quantity: u32,
    pub amount_vnd: u64,
}

/// The built proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub items: Vec<Item>,
    pub total_vnd: u64,
    /// "Ba trăm mười hai triệu đồng chẵn".
    pub total_words_vi: String,
    pub total_quantity: u32,
    /// Per norm item (replacement and shortfall together) and line upgrades.
    pub by_category: Vec<Subtotal>,
    /// Per commune (one entry for a commune's own proposal).
    pub by_commune: Vec<Subtotal>,
    /// What the proposal could not judge, and what it assumed.
    pub notes_vi: Vec<String>,
}

/// Builds the proposal. `prices` were checked ([`super::prices::check`]).
pub fn build(input: &ProposalInput, prices: &[PriceOverride]) -> Proposal {
    let price = |key: &str, default: u64| -> (u64, Option<&PriceOverride>) {
        match prices.iter().find(|p| p.item == key) {
            Some(p) => (p.unit_price_vnd, Some(p)),
            None => (default, None),
        }
    };
    let mut items = Vec::new();
    let mut notes = Vec::new();
    for norm in &input.norms.items {
        let (unit_price, set) = price(&norm.key, norm.default_price());
        let price_note = set
            .filter(|p| p.unit_price_vnd > norm.max_price_vnd)
            .map(|p| {
                format!(
                    "Đơn giá vượt mức tối đa {} đ theo định mức. Lý do: {}",
                    money(norm.max_price_vnd),
                    p.above_norm_reason.as_deref().unwrap_or("").trim()
                )
            });
        let mut replacement = Draft::default();
        let mut shortfall = Draft::default();
        for commune in &input.communes {
            let held = held_of(commune.sites.iter(), norm);
            replace_in(commune, norm, held, input.include_watch, &mut replacement);
            shortfall_in(commune, norm, held, &mut shortfall, &mut notes);
        }
        for (purpose, draft) in [
            (Purpose::Replacement, replacement),
            (Purpose::Shortfall, shortfall),
        ] {
            if draft.quantity == 0 {
                continue;
            }
            let suffix = match purpose {
                Purpose::Replacement => "thay thế",
                _ => "bổ sung theo định mức",
            };
            items.push(draft.into_item(
                norm.key.clone(),
                purpose,
                format!("{} ({suffix})", norm.name_vi),
                norm.spec_vi.clone(),
                norm.unit_vi.clone(),
                unit_price,
                norm.norm_vi.clone(),
                price_note.clone(),
            ));
        }
    }
    let line = &input.norms.line_upgrade;
    let (line_price, _) = price(LINE_UPGRADE_KEY, line.price_vnd);
    let mut lines = Draft::default();
    for commune in &input.communes {
        lines_in(commune, &mut lines, &mut notes);
    }
    if lines.quantity > 0 {
        let target_note = "Nâng cấp gói cước/đường truyền đạt mục tiêu tốc độ của điểm";
        items.push(lines.into_item(
            LINE_UPGRADE_KEY.into(),
            Purpose::LineUpgrade,
            line.name_vi.clone(),
            target_note.into(),
            line.unit_vi.clone(),
            line_price,
            line.norm_vi.clone(),
            None,
        ));
    }
    flagged_without_norm(input, &mut notes);
    for commune in &input.communes {
        if !commune.registered {
            notes.push(format!(
                "Xã/phường mã {} chưa có trong danh mục xã: tên được ghi theo mã.",
                commune.code
            ));
        }
    }
    for (i, item) in items.iter_mut().enumerate() {
        item.no = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    let total_vnd = items.iter().map(|i| i.amount_vnd).sum();
    let total_quantity = items.iter().map(|i| i.quantity).sum();
    Proposal {
        by_category: by_category(input, &items),
        by_commune: by_commune(input, &items),
        total_words_vi: words::amount_vnd(total_vnd),
        total_vnd,
        total_quantity,
        items,
        notes_vi: notes,
    }
}

/// An item being gathered across communes.
#[derive(Debug, Default)]
struct Draft {
    held: u32,
    quantity: u32,
    devices: Vec<ReplacedDevice>,
    years: Vec<i32>,
    costs: Vec<u64>,
    residuals: Vec<u64>,
    /// Rule → (label, devices) for replacements.
    rules: BTreeMap<(bool, String), u32>,
    /// Free-text parts (shortfalls per site, lines per site).
    parts: Vec<String>,
    by_commune: Vec<(CommuneCode, u32)>,
}

impl Draft {
    #[allow(clippy::too_many_arguments)]
    fn into_item(
        self,
        key: String,
        purpose: Purpose,
        name_vi: String,
        spec_vi: String,
        unit_vi: String,
        unit_price_vnd: u64,
        norm_vi: String,
        price_note_vi: Option<String>,
    ) -> Item {
        let years_vi = match (self.years.iter().min(), self.years.iter().max()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => String::new(),
        };
        let reason_vi = match purpose {
            Purpose::Replacement => {
                let mut rules: Vec<_> = self.rules.into_iter().collect();
                // Blocking first, then by how many devices.
                rules.sort_by_key(|r| std::cmp::Reverse((r.0.0, r.1)));
                let parts: Vec<String> = rules
                    .into_iter()
                    .map(|((_, label), n)| format!("{label}: {n} máy"))
                    .collect();
                format!("Thay thế {} thiết bị: {}.", self.quantity, parts.join("; "))
            }
            _ => capitalise(&format!("{}.", capped(&self.parts, 12).join("; "))),
        };
        Item {
            no: 0,
            key,
            purpose,
            name_vi,
            spec_vi,
            unit_vi,
            held: self.held,
            years_vi,
            original_cost_vnd: (!self.costs.is_empty()).then(|| self.costs.iter().sum()),
            residual_vnd: (!self.residuals.is_empty()).then(|| self.residuals.iter().sum()),
            quantity: self.quantity,
            unit_price_vnd,
            amount_vnd: u64::from(self.quantity).saturating_mul(unit_price_vnd),
            norm_vi,
            reason_vi,
            price_note_vi,
            replaces: self.devices,
            by_commune: self.by_commune,
        }
    }
}

/// At most `n` parts, then "… và K điểm khác".
fn capped(parts: &[String], n: usize) -> Vec<String> {
    let mut out: Vec<String> = parts.iter().take(n).cloned().collect();
    if parts.len() > n {
        out.push(format!(
            "và {} điểm khác (xem bảng theo xã)",
            parts.len() - n
        ));
    }
    out
}

fn held_of<'a>(sites: impl Iterator<Item = &'a SiteInput>, norm: &NormItem) -> u32 {
    sites
        .map(|s| {
            norm.held_categories()
                .map(|c| s.held.get(&c).copied().unwrap_or(0))
                .sum::<u32>()
        })
        .sum()
}

fn site_name(commune: &CommuneInput, site: Option<&kiemke_shared::SiteCode>) -> String {
    commune
        .sites
        .iter()
        .find(|s| s.code.as_ref() == site)
        .map_or_else(
            || super::gather::UNKNOWN_SITE_VI.to_owned(),
            |s| s.name.clone(),
        )
}

fn replace_in(
    commune: &CommuneInput,
    norm: &NormItem,
    held: u32,
    include_watch: bool,
    draft: &mut Draft,
) {
    let devices: Vec<&DeviceInput> = commune
        .devices
        .iter()
        .filter(|d| norm.replaces.contains(&d.category))
        .filter(|d| include_watch || d.status == crate::policy::Status::Replace)
        .collect();
    if devices.is_empty() {
        return;
    }
    draft.held += held;
    let n = u32::try_from(devices.len()).unwrap_or(u32::MAX);
    draft.quantity += n;
    draft.by_commune.push((commune.code.clone(), n));
    for d in devices {
        draft.years.extend(d.year());
        draft.costs.extend(d.cost_vnd);
        draft.residuals.extend(d.residual_vnd);
        for r in &d.reasons {
            *draft
                .rules
                .entry((r.blocking, rule_label(r, d)))
                .or_default() += 1;
        }
        if d.status == crate::policy::Status::Watch {
            *draft
                .rules
                .entry((false, "cần theo dõi, đề xuất thay thế sớm".into()))
                .or_default() += 1;
        }
        draft.devices.push(ReplacedDevice {
            commune_vi: commune.full_name_vi.clone(),
            site_vi: site_name(commune, d.site.as_ref()),
            category_vi: d.category.label(kiemke_shared::Lang::Vi).to_owned(),
            label: d.label(),
            model: d.model.clone(),
            year_vi: d.year_text(),
            original_cost_vnd: d.cost_vnd,
            residual_vnd: d.residual_vnd,
            status_vi: d.status.label(kiemke_shared::Lang::Vi).to_owned(),
            reasons_vi: d
                .reasons
                .iter()
                .map(|r| r.vi.trim_end_matches('.').to_owned())
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
}

/// A short label per rule, for counting devices in an item's reason.
fn rule_label(r: &super::input::ReasonInput, d: &DeviceInput) -> String {
    match r.rule.as_str() {
        "service-life" => match &d.life {
            Some((years, regime)) => {
                format!("hết hạn sử dụng ({years} năm theo {})", regime_name(regime))
            }
            None => "hết hạn sử dụng".into(),
        },
        "cpu-windows11" => {
            "CPU không chạy được Windows 11 (Windows 10 hết hỗ trợ từ 14/10/2025)".into()
        }
        "os-end-of-support" => "hệ điều hành hết hỗ trợ của hãng".into(),
        "tpm2" => "không có TPM 2.0".into(),
        "ram-min" => "RAM dưới mức tối thiểu".into(),
        "system-disk-ssd" => "ổ đĩa hệ thống không phải SSD".into(),
        "cpu-threads" => "bộ xử lý dưới cấu hình tối thiểu".into(),
        "nic-line-target" => "card mạng chậm hơn mục tiêu đường truyền".into(),
        "printer-page-count" => "bộ đếm trang vượt tuổi thọ định mức".into(),
        "supplies-errors" => "thiết bị báo lỗi".into(),
        other => other.to_owned(),
    }
}

fn regime_name(id: &str) -> String {
    match id {
        "tt141-2025" => "Thông tư 141/2025/TT-BTC".into(),
        "tt23-2023" => "Thông tư 23/2023/TT-BTC".into(),
        other => other.to_owned(),
    }
}

fn shortfall_in(
    commune: &CommuneInput,
    norm: &NormItem,
    held_total: u32,
    draft: &mut Draft,
    notes: &mut Vec<String>,
) {
    let Some(per) = norm.staff_per_unit else {
        return;
    };
    let counted = |c: &Category| OBSERVED.contains(c) || commune.hand_counted.contains(c);
    if !norm.replaces.iter().all(counted) {
        notes.push(format!(
            "{}: chưa có số liệu {} hiện có (chưa kiểm kê được tự động), chưa đề xuất bổ sung theo định mức.",
            capitalise(&commune.full_name_vi),
            norm.name_vi.to_lowercase()
        ));
        return;
    }
    let mut n_commune = 0;
    let mut unknown_staff = Vec::new();
    for site in &commune.sites {
        if site.code.is_none() {
            continue;
        }
        let Some(staff) = site.staff else {
            unknown_staff.push(site.name.clone());
            continue;
        };
        let entitled = staff.div_ceil(per);
        let held = held_of(std::iter::once(site), norm);
        let short = entitled.saturating_sub(held);
        if short > 0 {
            n_commune += short;
            draft.parts.push(format!(
                "{} – {} ({staff} người) được {entitled} {unit} theo định mức, hiện có {held}, thiếu {short}",
                commune.full_name_vi,
                site.name,
                unit = norm.unit_vi.to_lowercase()
            ));
        }
    }
    if !unknown_staff.is_empty() && per > 0 {
        notes.push(format!(
            "{}: chưa nhập số người làm việc tại {}: chưa tính {} còn thiếu theo định mức tại các điểm này.",
            capitalise(&commune.full_name_vi),
            unknown_staff.join(", "),
            norm.name_vi.to_lowercase()
        ));
    }
    if n_commune > 0 {
        draft.held += held_total;
        draft.quantity += n_commune;
        draft.by_commune.push((commune.code.clone(), n_commune));
    }
}

fn lines_in(commune: &CommuneInput, draft: &mut Draft, notes: &mut Vec<String>) {
    let mut n = 0;
    let mut unmeasured = Vec::new();
    for site in &commune.sites {
        let Some(line) = &site.line else {
            if site.code.is_some() {
                unmeasured.push(site.name.clone());
            }
            continue;
        };
        let below = match line.verdict {
            Some(verdict) => verdict == Verdict::Below,
            None => line.best_download_mbps < f64::from(site.line_target_mbps),
        };
        if !below {
            continue;
        }
        n += 1;
        draft.parts.push(format!(
            "{} – {}: tốc độ đo được tốt nhất {} Mbps tải xuống, {} Mbps tải lên ({} lần đo, ngày {}), dưới mục tiêu {} Mbps",
            commune.full_name_vi,
            site.name,
            mbps(line.best_download_mbps),
            mbps(line.best_upload_mbps),
            line.tests,
            line.measured_on.format("%d/%m/%Y"),
            site.line_target_mbps
        ));
    }
    if !unmeasured.is_empty() {
        notes.push(format!(
            "{}: chưa có số liệu đo tốc độ đường truyền tại {}.",
            capitalise(&commune.full_name_vi),
            unmeasured.join(", ")
        ));
    }
    if n > 0 {
        draft.held += n;
        draft.quantity += n;
        draft.by_commune.push((commune.code.clone(), n));
    }
}

fn flagged_without_norm(input: &ProposalInput, notes: &mut Vec<String>) {
    let mut without: BTreeMap<Category, u32> = BTreeMap::new();
    let proposed = input
        .communes
        .iter()
        .flat_map(|c| &c.devices)
        .filter(|d| input.include_watch || d.status == crate::policy::Status::Replace);
    for d in proposed {
        if input.norms.replacing(d.category).is_none() {
            *without.entry(d.category).or_default() += 1;
        }
    }
    for (category, n) in without {
        notes.push(format!(
            "{n} {} được đánh dấu thay thế nhưng không có định mức giá: chưa đưa vào tờ trình.",
            category.label(kiemke_shared::Lang::Vi)
        ));
    }
}

fn by_category(input: &ProposalInput, items: &[Item]) -> Vec<Subtotal> {
    let mut out: Vec<Subtotal> = Vec::new();
    for item in items {
        let name_vi = input.norms.item(&item.key).map_or_else(
            || input.norms.line_upgrade.name_vi.clone(),
            |n| n.name_vi.clone(),
        );
        match out.iter_mut().find(|s| s.key == item.key) {
            Some(s) => {
                s.quantity += item.quantity;
                s.amount_vnd += item.amount_vnd;
            }
            None => out.push(Subtotal {
                key: item.key.clone(),
                name_vi,
                quantity: item.quantity,
                amount_vnd: item.amount_vnd,
            }),
        }
    }
    out
}

fn by_commune(input: &ProposalInput, items: &[Item]) -> Vec<Subtotal> {
    input
        .communes
        .iter()
        .map(|c| {
            let mut quantity = 0;
            let mut amount_vnd = 0u64;
            for item in items {
                for (code, n) in &item.by_commune {
                    if code == &c.code {
                        quantity += n;
                        amount_vnd += u64::from(*n) * item.unit_price_vnd;
                    }
                }
            }
            Subtotal {
                key: c.code.to_string(),
                name_vi: capitalise(&c.full_name_vi),
                quantity,
                amount_vnd,
            }
        })
        .collect()
}

/// "xã Ia Grai" → "Xã Ia Grai".
pub fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
