//! Flags in the store:
//! - `flags`: device id → the latest [`DeviceFlags`] (JSON);
//! - `flag_history`: device id ++ time (big-endian µs) → [`StatusChange`]
//!   (JSON), written when a device's status or its counted reasons change;
//! - `meta` keys `policy_fingerprint` and `flags_evaluated_on`: what the
//!   stored flags were computed with, so a server started with another
//!   policy (or on a later day) recomputes them all;
//! - `flags_by_status`: the devices by status and commune ([`index`]).
//!
//! A save writes the flags, their history, the index and the commune's
//! out-of-date mark (`super::survey_index`) in one transaction.
//!
//! Evaluation is pure ([`crate::policy::flags::evaluate`]); this module
//! gathers its inputs (latest inventory, register entry) and keeps results.

mod index;
mod query;

use chrono::{DateTime, NaiveDate, Utc};
use kiemke_shared::{DeviceId, Report, SiteRef};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::record::{self, DeviceRecord, Origin};
use super::{Store, StoreError};
use crate::policy::cpu::CpuTable;
use crate::policy::flags::{self, Reason};
use crate::policy::register::AssetRecord;
use crate::policy::{DeviceFlags, DeviceInputs, Policy, Status};

pub use query::{CommuneCount, DeviceFilter, FlagBrief, FlagSummary, FlaggedDevice, FlaggedList};

const FLAGS: &str = "flags";
const HISTORY: &str = "flag_history";
const FINGERPRINT_KEY: &[u8] = b"policy_fingerprint";
const EVALUATED_ON_KEY: &[u8] = b"flags_evaluated_on";

/// One change of a device's status, kept forever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    /// `None` for the first evaluation.
    pub from: Option<Status>,
    pub to: Status,
    pub reasons: Vec<Reason>,
    pub evaluated_on: NaiveDate,
    pub policy: String,
    pub policy_fingerprint: String,
}

/// What [`Store::recompute_all`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    pub devices: usize,
    pub changed: usize,
}

/// Whether two evaluations concluded the same, whenever they ran.
fn same_but_for_time(old: &DeviceFlags, new: &DeviceFlags) -> bool {
    let DeviceFlags {
        device_id,
        status,
        reasons,
        category,
        category_source,
        commune,
        site,
        site_kind,
        age,
        service_life,
        wear,
        line_target_mbps,
        evaluated_on,
        evaluated_at: _,
        policy,
        policy_fingerprint,
    } = new;
    old.device_id == *device_id
        && old.status == *status
        && old.reasons == *reasons
        && old.category == *category
        && old.category_source == *category_source
        && old.commune == *commune
        && old.site == *site
        && old.site_kind == *site_kind
        && old.age == *age
        && old.service_life == *service_life
        && old.wear == *wear
        && old.line_target_mbps == *line_target_mbps
        && old.evaluated_on == *evaluated_on
        && old.policy == *policy
        && old.policy_fingerprint == *policy_fingerprint
}

fn history_key(id: &DeviceId, at: DateTime<Utc>) -> Vec<u8> {
    let micros = u64::try_from(at.timestamp_micros()).unwrap_or(0);
    let mut key = Vec::with_capacity(24);
    key.extend_from_slice(id.as_bytes());
    key.extend_from_slice(&micros.to_be_bytes());
    key
}

impl Store {
    pub(super) fn flags_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(FLAGS)?)
    }

    fn history_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(HISTORY)?)
    }

    /// The latest flags of a device, if it was evaluated.
    pub fn flags(&self, id: &DeviceId) -> Result<Option<DeviceFlags>, StoreError> {
        match self.flags_tree()?.get(id.as_bytes())? {
            Some(bytes) => record::decode(FLAGS, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// A device's status changes, newest first.
    pub fn flag_history(
        &self,
        id: &DeviceId,
        limit: usize,
    ) -> Result<Vec<StatusChange>, StoreError> {
        (self.history_tree()?.scan_prefix(id.as_bytes()).rev())
            .take(limit)
            .map(|entry| record::decode(HISTORY, &entry?.1))
            .collect()
    }

    /// Evaluates one device under `policy` on `as_of` from its latest
    /// inventory and register entry (without storing anything).
    pub fn evaluate_device(
        &self,
        policy: &Policy,
        id: &DeviceId,
        as_of: NaiveDate,
    ) -> Result<Option<DeviceFlags>, StoreError> {
        let Some(device) = self.device_record(id)? else {
            return Ok(None);
        };
        let inventory = match &device.inventory_report {
            Some(report) => self.report(report)?.and_then(|s| s.report.inventory),
            None => None,
        };
        let register = self.located(self.asset(id)?, device.origin.as_ref())?;
        let inputs = DeviceInputs {
            inventory: inventory.as_ref(),
            register: register.as_ref(),
            printer: None,
        };
        Ok(Some(flags::evaluate(
            policy,
            CpuTable::shipped(),
            *id,
            inputs,
            as_of,
        )))
    }

    /// The register entry completed with where the device reports from: the
    /// enrolled agent's commune and site (the register wins where it says
    /// otherwise), and the site's kind from the sites registry, which selects
    /// the line target.
    fn located(
        &self,
        register: Option<AssetRecord>,
        origin: Option<&Origin>,
    ) -> Result<Option<AssetRecord>, StoreError> {
        let Some(origin) = origin else {
            return Ok(register);
        };
        let mut entry = register.unwrap_or_default();
        if entry.commune.is_none() {
            entry.commune = Some(origin.commune.clone());
            entry.site = entry.site.or_else(|| origin.site.clone());
        }
        if entry.site_kind.is_none()
            && let (Some(commune), Some(site)) = (&entry.commune, &entry.site)
        {
            let site = SiteRef {
                commune: commune.clone(),
                site: site.clone(),
            };
            entry.site_kind = self.site(&site)?.map(|s| s.kind);
        }
        Ok(Some(entry))
    }

    /// Evaluates one device and stores the result; records a status change
    /// when the status or its counted reasons differ from the stored ones.
    /// Returns the flags and whether they changed.
    pub fn recompute_device(
        &self,
        policy: &Policy,
        id: &DeviceId,
        as_of: NaiveDate,
    ) -> Result<Option<(DeviceFlags, bool)>, StoreError> {
        let Some(flags) = self.evaluate_device(policy, id, as_of)? else {
            return Ok(None);
        };
        let changed = self.save_flags(&flags)?;
        Ok(Some((flags, changed)))
    }

    /// Stores flags, with a history entry if they changed (one
    /// transaction), then flushes.
    pub fn save_flags(&self, new: &DeviceFlags) -> Result<bool, StoreError> {
        let origin = self.device_record(&new.device_id)?.and_then(|d| d.origin);
        let changed = self.save_flags_unflushed(new, origin.as_ref())?;
        self.group_flush.flush(&self.db)?;
        Ok(changed)
    }

    /// [`Store::save_flags`] without the flush, for a caller that flushes
    /// once for this and its own writes; `origin` is the device's.
    fn save_flags_unflushed(
        &self,
        new: &DeviceFlags,
        origin: Option<&Origin>,
    ) -> Result<bool, StoreError> {
        let id = new.device_id;
        let encoded = record::encode(new)?;
        // The commune's overview row counts statuses and categories: its
        // out-of-date mark goes in the same transaction.
        let commune = origin.map(|o| &o.commune);
        let (flags_tree, history_tree) = (self.flags_tree()?, self.history_tree()?);
        let (index_tree, survey_tree) = (
            self.flag_index_tree()?,
            self.db.open_tree(super::survey_index::INDEX_TREE)?,
        );
        let changed = (&flags_tree, &history_tree, &index_tree, &survey_tree)
            .transaction(|(current, history, by_status, survey)| {
                let old: Option<DeviceFlags> = match current.get(id.as_bytes())? {
                    Some(bytes) => record::decode(FLAGS, &bytes).ok(),
                    None => None,
                };
                index::on_save(by_status, old.as_ref(), new)?;
                if let Some(commune) = commune {
                    super::survey_index::mark_tx(survey, commune)?;
                }
                let changed = old.as_ref().is_none_or(|o| {
                    o.status != new.status || o.counted_rules() != new.counted_rules()
                });
                current.insert(id.as_bytes(), encoded.as_slice())?;
                if changed {
                    let change = StatusChange {
                        at: new.evaluated_at,
                        from: old.map(|o| o.status),
                        to: new.status,
                        reasons: new.reasons.clone(),
                        evaluated_on: new.evaluated_on,
                        policy: new.policy.clone(),
                        policy_fingerprint: new.policy_fingerprint.clone(),
                    };
                    let bytes =
                        record::encode(&change).map_err(ConflictableTransactionError::Abort)?;
                    history.insert(history_key(&id, new.evaluated_at), bytes)?;
                }
                Ok(changed)
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        Ok(changed)
    }

    /// Brings a device's flags up to date after `report` was stored for it
    /// (`device` is its record after the report), without flushing: the
    /// ingest flushes once for both. Returns the flags if they were stored,
    /// and whether their status or counted reasons changed.
    ///
    /// The flags read the latest inventory, the register entry, where the
    /// device reports from, the policy and the date. A report with an
    /// inventory is evaluated with that inventory (no need to read it back),
    /// and the result is stored only when it differs from the stored flags
    /// in more than the evaluation time: most daily reports change nothing.
    /// A report without one changes none of those inputs, so it is evaluated
    /// only if the device has no flags yet. The other inputs have their own
    /// paths: a register entry saved re-evaluates its device
    /// (`routes::flags::put_asset`), another policy or another day
    /// re-evaluates every device ([`Store::flags_stale`],
    /// [`Store::recompute_all`]).
    pub(super) fn flag_after_ingest(
        &self,
        policy: &Policy,
        device: &DeviceRecord,
        report: &Report,
        as_of: NaiveDate,
    ) -> Result<Option<(DeviceFlags, bool)>, StoreError> {
        let stored = self.flags(&device.id)?;
        let Some(inventory) = &report.inventory else {
            if stored.is_some() {
                return Ok(None);
            }
            let Some(flags) = self.evaluate_device(policy, &device.id, as_of)? else {
                return Ok(None);
            };
            let changed = self.save_flags_unflushed(&flags, device.origin.as_ref())?;
            return Ok(Some((flags, changed)));
        };
        let register = self.located(self.asset(&device.id)?, device.origin.as_ref())?;
        let inputs = DeviceInputs {
            inventory: Some(inventory),
            register: register.as_ref(),
            printer: None,
        };
        let flags = flags::evaluate(policy, CpuTable::shipped(), device.id, inputs, as_of);
        if stored.is_some_and(|old| same_but_for_time(&old, &flags)) {
            return Ok(None);
        }
        let changed = self.save_flags_unflushed(&flags, device.origin.as_ref())?;
        Ok(Some((flags, changed)))
    }

    /// Whether the stored flags were computed with another policy or on
    /// another day than `as_of`.
    pub fn flags_stale(&self, policy: &Policy, as_of: NaiveDate) -> Result<bool, StoreError> {
        let meta = self.db.open_tree("meta")?;
        let fingerprint = meta.get(FINGERPRINT_KEY)?;
        let on = meta.get(EVALUATED_ON_KEY)?;
        Ok(
            fingerprint.as_deref() != Some(policy.fingerprint.as_bytes())
                || on.as_deref() != Some(as_of.to_string().as_bytes()),
        )
    }

    /// Re-evaluates every device (on start with another policy, once a
    /// day), then records what the flags were computed with.
    pub fn recompute_all(
        &self,
        policy: &Policy,
        as_of: NaiveDate,
    ) -> Result<Recomputed, StoreError> {
        let mut done = Recomputed::default();
        for device in self.device_records()? {
            if let Some((_, changed)) = self.recompute_device(policy, &device.id, as_of)? {
                done.devices += 1;
                done.changed += usize::from(changed);
            }
        }
        let meta = self.db.open_tree("meta")?;
        meta.insert(FINGERPRINT_KEY, policy.fingerprint.as_bytes())?;
        meta.insert(EVALUATED_ON_KEY, as_of.to_string().as_bytes())?;
        self.db.flush()?;
        Ok(done)
    }
}

#[cfg(test)]
pub(super) mod tests;
