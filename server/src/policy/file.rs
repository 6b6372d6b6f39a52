//! The policy file (`kiemke-policy.toml`): its shape, parsed with serde
//! (`deny_unknown_fields`, so a typo is an error) through
//! `serde_path_to_error`, so that an invalid file is refused naming the line
//! and the field. Values are checked as they are read (validated newtypes),
//! sections against each other in [`PolicyFile::check`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kiemke_shared::SiteKind;
use serde::{Deserialize, Serialize};

use super::category::Category;

/// The largest province adjustment of a useful life, in percent.
pub const MAX_ADJUSTMENT_PERCENT: i32 = 20;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyFile {
    pub policy: Meta,
    pub assets: AssetSettings,
    pub age: AgeSettings,
    /// Useful lives and wear rates, one version per legal regime, in date
    /// order (TT 23/2023 until 31/12/2025, TT 141/2025 from 01/01/2026).
    pub life: Vec<LifeVersion>,
    pub line_targets: LineTargets,
    pub rules: Rules,
    /// Equipment norms and prices for proposals; a file without them uses
    /// the shipped file's (see [`super::Policy::norms`]).
    #[serde(default)]
    pub norms: Option<super::norms::Norms>,
    /// The survey's commune traffic light (XANH/VÀNG/ĐỎ); the defaults
    /// apply to files written before it existed.
    #[serde(default)]
    pub traffic_light: TrafficLight,
}

/// The criteria a commune is rated on (see `docs/survey.md`). Each
/// criterion can be switched off; the defaults follow DOMAIN.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct TrafficLight {
    /// VÀNG up to this many unmet criteria, ĐỎ beyond (XANH: none unmet).
    pub yellow_max_unmet: u32,
    /// Line measurements older than this do not count.
    pub line_window_days: u32,
    /// One criterion per site: its best download in the window reaches the
    /// site's target. A site without any measurement in the window fails it.
    pub site_lines: bool,
    /// At most this share (%) of the commune's PCs flagged `replace`.
    pub max_replace_share_percent: Option<u8>,
    /// At least this many scanners (scanners and MFPs) at the public
    /// service center (TTPVHCC).
    pub min_service_center_scanners: Option<u32>,
    /// Agents silent longer than this are "silent".
    pub silent_days: u32,
    /// At most this share (%) of the commune's PCs silent.
    pub max_silent_share_percent: Option<u8>,
}

impl Default for TrafficLight {
    fn default() -> TrafficLight {
        TrafficLight {
            yellow_max_unmet: 5,
            line_window_days: 30,
            site_lines: true,
            max_replace_share_percent: Some(30),
            min_service_center_scanners: Some(1),
            silent_days: 7,
            max_silent_share_percent: Some(20),
        }
    }
}

/// Which policy this is, shown with every flag.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Meta {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AssetSettings {
    /// Below this original cost (đồng) an item is a tool: no wear charged.
    pub fixed_asset_min_cost_vnd: u64,
    /// Below this useful life an item is a tool too.
    pub fixed_asset_min_life_years: u8,
    /// The province's adjustment of every useful life, within ±20 %.
    pub life_adjustment_percent: Adjustment,
    /// Whether the year an asset enters service is charged a full year's
    /// wear (`full`) or wear starts the next year (`next-year`).
    pub first_year_wear: FirstYearWear,
    /// `watch` this many months before the service life ends.
    pub watch_window_months: WatchWindow,
    /// The category of a PC whose chassis the agent could not read.
    pub unknown_chassis: Category,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirstYearWear {
    Full,
    NextYear,
}

/// A life adjustment in percent, −20..=20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Adjustment(pub i32);

impl TryFrom<i64> for Adjustment {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        i32::try_from(v)
            .ok()
            .filter(|v| v.abs() <= MAX_ADJUSTMENT_PERCENT)
            .map(Adjustment)
            .ok_or_else(|| {
                format!(
                    "điều chỉnh thời gian sử dụng phải trong khoảng −{m}..{m} (%), nhận {v} / \
                     the life adjustment must be within ±{m} %, got {v}",
                    m = MAX_ADJUSTMENT_PERCENT
                )
            })
    }
}

/// Months, 1..=60.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct WatchWindow(pub u32);

impl TryFrom<i64> for WatchWindow {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        u32::try_from(v)
            .ok()
            .filter(|v| (1..=60).contains(v))
            .map(WatchWindow)
            .ok_or_else(|| format!("phải từ 1 đến 60 tháng / must be 1–60 months, got {v}"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AgeSettings {
    /// How long after its CPU's launch (or its BIOS date) a PC is assumed
    /// to have entered service at the latest, when no register says.
    pub sale_window_years: u8,
    /// A BIOS dated more than this after the CPU's launch is taken for a
    /// firmware update, not the machine's date.
    pub bios_update_gap_years: u8,
}

/// A date written `"2026-01-01"` or as a TOML date `2026-01-01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "DateInput")]
pub struct Date(pub NaiveDate);

#[derive(Deserialize)]
#[serde(untagged)]
enum DateInput {
    Text(String),
    Toml(toml::value::Datetime),
}

impl TryFrom<DateInput> for Date {
    type Error = String;
    fn try_from(v: DateInput) -> Result<Self, String> {
        let text = match v {
            DateInput::Text(t) => t,
            DateInput::Toml(d) => d.to_string(),
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| {
                format!("ngày phải có dạng YYYY-MM-DD / a date must be YYYY-MM-DD, got {text:?}")
            })
    }
}

/// Useful lives under one legal regime.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LifeVersion {
    /// Short id shown with figures, e.g. `tt23-2023`.
    pub id: String,
    /// The legal source, e.g. "Thông tư 23/2023/TT-BTC, Phụ lục I".
    pub source_vi: String,
    pub source_en: String,
    /// First day in force; absent on the first version (it then also
    /// covers every earlier year).
    pub from: Option<Date>,
    /// Last day in force; absent on the last version.
    pub until: Option<Date>,
    pub categories: LifeTable,
}

/// One row per category, every category required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LifeTable {
    pub desktop: Life,
    pub laptop: Life,
    pub tablet: Life,
    pub printer: Life,
    pub scanner: Life,
    pub mfp: Life,
    pub photocopier: Life,
    pub network_gear: Life,
    pub other: Life,
}

impl LifeTable {
    pub fn get(&self, c: Category) -> Life {
        match c {
            Category::Desktop => self.desktop,
            Category::Laptop => self.laptop,
            Category::Tablet => self.tablet,
            Category::Printer => self.printer,
            Category::Scanner => self.scanner,
            Category::Mfp => self.mfp,
            Category::Photocopier => self.photocopier,
            Category::NetworkGear => self.network_gear,
            Category::Other => self.other,
        }
    }
}

/// A useful life and its annual wear rate, as the circulars give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawLife", rename_all = "kebab-case")]
pub struct Life {
    pub years: u8,
    /// Annual wear rate in basis points (14.29 % = 1429).
    pub rate_bp: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLife {
    years: u8,
    rate_percent: f64,
}

impl TryFrom<RawLife> for Life {
    type Error = String;
    fn try_from(raw: RawLife) -> Result<Self, String> {
        if !(1..=50).contains(&raw.years) {
            return Err(format!(
                "years phải từ 1 đến 50 / must be 1–50, got {}",
                raw.years
            ));
        }
        if !(raw.rate_percent > 0.0 && raw.rate_percent <= 100.0) {
            return Err(format!(
                "rate-percent phải trong (0, 100] / must be in (0, 100], got {}",
                raw.rate_percent
            ));
        }
        let total = f64::from(raw.years) * raw.rate_percent;
        if (total - 100.0).abs() > 1.0 {
            return Err(format!(
                "years × rate-percent phải xấp xỉ 100 (nhận {total:.2}): kiểm tra lại số năm và tỷ lệ / \
                 years × rate-percent must be about 100 (got {total:.2})"
            ));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rate_bp = (raw.rate_percent * 100.0).round() as u32;
        Ok(Life {
            years: raw.years,
            rate_bp,
        })
    }
}

/// Line targets per site kind; the probes read them from here too.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LineTargets {
    /// For a site of a kind not listed, and for a device whose site is not
    /// known yet.
    pub default_mbps: u32,
    #[serde(default)]
    pub site_kinds: BTreeMap<SiteKind, u32>,
    /// A site whose latest throughput test is older than this is asked for
    /// one (in a report acknowledgement, one PC at a time).
    #[serde(default = "default_speed_test_max_age_days")]
    pub speed_test_max_age_days: u32,
}

fn default_speed_test_max_age_days() -> u32 {
    7
}

impl LineTargets {
    pub fn for_site(&self, kind: Option<SiteKind>) -> u32 {
        kind.and_then(|k| self.site_kinds.get(&k).copied())
            .unwrap_or(self.default_mbps)
    }
}

/// What a finding does to the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Shown, changes nothing.
    Info,
    /// Makes the device `watch`.
    Warning,
    /// Makes the device `replace`.
    Blocking,
}

/// Every rule the server implements, with its settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rules {
    pub service_life: Rule<NoThresholds>,
    pub os_end_of_support: Rule<OsSupport>,
    pub cpu_windows11: Rule<NoThresholds>,
    pub tpm2: Rule<NoThresholds>,
    pub ram_min: Rule<RamMin>,
    pub system_disk_ssd: Rule<NoThresholds>,
    pub cpu_threads: Rule<Threads>,
    pub nic_line_target: Rule<NoThresholds>,
    pub printer_page_count: Rule<PageCount>,
    pub supplies_errors: Rule<NoThresholds>,
}

/// One rule: whether it runs, what it weighs, where it applies, what it
/// says (`{value}`, `{threshold}`, `{detail}` are filled in), and its
/// thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rule<T> {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub severity: Severity,
    pub applies_to: Vec<Category>,
    pub vi: String,
    pub en: String,
    #[serde(default)]
    pub thresholds: T,
}

fn yes() -> bool {
    true
}

impl<T> Rule<T> {
    pub fn applies(&self, category: Category) -> bool {
        self.enabled && self.applies_to.contains(&category)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoThresholds {}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OsSupport {
    /// First match wins: list specific editions before general ones.
    pub systems: Vec<OsEndOfSupport>,
}

/// When one operating system (edition, version) left vendor support.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OsEndOfSupport {
    pub label: String,
    /// Every one must appear in the OS name (case-insensitive).
    pub name_contains: Vec<String>,
    /// At least one must appear in the OS name, when given.
    #[serde(default)]
    pub name_any: Vec<String>,
    /// None may appear in the OS name.
    #[serde(default)]
    pub name_excludes: Vec<String>,
    /// The OS version must start with this (`6.1.`, `22.04`).
    pub version_prefix: Option<String>,
    /// Windows build range (third part of `10.0.19045`), inclusive.
    pub build_from: Option<u32>,
    pub build_to: Option<u32>,
    pub end: Date,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RamMin {
    pub min_gib: u32,
    /// Memory the firmware and graphics reserve: 8 GB installed shows as
    /// about 7.8 GiB usable.
    pub tolerance_percent: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Threads {
    pub min_logical: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PageCount {
    /// Flag when the counter passes this share of the model's rated life.
    pub max_share_percent: u32,
}
