//! Physical disks from `/sys/block`: size, SSD or HDD, bus, model, serial,
//! removable, and which one holds the running OS (no SSD for the system disk
//! is a policy finding). Partitions, loop/zram/RAM disks, device-mapper and
//! software RAID volumes, optical and floppy drives are not disks here.

use std::fs;
use std::path::{Path, PathBuf};

use kiemke_shared::firmware;
use kiemke_shared::inventory::{Disk, DiskKind};

use super::super::virtual_hw::is_virtual_disk;
use super::sysfs::{entries, flag, link_name, number, text};

const NOT_DISKS: &[&str] = &["loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"];
const SECTOR: u64 = 512;

/// Lists the physical disks under `root` (`/` in production).
pub fn read_disks(root: &Path) -> Vec<Disk> {
    let system = system_disks(root);
    entries(&root.join("sys/block"))
        .iter()
        .filter_map(|name| read_disk(root, name, &system))
        .collect()
}

fn read_disk(root: &Path, name: &str, system_disks: &[String]) -> Option<Disk> {
    if NOT_DISKS.iter().any(|prefix| name.starts_with(prefix)) {
        return None;
    }
    // eMMC boot and RPMB areas are parts of the eMMC disk, not disks.
    if name.starts_with("mmcblk") && (name.contains("boot") || name.ends_with("rpmb")) {
        return None;
    }
    let dir = root.join("sys/block").join(name);
    let device = dir.join("device");
    // `hidden`: the per-path devices of a multipath NVMe disk.
    if !device.exists() || flag(&dir.join("hidden")) == Some(true) {
        return None;
    }
    // An empty card-reader slot is a block device of size 0: no disk.
    let size_bytes = number::<u64>(&dir.join("size"))
        .map(|sectors| sectors.saturating_mul(SECTOR))
        .filter(|&bytes| bytes > 0)?;

    let path = fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let path = path.to_string_lossy();
    let subsystem = link_name(&device.join("subsystem"));
    let bus = bus(name, &path, subsystem.as_deref());
    let vendor = text(&device.join("vendor"));
    let model = text(&device.join("model")).and_then(|m| firmware::text(&m));
    let emulated = matches!(bus, Some("virtio" | "xen"))
        || is_virtual_disk(vendor.as_deref(), model.as_deref());
    let kind = kind(bus, emulated, flag(&dir.join("queue/rotational")));
    let serial = [device.join("serial"), dir.join("serial")]
        .iter()
        .find_map(|p| text(p).and_then(|s| firmware::text(&s)))
        .or_else(|| vpd_serial(&device.join("vpd_pg80")));
    let removable = flag(&dir.join("removable")).unwrap_or(false) || bus == Some("usb");

    Some(Disk {
        name: name.to_owned(),
        model,
        serial,
        size_bytes: Some(size_bytes),
        kind,
        bus: bus.map(str::to_owned),
        system: system_disks.iter().any(|d| d == name),
        removable,
    })
}

/// The transport, from the device name, its sysfs path and its subsystem.
fn bus(name: &str, path: &str, subsystem: Option<&str>) -> Option<&'static str> {
    Some(if name.starts_with("nvme") || subsystem == Some("nvme") {
        "nvme"
    } else if path.contains("/usb") {
        "usb"
    } else if name.starts_with("vd") || subsystem == Some("virtio") {
        "virtio"
    } else if name.starts_with("xvd") || subsystem == Some("xen") {
        "xen"
    } else if name.starts_with("mmcblk") || subsystem == Some("mmc") {
        "mmc"
    } else if path.contains("/ata") {
        "sata"
    } else if subsystem == Some("scsi") {
        "scsi"
    } else {
        return None;
    })
}

/// SSD or HDD. The kernel's `rotational` flag is only trusted where the drive
/// itself reports it: for a hypervisor's disk it describes nothing physical,
/// and most USB bridges do not pass it through (so it defaults to 1).
fn kind(bus: Option<&str>, emulated: bool, rotational: Option<bool>) -> DiskKind {
    match (bus, emulated, rotational) {
        (_, true, _) | (Some("usb"), _, _) => DiskKind::Unknown,
        (Some("nvme"), _, _) | (_, _, Some(false)) => DiskKind::Ssd,
        (_, _, Some(true)) => DiskKind::Hdd,
        (_, _, None) => DiskKind::Unknown,
    }
}

/// The serial in a SCSI VPD page 0x80 (unit serial number), which libata
/// also emulates for SATA disks: a 4-byte header then the ASCII serial.
fn vpd_serial(path: &Path) -> Option<String> {
    let page = fs::read(path).ok()?;
    if page.get(1) != Some(&0x80) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*page.get(2)?, *page.get(3)?]));
    let raw = page.get(4..4 + len).or_else(|| page.get(4..))?;
    firmware::text(&String::from_utf8_lossy(raw))
}

/// The disks holding the filesystem mounted at `/`: the mount's device from
/// `/proc/self/mountinfo`, resolved to its disk (a partition's parent; for
/// LVM/dm-crypt/RAID, every disk under `slaves/`).
fn system_disks(root: &Path) -> Vec<String> {
    let Ok(mountinfo) = fs::read_to_string(root.join("proc/self/mountinfo")) else {
        return Vec::new();
    };
    let Some((dev, source)) = root_mount(&mountinfo) else {
        return Vec::new();
    };
    // btrfs and friends show an anonymous 0:N device; the source path
    // (`/dev/nvme0n1p2`, `/dev/mapper/vg-root`) still names the block device.
    let by_number = fs::canonicalize(root.join("sys/dev/block").join(dev)).ok();
    let by_source = || {
        let source = source.strip_prefix('/')?;
        let device = fs::canonicalize(root.join(source)).ok()?;
        let name = device.file_name()?;
        fs::canonicalize(root.join("sys/class/block").join(name)).ok()
    };
    let mut disks = Vec::new();
    if let Some(start) = by_number.or_else(by_source) {
        resolve_disks(&start, &mut disks, 0);
    }
    disks
}

/// The `MAJ:MIN` and source of the last mount of `/` (later mounts hide
/// earlier ones).
fn root_mount(mountinfo: &str) -> Option<(&str, &str)> {
    mountinfo.lines().rev().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let separator = fields.iter().position(|f| *f == "-")?;
        let source = fields.get(separator + 2).copied().unwrap_or("");
        (fields.get(4) == Some(&"/")).then_some((*fields.get(2)?, source))
    })
}

fn resolve_disks(block_dir: &Path, disks: &mut Vec<String>, depth: u8) {
    if depth > 8 {
        return;
    }
    if block_dir.join("partition").exists() {
        if let Some(parent) = block_dir.parent() {
            resolve_disks(parent, disks, depth + 1);
        }
        return;
    }
    let slaves_dir = block_dir.join("slaves");
    let slaves: Vec<PathBuf> = entries(&slaves_dir)
        .iter()
        .filter_map(|s| fs::canonicalize(slaves_dir.join(s)).ok())
        .collect();
    if slaves.is_empty() {
        if let Some(name) = block_dir.file_name() {
            let name = name.to_string_lossy().into_owned();
            if !disks.contains(&name) {
                disks.push(name);
            }
        }
    }
    for slave in slaves {
        resolve_disks(&slave, disks, depth + 1);
    }
}

#[cfg(test)]
mod tests;
