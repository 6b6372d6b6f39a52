//! Reading flags: the device list filtered by status, category, commune,
//! site and reason, and the count per commune and status.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kiemke_shared::api::DeviceSummary;
use serde::{Deserialize, Serialize};

use super::super::record::{self, DeviceRecord};
use super::super::{Store, StoreError};
use super::FLAGS;
use crate::policy::{Category, DeviceFlags, Status};

/// `?status=&category=&commune=&site=&reason=`: every given filter must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DeviceFilter {
    pub status: Option<Status>,
    pub category: Option<Category>,
    /// Commune code, e.g. `24118`.
    pub commune: Option<String>,
    /// Site code within the commune, e.g. `ttpvhcc`.
    pub site: Option<String>,
    /// A rule id among the device's reasons, e.g. `os-end-of-support`.
    pub reason: Option<String>,
}

impl DeviceFilter {
    pub fn is_empty(&self) -> bool {
        *self == DeviceFilter::default()
    }

    fn admits(&self, flags: Option<&DeviceFlags>) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(f) = flags else {
            return false;
        };
        self.status.is_none_or(|s| s == f.status)
            && self.category.is_none_or(|c| c == f.category)
            && (self.commune.as_deref())
                .is_none_or(|c| f.commune.as_ref().is_some_and(|fc| fc.as_str() == c))
            && (self.site.as_deref())
                .is_none_or(|s| f.site.as_ref().is_some_and(|fs| fs.as_str() == s))
            && (self.reason.as_deref()).is_none_or(|r| f.reasons.iter().any(|x| x.rule == r))
    }
}

/// What a list shows of a device's flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagBrief {
    pub status: Status,
    pub category: Category,
    pub commune: Option<String>,
    pub site: Option<String>,
    /// Rule ids of the reasons, blocking first.
    pub reasons: Vec<String>,
}

impl From<&DeviceFlags> for FlagBrief {
    fn from(f: &DeviceFlags) -> FlagBrief {
        FlagBrief {
            status: f.status,
            category: f.category,
            commune: f.commune.as_ref().map(ToString::to_string),
            site: f.site.as_ref().map(ToString::to_string),
            reasons: f.reasons.iter().map(|r| r.rule.clone()).collect(),
        }
    }
}

/// A device in the list: the summary every client knows, plus its flags
/// (`null` before its first evaluation). A superset of the contract's
/// `DeviceSummary`, so older clients keep working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlaggedDevice {
    #[serde(flatten)]
    pub summary: DeviceSummary,
    pub flags: Option<FlagBrief>,
}

/// `GET /api/v1/devices`: like the contract's `DeviceList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlaggedList {
    pub devices: Vec<FlaggedDevice>,
    pub total: u64,
}

/// Devices of one commune per status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommuneCount {
    /// `null`: devices not yet assigned to a commune.
    pub commune: Option<String>,
    pub ok: u64,
    pub watch: u64,
    pub replace: u64,
    /// Not evaluated yet (no report with an inventory).
    pub unevaluated: u64,
    pub total: u64,
}

impl CommuneCount {
    fn add(&mut self, status: Option<Status>) {
        match status {
            Some(Status::Ok) => self.ok += 1,
            Some(Status::Watch) => self.watch += 1,
            Some(Status::Replace) => self.replace += 1,
            None => self.unevaluated += 1,
        }
        self.total += 1;
    }
}

/// `GET /api/v1/flags/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagSummary {
    /// By commune code; unassigned devices last.
    pub communes: Vec<CommuneCount>,
    pub total: CommuneCount,
}

impl Store {
    fn all_flags(&self) -> Result<BTreeMap<kiemke_shared::DeviceId, DeviceFlags>, StoreError> {
        self.flags_tree()?
            .iter()
            .map(|entry| {
                let flags: DeviceFlags = record::decode(FLAGS, &entry?.1)?;
                Ok((flags.device_id, flags))
            })
            .collect()
    }

    /// Devices admitted by `filter`, most recently seen first, one page.
    /// A filter on status or commune reads only the devices the index
    /// (`super::index`) gives for it; others read every device.
    pub fn list_flagged(
        &self,
        filter: &DeviceFilter,
        limit: usize,
        offset: usize,
    ) -> Result<FlaggedList, StoreError> {
        if filter.status.is_none() && filter.commune.is_none() {
            return self.list_flagged_by_scan(filter, limit, offset);
        }
        /// What the ordering needs of a device record.
        #[derive(Deserialize)]
        struct Seen {
            last_seen: DateTime<Utc>,
        }
        // The index holds each device under its stored flags' status and
        // commune (written in the same transaction): with no other filter,
        // being listed there admits a device, and only the page's flags
        // are read.
        let index_decides =
            filter.category.is_none() && filter.site.is_none() && filter.reason.is_none();
        let mut admitted = Vec::new();
        for id in self.indexed_flagged_ids(filter.status, filter.commune.as_deref())? {
            if !index_decides && !self.flags(&id)?.is_some_and(|f| filter.admits(Some(&f))) {
                continue;
            }
            let Some(bytes) = self.devices.get(id.as_bytes())? else {
                continue;
            };
            let seen: Seen = record::decode("devices", &bytes)?;
            admitted.push((seen.last_seen, id));
        }
        admitted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut devices = Vec::new();
        for (_, id) in admitted.iter().skip(offset).take(limit) {
            if let Some(r) = self.device_record(id)? {
                devices.push(FlaggedDevice {
                    summary: r.summary(),
                    flags: self.flags(id)?.as_ref().map(FlagBrief::from),
                });
            }
        }
        Ok(FlaggedList {
            devices,
            total: admitted.len() as u64,
        })
    }

    /// [`Store::list_flagged`] reading every device and its flags (what
    /// the indexed list must equal; tests compare the two).
    pub fn list_flagged_by_scan(
        &self,
        filter: &DeviceFilter,
        limit: usize,
        offset: usize,
    ) -> Result<FlaggedList, StoreError> {
        let flags = self.all_flags()?;
        let mut records: Vec<DeviceRecord> = self
            .device_records()?
            .into_iter()
            .filter(|r| filter.admits(flags.get(&r.id)))
            .collect();
        records.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
        let total = records.len() as u64;
        let devices = (records.iter().skip(offset).take(limit))
            .map(|r| FlaggedDevice {
                summary: r.summary(),
                flags: flags.get(&r.id).map(FlagBrief::from),
            })
            .collect();
        Ok(FlaggedList { devices, total })
    }

    /// Every device with its flags (for the command line), in id order.
    pub fn flagged_devices(&self) -> Result<Vec<(DeviceRecord, Option<DeviceFlags>)>, StoreError> {
        let mut flags = self.all_flags()?;
        Ok(self
            .device_records()?
            .into_iter()
            .map(|r| {
                let f = flags.remove(&r.id);
                (r, f)
            })
            .collect())
    }

    /// Devices per commune and status.
    pub fn flag_summary(&self) -> Result<FlagSummary, StoreError> {
        let flags = self.all_flags()?;
        let mut communes: BTreeMap<(bool, Option<String>), CommuneCount> = BTreeMap::new();
        let mut total = CommuneCount::default();
        for record in self.device_records()? {
            let f = flags.get(&record.id);
            let commune = f.and_then(|f| f.commune.as_ref()).map(ToString::to_string);
            let status = f.map(|f| f.status);
            communes
                .entry((commune.is_none(), commune.clone()))
                .or_insert_with(|| CommuneCount {
                    commune,
                    ..CommuneCount::default()
                })
                .add(status);
            total.add(status);
        }
        Ok(FlagSummary {
            communes: communes.into_values().collect(),
            total,
        })
    }
}
