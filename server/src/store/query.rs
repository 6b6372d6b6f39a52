//! Reading the store: device lists, one device with its history, reports.
//! These block (sled may read from disk); async callers go through
//! [`Store::blocking`].

use kiemke_shared::api::{DeviceDetail, DeviceList, ReportSummary};
use kiemke_shared::{DeviceId, ReportId};

use super::record::{self, DeviceRecord, StoredReport};
use super::{Store, StoreError};

impl Store {
    /// Devices, most recently seen first (ties by id, so pages are stable).
    pub fn list_devices(&self, limit: usize, offset: usize) -> Result<DeviceList, StoreError> {
        let mut records = self.device_records()?;
        records.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
        let total = records.len() as u64;
        let devices = records
            .iter()
            .skip(offset)
            .take(limit)
            .map(DeviceRecord::summary)
            .collect();
        Ok(DeviceList { devices, total })
    }

    /// Every device record, in id order.
    pub fn device_records(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.devices
            .iter()
            .map(|entry| {
                let (_, bytes) = entry?;
                record::decode("devices", &bytes)
            })
            .collect()
    }

    pub fn device_record(&self, id: &DeviceId) -> Result<Option<DeviceRecord>, StoreError> {
        match self.devices.get(id.as_bytes())? {
            Some(bytes) => record::decode("devices", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// One device: its latest inventory and up to `history_limit` reports,
    /// newest first.
    pub fn device(
        &self,
        id: &DeviceId,
        history_limit: usize,
    ) -> Result<Option<DeviceDetail>, StoreError> {
        let Some(device) = self.device_record(id)? else {
            return Ok(None);
        };
        let inventory = match &device.inventory_report {
            Some(report_id) => self.report(report_id)?.and_then(|s| s.report.inventory),
            None => None,
        };
        let mut reports = Vec::new();
        for entry in self.device_reports.scan_prefix(id.as_bytes()).rev() {
            if reports.len() >= history_limit {
                break;
            }
            let (key, _) = entry?;
            let Some(report_id) = record::report_in_history_key(&key) else {
                continue;
            };
            if let Some(stored) = self.report(&report_id)? {
                reports.push(ReportSummary {
                    report_id,
                    agent_id: stored.report.agent_id,
                    taken_at: stored.report.taken_at,
                    received_at: stored.received_at,
                });
            }
        }
        Ok(Some(DeviceDetail {
            device: device.summary(),
            inventory,
            reports,
        }))
    }

    pub fn report(&self, id: &ReportId) -> Result<Option<StoredReport>, StoreError> {
        match self.reports.get(id.as_bytes())? {
            Some(bytes) => record::decode("reports", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Reports stored (counts the tree: fine for tests and small stores).
    pub fn report_count(&self) -> u64 {
        self.reports.len() as u64
    }

    pub fn device_count(&self) -> u64 {
        self.devices.len() as u64
    }

    /// The device an identity key points at, e.g. `uuid:…` (for support and
    /// tests).
    pub fn device_for_key(&self, key: &str) -> Result<Option<DeviceId>, StoreError> {
        Ok(self
            .identity
            .get(key.as_bytes())?
            .and_then(|bytes| DeviceId::from_bytes(bytes.as_ref().try_into().ok()?).ok()))
    }
}
