//! The lifecycle policy: which devices are due for replacement, and why.
//! Every figure comes from the policy file (`server/kiemke-policy.toml`,
//! embedded as the default; `--policy FILE` replaces it), never from code:
//! provinces adjust them and the law changes.
//!
//! # Layout
//! - [`file`]: the policy file's shape and its validated values.
//! - [`category`]: asset categories (desktop, laptop, printer, ...).
//! - [`cpu`]: CPU brand strings → launch year and Windows 11 support (data
//!   in `server/data/cpu-launch-years.toml`).
//! - [`age`]: a device's in-service year as a range, from evidence.
//! - [`depreciation`]: wear and residual value per year, and the service
//!   life test, under the regime in force each year.
//! - [`rules`]: the minimum-configuration rules.
//! - [`register`]: a device's asset-register entry (date, cost, site).
//! - [`flags`]: the status (`ok`/`watch`/`replace`) with every reason.
//! - [`norms`]: equipment norms and prices for proposals.

pub mod age;
pub mod category;
pub mod cpu;
pub mod depreciation;
pub mod file;
pub mod flags;
pub mod norms;
pub mod register;
pub mod rules;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use kiemke_shared::Lang;

pub use self::category::Category;
pub use self::file::{Life, LifeVersion, PolicyFile, Severity, TrafficLight};
pub use self::flags::{DeviceFlags, DeviceInputs, Status};
pub use self::register::AssetRecord;

/// The policy shipped in the binary (and loaded by the tests).
pub const SHIPPED: &str = include_str!("../kiemke-policy.toml");

static SHIPPED_POLICY: LazyLock<Policy> = LazyLock::new(|| {
    // Parsed by `the_shipped_policy_is_valid` in CI: a failure here is a
    // build defect, not an input error.
    #[allow(clippy::expect_used)]
    Policy::parse(SHIPPED, "kiemke-policy.toml (mặc định)").expect("the shipped policy is valid")
});

/// Why a policy file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("không đọc được tệp chính sách {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", invalid_message(.source_name, *.line, *.column, .field, .message, Lang::Vi))]
    Invalid {
        /// The file, as the user named it.
        source_name: String,
        /// 1-based line and column, where known.
        line: Option<usize>,
        column: Option<usize>,
        /// Dotted path of the field, e.g. `assets.life-adjustment-percent`.
        field: String,
        message: String,
    },
}

impl PolicyError {
    /// The message a user reads.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            PolicyError::Read { path, source } => match lang {
                Lang::Vi => format!("Không đọc được tệp chính sách {}: {source}", path.display()),
                Lang::En => format!("Cannot read the policy file {}: {source}", path.display()),
            },
            PolicyError::Invalid {
                source_name,
                line,
                column,
                field,
                message,
            } => invalid_message(source_name, *line, *column, field, message, lang),
        }
    }
}

fn invalid_message(
    source: &str,
    line: Option<usize>,
    column: Option<usize>,
    field: &str,
    message: &str,
    lang: Lang,
) -> String {
    let at = match (line, column, lang) {
        (Some(l), Some(c), Lang::Vi) => format!(", dòng {l}, cột {c}"),
        (Some(l), Some(c), Lang::En) => format!(", line {l}, column {c}"),
        _ => String::new(),
    };
    let field = if field.is_empty() { "." } else { field };
    match lang {
        Lang::Vi => {
            format!("Tệp chính sách {source} không hợp lệ{at}, trường `{field}`: {message}")
        }
        Lang::En => format!("The policy file {source} is invalid{at}, field `{field}`: {message}"),
    }
}

/// A checked policy, ready to evaluate devices.
#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PolicyFile,
    /// Changes whenever the file's text changes: stored flags computed under
    /// another fingerprint are recomputed.
    pub fingerprint: String,
}

impl Policy {
    /// The policy embedded in the binary.
    pub fn shipped() -> &'static Policy {
        &SHIPPED_POLICY
    }

    /// Reads and checks a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Parses and checks policy text; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Policy, PolicyError> {
        let invalid = |span: Option<std::ops::Range<usize>>, field: String, message: String| {
            let (line, column) = span.map(|s| line_column(text, s.start)).unzip();
            PolicyError::Invalid {
                source_name: source_name.to_owned(),
                line,
                column,
                field,
                message,
            }
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| invalid(e.span(), String::new(), e.message().to_owned()))?;
        let file: PolicyFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            invalid(inner.span(), field, inner.message().to_owned())
        })?;
        file.check()
            .map_err(|(field, message)| invalid(find_key(text, &field), field, message))?;
        Ok(Policy {
            file,
            fingerprint: fingerprint(text),
        })
    }

    /// The useful life of `category` under the regime in force on `date`,
    /// with the province's adjustment applied.
    pub fn life_on(&self, category: Category, date: NaiveDate) -> (&LifeVersion, Life) {
        let version = self.version_on(date);
        (version, self.adjusted(version.categories.get(category)))
    }

    /// The regime in force on `date` (the first one also covers earlier
    /// dates, the last one later dates; [`PolicyFile::check`] makes them
    /// contiguous).
    pub fn version_on(&self, date: NaiveDate) -> &LifeVersion {
        let versions = &self.file.life;
        versions
            .iter()
            .find(|v| v.until.is_none_or(|u| date <= u.0))
            .or(versions.last())
            .unwrap_or(&versions[0])
    }

    /// Applies the province's adjustment: the life is scaled and rounded to
    /// whole years (half up), the rate recomputed as 100 % / life.
    pub fn adjusted(&self, life: Life) -> Life {
        let pct = self.file.assets.life_adjustment_percent.0;
        if pct == 0 {
            return life;
        }
        let scaled = (i64::from(life.years) * i64::from(100 + pct) + 50) / 100;
        let years = u8::try_from(scaled.max(1)).unwrap_or(u8::MAX);
        Life {
            years,
            rate_bp: (10_000 + u32::from(years) / 2) / u32::from(years),
        }
    }

    /// The equipment norms: this file's, else the shipped file's.
    pub fn norms(&self) -> &norms::Norms {
        match &self.file.norms {
            Some(norms) => norms,
            None => Policy::shipped().file.norms.as_ref().unwrap_or_else(|| {
                // `the_shipped_policy_has_norms` guards this in CI.
                unreachable!("the shipped policy has a [norms] section")
            }),
        }
    }

    pub fn name(&self) -> String {
        format!("{} ({})", self.file.policy.name, self.file.policy.version)
    }
}

impl PolicyFile {
    /// Checks the sections against each other; the error names the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        let versions = &self.life;
        if versions.is_empty() {
            return Err((
                "life".into(),
                "cần ít nhất một mục [[life]] / at least one [[life]] is needed".into(),
            ));
        }
        for (i, v) in versions.iter().enumerate() {
            let last = i + 1 == versions.len();
            if i > 0 && v.from.is_none() {
                return Err((
                    format!("life[{i}].from"),
                    "mọi mục sau mục đầu cần `from` / every version after the first needs `from`"
                        .into(),
                ));
            }
            if !last && v.until.is_none() {
                return Err((format!("life[{i}].until"), "mọi mục trước mục cuối cần `until` / every version before the last needs `until`".into()));
            }
            if let (Some(f), Some(u)) = (v.from, v.until) {
                if f > u {
                    return Err((
                        format!("life[{i}].until"),
                        "`until` trước `from` / `until` is before `from`".into(),
                    ));
                }
            }
            if let (Some(prev), Some(from)) =
                (i.checked_sub(1).and_then(|p| versions[p].until), v.from)
            {
                if prev.0.succ_opt() != Some(from.0) {
                    return Err((
                        format!("life[{i}].from"),
                        format!(
                            "phải là ngày ngay sau `until` của mục trước ({}) / must be the day after the previous version's `until`",
                            prev.0
                        ),
                    ));
                }
            }
        }
        if self.line_targets.default_mbps == 0
            || self.line_targets.site_kinds.values().any(|v| *v == 0)
        {
            return Err((
                "line-targets".into(),
                "mục tiêu đường truyền phải lớn hơn 0 / line targets must be above 0".into(),
            ));
        }
        if let Some(norms) = &self.norms {
            norms.check()?;
        }
        if !(1..=365).contains(&self.line_targets.speed_test_max_age_days) {
            return Err((
                "line-targets.speed-test-max-age-days".into(),
                "phải từ 1 đến 365 ngày / must be 1–365 days".into(),
            ));
        }
        let light = &self.traffic_light;
        if light.line_window_days == 0 || light.silent_days == 0 {
            return Err((
                "traffic-light".into(),
                "số ngày phải lớn hơn 0 / day counts must be above 0".into(),
            ));
        }
        if (light.max_replace_share_percent.into_iter())
            .chain(light.max_silent_share_percent)
            .any(|p| p > 100)
        {
            return Err((
                "traffic-light".into(),
                "tỷ lệ phải từ 0 đến 100 / shares must be 0–100".into(),
            ));
        }
        if self.rules.ram_min.thresholds.tolerance_percent > 50 {
            return Err((
                "rules.ram-min.thresholds.tolerance-percent".into(),
                "tối đa 50 / at most 50".into(),
            ));
        }
        if !(1..=100).contains(&self.rules.printer_page_count.thresholds.max_share_percent) {
            return Err((
                "rules.printer-page-count.thresholds.max-share-percent".into(),
                "phải từ 1 đến 100 / must be 1–100".into(),
            ));
        }
        Ok(())
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where the last key of a dotted field path is written, for errors found
/// after parsing (best effort: the first line that sets that key).
fn find_key(text: &str, field: &str) -> Option<std::ops::Range<usize>> {
    let key = field.rsplit('.').next()?.split('[').next()?;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(&format!("{key} "))
            || trimmed.starts_with(&format!("{key}="))
            || trimmed.starts_with(&format!("[[{key}]]"))
        {
            let start = offset + (line.len() - trimmed.len());
            return Some(start..start + key.len());
        }
        offset += line.len();
    }
    None
}

/// FNV-1a (64 bit) of the policy text, stable across Rust releases.
fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("fnv1a64:{hash:016x}")
}

/// Today in Vietnam (UTC+7): the date policies are evaluated on.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// 31 December of `year`.
pub fn year_end(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// The year of a date, for callers that only need it.
pub fn year_of(date: NaiveDate) -> i32 {
    date.year()
}

#[cfg(test)]
mod tests;
