//! Wear (hao mòn) and residual value (giá trị còn lại), and the service-life
//! test (hạn sử dụng), as the circulars count them.
//!
//! - Wear is linear and counted once a year, at 31 December: the annual wear
//!   is the original cost × the regime's rate, rounded to the đồng; the last
//!   year of the life takes what is left, so the residual reaches exactly 0.
//!   Whether the year of entry is charged in full is the policy's
//!   `first-year-wear` (default `full`).
//! - A fully worn asset still in use stays on the books with residual 0 and
//!   no further wear (TT 23/2023 Điều 5.3).
//! - When the regime's life or rate for the category changes (TT 23/2023 →
//!   TT 141/2025 on 01/01/2026), the residual value at the change is worn
//!   evenly over the remaining life under the new regime: remaining life =
//!   new life − years already charged (at least 1 year). This is our reading
//!   of TT 141/2025 Điều 18 (documented in `docs/policy.md`): wear already
//!   charged is not recomputed, and the new life counts from the entry year.
//! - Below the fixed-asset threshold (cost < 10,000,000 đ or life < 1 year)
//!   an item is a tool: no wear at all, only the service-life test.
//! - The service life ends `life` years (the regime in force on the
//!   evaluation date, adjusted) after the in-service date.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::category::Category;
use super::file::{FirstYearWear, Life};
use super::{Policy, year_end};

/// Where a device stands against its service life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceLife {
    InService,
    /// Ends within the policy's watch window.
    EndsSoon,
    /// Hết hạn sử dụng.
    Past,
}

/// The service-life test of one in-service date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLifeTest {
    pub in_service: NaiveDate,
    pub life_years: u8,
    /// The regime whose life applies (in force on the evaluation date).
    pub regime: String,
    pub source_vi: String,
    pub source_en: String,
    pub ends: NaiveDate,
    pub state: ServiceLife,
}

/// Wear charged for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearWear {
    pub year: i32,
    pub regime: String,
    pub wear_vnd: u64,
    pub accumulated_vnd: u64,
    pub residual_vnd: u64,
}

/// Wear and residual value as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wear {
    pub cost_vnd: u64,
    /// False: a tool (công cụ, dụng cụ), no wear charged.
    pub fixed_asset: bool,
    pub accumulated_vnd: u64,
    pub residual_vnd: u64,
    /// Year by year, oldest first (empty for a tool).
    pub years: Vec<YearWear>,
}

/// The service-life test of an asset that entered service on `in_service`,
/// evaluated on `as_of`.
pub fn service_life(
    policy: &Policy,
    category: Category,
    in_service: NaiveDate,
    as_of: NaiveDate,
) -> ServiceLifeTest {
    let (version, life) = policy.life_on(category, as_of);
    let ends = add_years(in_service, life.years);
    let window = Months::new(policy.file.assets.watch_window_months.0);
    let state = if as_of >= ends {
        ServiceLife::Past
    } else if as_of >= ends.checked_sub_months(window).unwrap_or(ends) {
        ServiceLife::EndsSoon
    } else {
        ServiceLife::InService
    };
    ServiceLifeTest {
        in_service,
        life_years: life.years,
        regime: version.id.clone(),
        source_vi: version.source_vi.clone(),
        source_en: version.source_en.clone(),
        ends,
        state,
    }
}

fn add_years(date: NaiveDate, years: u8) -> NaiveDate {
    date.checked_add_months(Months::new(12 * u32::from(years)))
        .unwrap_or(NaiveDate::MAX)
}

/// Wear and residual value as of `as_of` of an asset that cost `cost_vnd`
/// and entered service on `in_service`.
pub fn wear(
    policy: &Policy,
    category: Category,
    in_service: NaiveDate,
    cost_vnd: u64,
    as_of: NaiveDate,
) -> Wear {
    let assets = &policy.file.assets;
    let (_, first_life) = policy.life_on(category, in_service);
    let fixed_asset = cost_vnd >= assets.fixed_asset_min_cost_vnd
        && first_life.years >= assets.fixed_asset_min_life_years;
    let mut out = Wear {
        cost_vnd,
        fixed_asset,
        accumulated_vnd: 0,
        residual_vnd: cost_vnd,
        years: Vec::new(),
    };
    if !fixed_asset {
        return out;
    }
    let first_year = match assets.first_year_wear {
        FirstYearWear::Full => in_service.year(),
        FirstYearWear::NextYear => in_service.year() + 1,
    };
    // (life in force, annual wear, years of life left)
    let mut current: Option<(Life, u64, i64)> = None;
    let mut charged: i64 = 0;
    let mut year = first_year;
    while year_end(year) <= as_of {
        let (version, life) = policy.life_on(category, year_end(year));
        let residual = cost_vnd - out.accumulated_vnd;
        let (annual, left) = match current {
            Some((old, annual, left)) if old == life => (annual, left),
            Some(_) => {
                // The rule changed: the residual over the life left under
                // the new rule (TT 141/2025 Điều 18, as we read it).
                let left = (i64::from(life.years) - charged).max(1);
                (div_round(residual, left.unsigned_abs()), left)
            }
            None => (
                div_round(cost_vnd * u64::from(life.rate_bp), 10_000),
                i64::from(life.years),
            ),
        };
        let wear = if left <= 1 {
            residual
        } else {
            annual.min(residual)
        };
        if wear > 0 {
            charged += 1;
        }
        out.accumulated_vnd += wear;
        out.residual_vnd = cost_vnd - out.accumulated_vnd;
        out.years.push(YearWear {
            year,
            regime: version.id.clone(),
            wear_vnd: wear,
            accumulated_vnd: out.accumulated_vnd,
            residual_vnd: out.residual_vnd,
        });
        current = Some((life, annual, (left - 1).max(0)));
        year += 1;
    }
    out
}

/// `n / d` rounded half up.
fn div_round(n: u64, d: u64) -> u64 {
    (n + d / 2).checked_div(d).unwrap_or(n)
}

#[cfg(test)]
mod tests;
