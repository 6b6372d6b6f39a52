//! Maps WMI disk rows to physical disks. `Win32_DiskDrive` lists the disks;
//! the Storage namespace adds what it lacks: SSD or HDD and the bus
//! (`MSFT_PhysicalDisk`), and which disk Windows booted from (`MSFT_Disk`).
//! All three share the disk number.

use kiemke_shared::firmware;
use kiemke_shared::inventory::{Disk, DiskKind};

use super::super::virtual_hw::is_virtual_disk;
use super::rows::{DiskDrive, PhysicalDisk, StorageDisk};

/// `MSFT_PhysicalDisk.MediaType`.
const MEDIA_HDD: u16 = 3;
const MEDIA_SSD: u16 = 4;

/// The physical disks, by disk number; the Storage rows may be empty (that
/// namespace is missing before Windows 8 and under Wine).
pub fn disks(
    drives: &[DiskDrive],
    physical: &[PhysicalDisk],
    storage: &[StorageDisk],
) -> Vec<Disk> {
    let mut disks: Vec<(Option<u32>, Disk)> = drives
        .iter()
        .map(|drive| {
            let number = drive.index;
            let pd = physical.iter().find(|p| {
                number.is_some()
                    && p.device_id.as_deref().and_then(|id| id.trim().parse().ok()) == number
            });
            let sd = storage
                .iter()
                .find(|s| number.is_some() && s.number == number);
            (number, disk(drive, pd, sd))
        })
        .collect();
    disks.sort_by_key(|(number, _)| *number);
    disks.into_iter().map(|(_, disk)| disk).collect()
}

fn disk(drive: &DiskDrive, physical: Option<&PhysicalDisk>, storage: Option<&StorageDisk>) -> Disk {
    let model = drive.model.as_deref().and_then(firmware::text);
    let bus = physical
        .and_then(|p| p.bus_type)
        .and_then(bus_name)
        .map(str::to_owned)
        .or_else(|| drive.interface_type.as_deref().map(str::to_ascii_lowercase));
    let emulated =
        is_virtual_disk(None, model.as_deref()) || matches!(bus.as_deref(), Some("virtual"));
    let kind = match (
        emulated,
        physical.and_then(|p| p.media_type),
        bus.as_deref(),
    ) {
        (true, _, _) => DiskKind::Unknown,
        (false, Some(MEDIA_SSD), _) | (false, _, Some("nvme")) => DiskKind::Ssd,
        (false, Some(MEDIA_HDD), _) => DiskKind::Hdd,
        _ => DiskKind::Unknown,
    };
    let media = drive
        .media_type
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    let removable =
        media.contains("removable") || media.contains("external") || bus.as_deref() == Some("usb");
    let name = drive
        .device_id
        .clone()
        .or_else(|| drive.index.map(|i| format!(r"\\.\PHYSICALDRIVE{i}")))
        .unwrap_or_default();
    Disk {
        name,
        model,
        serial: drive
            .serial_number
            .as_deref()
            .and_then(firmware::text)
            .or_else(|| physical?.serial_number.as_deref().and_then(firmware::text)),
        // Win32_DiskDrive rounds down to whole cylinders; the Storage size is exact.
        size_bytes: physical
            .and_then(|p| p.size)
            .or(drive.size)
            .filter(|&s| s > 0),
        kind,
        bus,
        system: storage.and_then(|s| s.is_boot) == Some(true),
        removable,
    }
}

/// `MSFT_PhysicalDisk.BusType` (the STORAGE_BUS_TYPE enumeration).
fn bus_name(code: u16) -> Option<&'static str> {
    Some(match code {
        1 => "scsi",
        2 => "atapi",
        3 => "ata",
        4 => "1394",
        5 => "ssa",
        6 => "fibre-channel",
        7 => "usb",
        8 => "raid",
        9 => "iscsi",
        10 => "sas",
        11 => "sata",
        12 => "sd",
        13 => "mmc",
        14 | 15 => "virtual",
        16 => "storage-spaces",
        17 => "nvme",
        18 => "scm",
        19 => "ufs",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{self, rows};
    use super::*;

    #[test]
    fn optiplex_disks() {
        let disks = disks(
            &rows(fixtures::DISK_DRIVES),
            &rows(fixtures::PHYSICAL_DISKS),
            &rows(fixtures::STORAGE_DISKS),
        );
        assert_eq!(
            disks,
            vec![
                Disk {
                    name: r"\\.\PHYSICALDRIVE0".into(),
                    model: Some("Samsung SSD 860 EVO 250GB".into()),
                    serial: Some("S3YJNB0K123456X".into()),
                    size_bytes: Some(250_059_350_016),
                    kind: DiskKind::Ssd,
                    bus: Some("sata".into()),
                    system: true,
                    removable: false,
                },
                Disk {
                    name: r"\\.\PHYSICALDRIVE1".into(),
                    model: Some("ST500DM002-1BD142".into()),
                    serial: Some("Z3TB1X2A".into()),
                    size_bytes: Some(500_107_862_016),
                    kind: DiskKind::Hdd,
                    bus: Some("sata".into()),
                    system: false,
                    removable: false,
                },
            ]
        );
    }

    #[test]
    fn without_the_storage_namespace() {
        // Windows 7 or Wine: only Win32_DiskDrive.
        let disks = disks(&rows(fixtures::DISK_DRIVES), &[], &[]);
        assert_eq!(disks.len(), 2);
        assert!(
            disks
                .iter()
                .all(|d| d.kind == DiskKind::Unknown && !d.system)
        );
        assert_eq!(disks[0].bus.as_deref(), Some("ide"));
        assert_eq!(disks[0].size_bytes, Some(250_056_737_280));
    }

    #[test]
    fn usb_and_virtual_disks() {
        let drives: Vec<DiskDrive> = rows(
            r#"[{"DeviceID": "\\\\.\\PHYSICALDRIVE2", "Model": "Kingston DataTraveler 3.0 USB Device",
                 "Size": "30752636928", "InterfaceType": "USB", "MediaType": "Removable Media", "Index": 2},
                {"DeviceID": "\\\\.\\PHYSICALDRIVE3", "Model": "VMware Virtual disk SCSI Disk Device",
                 "Size": "42944186880", "InterfaceType": "SCSI", "MediaType": "Fixed hard disk media", "Index": 3}]"#,
        );
        let physical: Vec<PhysicalDisk> = rows(
            r#"[{"DeviceId": "2", "MediaType": 0, "BusType": 7},
                {"DeviceId": "3", "MediaType": 3, "BusType": 10}]"#,
        );
        let disks = disks(&drives, &physical, &[]);
        assert_eq!(
            (disks[0].kind, disks[0].bus.as_deref(), disks[0].removable),
            (DiskKind::Unknown, Some("usb"), true)
        );
        assert_eq!(
            disks[1].kind,
            DiskKind::Unknown,
            "a virtual disk's media type means nothing"
        );
    }
}
