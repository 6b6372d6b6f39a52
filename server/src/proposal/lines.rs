//! The one input that says whether a site's line is below its target:
//! [`site_lines`], a view over [`crate::lines`] (the one owner of line
//! status): the verdict of its longest window ([`WINDOW_DAYS`]) over the
//! line time series, with the best test behind it. Results of agents
//! enrolled without a site are not judged (which line they crossed is not
//! known), as in the line status.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use kiemke_shared::{CommuneCode, SiteCode};

use super::input::LineReading;
use crate::lines;
use crate::policy::Policy;
use crate::store::{Store, StoreError};

/// The window a proposal judges lines over, ending on its date: the line
/// status's longest.
pub const WINDOW_DAYS: i64 = 30;

/// The reading of each site of `commune` with a throughput test in the
/// [`WINDOW_DAYS`] days before `as_of` (Vietnam time), registered or not.
pub fn site_lines(
    store: &Store,
    policy: &Policy,
    commune: &CommuneCode,
    as_of: NaiveDate,
) -> Result<BTreeMap<Option<SiteCode>, LineReading>, StoreError> {
    let since = vn_midnight(as_of) - Duration::days(WINDOW_DAYS - 1);
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

/// The start of `day` in Vietnam (UTC+7), in UTC.
fn vn_midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc() - Duration::hours(7)
}
