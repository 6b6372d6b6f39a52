//! The devices by status and commune, so a list filtered by status (or
//! commune) reads the devices it shows, not every device's flags.
//!
//! Tree `flags_by_status`, written in [`Store::save_flags`]'s transaction
//! together with the flags themselves:
//! - `s` ++ status (`ok`, `watch`, `replace`) ++ `0x00` ++ commune of the
//!   flags (empty without one) ++ `0x00` ++ device id (16 bytes) → empty;
//! - `v` → the index's version; absent: [`Store::open`] builds the index
//!   from the stored flags (a store from an older build upgrades).

use kiemke_shared::DeviceId;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::super::record;
use super::super::{Store, StoreError};
use super::FLAGS;
use crate::policy::{DeviceFlags, Status};

pub(super) const TREE: &str = "flags_by_status";
const ENTRY: u8 = b's';
const VERSION_KEY: &[u8] = b"v";
const VERSION: &[u8] = b"1";

/// Every status, for a list filtered by commune only.
const STATUSES: [Status; 3] = [Status::Ok, Status::Watch, Status::Replace];

fn tag(status: Status) -> &'static [u8] {
    match status {
        Status::Ok => b"ok",
        Status::Watch => b"watch",
        Status::Replace => b"replace",
    }
}

/// The prefix of the devices with `status` (and in `commune`, if given).
fn prefix(status: Status, commune: Option<&str>) -> Vec<u8> {
    let mut key = vec![ENTRY];
    key.extend_from_slice(tag(status));
    key.push(0);
    if let Some(commune) = commune {
        key.extend_from_slice(commune.as_bytes());
        key.push(0);
    }
    key
}

fn key(flags: &DeviceFlags) -> Vec<u8> {
    let commune = flags.commune.as_ref().map_or("", |c| c.as_str());
    let mut key = prefix(flags.status, Some(commune));
    key.extend_from_slice(flags.device_id.as_bytes());
    key
}

/// Inside [`Store::save_flags`]'s transaction: the device's entry moves
/// from what `old` said to what `new` says.
pub(super) fn on_save(
    tree: &TransactionalTree,
    old: Option<&DeviceFlags>,
    new: &DeviceFlags,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    if let Some(old) = old {
        tree.remove(key(old))?;
    }
    tree.insert(key(new), &[][..])?;
    Ok(())
}

impl Store {
    pub(super) fn flag_index_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// Builds the index from the stored flags when it is missing (a store
    /// from an older build). Called by [`Store::open`].
    pub(in crate::store) fn ensure_flag_index(&self) -> Result<(), StoreError> {
        let index = self.flag_index_tree()?;
        if index.get(VERSION_KEY)?.as_deref() == Some(VERSION) {
            return Ok(());
        }
        index.clear()?;
        for entry in self.flags_tree()?.iter() {
            let flags: DeviceFlags = record::decode(FLAGS, &entry?.1)?;
            index.insert(key(&flags), &[][..])?;
        }
        index.insert(VERSION_KEY, VERSION)?;
        self.db.flush()?;
        Ok(())
    }

    /// The devices whose stored flags have `status` (every status when
    /// `None`) and, when given, `commune`, from the index; in key order.
    pub(super) fn indexed_flagged_ids(
        &self,
        status: Option<Status>,
        commune: Option<&str>,
    ) -> Result<Vec<DeviceId>, StoreError> {
        let index = self.flag_index_tree()?;
        let mut ids = Vec::new();
        let statuses = status.map_or(STATUSES.to_vec(), |s| vec![s]);
        for status in statuses {
            for entry in index.scan_prefix(prefix(status, commune)) {
                let (key, _) = entry?;
                let start = key.len().saturating_sub(16);
                let bytes: Option<[u8; 16]> = key.get(start..).and_then(|b| b.try_into().ok());
                if let Some(id) = bytes.and_then(|b| DeviceId::from_bytes(b).ok()) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }
}
