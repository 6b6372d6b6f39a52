//! Each site's line, judged for the survey: the best download measured at
//! the site in the window against the site's target (DOMAIN.md: "a line is
//! judged by the best measurement taken through it"), and the best download
//! per day (Vietnam time) for the 30-day chart.
//!
//! [`site_lines`] is the only place the survey judges lines: a per-site
//! line-status query kept by the store can replace its body.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kiemke_shared::SiteKind;
use serde::{Deserialize, Serialize};

use crate::policy::file::LineTargets;
use crate::store::sites::SiteRecord;
use crate::store::survey::SiteSpeed;

/// One site's line status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteLine {
    /// The site's code within its commune, e.g. `ttpvhcc`.
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub target_mbps: u32,
    /// Best download / upload in the window; `null` without measurements.
    pub best_download_mbps: Option<f64>,
    pub best_upload_mbps: Option<f64>,
    /// Speed tests in the window.
    pub tests: u32,
    /// Whether the best download reaches the target; `null` without
    /// measurements.
    pub meets_target: Option<bool>,
    /// Best download per day, oldest first (days without a test omitted).
    pub daily: Vec<DailyBest>,
}

/// The best download of one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyBest {
    pub date: NaiveDate,
    pub download_mbps: f64,
}

/// The day a test started on, in Vietnam (UTC+7).
fn day_in_vietnam(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(7)).date_naive()
}

/// The line status of each of `sites`, from the speed tests measured at
/// them since `since`.
pub fn site_lines(
    sites: &[SiteRecord],
    speeds: &[SiteSpeed],
    targets: &LineTargets,
    since: DateTime<Utc>,
) -> Vec<SiteLine> {
    sites
        .iter()
        .map(|site| {
            let here = speeds.iter().filter(|s| {
                s.commune == site.site.commune
                    && s.site.as_ref() == Some(&site.site.site)
                    && s.result.started_at >= since
            });
            let mut tests = 0;
            let (mut down, mut up) = (None::<f64>, None::<f64>);
            let mut daily: BTreeMap<NaiveDate, f64> = BTreeMap::new();
            for s in here {
                tests += 1;
                let d = s.result.download_mbps.get();
                let u = s.result.upload_mbps.get();
                down = Some(down.map_or(d, |b| b.max(d)));
                up = Some(up.map_or(u, |b| b.max(u)));
                let day = daily
                    .entry(day_in_vietnam(s.result.started_at))
                    .or_insert(d);
                *day = day.max(d);
            }
            let target_mbps = targets.for_site(Some(site.kind));
            SiteLine {
                code: site.site.site.to_string(),
                name: site.name.clone(),
                kind: site.kind,
                target_mbps,
                best_download_mbps: down,
                best_upload_mbps: up,
                tests,
                meets_target: down.map(|d| d >= f64::from(target_mbps)),
                daily: (daily.into_iter())
                    .map(|(date, download_mbps)| DailyBest {
                        date,
                        download_mbps,
                    })
                    .collect(),
            }
        })
        .collect()
}
