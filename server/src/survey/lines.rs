//! Each site's line as the survey shows it: a view over the judgment of
//! [`crate::lines`] (the one owner of line status), with the window's best
//! download and upload, the verdict, and the best download per day
//! (Vietnam time) for the 30-day chart.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use kiemke_shared::{SiteKind, SiteRef};
use serde::{Deserialize, Serialize};

use crate::lines::{self, Verdict};
use crate::policy::file::LineTargets;
use crate::store::probes::SpeedSample;
use crate::store::sites::SiteRecord;

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
    /// The verdict of [`crate::lines::judge_window`] over the window:
    /// `meets`, `below`, `pc-limited` (every test capped by its PC's own
    /// link) or `no-data`.
    pub verdict: Verdict,
    /// `true` when the verdict is `meets`, `false` when `below`; `null`
    /// without measurements or when only slow PCs measured the line.
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

/// The line status of each of `sites`, judged by [`crate::lines`] from
/// the throughput tests measured at them since `since` (`days` long).
pub fn site_lines(
    sites: &[SiteRecord],
    speeds: &BTreeMap<SiteRef, Vec<SpeedSample>>,
    targets: &LineTargets,
    since: DateTime<Utc>,
    days: i64,
) -> Vec<SiteLine> {
    sites
        .iter()
        .map(|site| {
            let here = speeds.get(&site.site).map_or(&[][..], Vec::as_slice);
            let target_mbps = targets.for_site(Some(site.kind));
            let window = lines::judge_window(here, target_mbps, since, days);
            SiteLine {
                code: site.site.site.to_string(),
                name: site.name.clone(),
                kind: site.kind,
                target_mbps,
                best_download_mbps: window.best_download_mbps,
                best_upload_mbps: window.best_upload_mbps,
                tests: u32::try_from(window.tests).unwrap_or(u32::MAX),
                verdict: window.verdict,
                meets_target: match window.verdict {
                    Verdict::Meets => Some(true),
                    Verdict::Below => Some(false),
                    Verdict::PcLimited | Verdict::NoData => None,
                },
                daily: (lines::daily_best(here, since).into_iter())
                    .map(|(date, download_mbps)| DailyBest {
                        date,
                        download_mbps,
                    })
                    .collect(),
            }
        })
        .collect()
}
