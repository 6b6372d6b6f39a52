//! What the store keeps: the stored report, the device record, the history
//! index key, and their encodings (JSON values, big-endian keys).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use kiemke_shared::api::DeviceSummary;
use kiemke_shared::{AgentId, CommuneCode, DeviceId, Inventory, Report, ReportId, SiteCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::identity::IdentityKey;

/// One report as received, in the `reports` tree under its report id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReport {
    /// By the server's clock (the PC's clock may be years off).
    pub received_at: DateTime<Utc>,
    /// The device it was attributed to when it arrived.
    pub device_id: DeviceId,
    /// Tells a retry (same content) from a conflicting reuse of the id.
    pub content_hash: String,
    pub report: Report,
    /// Where it came from, by the agent's credential (absent for reports
    /// stored without one: internal tests and stores from before enrollment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// The commune and site a report is filed under: decided by the server from
/// the agent's credential, never taken from the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub commune: CommuneCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteCode>,
}

/// One device, in the `devices` tree under its device id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub report_count: u64,
    /// Every agent installation that reported for this device.
    pub agent_ids: BTreeSet<AgentId>,
    /// The identity keys pointing here, so a candidate can be checked
    /// against a report's stronger keys without another look-up.
    pub keys: BTreeSet<IdentityKey>,
    /// From the latest report that carried an inventory: enough for a list
    /// without reading every report.
    pub facts: DeviceFacts,
    /// The latest report that carried an inventory.
    pub inventory_report: Option<ReportId>,
    /// Where its latest report came from (commune and site of the agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// The latest values shown in device lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceFacts {
    pub hostname: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os_name: Option<String>,
    pub cpu_brand: Option<String>,
    pub memory_total_bytes: Option<u64>,
}

impl DeviceFacts {
    fn from_inventory(inv: &Inventory) -> DeviceFacts {
        DeviceFacts {
            hostname: inv.hostname.clone(),
            vendor: inv.system.vendor.clone(),
            model: inv.system.model.clone(),
            serial: inv.system.serial.clone(),
            os_name: inv.os.name.clone(),
            cpu_brand: inv.cpu.brand.clone(),
            memory_total_bytes: inv.memory.total_bytes,
        }
    }
}

impl DeviceRecord {
    pub fn new(id: DeviceId, received_at: DateTime<Utc>) -> DeviceRecord {
        DeviceRecord {
            id,
            first_seen: received_at,
            last_seen: received_at,
            report_count: 0,
            agent_ids: BTreeSet::new(),
            keys: BTreeSet::new(),
            facts: DeviceFacts::default(),
            inventory_report: None,
            origin: None,
        }
    }

    /// Takes in a newly stored report. The latest *received* inventory wins:
    /// the agent delivers its spool oldest first, and the PC's own clock
    /// (`taken_at`) cannot be trusted to order reports.
    pub fn absorb(&mut self, report: &Report, received_at: DateTime<Utc>, keys: &[IdentityKey]) {
        self.first_seen = self.first_seen.min(received_at);
        self.last_seen = self.last_seen.max(received_at);
        self.report_count += 1;
        self.agent_ids.insert(report.agent_id);
        self.keys.extend(keys.iter().cloned());
        if let Some(inv) = &report.inventory {
            self.facts = DeviceFacts::from_inventory(inv);
            self.inventory_report = Some(report.report_id);
        }
    }

    pub fn summary(&self) -> DeviceSummary {
        let f = &self.facts;
        DeviceSummary {
            id: self.id,
            hostname: f.hostname.clone(),
            vendor: f.vendor.clone(),
            model: f.model.clone(),
            serial: f.serial.clone(),
            os_name: f.os_name.clone(),
            cpu_brand: f.cpu_brand.clone(),
            memory_total_bytes: f.memory_total_bytes,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            report_count: self.report_count,
            agent_ids: self.agent_ids.iter().copied().collect(),
        }
    }
}

/// A fingerprint of a report's content: FNV-1a (64 bit) of its JSON as this
/// server encodes it. Written out here rather than `DefaultHasher`, whose
/// output may change between Rust releases while stored hashes must not.
pub fn content_hash(report: &Report) -> Result<String, StoreError> {
    Ok(EncodedReport::new(report)?.hash)
}

fn fnv1a64(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("fnv1a64:{hash:016x}")
}

/// A report encoded once, before the ingest transaction: its JSON gives the
/// content hash and goes into the stored record as it is. The transaction
/// holds sled's global lock, so the less it encodes the better.
#[derive(Debug, Clone)]
pub struct EncodedReport {
    json: Vec<u8>,
    /// [`content_hash`] of the report.
    pub hash: String,
}

/// The fields of a [`StoredReport`] before its report, in its order.
#[derive(Serialize)]
struct StoredHead<'a> {
    received_at: DateTime<Utc>,
    device_id: DeviceId,
    content_hash: &'a str,
}

impl EncodedReport {
    pub fn new(report: &Report) -> Result<EncodedReport, StoreError> {
        let json = serde_json::to_vec(report).map_err(StoreError::Encode)?;
        let hash = fnv1a64(&json);
        Ok(EncodedReport { json, hash })
    }

    /// The `reports` tree's value: byte for byte what [`encode`] makes of
    /// the [`StoredReport`], without encoding the report again.
    pub fn stored(
        &self,
        received_at: DateTime<Utc>,
        device_id: DeviceId,
        origin: Option<&Origin>,
    ) -> Result<Vec<u8>, StoreError> {
        let head = StoredHead {
            received_at,
            device_id,
            content_hash: &self.hash,
        };
        let mut out = Vec::with_capacity(self.json.len() + 200);
        serde_json::to_writer(&mut out, &head).map_err(StoreError::Encode)?;
        // `{...}` → `{..., "report": REPORT, "origin": ORIGIN}`
        out.pop();
        out.extend_from_slice(b",\"report\":");
        out.extend_from_slice(&self.json);
        if let Some(origin) = origin {
            out.extend_from_slice(b",\"origin\":");
            serde_json::to_writer(&mut out, origin).map_err(StoreError::Encode)?;
        }
        out.push(b'}');
        Ok(out)
    }
}

/// Key of the `device_reports` history index: device id, then the receive
/// time in big-endian microseconds (so a prefix scan runs in time order),
/// then the report id (two reports in the same microsecond stay apart).
pub fn history_key(device: &DeviceId, received_at: DateTime<Utc>, report: &ReportId) -> Vec<u8> {
    let micros = u64::try_from(received_at.timestamp_micros()).unwrap_or(0);
    let mut key = Vec::with_capacity(40);
    key.extend_from_slice(device.as_bytes());
    key.extend_from_slice(&micros.to_be_bytes());
    key.extend_from_slice(report.as_bytes());
    key
}

/// The report id at the end of a history key.
pub fn report_in_history_key(key: &[u8]) -> Option<ReportId> {
    let bytes: [u8; 16] = key.get(24..40)?.try_into().ok()?;
    ReportId::from_bytes(bytes).ok()
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(StoreError::Encode)
}

pub fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_report_is_encoded_as_serde_would() {
        let province = crate::fixture::generate(&crate::fixture::FixtureSpec {
            communes: 1,
            pcs_min: 2,
            pcs_max: 2,
            ..crate::fixture::FixtureSpec::province(1, Utc::now())
        });
        let pc = &province.communes[0].pcs[0];
        let report = pc.reports[0].0.clone();
        assert!(report.inventory.is_some());
        let encoded = EncodedReport::new(&report).expect("encode");
        assert_eq!(encoded.hash, content_hash(&report).expect("hash"));
        let origins = [
            None,
            Some(Origin {
                commune: CommuneCode::parse("24118").expect("code"),
                site: SiteCode::parse("ttpvhcc").ok(),
            }),
        ];
        for origin in origins {
            let stored = StoredReport {
                received_at: Utc::now(),
                device_id: DeviceId::generate(),
                content_hash: encoded.hash.clone(),
                report: report.clone(),
                origin: origin.clone(),
            };
            let bytes = encoded
                .stored(stored.received_at, stored.device_id, origin.as_ref())
                .expect("stored");
            assert_eq!(bytes, encode(&stored).expect("serde"));
            assert_eq!(
                decode::<StoredReport>("reports", &bytes).expect("decode"),
                stored
            );
        }
    }
}
