//! Throughput tests read back from stored reports, by commune and site: the
//! line readings proposals use until per-site line status is kept in a tree
//! of its own. Reads the `reports` tree only.

use chrono::{DateTime, Utc};
use kiemke_shared::probes::SpeedResult;
use kiemke_shared::{CommuneCode, SiteCode};

use super::record::{self, StoredReport};
use super::{Store, StoreError};

/// One throughput test and where it was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSpeedTest {
    pub site: Option<SiteCode>,
    pub received_at: DateTime<Utc>,
    pub test: SpeedResult,
}

impl Store {
    /// Every throughput test reported by the agents of `commune`, in report
    /// id order. Scans the reports: fine for a survey's hundreds of reports
    /// per commune, to be replaced by a per-site index.
    pub fn speed_tests(&self, commune: &CommuneCode) -> Result<Vec<SiteSpeedTest>, StoreError> {
        let mut out = Vec::new();
        for entry in self.reports.iter().values() {
            let stored: StoredReport = record::decode("reports", &entry?)?;
            let Some(origin) = stored.origin.filter(|o| &o.commune == commune) else {
                continue;
            };
            let tests = stored
                .report
                .probes
                .map(|p| p.speed_tests)
                .unwrap_or_default();
            out.extend(tests.into_iter().map(|test| SiteSpeedTest {
                site: origin.site.clone(),
                received_at: stored.received_at,
                test,
            }));
        }
        Ok(out)
    }
}
