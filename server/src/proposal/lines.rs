//! The one input that says whether a site's line is below its target:
//! [`site_lines`]. Today it reads the throughput tests in stored reports
//! (the best download per site: a line is judged by its best measurement,
//! DOMAIN.md); when per-site line status is kept in the store, swap the body
//! of this function for a read of it.

use std::collections::BTreeMap;

use kiemke_shared::{CommuneCode, SiteCode};

use super::input::LineReading;
use crate::store::{Store, StoreError};

/// The best reading per site of `commune` (`None`: agents whose site is
/// not known).
pub fn site_lines(
    store: &Store,
    commune: &CommuneCode,
) -> Result<BTreeMap<Option<SiteCode>, LineReading>, StoreError> {
    let mut best: BTreeMap<Option<SiteCode>, LineReading> = BTreeMap::new();
    for t in store.speed_tests(commune)? {
        let down = t.test.download_mbps.get();
        let reading = LineReading {
            best_download_mbps: down,
            best_upload_mbps: t.test.upload_mbps.get(),
            tests: 1,
            measured_on: (t.received_at + chrono::Duration::hours(7)).date_naive(),
        };
        best.entry(t.site)
            .and_modify(|b| {
                b.tests += 1;
                if down > b.best_download_mbps {
                    let tests = b.tests;
                    *b = LineReading {
                        tests,
                        ..reading.clone()
                    };
                }
            })
            .or_insert(reading);
    }
    Ok(best)
}
