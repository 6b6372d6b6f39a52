//! The one input that says whether a site's line is below its target:
//! [`site_lines`], a view over [`crate::lines`] (the one owner of line
//! status): the verdict of its longest window ([`WINDOW_DAYS`], ending when
//! the proposal is gathered, as the survey and the line API show it then)
//! over the line time series, with the best test behind it. Results of agents
//! enrolled without a site are not judged (which line they crossed is not
//! known), as in the line status.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use kiemke_shared::{CommuneCode, SiteCode};

use super::input::LineReading;
use crate::lines;
use crate::policy::Policy;
use crate::store::{Store, StoreError};

/// The window a proposal judges lines over: the line status's longest.
pub const WINDOW_DAYS: i64 = 30;

/// The reading of each site of `commune` with a throughput test in the
/// [`WINDOW_DAYS`] days before `now`, registered or not.
pub fn site_lines(
    store: &Store,
    policy: &Policy,
    commune: &CommuneCode,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Option<SiteCode>, LineReading>, StoreError> {
    let since = now - Duration::days(WINDOW_DAYS);
    let mut readings = BTreeMap::new();
    for (site, speeds) in lines::commune_speeds(store, commune, since)? {
        let kind = store.site(&site)?.map(|r| r.kind);
        let target = policy.file.line_targets.for_site(kind);
        let window = lines::judge_window(&speeds, target, since, WINDOW_DAYS);
        let Some(best) = window.best else {
            continue;
        };
        readings.insert(
            Some(site.site),
            LineReading {
                best_download_mbps: best.download_mbps,
                best_upload_mbps: best.upload_mbps,
                tests: u32::try_from(window.tests).unwrap_or(u32::MAX),
                measured_on: lines::vn_date(best.at),
                verdict: Some(window.verdict),
            },
        );
    }
    Ok(readings)
}
