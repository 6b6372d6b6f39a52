//! The Windows collector: WMI. Split so that everything but the COM calls
//! is plain Rust, compiled and unit-tested on every OS:
//!
//! - [`rows`]: serde structs for the WMI classes read.
//! - [`cim_time`]: CIM datetime parsing.
//! - [`hardware`], [`storage`], [`network`]: pure mappings from rows to
//!   inventory parts.
//! - `query` (Windows only): runs the queries, each independently, on worker
//!   threads with a deadline, and hands back [`Rows`].
//!
//! [`apply`] merges the rows into an inventory `sysinfo` already filled,
//! adding a note for each query that failed where its fields stay empty.

mod cim_time;
#[cfg(test)]
mod fixtures;
mod hardware;
mod network;
#[cfg(windows)]
mod query;
pub mod rows;
mod storage;

use kiemke_shared::Inventory;
use kiemke_shared::inventory::NoteReason;

use super::add_note;
use rows::{
    Bios, ComputerSystem, ComputerSystemProduct, DiskDrive, MonitorId, NetworkAdapter,
    NetworkAdapterConfiguration, OperatingSystem, PhysicalDisk, Processor, StorageDisk,
    SystemEnclosure, Tpm,
};

/// The rows of one WMI query, or why there are none.
pub type Fetched<T> = Result<Vec<T>, NoteReason>;

/// Everything the Windows collector asks WMI, one independent result per
/// query.
#[derive(Debug)]
pub struct Rows {
    pub os: Fetched<OperatingSystem>,
    pub computer_system: Fetched<ComputerSystem>,
    pub product: Fetched<ComputerSystemProduct>,
    pub enclosure: Fetched<SystemEnclosure>,
    pub bios: Fetched<Bios>,
    pub processors: Fetched<Processor>,
    pub disk_drives: Fetched<DiskDrive>,
    pub physical_disks: Fetched<PhysicalDisk>,
    pub storage_disks: Fetched<StorageDisk>,
    pub adapters: Fetched<NetworkAdapter>,
    pub adapter_configs: Fetched<NetworkAdapterConfiguration>,
    pub tpm: Fetched<Tpm>,
    pub monitors: Fetched<MonitorId>,
}

impl Rows {
    /// No query answered (e.g. WMI did not start in time).
    pub fn unanswered(reason: NoteReason) -> Rows {
        Rows {
            os: Err(reason),
            computer_system: Err(reason),
            product: Err(reason),
            enclosure: Err(reason),
            bios: Err(reason),
            processors: Err(reason),
            disk_drives: Err(reason),
            physical_disks: Err(reason),
            storage_disks: Err(reason),
            adapters: Err(reason),
            adapter_configs: Err(reason),
            tpm: Err(reason),
            monitors: Err(reason),
        }
    }
}

/// Fills the Windows-specific parts of `inventory` from WMI.
#[cfg(windows)]
pub fn collect(inventory: &mut Inventory) {
    let rows = query::fetch_all(query::DEADLINE);
    super::guarded(inventory, "system", |inv| apply(inv, rows));
}

/// Merges WMI rows into an inventory `sysinfo` already filled.
pub fn apply(inv: &mut Inventory, rows: Rows) {
    let mut note = |field: &str, reason: Option<NoteReason>| {
        if let Some(reason) = reason {
            add_note(&mut inv.notes, field, reason);
        }
    };
    note("os.install_date", failure(&rows.os));
    match (failure(&rows.computer_system), failure(&rows.product)) {
        (Some(reason), Some(_)) => note("system", Some(reason)),
        (None, Some(reason)) => {
            note("system.serial", Some(reason));
            note("system.uuid", Some(reason));
        }
        _ => {}
    }
    note("bios", failure(&rows.bios));
    note("disks", failure(&rows.disk_drives));
    if rows.disk_drives.as_ref().is_ok_and(|d| !d.is_empty()) {
        note("disks.kind", failure(&rows.physical_disks));
        note("disks.system", failure(&rows.storage_disks));
    }
    note("nics", failure(&rows.adapters));
    if rows.adapters.as_ref().is_ok_and(|a| !a.is_empty()) {
        note("nics.addresses", failure(&rows.adapter_configs));
    }
    note("tpm", failure(&rows.tpm));
    note("monitors", failure(&rows.monitors));

    if let Some(os) = first_of(&rows.os) {
        hardware::apply_os(&mut inv.os, os);
    }
    let computer = first_of(&rows.computer_system);
    let product = first_of(&rows.product);
    let enclosure = first_of(&rows.enclosure);
    if computer.is_some() || product.is_some() {
        inv.system = hardware::system_info(computer, product, enclosure);
    }
    if let Some(bios) = first_of(&rows.bios) {
        inv.bios = hardware::bios_info(bios);
    }
    if let Ok(processors) = &rows.processors {
        hardware::apply_cpu(&mut inv.cpu, processors);
    }
    if let Ok(drives) = &rows.disk_drives {
        let physical = rows.physical_disks.as_deref().unwrap_or(&[]);
        let storage = rows.storage_disks.as_deref().unwrap_or(&[]);
        inv.disks = storage::disks(drives, physical, storage);
    }
    if let Ok(adapters) = &rows.adapters {
        let configs = rows.adapter_configs.as_deref().unwrap_or(&[]);
        inv.nics = network::nics(adapters, configs);
    }
    if let Ok(tpm) = &rows.tpm {
        inv.tpm = hardware::tpm_info(tpm);
    }
    if let Ok(monitors) = &rows.monitors {
        inv.monitors = hardware::monitors(monitors);
    }
}

fn first_of<T>(fetched: &Fetched<T>) -> Option<&T> {
    fetched.as_ref().ok()?.first()
}

fn failure<T>(fetched: &Fetched<T>) -> Option<NoteReason> {
    fetched.as_ref().err().copied()
}

/// What a failed WMI call means for the user, from its HRESULT.
pub fn reason_for_hresult(hresult: i32) -> NoteReason {
    // HRESULTs are u32 bit patterns stored in an i32.
    match hresult as u32 {
        // WBEM_E_ACCESS_DENIED, E_ACCESSDENIED
        0x8004_1003 | 0x8007_0005 => NoteReason::NeedsPrivilege,
        // WBEM_E_NOT_FOUND, WBEM_E_INVALID_NAMESPACE, WBEM_E_INVALID_CLASS,
        // WBEM_E_NOT_SUPPORTED, WBEM_E_INVALID_QUERY, WBEM_E_NOT_AVAILABLE,
        // REGDB_E_CLASSNOTREG (no WMI at all)
        0x8004_1002 | 0x8004_100E | 0x8004_1010 | 0x8004_100C | 0x8004_1017 | 0x8004_1009
        | 0x8004_0154 => NoteReason::NotAvailable,
        _ => NoteReason::Failed,
    }
}

#[cfg(test)]
mod tests {
    use kiemke_shared::inventory::{Chassis, DiskKind};

    use super::*;

    #[test]
    fn applies_an_optiplex() {
        let mut inv = Inventory::default();
        apply(&mut inv, fixtures::optiplex());
        assert_eq!(inv.os.name.as_deref(), Some("Microsoft Windows 10 Pro"));
        assert_eq!(inv.system.model.as_deref(), Some("OptiPlex 3020"));
        assert_eq!(inv.system.chassis, Some(Chassis::Desktop));
        assert_eq!(inv.bios.version.as_deref(), Some("A18"));
        assert_eq!(inv.cpu.base_mhz, Some(3300));
        assert_eq!(inv.disks.len(), 2);
        assert_eq!(inv.disks[0].kind, DiskKind::Ssd);
        assert!(inv.disks[0].system);
        assert_eq!(inv.nics.len(), 3);
        assert_eq!(inv.tpm.version.as_deref(), Some("1.2"));
        assert_eq!(inv.monitors.len(), 1);
        assert_eq!(inv.notes, vec![]);
    }

    #[test]
    fn non_admin_gets_everything_but_the_tpm() {
        let mut rows = fixtures::optiplex();
        rows.tpm = Err(NoteReason::NeedsPrivilege);
        let mut inv = Inventory::default();
        apply(&mut inv, rows);
        assert_eq!(inv.tpm.present, None);
        assert_eq!(inv.system.serial.as_deref(), Some("5KZ3T52"));
        assert_eq!(inv.notes.len(), 1);
        assert_eq!(inv.notes[0].field, "tpm");
        assert_eq!(inv.notes[0].reason, NoteReason::NeedsPrivilege);
    }

    #[test]
    fn wine_like_partial_wmi_keeps_sysinfo_values() {
        // Wine: no Storage namespace, no TPM, no monitor class; the rest answers.
        let mut rows = fixtures::optiplex();
        rows.physical_disks = Err(NoteReason::NotAvailable);
        rows.storage_disks = Err(NoteReason::NotAvailable);
        rows.tpm = Err(NoteReason::NotAvailable);
        rows.monitors = Err(NoteReason::NotAvailable);
        rows.enclosure = Err(NoteReason::Failed);
        let mut inv = Inventory::default();
        inv.cpu.cores_logical = Some(4);
        apply(&mut inv, rows);
        assert_eq!(inv.disks.len(), 2);
        assert!(inv.disks.iter().all(|d| d.kind == DiskKind::Unknown));
        // PCSystemType stands in for the enclosure.
        assert_eq!(inv.system.chassis, Some(Chassis::Desktop));
        let fields: Vec<&str> = inv.notes.iter().map(|n| n.field.as_str()).collect();
        assert_eq!(fields, ["disks.kind", "disks.system", "tpm", "monitors"]);
    }

    #[test]
    fn nothing_answered() {
        let mut inv = Inventory::default();
        inv.os.name = Some("Windows".into());
        apply(&mut inv, Rows::unanswered(NoteReason::Failed));
        assert_eq!(inv.os.name.as_deref(), Some("Windows"));
        assert_eq!(inv.disks, vec![]);
        assert!(inv.notes.iter().any(|n| n.field == "system"));
        assert!(inv.notes.iter().all(|n| n.reason == NoteReason::Failed));
    }

    #[test]
    fn hresults() {
        let cases = [
            (0x8004_1003_u32, NoteReason::NeedsPrivilege),
            (0x8007_0005, NoteReason::NeedsPrivilege),
            (0x8004_100E, NoteReason::NotAvailable),
            (0x8004_1010, NoteReason::NotAvailable),
            (0x8004_1001, NoteReason::Failed),
            (0x8000_4005, NoteReason::Failed),
        ];
        for (hresult, want) in cases {
            assert_eq!(reason_for_hresult(hresult as i32), want, "{hresult:#X}");
        }
    }
}
