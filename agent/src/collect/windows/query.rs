//! Runs the WMI queries (Windows only). Each namespace gets its own worker
//! thread with its own COM initialisation (so the caller's thread, maybe a
//! tokio worker with other COM state, is never touched), and the results are
//! awaited until a deadline: a hung WMI service costs the fields it would
//! have filled, never the whole inventory.
//!
//! Every query is independent, and reads `SELECT *`: naming properties makes
//! WMI reject the whole query when one is missing (older Windows, Wine). Each
//! object is turned into a JSON map of the properties it has, which then
//! deserialises into the row structs of `rows.rs` exactly like the recorded
//! fixtures do.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use kiemke_shared::inventory::NoteReason;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};
use wmi::{COMLibrary, IWbemClassWrapper, Variant, WMIConnection, WMIError};

use super::rows::{
    Bios, ComputerSystem, ComputerSystemProduct, DiskDrive, MonitorId, NetworkAdapter,
    NetworkAdapterConfiguration, OperatingSystem, PhysicalDisk, Processor, StorageDisk,
    SystemEnclosure, Tpm, WmiClass,
};
use super::{Fetched, Rows, reason_for_hresult};

/// How long to wait for WMI at most. A healthy WMI answers everything in a
/// few hundred milliseconds; the first call after boot on an old HDD machine
/// can take seconds, and a broken one may never answer.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// A worker's results, as the assignment that stores them.
type Fill = Box<dyn FnOnce(&mut Rows) + Send>;

/// Runs all queries; those that fail or miss the deadline stay `Err`.
pub fn fetch_all(deadline: Duration) -> Rows {
    let until = Instant::now() + deadline;
    let (sender, receiver) = mpsc::channel::<Fill>();
    let workers: [fn() -> Fill; 4] = [cimv2, storage, tpm, monitors];
    let mut started = 0;
    for worker in workers {
        let sender = sender.clone();
        let spawned = thread::Builder::new()
            .name("kiemke-wmi".into())
            .spawn(move || {
                // The receiver may be gone after the deadline: nothing to do.
                let _ = sender.send(worker());
            });
        match spawned {
            Ok(_) => started += 1,
            Err(error) => tracing::warn!(%error, "could not start a WMI worker thread"),
        }
    }
    drop(sender);

    let mut rows = Rows::unanswered(NoteReason::Failed);
    for _ in 0..started {
        let left = until.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(fill) => fill(&mut rows),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                tracing::warn!(
                    ?deadline,
                    "WMI did not answer in time; some fields stay empty"
                );
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    rows
}

fn cimv2() -> Fill {
    let conn = connect(OperatingSystem::NAMESPACE);
    let os = query::<OperatingSystem>(&conn);
    let computer_system = query::<ComputerSystem>(&conn);
    let product = query::<ComputerSystemProduct>(&conn);
    let enclosure = query::<SystemEnclosure>(&conn);
    let bios = query::<Bios>(&conn);
    let processors = query::<Processor>(&conn);
    let disk_drives = query::<DiskDrive>(&conn);
    let adapters = query::<NetworkAdapter>(&conn);
    let adapter_configs = query::<NetworkAdapterConfiguration>(&conn);
    Box::new(move |rows| {
        rows.os = os;
        rows.computer_system = computer_system;
        rows.product = product;
        rows.enclosure = enclosure;
        rows.bios = bios;
        rows.processors = processors;
        rows.disk_drives = disk_drives;
        rows.adapters = adapters;
        rows.adapter_configs = adapter_configs;
    })
}

fn storage() -> Fill {
    let conn = connect(PhysicalDisk::NAMESPACE);
    let physical_disks = query::<PhysicalDisk>(&conn);
    let storage_disks = query::<StorageDisk>(&conn);
    Box::new(move |rows| {
        rows.physical_disks = physical_disks;
        rows.storage_disks = storage_disks;
    })
}

fn tpm() -> Fill {
    let tpm = query::<Tpm>(&connect(Tpm::NAMESPACE));
    Box::new(move |rows| rows.tpm = tpm)
}

fn monitors() -> Fill {
    let monitors = query::<MonitorId>(&connect(MonitorId::NAMESPACE));
    Box::new(move |rows| rows.monitors = monitors)
}

fn connect(namespace: &str) -> Result<WMIConnection, NoteReason> {
    COMLibrary::new()
        .and_then(|com| WMIConnection::with_namespace_path(namespace, com))
        .map_err(|error| {
            tracing::debug!(namespace, %error, "WMI connection failed");
            reason(&error)
        })
}

/// All instances of `T`'s class. An object that does not fit the row struct
/// is skipped (logged), not fatal.
fn query<T: WmiClass + DeserializeOwned>(conn: &Result<WMIConnection, NoteReason>) -> Fetched<T> {
    let conn = conn.as_ref().map_err(|reason| *reason)?;
    let started = Instant::now();
    let fail = |error: WMIError| {
        tracing::debug!(class = T::CLASS, %error, "WMI query failed");
        reason(&error)
    };
    let objects = conn
        .exec_query(format!("SELECT * FROM {}", T::CLASS))
        .map_err(fail)?;
    let mut rows = Vec::new();
    for object in objects {
        let object = object.map_err(fail)?;
        match serde_json::from_value(to_json(&object)) {
            Ok(row) => rows.push(row),
            Err(error) => tracing::debug!(class = T::CLASS, %error, "WMI row skipped"),
        }
    }
    tracing::debug!(class = T::CLASS, rows = rows.len(), took = ?started.elapsed(), "WMI query");
    Ok(rows)
}

/// The properties an object has, by WMI name; unreadable ones are left out.
fn to_json(object: &IWbemClassWrapper) -> Value {
    let names = object.list_properties().unwrap_or_default();
    let map: Map<String, Value> = names
        .into_iter()
        .filter_map(|name| {
            let value = object.get_property(&name).ok()?;
            Some((name, variant_json(value)))
        })
        .collect();
    Value::Object(map)
}

fn variant_json(variant: Variant) -> Value {
    match variant {
        Variant::String(s) => Value::String(s),
        Variant::Bool(b) => Value::Bool(b),
        Variant::I1(n) => n.into(),
        Variant::I2(n) => n.into(),
        Variant::I4(n) => n.into(),
        Variant::I8(n) => n.into(),
        Variant::UI1(n) => n.into(),
        Variant::UI2(n) => n.into(),
        Variant::UI4(n) => n.into(),
        Variant::UI8(n) => n.into(),
        Variant::R4(f) => Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number),
        Variant::R8(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Variant::Array(items) => Value::Array(items.into_iter().map(variant_json).collect()),
        _ => Value::Null,
    }
}

fn reason(error: &WMIError) -> NoteReason {
    match error {
        WMIError::HResultError { hres } => reason_for_hresult(*hres),
        _ => NoteReason::Failed,
    }
}
