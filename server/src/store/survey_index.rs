//! The survey's aggregates, kept up to date as data arrives, so the
//! province overview reads one record per commune instead of every device
//! and report (issue 10).
//!
//! Tree `survey_index`, written inside the ingest's transaction:
//! - `d` ++ COMMUNE ++ `0x00` ++ device id (16 bytes) → empty: which PCs a
//!   commune holds (a commune's page and its refresh read only these);
//! - `x` ++ COMMUNE → a fresh id (big-endian u64): the commune's aggregate
//!   is out of date. Set by every write that can change it — an ingest
//!   (both communes when a device changes commune), new flags, a move, a
//!   commune or site record — and cleared by a refresh only if still the
//!   same id (compare-and-swap), so a write during a refresh is never lost;
//! - `v` → the index's version; absent or older: [`Store::open`] rebuilds
//!   the index from the devices and marks every commune out of date.
//!
//! Tree `survey_aggregates`: COMMUNE → [`CommuneAggregate`] (JSON): the
//! commune's row of the overview, the policy it was computed with, and the
//! first instant at which the passing of time alone changes it (a PC turns
//! silent, a speed test leaves the line window). The aggregation itself is
//! `crate::survey::aggregate`'s; `crate::survey::province` refreshes what
//! is out of date and reads the rest.

use chrono::{DateTime, Utc};
use kiemke_shared::{CommuneCode, DeviceId};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::record;
use super::{Store, StoreError};
use crate::survey::CommuneSurvey;

pub(super) const INDEX_TREE: &str = "survey_index";
pub(super) const AGGREGATES_TREE: &str = "survey_aggregates";
const MEMBER: u8 = b'd';
const DIRTY: u8 = b'x';
const VERSION_KEY: &[u8] = b"v";
const VERSION: &[u8] = b"1";

/// A commune's stored overview row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneAggregate {
    /// The policy's fingerprint it was computed with.
    pub policy: String,
    pub computed_at: DateTime<Utc>,
    /// Recompute after this instant even if nothing was written.
    pub valid_until: Option<DateTime<Utc>>,
    pub survey: CommuneSurvey,
}

/// A commune whose aggregate must be recomputed, with the out-of-date mark
/// seen (to clear it only if unchanged).
#[derive(Debug, Clone)]
pub struct Stale {
    pub commune: CommuneCode,
    mark: Option<sled::IVec>,
}

fn member_prefix(commune: &CommuneCode) -> Vec<u8> {
    let mut key = Vec::with_capacity(commune.as_str().len() + 18);
    key.push(MEMBER);
    key.extend_from_slice(commune.as_str().as_bytes());
    key.push(0);
    key
}

fn member_key(commune: &CommuneCode, device: &DeviceId) -> Vec<u8> {
    let mut key = member_prefix(commune);
    key.extend_from_slice(device.as_bytes());
    key
}

fn dirty_key(commune: &CommuneCode) -> Vec<u8> {
    let mut key = vec![DIRTY];
    key.extend_from_slice(commune.as_str().as_bytes());
    key
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn mark_tx(tree: &TransactionalTree, commune: &CommuneCode) -> TxResult<()> {
    let id = tree
        .generate_id()
        .map_err(ConflictableTransactionError::Storage)?;
    tree.insert(dirty_key(commune), &id.to_be_bytes()[..])?;
    Ok(())
}

/// Inside the ingest's transaction: `device` now belongs to `new` (and no
/// longer to `old`, when that differs); both communes are out of date.
pub(super) fn on_ingest(
    tree: &TransactionalTree,
    old: Option<&CommuneCode>,
    new: Option<&CommuneCode>,
    device: &DeviceId,
) -> TxResult<()> {
    if let Some(old) = old.filter(|o| Some(*o) != new) {
        tree.remove(member_key(old, device))?;
        mark_tx(tree, old)?;
    }
    if let Some(new) = new {
        tree.insert(member_key(new, device), &[][..])?;
        mark_tx(tree, new)?;
    }
    Ok(())
}

impl Store {
    fn survey_index(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(INDEX_TREE)?)
    }

    fn survey_aggregates_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(AGGREGATES_TREE)?)
    }

    /// Marks `commune`'s aggregate out of date (outside a transaction).
    pub(super) fn mark_survey_stale(&self, commune: &CommuneCode) -> Result<(), StoreError> {
        let id = self.db.generate_id()?;
        self.survey_index()?
            .insert(dirty_key(commune), &id.to_be_bytes()[..])?;
        Ok(())
    }

    /// Moves `device`'s index entry from `old` to `new` and marks both out
    /// of date (a move outside the ingest).
    pub(super) fn reindex_device(
        &self,
        device: &DeviceId,
        old: Option<&CommuneCode>,
        new: Option<&CommuneCode>,
    ) -> Result<(), StoreError> {
        let index = self.survey_index()?;
        if let Some(old) = old {
            index.remove(member_key(old, device))?;
            self.mark_survey_stale(old)?;
        }
        if let Some(new) = new {
            index.insert(member_key(new, device), &[][..])?;
            self.mark_survey_stale(new)?;
        }
        Ok(())
    }

    /// Builds the index when it is missing or from an older build: every
    /// device under its commune, every commune out of date. Called by
    /// [`Store::open`].
    pub(super) fn ensure_survey_index(&self) -> Result<(), StoreError> {
        let index = self.survey_index()?;
        if index.get(VERSION_KEY)?.as_deref() == Some(VERSION) {
            return Ok(());
        }
        index.clear()?;
        self.survey_aggregates_tree()?.clear()?;
        for device in self.device_records()? {
            if let Some(origin) = &device.origin {
                index.insert(member_key(&origin.commune, &device.id), &[][..])?;
                self.mark_survey_stale(&origin.commune)?;
            }
        }
        for commune in self.communes()? {
            self.mark_survey_stale(&commune.code)?;
        }
        index.insert(VERSION_KEY, VERSION)?;
        self.db.flush()?;
        Ok(())
    }

    /// The PCs filed under `commune`, from the index.
    pub fn commune_device_ids(&self, commune: &CommuneCode) -> Result<Vec<DeviceId>, StoreError> {
        let prefix = member_prefix(commune);
        let mut ids = Vec::new();
        for entry in self.survey_index()?.scan_prefix(&prefix) {
            let (key, _) = entry?;
            let bytes: Option<[u8; 16]> = key.get(prefix.len()..).and_then(|b| b.try_into().ok());
            if let Some(id) = bytes.and_then(|b| DeviceId::from_bytes(b).ok()) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// The communes whose aggregate must be recomputed at `now` under the
    /// policy `fingerprint`: marked out of date, computed with another
    /// policy, past their `valid_until`, or registered without one.
    pub fn stale_survey_aggregates(
        &self,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Stale>, StoreError> {
        let mut stale = std::collections::BTreeMap::new();
        for entry in self.survey_index()?.scan_prefix([DIRTY]) {
            let (key, mark) = entry?;
            let code = String::from_utf8_lossy(&key[1..]).into_owned();
            if let Ok(commune) = CommuneCode::parse(&code) {
                stale.insert(
                    commune.clone(),
                    Stale {
                        commune,
                        mark: Some(mark),
                    },
                );
            }
        }
        // Only the head of each row: the survey itself is skipped unparsed.
        #[derive(Deserialize)]
        struct Head {
            policy: String,
            valid_until: Option<DateTime<Utc>>,
        }
        for entry in self.survey_aggregates_tree()?.iter() {
            let (key, bytes) = entry?;
            let Ok(code) = CommuneCode::parse(&String::from_utf8_lossy(&key)) else {
                continue;
            };
            let head: Head = record::decode(AGGREGATES_TREE, &bytes)?;
            let outdated = head.policy != fingerprint || head.valid_until.is_some_and(|t| t < now);
            if outdated {
                stale.entry(code.clone()).or_insert(Stale {
                    commune: code,
                    mark: None,
                });
            }
        }
        Ok(stale.into_values().collect())
    }

    /// Stores a refreshed aggregate (`None`: the commune has no row any
    /// more) and clears the out-of-date mark seen when it was computed,
    /// unless a write has marked it again since.
    pub fn put_survey_aggregate(
        &self,
        stale: &Stale,
        aggregate: Option<&CommuneAggregate>,
    ) -> Result<(), StoreError> {
        let tree = self.survey_aggregates_tree()?;
        match aggregate {
            Some(a) => tree.insert(stale.commune.as_str(), record::encode(a)?)?,
            None => tree.remove(stale.commune.as_str())?,
        };
        if let Some(mark) = &stale.mark {
            // Err(_) means marked again meanwhile: stays out of date.
            let _ = self.survey_index()?.compare_and_swap(
                dirty_key(&stale.commune),
                Some(mark),
                None::<&[u8]>,
            )?;
        }
        Ok(())
    }

    /// Every stored aggregate, by commune code.
    pub fn survey_aggregate_records(
        &self,
    ) -> Result<Vec<(CommuneCode, CommuneAggregate)>, StoreError> {
        let mut all = Vec::new();
        for entry in self.survey_aggregates_tree()?.iter() {
            let (key, bytes) = entry?;
            let Ok(code) = CommuneCode::parse(&String::from_utf8_lossy(&key)) else {
                continue;
            };
            all.push((code, record::decode(AGGREGATES_TREE, &bytes)?));
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use kiemke_shared::{ReportId, SiteRef};

    use super::*;
    use crate::fixture::{self, FixtureSpec};
    use crate::policy::Policy;
    use crate::store::Origin;
    use crate::survey;

    fn assert_same(store: &Store, now: DateTime<Utc>, when: &str) {
        let policy = Policy::shipped();
        let kept = survey::province(store, policy, now).expect("aggregates");
        let scanned = survey::province_by_scan(store, policy, now).expect("scan");
        assert_eq!(kept, scanned, "{when}");
    }

    #[test]
    fn aggregates_equal_a_full_recomputation_after_ingests_and_moves() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let spec = FixtureSpec {
            communes: 4,
            pcs_min: 10,
            pcs_max: 14,
            ..FixtureSpec::province(11, Utc::now())
        };
        let province = fixture::generate(&spec);
        let policy = Policy::shipped();
        fixture::load::load(&store, &province, policy, spec.now.date_naive(), |_, _| {})
            .expect("load");
        let now = spec.now;
        assert_same(&store, now, "after loading");
        assert_eq!(
            survey::refresh(&store, policy, now).expect("refresh"),
            0,
            "nothing written since: nothing recomputed"
        );

        // A silent PC reports again: only its commune is recomputed.
        let commune = &province.communes[1];
        let pc = commune.pcs.last().expect("pcs");
        let mut report = pc.reports[0].0.clone();
        report.report_id = ReportId::generate();
        store
            .ingest_blocking_from(&report, Some(&pc.origin), now)
            .expect("ingest");
        assert_eq!(survey::refresh(&store, policy, now).expect("refresh"), 1);
        assert_same(&store, now, "after an ingest");

        // Moved to another site; evaluated again.
        let (device, _) = (store.flagged_devices().expect("devices").into_iter())
            .find(|(d, _)| {
                d.origin
                    .as_ref()
                    .is_some_and(|o| o.commune == commune.record.code)
            })
            .expect("a device of the commune");
        let to = (commune.sites.iter())
            .find(|s| Some(&s.site.site) != device.origin.as_ref().and_then(|o| o.site.as_ref()))
            .expect("another site");
        assert!(store.move_device(&device.id, &to.site).expect("move"));
        store
            .recompute_device(policy, &device.id, now.date_naive())
            .expect("flags");
        assert_same(&store, now, "after a move");

        // An agent enrolled again in another commune takes its PC along.
        let other = &province.communes[2];
        let moved = &commune.pcs[0];
        let mut report = moved.reports[0].0.clone();
        report.report_id = ReportId::generate();
        let origin = Origin {
            commune: other.record.code.clone(),
            site: Some(other.sites[0].site.site.clone()),
        };
        store
            .ingest_blocking_from(&report, Some(&origin), now)
            .expect("ingest");
        assert_same(&store, now, "after a change of commune");

        // A new site in the registry, then time passing: PCs turn silent,
        // speed tests leave the window.
        let mut site = commune.sites[0].clone();
        site.site = SiteRef {
            commune: commune.record.code.clone(),
            site: kiemke_shared::SiteCode::parse("thon-9").expect("code"),
        };
        store.put_site(&site).expect("site");
        assert_same(&store, now, "after a new site");
        for days in [3, 9, 15, 40] {
            assert_same(&store, now + Duration::days(days), "time passing");
        }
    }

    #[test]
    fn a_missing_index_is_rebuilt_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = FixtureSpec {
            communes: 2,
            pcs_min: 8,
            pcs_max: 8,
            ..FixtureSpec::province(5, Utc::now())
        };
        let province = fixture::generate(&spec);
        {
            let store = Store::open(dir.path()).expect("open");
            fixture::load::load(
                &store,
                &province,
                Policy::shipped(),
                spec.now.date_naive(),
                |_, _| {},
            )
            .expect("load");
            // As a store written by a build without the index.
            store.survey_index().expect("tree").clear().expect("clear");
            store.db.flush().expect("flush");
        }
        let store = Store::open(dir.path()).expect("reopen");
        let code = &province.communes[0].record.code;
        assert_eq!(
            store.commune_device_ids(code).expect("ids").len(),
            province.communes[0].pcs.len()
        );
        assert_same(&store, spec.now, "after a rebuild");
    }
}
