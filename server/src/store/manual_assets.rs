//! Assets registered by hand: equipment no agent discovers (photocopiers
//! without a network card, scanners on PCs without an agent, projectors,
//! UPS, network gear). The one owner of that concept: discovered printers
//! and scanners stay in `peripherals`; a hand-registered entry is never
//! merged with a discovered one automatically (an officer's list is not
//! evidence that two things are the same device).
//!
//! Trees:
//! - `manual_assets`: asset id → [`ManualAsset`] (JSON);
//! - `manual_asset_keys`: identity key → asset id, so importing the same
//!   list again updates the same assets instead of adding copies. The key
//!   is `COMMUNE/serial:SERIAL` when the serial is known, else
//!   `COMMUNE/row:site|category|model|date|cost|n` where `n` counts
//!   identical rows within one import (two identical copiers without
//!   serials are two assets, and stay two on re-import).
//!
//! An import writes all its rows in one transaction, then flushes: all or
//! nothing.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kiemke_shared::{CommuneCode, DeviceId, SiteCode};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{Store, StoreError, record};
use crate::policy::Category;

/// An asset as entered (by the API, the CLI or an import row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewManualAsset {
    pub commune: CommuneCode,
    #[serde(default)]
    pub site: Option<SiteCode>,
    pub category: Category,
    pub model: String,
    #[serde(default)]
    pub serial: Option<String>,
    /// Ngày đưa vào sử dụng.
    #[serde(default)]
    pub in_service: Option<NaiveDate>,
    /// Nguyên giá, in đồng.
    #[serde(default)]
    pub cost_vnd: Option<u64>,
    /// Nguồn vốn.
    #[serde(default)]
    pub funding_source: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The import file's line it came from (not stored in the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<usize>,
}

/// A stored manual asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManualAsset {
    pub id: DeviceId,
    #[serde(flatten)]
    pub asset: NewManualAsset,
    /// Its identity key (see the module docs).
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// The identity key of `asset`, the `n`th of identical serial-less rows.
fn identity_key(asset: &NewManualAsset, n: usize) -> String {
    match &asset.serial {
        Some(serial) => format!("{}/serial:{}", asset.commune, serial.trim().to_uppercase()),
        None => format!(
            "{}/row:{}|{}|{}|{}|{}|{n}",
            asset.commune,
            asset.site.as_ref().map_or("", SiteCode::as_str),
            asset.category.key(),
            asset.model.trim().to_lowercase(),
            asset.in_service.map(|d| d.to_string()).unwrap_or_default(),
            asset.cost_vnd.map(|c| c.to_string()).unwrap_or_default(),
        ),
    }
}

/// The same asset, ignoring where in a file it came from.
fn same(a: &NewManualAsset, b: &NewManualAsset) -> bool {
    NewManualAsset {
        source_line: None,
        ..a.clone()
    } == NewManualAsset {
        source_line: None,
        ..b.clone()
    }
}

impl Store {
    /// Stores every asset, or none: an asset whose key is known is updated
    /// in place (same id), others are created.
    pub fn import_manual_assets(
        &self,
        assets: &[NewManualAsset],
        now: DateTime<Utc>,
    ) -> Result<ImportSummary, StoreError> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let keyed: Vec<(String, &NewManualAsset)> = assets
            .iter()
            .map(|a| {
                let base = identity_key(a, 0);
                let n = seen.entry(base).or_default();
                let key = identity_key(a, *n);
                *n += 1;
                (key, a)
            })
            .collect();
        let _writing = self.write_guard();
        let summary = (&self.manual_assets, &self.manual_asset_keys)
            .transaction(|(items, keys)| {
                let mut summary = ImportSummary::default();
                for (key, asset) in &keyed {
                    let existing: Option<ManualAsset> = match keys.get(key.as_bytes())? {
                        Some(id) => match items.get(id)? {
                            Some(bytes) => Some(
                                record::decode("manual_assets", &bytes)
                                    .map_err(ConflictableTransactionError::Abort)?,
                            ),
                            None => None,
                        },
                        None => None,
                    };
                    let record = match existing {
                        Some(old) if same(&old.asset, asset) => {
                            summary.unchanged += 1;
                            continue;
                        }
                        Some(old) => {
                            summary.updated += 1;
                            ManualAsset {
                                asset: (*asset).clone(),
                                updated_at: now,
                                ..old
                            }
                        }
                        None => {
                            summary.created += 1;
                            ManualAsset {
                                id: DeviceId::generate(),
                                asset: (*asset).clone(),
                                key: key.clone(),
                                created_at: now,
                                updated_at: now,
                            }
                        }
                    };
                    let bytes =
                        record::encode(&record).map_err(ConflictableTransactionError::Abort)?;
                    items.insert(&record.id.as_bytes()[..], bytes)?;
                    keys.insert(key.as_bytes(), &record.id.as_bytes()[..])?;
                }
                Ok(summary)
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        self.db.flush()?;
        Ok(summary)
    }

    /// Adds one asset; `Err(existing id)` if one with its key exists.
    pub fn add_manual_asset(
        &self,
        asset: &NewManualAsset,
        now: DateTime<Utc>,
    ) -> Result<Result<ManualAsset, DeviceId>, StoreError> {
        let key = identity_key(asset, 0);
        if let Some(id) = self.manual_asset_keys.get(key.as_bytes())? {
            if let Some(existing) = self.manual_asset_by_bytes(&id)? {
                return Ok(Err(existing.id));
            }
        }
        self.import_manual_assets(std::slice::from_ref(asset), now)?;
        let id =
            self.manual_asset_keys
                .get(key.as_bytes())?
                .ok_or_else(|| StoreError::Corrupt {
                    tree: "manual_asset_keys",
                    detail: "key missing after insert".into(),
                })?;
        self.manual_asset_by_bytes(&id)?
            .map(Ok)
            .ok_or_else(|| StoreError::Corrupt {
                tree: "manual_assets",
                detail: "asset missing after insert".into(),
            })
    }

    fn manual_asset_by_bytes(&self, id: &[u8]) -> Result<Option<ManualAsset>, StoreError> {
        match self.manual_assets.get(id)? {
            Some(bytes) => record::decode("manual_assets", &bytes).map(Some),
            None => Ok(None),
        }
    }

    pub fn manual_asset(&self, id: &DeviceId) -> Result<Option<ManualAsset>, StoreError> {
        self.manual_asset_by_bytes(id.as_bytes())
    }

    /// Replaces an asset's fields (its identity key follows the new
    /// serial or row). `None` if there is no such asset.
    pub fn update_manual_asset(
        &self,
        id: &DeviceId,
        asset: &NewManualAsset,
        now: DateTime<Utc>,
    ) -> Result<Option<ManualAsset>, StoreError> {
        let Some(old) = self.manual_asset(id)? else {
            return Ok(None);
        };
        let key = identity_key(asset, 0);
        let updated = ManualAsset {
            asset: asset.clone(),
            key: key.clone(),
            updated_at: now,
            ..old.clone()
        };
        let _writing = self.write_guard();
        (&self.manual_assets, &self.manual_asset_keys)
            .transaction(|(items, keys)| {
                keys.remove(old.key.as_bytes())?;
                keys.insert(key.as_bytes(), &id.as_bytes()[..])?;
                let bytes =
                    record::encode(&updated).map_err(ConflictableTransactionError::Abort)?;
                items.insert(&id.as_bytes()[..], bytes)?;
                Ok(())
            })
            .map_err(|e: TransactionError<StoreError>| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        self.db.flush()?;
        Ok(Some(updated))
    }

    /// Deletes an asset; `false` if there was none.
    pub fn delete_manual_asset(&self, id: &DeviceId) -> Result<bool, StoreError> {
        let Some(old) = self.manual_asset(id)? else {
            return Ok(false);
        };
        let _writing = self.write_guard();
        (&self.manual_assets, &self.manual_asset_keys)
            .transaction(|(items, keys)| {
                keys.remove(old.key.as_bytes())?;
                items.remove(&id.as_bytes()[..])?;
                Ok(())
            })
            .map_err(|e: TransactionError<StoreError>| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        self.db.flush()?;
        Ok(true)
    }

    /// The manual assets of one commune (all with `None`), by commune,
    /// site, category, model.
    pub fn manual_assets(
        &self,
        commune: Option<&CommuneCode>,
    ) -> Result<Vec<ManualAsset>, StoreError> {
        let mut all: Vec<ManualAsset> = self
            .manual_assets
            .iter()
            .values()
            .map(|v| record::decode::<ManualAsset>("manual_assets", &v?))
            .filter(|a| {
                commune.is_none()
                    || a.as_ref()
                        .map_or(true, |a| Some(&a.asset.commune) == commune)
            })
            .collect::<Result<_, _>>()?;
        all.sort_by(|a, b| {
            (
                &a.asset.commune,
                &a.asset.site,
                a.asset.category,
                &a.asset.model,
                a.id,
            )
                .cmp(&(
                    &b.asset.commune,
                    &b.asset.site,
                    b.asset.category,
                    &b.asset.model,
                    b.id,
                ))
        });
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(model: &str, serial: Option<&str>) -> NewManualAsset {
        NewManualAsset {
            commune: CommuneCode::parse("24118").expect("code"),
            site: None,
            category: Category::Photocopier,
            model: model.into(),
            serial: serial.map(String::from),
            in_service: None,
            cost_vnd: Some(45_000_000),
            funding_source: None,
            note: None,
            source_line: None,
        }
    }

    #[test]
    fn importing_twice_changes_nothing_and_twins_stay_two() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let list = vec![
            asset("Ricoh MP 2014", Some("E334")),
            asset("Toshiba e-Studio", None),
            asset("Toshiba e-Studio", None),
        ];
        let first = store
            .import_manual_assets(&list, Utc::now())
            .expect("import");
        assert_eq!((first.created, first.updated, first.unchanged), (3, 0, 0));
        let again = store
            .import_manual_assets(&list, Utc::now())
            .expect("import");
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        let mut changed = list.clone();
        changed[0].cost_vnd = Some(50_000_000);
        let third = store
            .import_manual_assets(&changed, Utc::now())
            .expect("import");
        assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 2));
        let all = store.manual_assets(None).expect("list");
        assert_eq!(all.len(), 3);

        // Edit, then delete.
        let id = all[0].id;
        let mut edited = all[0].asset.clone();
        edited.serial = Some("NEW1".into());
        let after = store
            .update_manual_asset(&id, &edited, Utc::now())
            .expect("update")
            .expect("exists");
        assert_eq!(after.key, "24118/serial:NEW1");
        assert!(matches!(
            store.add_manual_asset(&edited, Utc::now()).expect("add"),
            Err(existing) if existing == id
        ));
        assert!(store.delete_manual_asset(&id).expect("delete"));
        assert!(!store.delete_manual_asset(&id).expect("delete"));
        assert_eq!(store.manual_assets(None).expect("list").len(), 2);
    }
}
