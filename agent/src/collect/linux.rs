//! The Linux collectors: sysfs and procfs, read directly (no `dmidecode`, no
//! `lsblk`, nothing to install, no root needed except for the serial/UUID).
//! Every reader takes the filesystem root as a parameter so its tests run on
//! recorded trees in a temporary directory.
//!
//! - [`dmi`]: vendor, model, serial, UUID, chassis, BIOS.
//! - [`os_release`]: distribution name/version/build, install date.
//! - [`disks`]: physical disks and the system disk.
//! - [`nics`]: network interfaces.
//! - [`tpm`]: TPM presence and version.
//! - [`monitors`]: monitors' EDID.
//! - [`sysfs`]: the attribute-file helpers they share.

mod disks;
mod dmi;
#[cfg(test)]
mod fake;
mod monitors;
mod nics;
mod os_release;
mod sysfs;
mod tpm;

use std::path::Path;

use kiemke_shared::Inventory;

use super::{add_note, guarded};

/// Fills the Linux-specific parts of `inventory` from the live system.
pub fn collect(inventory: &mut Inventory) {
    let root = Path::new("/");
    guarded(inventory, "system", |inv| {
        let dmi = dmi::read_dmi(root);
        inv.system = dmi.system;
        inv.bios = dmi.bios;
        for note in dmi.notes {
            add_note(&mut inv.notes, &note.field, note.reason);
        }
    });
    guarded(inventory, "os", |inv| {
        os_release::fill_os(root, &mut inv.os)
    });
    guarded(inventory, "disks", |inv| {
        inv.disks = disks::read_disks(root)
    });
    guarded(inventory, "nics", |inv| {
        inv.nics = nics::read_nics(root, &nics::addresses());
    });
    guarded(inventory, "tpm", |inv| inv.tpm = tpm::read_tpm(root));
    guarded(inventory, "monitors", |inv| {
        inv.monitors = monitors::read_monitors(root);
    });
}
