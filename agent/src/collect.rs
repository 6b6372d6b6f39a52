//! Inventory collectors: what this PC is made of and runs.
//!
//! # Layout
//! - [`system`]: the portable part, through `sysinfo` (host name, OS, CPU,
//!   memory).
//! - [`virtual_hw`]: recognises virtual disks and adapters by their names.
//! - [`edid`]: parses a monitor's EDID block (portable, pure).
//! - `linux`: sysfs/procfs readers (DMI, os-release, disks, NICs, TPM,
//!   monitors), each taking a root path so tests can fake the tree.
//! - `windows`: WMI rows and their mapping (pure, tested on every OS) and the
//!   WMI queries themselves (Windows only).
//!
//! Firmware text is passed through [`kiemke_shared::firmware`], the filter
//! the server applies too: the junk vendors leave in SMBIOS and EDID fields
//! ("To Be Filled By O.E.M.", all-zero UUIDs, ...) is reported as absent.
//!
//! Collection never fails as a whole and never panics: a missing or
//! unreadable source leaves its fields `None` and, where the reason matters
//! (e.g. the serial needs root), adds a [`CollectNote`].

// Windows reads the same fields from WMI (`WmiMonitorID`).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
mod edid;
#[cfg(target_os = "linux")]
mod linux;
mod system;
mod virtual_hw;
// The row types and their mapping are compiled (and unit-tested) everywhere;
// only the WMI queries need Windows.
#[cfg_attr(not(windows), allow(dead_code))]
mod windows;

use std::panic::{AssertUnwindSafe, catch_unwind};

use kiemke_shared::Inventory;
use kiemke_shared::inventory::{CollectNote, NoteReason};

/// Collects this machine's inventory. Synchronous and quick (no network, no
/// benchmarks); call it from a blocking context.
pub fn collect_inventory() -> Inventory {
    let mut inventory = Inventory::default();
    guarded(&mut inventory, "system", system::collect);
    #[cfg(target_os = "linux")]
    linux::collect(&mut inventory);
    #[cfg(windows)]
    windows::collect(&mut inventory);
    inventory
}

/// Runs one collector so that a bug in it (or a panic inside a library it
/// calls) costs only its own fields: the rest of the inventory still goes out,
/// with a `failed` note for `field`.
fn guarded(inventory: &mut Inventory, field: &str, collector: impl FnOnce(&mut Inventory)) {
    let outcome = catch_unwind(AssertUnwindSafe(|| collector(&mut *inventory)));
    if outcome.is_err() {
        tracing::warn!(
            field,
            "inventory collector panicked; its fields are left empty"
        );
        add_note(&mut inventory.notes, field, NoteReason::Failed);
    }
}

/// Records why `field` is empty, once.
fn add_note(notes: &mut Vec<CollectNote>, field: &str, reason: NoteReason) {
    if !notes.iter().any(|n| n.field == field) {
        notes.push(CollectNote {
            field: field.to_owned(),
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_panicking_collector_becomes_a_failed_note() {
        let mut inventory = Inventory::default();
        guarded(&mut inventory, "disks", |_| panic!("boom"));
        guarded(&mut inventory, "cpu", |inv| inv.cpu.cores_logical = Some(4));
        assert_eq!(inventory.cpu.cores_logical, Some(4));
        assert_eq!(
            inventory.notes,
            vec![CollectNote {
                field: "disks".into(),
                reason: NoteReason::Failed
            }]
        );
    }

    #[test]
    fn notes_are_not_repeated() {
        let mut notes = Vec::new();
        add_note(&mut notes, "system.serial", NoteReason::NeedsPrivilege);
        add_note(&mut notes, "system.serial", NoteReason::NeedsPrivilege);
        assert_eq!(notes.len(), 1);
    }

    /// Runs the real collectors on this machine. Prints the result (see it
    /// with `--nocapture`); run it as an unprivileged user too.
    #[test]
    fn collects_this_machine_quickly() {
        let started = Instant::now();
        let inventory = collect_inventory();
        let took = started.elapsed();
        println!(
            "{}",
            serde_json::to_string_pretty(&inventory).unwrap_or_default()
        );
        println!("took {took:?}");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        assert!(inventory.hostname.is_some());
        assert!(inventory.cpu.cores_logical.unwrap_or(0) >= 1);
        assert!(inventory.memory.total_bytes.unwrap_or(0) > 0);
        assert!(inventory.os.name.is_some());
        assert!(inventory.os.boot_time.is_some());
    }
}
