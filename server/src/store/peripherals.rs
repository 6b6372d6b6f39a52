//! Printers, scanners and network gear reported by PCs, kept as devices of
//! their own, deduplicated across PCs: a network printer seen by ten PCs
//! (their CUPS or Windows queues, their LAN discovery) is one device.
//!
//! Trees:
//! - `peripherals`: peripheral id → [`PeripheralRecord`] (JSON);
//! - `peripheral_identity`: identity key → peripheral id;
//! - `page_counts`: peripheral id ++ received time (big-endian µs) ++
//!   reporting PC's device id → [`PageSample`] (JSON): the page-counter
//!   history, in time order (pages per month is a wear signal for policy).
//!
//! Identity keys, strongest first ([`keys`]): the serial (placeholders never
//! count), the MAC, the IP address with the model (network devices only);
//! for devices with none of these, what only this PC can tell: a USB
//! device's vendor/product id on this PC's port, or the queue's name on this
//! PC; and last the bare IP address of a network device, so a queue joins
//! the printer discovered at its address. A candidate with a different
//! serial is never merged into (a replacement printer on the old address is
//! a new device).
//!
//! Identity keys live in one namespace per commune (`COMMUNE/serial:…`,
//! like the PCs' keys in `identity`): the reporting agent's commune comes
//! from its enrollment, so two communes' printers with the same serial (or
//! the same private address 192.168.1.10) never merge, and an agent cannot
//! update another commune's printer. Reports stored without an origin use
//! bare keys.
//!
//! Written inside the ingest's transaction ([`absorb`]), so a report and
//! its peripherals are stored together or not at all; so is the survey
//! index's entry saying which PC saw each (`super::survey_index`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use kiemke_shared::firmware::is_placeholder_serial;
use kiemke_shared::peripherals::{
    Connection, PageCount, PageCounter, Peripheral, PeripheralKind, PeripheralSource, Supply, UsbId,
};
use kiemke_shared::{CommuneCode, DeviceId, Report, SiteCode};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::record::{self, Origin};
use super::{Store, StoreError};

/// One printer, scanner or network device, merged from every report that
/// saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeripheralRecord {
    pub id: DeviceId,
    pub kind: PeripheralKind,
    pub connection: Connection,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub mac: Option<String>,
    pub ip: Option<String>,
    /// Queue names, sysName: what users call it.
    pub names: BTreeSet<String>,
    pub usb: Option<UsbId>,
    /// Every source that reported it (snmp, cups, wmi...).
    pub sources: BTreeSet<PeripheralSource>,
    /// The PCs (device ids) that reported it: a USB scanner's PC, or the
    /// PCs that print to or discovered a network printer.
    pub seen_by: BTreeSet<DeviceId>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The latest page counter reading.
    pub page_count: Option<PageCount>,
    /// The latest supply levels.
    pub supplies: Vec<Supply>,
    /// Identity keys pointing here (with their commune prefix).
    pub keys: BTreeSet<String>,
    /// The commune and site of the agents that reported it (the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<CommuneCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteCode>,
}

/// One page-counter reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageSample {
    pub at: DateTime<Utc>,
    pub total: u64,
    pub counter: PageCounter,
    /// The PC whose report carried it.
    pub reported_by: DeviceId,
}

/// A peripheral with its page-counter history, as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeripheralDetail {
    #[serde(flatten)]
    pub device: PeripheralRecord,
    pub page_history: Vec<PageSample>,
}

/// Trees the ingest transaction lends to [`absorb`].
pub(super) struct Trees<'a> {
    pub devices: &'a TransactionalTree,
    pub identity: &'a TransactionalTree,
    pub page_counts: &'a TransactionalTree,
    /// `survey_index`: which peripherals each PC has seen (see
    /// `super::survey_index`).
    pub survey_index: &'a TransactionalTree,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort<T>(result: Result<T, StoreError>) -> TxResult<T> {
    result.map_err(ConflictableTransactionError::Abort)
}

/// The identity keys of a reported peripheral, strongest first. `pc` is the
/// reporting PC's device id.
pub fn keys(p: &Peripheral, pc: &DeviceId) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(serial) = normalized_serial(p) {
        keys.push(format!("serial:{serial}"));
    }
    if let Some(mac) = &p.mac {
        keys.push(format!("mac:{mac}"));
    }
    if let (Some(ip), Some(model), Connection::Network) = (&p.ip, &p.model, p.connection) {
        keys.push(format!("ipmodel:{ip}:{}", model.to_lowercase()));
    }
    if keys.is_empty() {
        match (&p.usb, &p.port) {
            (Some(usb), port) => keys.push(format!(
                "usb:{pc}:{}:{}:{}",
                usb.vendor_id,
                usb.product_id,
                port.as_deref().unwrap_or("-")
            )),
            (None, _) => {
                let local = p.name.as_deref().or(p.uri.as_deref()).or(p.port.as_deref());
                if let Some(local) = local {
                    keys.push(format!("local:{pc}:{local}"));
                }
            }
        }
    }
    // Weakest: the address alone, so that a PC's queue to a printer (no
    // serial, a driver's model name) joins the printer discovery found there.
    if let (Some(ip), Connection::Network) = (&p.ip, p.connection) {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

fn normalized_serial(p: &Peripheral) -> Option<String> {
    let serial = p.serial.as_deref()?.trim();
    (!is_placeholder_serial(serial)).then(|| serial.to_uppercase())
}

/// The peripheral-history key: id ++ time ++ reporting PC.
fn sample_key(id: &DeviceId, at: DateTime<Utc>, pc: &DeviceId) -> Vec<u8> {
    let micros = u64::try_from(at.timestamp_micros()).unwrap_or(0);
    let mut key = id.as_bytes().to_vec();
    key.extend_from_slice(&micros.to_be_bytes());
    key.extend_from_slice(pc.as_bytes());
    key
}

fn load(devices: &TransactionalTree, id: &DeviceId) -> TxResult<Option<PeripheralRecord>> {
    match devices.get(&id.as_bytes()[..])? {
        Some(bytes) => abort(record::decode("peripherals", &bytes)).map(Some),
        None => Ok(None),
    }
}

/// Stores the peripherals of one report (inside the ingest transaction).
pub(super) fn absorb(
    trees: &Trees<'_>,
    report: &Report,
    origin: Option<&Origin>,
    pc: DeviceId,
    at: DateTime<Utc>,
) -> TxResult<()> {
    let Some(section) = &report.peripherals else {
        return Ok(());
    };
    let namespace = |key: String| match origin {
        Some(o) => format!("{}/{key}", o.commune),
        None => key,
    };
    for p in &section.devices {
        let keys: Vec<String> = keys(p, &pc).into_iter().map(namespace).collect();
        if keys.is_empty() {
            continue;
        }
        let serial = normalized_serial(p);
        let mut found = None;
        for key in &keys {
            let Some(bytes) = trees.identity.get(key.as_bytes())? else {
                continue;
            };
            let Some(id) = bytes
                .as_ref()
                .try_into()
                .ok()
                .and_then(|b| DeviceId::from_bytes(b).ok())
            else {
                continue;
            };
            if let Some(existing) = load(trees.devices, &id)? {
                let conflict = matches!((&serial, &existing.serial), (Some(a), Some(b)) if a != b);
                if !conflict {
                    found = Some(existing);
                    break;
                }
            }
        }
        let mut rec = found.unwrap_or_else(|| PeripheralRecord {
            id: DeviceId::generate(),
            kind: p.kind,
            connection: p.connection,
            vendor: None,
            model: None,
            serial: None,
            mac: None,
            ip: None,
            names: BTreeSet::new(),
            usb: None,
            sources: BTreeSet::new(),
            seen_by: BTreeSet::new(),
            first_seen: at,
            last_seen: at,
            page_count: None,
            supplies: Vec::new(),
            keys: BTreeSet::new(),
            commune: None,
            site: None,
        });
        merge(&mut rec, p, serial, pc, at);
        super::survey_index::on_sighting(trees.survey_index, &pc, &rec.id)?;
        if let Some(origin) = origin {
            rec.commune = Some(origin.commune.clone());
            rec.site.clone_from(&origin.site);
        }
        for key in keys {
            trees
                .identity
                .insert(key.as_bytes(), &rec.id.as_bytes()[..])?;
            rec.keys.insert(key);
        }
        if let Some(count) = &p.page_count {
            let sample = PageSample {
                at,
                total: count.total,
                counter: count.counter,
                reported_by: pc,
            };
            trees.page_counts.insert(
                sample_key(&rec.id, at, &pc),
                abort(record::encode(&sample))?,
            )?;
        }
        trees
            .devices
            .insert(&rec.id.as_bytes()[..], abort(record::encode(&rec))?)?;
    }
    Ok(())
}

/// Folds one sighting into the record: known values are kept unless the
/// new report has one; an MFP stays an MFP when a queue reports it as a
/// printer; SNMP's network view wins over a PC's local view.
fn merge(
    rec: &mut PeripheralRecord,
    p: &Peripheral,
    serial: Option<String>,
    pc: DeviceId,
    at: DateTime<Utc>,
) {
    let rank = |k: PeripheralKind| match k {
        PeripheralKind::Mfp => 3,
        PeripheralKind::Printer | PeripheralKind::Scanner => 2,
        PeripheralKind::NetworkGear => 1,
        PeripheralKind::Other => 0,
    };
    if rank(p.kind) > rank(rec.kind) {
        rec.kind = p.kind;
    }
    let authoritative = p.source == PeripheralSource::Snmp || rec.model.is_none();
    if authoritative {
        if p.model.is_some() {
            rec.model.clone_from(&p.model);
        }
        if p.vendor.is_some() {
            rec.vendor.clone_from(&p.vendor);
        }
        rec.connection = p.connection;
    }
    if serial.is_some() {
        rec.serial = serial;
    }
    if p.mac.is_some() {
        rec.mac.clone_from(&p.mac);
    }
    if p.ip.is_some() {
        rec.ip.clone_from(&p.ip);
    }
    if p.usb.is_some() {
        rec.usb.clone_from(&p.usb);
    }
    for name in [&p.name, &p.sys_name].into_iter().flatten() {
        rec.names.insert(name.clone());
    }
    rec.sources.insert(p.source);
    rec.seen_by.insert(pc);
    rec.last_seen = rec.last_seen.max(at);
    if p.page_count.is_some() {
        rec.page_count.clone_from(&p.page_count);
    }
    if !p.supplies.is_empty() {
        rec.supplies.clone_from(&p.supplies);
    }
}

/// The listing order: printers first, then by model.
pub(super) fn sort_for_listing(all: &mut [PeripheralRecord]) {
    all.sort_by(|a, b| (!a.kind.prints(), &a.model, a.id).cmp(&(!b.kind.prints(), &b.model, b.id)));
}

impl Store {
    /// Every peripheral, printers first, then by model.
    pub fn list_peripherals(&self) -> Result<Vec<PeripheralRecord>, StoreError> {
        self.list_peripherals_in(None)
    }

    /// The peripherals of one commune (all with `None`), printers first,
    /// then by model.
    pub fn list_peripherals_in(
        &self,
        commune: Option<&CommuneCode>,
    ) -> Result<Vec<PeripheralRecord>, StoreError> {
        let mut all: Vec<PeripheralRecord> = self
            .peripherals
            .iter()
            .map(|entry| {
                let (_, bytes) = entry?;
                record::decode::<PeripheralRecord>("peripherals", &bytes)
            })
            .filter(|r| {
                commune.is_none() || r.as_ref().map_or(true, |r| r.commune.as_ref() == commune)
            })
            .collect::<Result<_, _>>()?;
        sort_for_listing(&mut all);
        Ok(all)
    }

    /// One peripheral's record.
    pub fn peripheral_record(&self, id: &DeviceId) -> Result<Option<PeripheralRecord>, StoreError> {
        match self.peripherals.get(id.as_bytes())? {
            Some(bytes) => record::decode("peripherals", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// One peripheral and its page-counter history, oldest first.
    pub fn peripheral(&self, id: &DeviceId) -> Result<Option<PeripheralDetail>, StoreError> {
        let Some(bytes) = self.peripherals.get(id.as_bytes())? else {
            return Ok(None);
        };
        let device: PeripheralRecord = record::decode("peripherals", &bytes)?;
        let page_history = self
            .page_counts
            .scan_prefix(id.as_bytes())
            .map(|entry| {
                let (_, bytes) = entry?;
                record::decode("page_counts", &bytes)
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(PeripheralDetail {
            device,
            page_history,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer() -> Peripheral {
        let mut p = Peripheral::new(
            PeripheralKind::Printer,
            PeripheralSource::Snmp,
            Connection::Network,
        );
        p.ip = Some("10.0.0.21".into());
        p.model = Some("HP LaserJet Pro M402dn".into());
        p
    }

    #[test]
    fn keys_strongest_first_and_local_fallbacks() {
        let pc = DeviceId::generate();
        let mut p = printer();
        p.serial = Some("phbck12345".into());
        p.mac = Some("9c:8e:99:c1:a2:b3".into());
        assert_eq!(
            keys(&p, &pc),
            [
                "serial:PHBCK12345",
                "mac:9c:8e:99:c1:a2:b3",
                "ipmodel:10.0.0.21:hp laserjet pro m402dn",
                "ip:10.0.0.21"
            ]
        );
        p.serial = Some("XXXXXXXX".into());
        assert!(!keys(&p, &pc)[0].starts_with("serial"));

        let mut scanner = Peripheral::new(
            PeripheralKind::Scanner,
            PeripheralSource::Usb,
            Connection::Usb,
        );
        scanner.usb = Some(UsbId {
            vendor_id: "04a9".into(),
            product_id: "190f".into(),
        });
        scanner.port = Some("1-1.2".into());
        assert_eq!(keys(&scanner, &pc), [format!("usb:{pc}:04a9:190f:1-1.2")]);
    }

    #[test]
    fn identical_serials_in_two_communes_stay_two_printers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let origin = |commune: &str| Origin {
            commune: CommuneCode::parse(commune).expect("code"),
            site: None,
        };
        let send = |origin: &Origin| {
            let info = serde_json::from_value(serde_json::json!({
                "version": "0.1.0", "os_family": "windows", "privileged": true
            }))
            .expect("agent info");
            let mut report = Report::new(kiemke_shared::AgentId::generate(), info, Utc::now());
            let mut p = printer();
            p.serial = Some("PHBCK12345".into());
            report.peripherals = Some(kiemke_shared::peripherals::Peripherals {
                devices: vec![p],
                discovery_ran: true,
            });
            store
                .ingest_blocking_from(&report, Some(origin), Utc::now())
                .expect("ingest");
        };
        let (a, b) = (origin("24118"), origin("24121"));
        send(&a);
        send(&a);
        send(&b);
        let all = store.list_peripherals().expect("list");
        assert_eq!(all.len(), 2, "{all:#?}");
        let in_a = store.list_peripherals_in(Some(&a.commune)).expect("list");
        assert_eq!(in_a.len(), 1);
        assert_eq!(in_a[0].seen_by.len(), 2);
        assert!(in_a[0].keys.iter().all(|k| k.starts_with("24118/")));
    }
}
