//! The survey's aggregates, kept up to date as data arrives, so the
//! province overview reads one record per commune instead of every device
//! and report (issue 10).
//!
//! Tree `survey_index`, written inside the ingest's transaction:
//! - `d` ++ COMMUNE ++ `0x00` ++ device id (16 bytes) → empty: which PCs a
//!   commune holds (a commune's page and its refresh read only these);
//! - `p` ++ PC's device id ++ peripheral id → empty: the printers, scanners
//!   and network gear each PC has seen (the peripheral's `seen_by`, which
//!   only grows), so a commune's page reads its PCs' peripherals instead
//!   of every peripheral. Written by `super::peripherals::absorb`;
//! - `x` ++ COMMUNE → a fresh id (big-endian u64): the commune's aggregate
//!   is out of date. Set by every write that can change it — an ingest
//!   (both communes when a device changes commune), new flags, a move, a
//!   commune or site record — and cleared by a refresh only if still the
//!   same id (compare-and-swap), so a write during a refresh is never lost;
//! - `v` → the index's version; absent or older: [`Store::open`] rebuilds
//!   the index from the devices and marks every commune out of date.
//!
//! Tree `survey_aggregates`: COMMUNE → [`CommuneAggregate`] (JSON): the
//! commune's figures with its sites' lines (what `/api/v1/survey` returns),
//! the policy it was computed with, and the first instant at which the
//! passing of time alone changes it (a PC turns silent, a speed test leaves
//! the line window). Tree `survey_overview`: COMMUNE → [`OverviewRecord`]
//! (JSON), the same row without the sites' lines, the same policy and
//! instant: what the overview page and the out-of-date check read. Both
//! are written together in one transaction. The aggregation itself is
//! `crate::survey::aggregate`'s; `crate::survey::refresh` recomputes what
//! is out of date.

use chrono::{DateTime, Utc};
use kiemke_shared::{CommuneCode, DeviceId};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::record;
use super::{Store, StoreError};
use crate::survey::{CommuneSummary, CommuneSurvey};

pub(super) const INDEX_TREE: &str = "survey_index";
pub(super) const AGGREGATES_TREE: &str = "survey_aggregates";
pub(super) const OVERVIEW_TREE: &str = "survey_overview";
const MEMBER: u8 = b'd';
const PERIPHERAL: u8 = b'p';
const DIRTY: u8 = b'x';
const VERSION_KEY: &[u8] = b"v";
/// 2: peripherals by PC (`p`) and the `survey_overview` tree.
const VERSION: &[u8] = b"2";

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

/// A commune's stored overview row: [`CommuneAggregate`] without the sites'
/// lines (see [`crate::survey::CommuneSummary`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewRecord {
    pub policy: String,
    pub valid_until: Option<DateTime<Utc>>,
    pub row: CommuneSummary,
}

impl From<&CommuneAggregate> for OverviewRecord {
    fn from(a: &CommuneAggregate) -> OverviewRecord {
        OverviewRecord {
            policy: a.policy.clone(),
            valid_until: a.valid_until,
            row: CommuneSummary::from(&a.survey),
        }
    }
}

/// Stored overview rows by commune code.
pub type OverviewRecords = Vec<(CommuneCode, OverviewRecord)>;

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

fn sighting_key(pc: &DeviceId, peripheral: &DeviceId) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(PERIPHERAL);
    key.extend_from_slice(pc.as_bytes());
    key.extend_from_slice(peripheral.as_bytes());
    key
}

fn dirty_key(commune: &CommuneCode) -> Vec<u8> {
    let mut key = vec![DIRTY];
    key.extend_from_slice(commune.as_str().as_bytes());
    key
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// Marks `commune` out of date inside a transaction on this tree.
pub(super) fn mark_tx(tree: &TransactionalTree, commune: &CommuneCode) -> TxResult<()> {
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

/// Inside the ingest's transaction: `pc` has seen `peripheral` (it joined
/// the peripheral's `seen_by`).
pub(super) fn on_sighting(
    tree: &TransactionalTree,
    pc: &DeviceId,
    peripheral: &DeviceId,
) -> TxResult<()> {
    tree.insert(sighting_key(pc, peripheral), &[][..])?;
    Ok(())
}

/// Whether a row computed with `policy`, valid until `valid_until`, must be
/// recomputed at `now` under the policy `fingerprint`.
fn outdated(
    policy: &str,
    valid_until: Option<DateTime<Utc>>,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> bool {
    policy != fingerprint || valid_until.is_some_and(|t| t < now)
}

impl Store {
    fn survey_index(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(INDEX_TREE)?)
    }

    fn survey_aggregates_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(AGGREGATES_TREE)?)
    }

    fn survey_overview_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(OVERVIEW_TREE)?)
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
        self.survey_overview_tree()?.clear()?;
        for device in self.device_records()? {
            if let Some(origin) = &device.origin {
                index.insert(member_key(&origin.commune, &device.id), &[][..])?;
                self.mark_survey_stale(&origin.commune)?;
            }
        }
        for peripheral in self.list_peripherals()? {
            for pc in &peripheral.seen_by {
                index.insert(sighting_key(pc, &peripheral.id), &[][..])?;
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

    /// The peripherals seen by any of `pcs`, from the index (those whose
    /// `seen_by` meets `pcs`).
    pub fn peripheral_ids_seen_by(
        &self,
        pcs: impl IntoIterator<Item = DeviceId>,
    ) -> Result<std::collections::BTreeSet<DeviceId>, StoreError> {
        let index = self.survey_index()?;
        let mut ids = std::collections::BTreeSet::new();
        for pc in pcs {
            let mut prefix = vec![PERIPHERAL];
            prefix.extend_from_slice(pc.as_bytes());
            for entry in index.scan_prefix(&prefix) {
                let (key, _) = entry?;
                let bytes: Option<[u8; 16]> =
                    key.get(prefix.len()..).and_then(|b| b.try_into().ok());
                if let Some(id) = bytes.and_then(|b| DeviceId::from_bytes(b).ok()) {
                    ids.insert(id);
                }
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
        let mut stale = self.dirty_marks()?;
        // Only the head of each overview row: the row itself is skipped
        // unparsed.
        #[derive(Deserialize)]
        struct Head {
            policy: String,
            valid_until: Option<DateTime<Utc>>,
        }
        for entry in self.survey_overview_tree()?.iter() {
            let (key, bytes) = entry?;
            let Ok(code) = CommuneCode::parse(&String::from_utf8_lossy(&key)) else {
                continue;
            };
            let head: Head = record::decode(OVERVIEW_TREE, &bytes)?;
            if outdated(&head.policy, head.valid_until, fingerprint, now) {
                stale.entry(code.clone()).or_insert(Stale {
                    commune: code,
                    mark: None,
                });
            }
        }
        Ok(stale.into_values().collect())
    }

    /// Every stored overview row, read once, with the communes that
    /// [`Store::stale_survey_aggregates`] would return at `now` (empty: the
    /// rows are current and the overview needs no other read).
    pub fn survey_overview_checked(
        &self,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<(OverviewRecords, Vec<Stale>), StoreError> {
        let mut stale = self.dirty_marks()?;
        let records = self.survey_overview_records()?;
        for (code, r) in &records {
            if outdated(&r.policy, r.valid_until, fingerprint, now) {
                stale.entry(code.clone()).or_insert(Stale {
                    commune: code.clone(),
                    mark: None,
                });
            }
        }
        Ok((records, stale.into_values().collect()))
    }

    /// The communes marked out of date, with the mark seen.
    fn dirty_marks(&self) -> Result<std::collections::BTreeMap<CommuneCode, Stale>, StoreError> {
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
        Ok(stale)
    }

    /// Stores a refreshed aggregate and its overview row together (`None`:
    /// the commune has no row any more) and clears the out-of-date mark
    /// seen when it was computed, unless a write has marked it again since.
    pub fn put_survey_aggregate(
        &self,
        stale: &Stale,
        aggregate: Option<&CommuneAggregate>,
    ) -> Result<(), StoreError> {
        use sled::Transactional;
        let encoded = match aggregate {
            Some(a) => Some((
                record::encode(a)?,
                record::encode(&OverviewRecord::from(a))?,
            )),
            None => None,
        };
        let key = stale.commune.as_str().as_bytes();
        (
            &self.survey_aggregates_tree()?,
            &self.survey_overview_tree()?,
        )
            .transaction(|(full, light)| {
                match &encoded {
                    Some((a, o)) => {
                        full.insert(key, a.as_slice())?;
                        light.insert(key, o.as_slice())?;
                    }
                    None => {
                        full.remove(key)?;
                        light.remove(key)?;
                    }
                }
                Ok::<(), ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
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
    /// One recomputation of out-of-date aggregates at a time: whoever
    /// holds this checks what is out of date and recomputes it; a caller
    /// that waited finds the work done.
    pub fn survey_refresh_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.survey_refresh
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every stored overview row, by commune code.
    pub fn survey_overview_records(&self) -> Result<OverviewRecords, StoreError> {
        by_commune(&self.survey_overview_tree()?, OVERVIEW_TREE)
    }

    /// Every stored aggregate, by commune code.
    pub fn survey_aggregate_records(
        &self,
    ) -> Result<Vec<(CommuneCode, CommuneAggregate)>, StoreError> {
        by_commune(&self.survey_aggregates_tree()?, AGGREGATES_TREE)
    }
}

/// Every record of a tree keyed by commune code (keys that are not a code
/// are skipped).
fn by_commune<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
) -> Result<Vec<(CommuneCode, T)>, StoreError> {
    let mut all = Vec::new();
    for entry in tree.iter() {
        let (key, bytes) = entry?;
        let Ok(code) = CommuneCode::parse(&String::from_utf8_lossy(&key)) else {
            continue;
        };
        all.push((code, record::decode(name, &bytes)?));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use kiemke_shared::{ReportId, SiteRef};

    use super::*;
    use crate::fixture;
    use crate::policy::Policy;
    use crate::store::Origin;
    use crate::survey;

    /// The stored rows (full and overview) equal a recomputation from every
    /// device, and each commune's peripherals found through the index are
    /// those a scan of every peripheral finds.
    fn assert_same(store: &Store, now: DateTime<Utc>, when: &str) {
        let policy = Policy::shipped();
        let kept = survey::province(store, policy, now).expect("aggregates");
        let scanned = survey::province_by_scan(store, policy, now).expect("scan");
        assert_eq!(kept, scanned, "{when}");
        let overview = survey::overview(store, policy, now).expect("overview");
        assert_eq!(
            overview,
            survey::ProvinceOverview::from(&scanned),
            "{when}: overview rows"
        );
        let all = store.list_peripherals().expect("peripherals");
        for commune in &scanned.communes {
            let code = CommuneCode::parse(&commune.code).expect("code");
            let pcs = store.commune_device_ids(&code).expect("ids");
            let mut by_scan: Vec<DeviceId> = (all.iter())
                .filter(|p| p.seen_by.iter().any(|pc| pcs.contains(pc)))
                .map(|p| p.id)
                .collect();
            by_scan.sort();
            let by_index: Vec<DeviceId> = (store.peripheral_ids_seen_by(pcs.iter().copied()))
                .expect("index")
                .into_iter()
                .collect();
            assert_eq!(by_index, by_scan, "{when}: peripherals of {code}");
        }
        crate::store::flags::tests::assert_index_equals_scan(store, when);
    }

    #[test]
    fn aggregates_equal_a_full_recomputation_after_ingests_and_moves() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let (spec, province) = fixture::load::small_province(&store, 11, 4, (10, 14));
        let policy = Policy::shipped();
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
        let (spec, province) = {
            let store = Store::open(dir.path()).expect("open");
            let loaded = fixture::load::small_province(&store, 5, 2, (8, 8));
            // As a store written by a build without the index.
            store.survey_index().expect("tree").clear().expect("clear");
            store.db.flush().expect("flush");
            loaded
        };
        let store = Store::open(dir.path()).expect("reopen");
        let code = &province.communes[0].record.code;
        assert_eq!(
            store.commune_device_ids(code).expect("ids").len(),
            province.communes[0].pcs.len()
        );
        assert_same(&store, spec.now, "after a rebuild");
    }

    #[test]
    fn a_version_1_index_gains_peripherals_and_overview_rows_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = Policy::shipped();
        let spec = {
            let store = Store::open(dir.path()).expect("open");
            let (spec, _) = fixture::load::small_province(&store, 7, 3, (8, 10));
            survey::refresh(&store, policy, spec.now).expect("refresh");
            // As a store written by the build before: no peripherals by PC,
            // no overview rows, version 1 (its full rows are kept).
            let index = store.survey_index().expect("tree");
            for entry in index.scan_prefix([PERIPHERAL]) {
                index.remove(entry.expect("entry").0).expect("remove");
            }
            index.insert(VERSION_KEY, b"1").expect("version");
            store
                .survey_overview_tree()
                .expect("tree")
                .clear()
                .expect("clear");
            store.db.flush().expect("flush");
            assert!(
                !store.list_peripherals().expect("peripherals").is_empty(),
                "the fixture has peripherals"
            );
            spec
        };
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(
            store
                .survey_index()
                .expect("tree")
                .get(VERSION_KEY)
                .expect("get")
                .as_deref(),
            Some(VERSION)
        );
        assert_same(&store, spec.now, "after the upgrade");
    }
}
