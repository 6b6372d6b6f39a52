//! The `assets` tree: device id → [`AssetRecord`] (JSON), a device's entry
//! in the commune's asset register. Opened on first use, so the store's
//! other trees do not change.

use chrono::Utc;
use kiemke_shared::DeviceId;

use super::record;
use super::{Store, StoreError};
use crate::policy::AssetRecord;

const TREE: &str = "assets";

impl Store {
    fn assets_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// Stores a device's register entry (replacing the previous one) and
    /// flushes. `None` when there is no such device.
    pub fn put_asset(
        &self,
        id: &DeviceId,
        mut asset: AssetRecord,
    ) -> Result<Option<AssetRecord>, StoreError> {
        if self.device_record(id)?.is_none() {
            return Ok(None);
        }
        asset.updated_at = Some(Utc::now());
        self.assets_tree()?
            .insert(id.as_bytes(), record::encode(&asset)?)?;
        self.db.flush()?;
        Ok(Some(asset))
    }

    pub fn asset(&self, id: &DeviceId) -> Result<Option<AssetRecord>, StoreError> {
        match self.assets_tree()?.get(id.as_bytes())? {
            Some(bytes) => record::decode(TREE, &bytes).map(Some),
            None => Ok(None),
        }
    }
}
