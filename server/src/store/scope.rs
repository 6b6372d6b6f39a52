//! Which commune a device or a peripheral belongs to, for access control
//! (`auth::Viewer::check_read`/`check_edit`): a commune officer reaches
//! only their own commune's data.
//!
//! A device belongs to the commune of its asset-register entry when that
//! names one, else to the commune of the enrolled agent that last reported
//! it (the same rule the lifecycle flags use). A printer or scanner belongs
//! to every commune whose PCs reported it.

use std::collections::BTreeSet;

use kiemke_shared::{CommuneCode, DeviceId};

use super::{Store, StoreError};

impl Store {
    /// `None`: no such device; `Some(None)`: a device filed under no
    /// commune (reports from before enrollment).
    pub fn device_commune(&self, id: &DeviceId) -> Result<Option<Option<CommuneCode>>, StoreError> {
        let Some(device) = self.device_record(id)? else {
            return Ok(None);
        };
        let registered = self.asset(id)?.and_then(|a| a.commune);
        Ok(Some(
            registered.or_else(|| device.origin.map(|o| o.commune)),
        ))
    }

    /// `None`: no such peripheral; else the communes whose PCs saw it.
    pub fn peripheral_communes(
        &self,
        id: &DeviceId,
    ) -> Result<Option<BTreeSet<CommuneCode>>, StoreError> {
        let Some(detail) = self.peripheral(id)? else {
            return Ok(None);
        };
        self.communes_of(&detail.device.seen_by).map(Some)
    }

    /// The communes of these devices.
    pub fn communes_of<'a>(
        &self,
        devices: impl IntoIterator<Item = &'a DeviceId>,
    ) -> Result<BTreeSet<CommuneCode>, StoreError> {
        let mut communes = BTreeSet::new();
        for id in devices {
            if let Some(Some(c)) = self.device_commune(id)? {
                communes.insert(c);
            }
        }
        Ok(communes)
    }
}
