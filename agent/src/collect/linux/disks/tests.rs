//! Disk reader tests on recorded sysfs trees.

use super::*;
use crate::collect::linux::fake::FakeRoot;

const SATA_DEV: &str = "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";
const NVME_DEV: &str = "sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0";
const USB_DEV: &str =
    "sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0";
const VIRTIO_DEV: &str = "sys/devices/pci0000:00/0000:00:02.0/virtio1";

/// A block device: `sys/block/NAME` linking to `DEVICE/block/NAME` (or, for
/// NVMe, `DEVICE/NAME`), with its `device` link back.
fn block(root: &FakeRoot, name: &str, dev: &str, nested: bool, attrs: &[(&str, &str)]) -> String {
    let dir = if nested {
        format!("{dev}/block/{name}")
    } else {
        format!("{dev}/{name}")
    };
    root.link(&format!("sys/block/{name}"), &dir)
        .link(&format!("{dir}/device"), dev);
    for (attr, value) in attrs {
        root.file(&format!("{dir}/{attr}"), value);
    }
    dir
}

/// An office PC: a SATA HDD (system, root on sda2), an NVMe SSD, a USB stick,
/// an empty card reader, plus loop/zram/optical devices that are no disks.
fn office_pc() -> FakeRoot {
    let root = FakeRoot::new();
    root.link(&format!("{SATA_DEV}/subsystem"), "sys/bus/scsi")
        .file(&format!("{SATA_DEV}/vendor"), "ATA     \n")
        .file(&format!("{SATA_DEV}/model"), "ST500DM002-1BD14\n")
        .file(
            &format!("{SATA_DEV}/vpd_pg80"),
            b"\x00\x80\x00\x14            Z3TB1X2A".as_slice(),
        );
    let sda = block(
        &root,
        "sda",
        SATA_DEV,
        true,
        &[
            ("size", "976773168\n"),
            ("removable", "0\n"),
            ("queue/rotational", "1\n"),
        ],
    );
    root.file(&format!("{sda}/sda1/partition"), "1\n")
        .file(&format!("{sda}/sda2/partition"), "2\n")
        .link("sys/dev/block/8:2", &format!("{sda}/sda2"));

    root.link(&format!("{NVME_DEV}/subsystem"), "sys/class/nvme")
        .file(
            &format!("{NVME_DEV}/model"),
            "Samsung SSD 970 EVO Plus 250GB\n",
        )
        .file(&format!("{NVME_DEV}/serial"), "S4EUNX0N123456A     \n");
    block(
        &root,
        "nvme0n1",
        NVME_DEV,
        false,
        &[
            ("size", "488397168\n"),
            ("removable", "0\n"),
            ("queue/rotational", "0\n"),
        ],
    );

    root.link(&format!("{USB_DEV}/subsystem"), "sys/bus/scsi")
        .file(&format!("{USB_DEV}/vendor"), "Kingston\n")
        .file(&format!("{USB_DEV}/model"), "DataTraveler 3.0\n");
    block(
        &root,
        "sdb",
        USB_DEV,
        true,
        &[
            ("size", "60555264\n"),
            ("removable", "1\n"),
            ("queue/rotational", "1\n"),
        ],
    );
    let reader = "sys/devices/pci0000:00/0000:00:14.0/usb2/2-4/2-4:1.0/host7/target7:0:0/7:0:0:0";
    block(
        &root,
        "sdc",
        reader,
        true,
        &[("size", "0\n"), ("removable", "1\n")],
    );
    block(
        &root,
        "sr0",
        "sys/devices/pci0000:00/ata2/sr",
        true,
        &[("size", "2097151\n")],
    );
    root.file("sys/devices/virtual/block/loop0/size", "0\n")
        .link("sys/block/loop0", "sys/devices/virtual/block/loop0")
        .file("sys/devices/virtual/block/zram0/size", "8388608\n")
        .link("sys/block/zram0", "sys/devices/virtual/block/zram0");
    root.file(
        "proc/self/mountinfo",
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
         27 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw,errors=remount-ro\n\
         28 27 8:1 / /boot/efi rw,relatime - vfat /dev/sda1 rw\n",
    );
    root
}

#[test]
fn reads_an_office_pc() {
    let root = office_pc();
    let disks = read_disks(root.path());
    let summary: Vec<(&str, DiskKind, Option<&str>, bool, bool)> = disks
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.kind,
                d.bus.as_deref(),
                d.system,
                d.removable,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("nvme0n1", DiskKind::Ssd, Some("nvme"), false, false),
            ("sda", DiskKind::Hdd, Some("sata"), true, false),
            ("sdb", DiskKind::Unknown, Some("usb"), false, true),
        ]
    );
    let nvme = &disks[0];
    assert_eq!(
        nvme.model.as_deref(),
        Some("Samsung SSD 970 EVO Plus 250GB")
    );
    assert_eq!(nvme.serial.as_deref(), Some("S4EUNX0N123456A"));
    assert_eq!(nvme.size_bytes, Some(250_059_350_016));
    let sda = &disks[1];
    assert_eq!(sda.model.as_deref(), Some("ST500DM002-1BD14"));
    assert_eq!(sda.serial.as_deref(), Some("Z3TB1X2A"));
    assert_eq!(sda.size_bytes, Some(500_107_862_016));
}

#[test]
fn emmc_laptop() {
    let dev = "sys/devices/platform/80860F14:00/mmc_host/mmc0/mmc0:0001";
    let root = FakeRoot::new();
    root.link(&format!("{dev}/subsystem"), "sys/bus/mmc")
        .file(&format!("{dev}/serial"), "0x1a2b3c4d\n");
    let attrs = [("size", "61071360\n"), ("queue/rotational", "0\n")];
    block(&root, "mmcblk0", dev, true, &attrs);
    block(&root, "mmcblk0boot0", dev, true, &attrs);
    block(&root, "mmcblk0rpmb", dev, true, &attrs);
    let disks = read_disks(root.path());
    assert_eq!(disks.len(), 1);
    assert_eq!(disks[0].name, "mmcblk0");
    assert_eq!(disks[0].bus.as_deref(), Some("mmc"));
    assert_eq!(disks[0].kind, DiskKind::Ssd);
    assert_eq!(disks[0].serial.as_deref(), Some("0x1a2b3c4d"));
}

#[test]
fn hidden_multipath_paths_are_not_disks() {
    let root = FakeRoot::new();
    root.link(&format!("{NVME_DEV}/subsystem"), "sys/class/nvme");
    block(&root, "nvme0n1", NVME_DEV, false, &[("size", "1000\n")]);
    block(
        &root,
        "nvme0c0n1",
        NVME_DEV,
        false,
        &[("size", "1000\n"), ("hidden", "1\n")],
    );
    let names: Vec<String> = read_disks(root.path())
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["nvme0n1"]);
}

#[test]
fn virtio_disk_kind_is_unknown() {
    // What this very sandbox shows: a virtio disk that claims to rotate.
    let root = FakeRoot::new();
    root.link(&format!("{VIRTIO_DEV}/subsystem"), "sys/bus/virtio");
    block(
        &root,
        "vda",
        VIRTIO_DEV,
        true,
        &[
            ("size", "536870912\n"),
            ("removable", "0\n"),
            ("queue/rotational", "1\n"),
            ("serial", "\n"),
        ],
    );
    root.link("sys/dev/block/254:0", &format!("{VIRTIO_DEV}/block/vda"))
        .file(
            "proc/self/mountinfo",
            "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n",
        );
    let disks = read_disks(root.path());
    assert_eq!(disks.len(), 1);
    assert_eq!(disks[0].kind, DiskKind::Unknown);
    assert_eq!(disks[0].bus.as_deref(), Some("virtio"));
    assert_eq!(disks[0].serial, None);
    assert!(disks[0].system);
}

#[test]
fn qemu_scsi_disk_kind_is_unknown() {
    let dev = "sys/devices/pci0000:00/0000:00:05.0/virtio2/host2/target2:0:0/2:0:0:0";
    let root = FakeRoot::new();
    root.link(&format!("{dev}/subsystem"), "sys/bus/scsi")
        .file(&format!("{dev}/vendor"), "QEMU    \n")
        .file(&format!("{dev}/model"), "QEMU HARDDISK   \n");
    block(
        &root,
        "sda",
        dev,
        true,
        &[("size", "41943040\n"), ("queue/rotational", "1\n")],
    );
    let disks = read_disks(root.path());
    assert_eq!(disks[0].kind, DiskKind::Unknown);
    assert_eq!(disks[0].bus.as_deref(), Some("scsi"));
}

#[test]
fn system_disk_through_lvm() {
    let root = office_pc();
    let nvme = format!("{NVME_DEV}/nvme0n1");
    root.file(&format!("{nvme}/nvme0n1p3/partition"), "3\n")
        .file("sys/devices/virtual/block/dm-0/size", "400000000\n")
        .link(
            "sys/devices/virtual/block/dm-0/slaves/nvme0n1p3",
            &format!("{nvme}/nvme0n1p3"),
        )
        .link("sys/dev/block/254:0", "sys/devices/virtual/block/dm-0")
        .file(
            "proc/self/mountinfo",
            "27 1 254:0 / / rw,relatime - ext4 /dev/mapper/vg-root rw\n",
        );
    let system: Vec<String> = read_disks(root.path())
        .into_iter()
        .filter(|d| d.system)
        .map(|d| d.name)
        .collect();
    assert_eq!(system, vec!["nvme0n1".to_owned()]);
}

#[test]
fn system_disk_on_btrfs_by_source() {
    let root = office_pc();
    let nvme = format!("{NVME_DEV}/nvme0n1");
    root.file(&format!("{nvme}/nvme0n1p2/partition"), "2\n")
        .link("sys/class/block/nvme0n1p2", &format!("{nvme}/nvme0n1p2"))
        .file("dev/nvme0n1p2", "")
        .file(
            "proc/self/mountinfo",
            "27 1 0:31 /@ / rw,relatime - btrfs /dev/nvme0n1p2 rw,ssd\n",
        );
    assert_eq!(system_disks(root.path()), vec!["nvme0n1".to_owned()]);
}

#[test]
fn no_sysfs_no_disks() {
    let root = FakeRoot::new();
    assert_eq!(read_disks(root.path()), vec![]);
    assert_eq!(system_disks(root.path()), Vec::<String>::new());
}

#[test]
fn root_mount_is_the_last_one() {
    let info = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\
                2 1 0:40 / / rw - overlay overlay rw\n\
                3 2 0:41 / /tmp rw - tmpfs tmpfs rw\n";
    assert_eq!(root_mount(info), Some(("0:40", "overlay")));
    assert_eq!(root_mount("garbage\n\n"), None);
}

#[test]
fn kinds() {
    let cases = [
        (Some("sata"), false, Some(false), DiskKind::Ssd),
        (Some("sata"), false, Some(true), DiskKind::Hdd),
        (Some("sata"), false, None, DiskKind::Unknown),
        (Some("nvme"), false, None, DiskKind::Ssd),
        (Some("virtio"), true, Some(true), DiskKind::Unknown),
        (Some("scsi"), true, Some(false), DiskKind::Unknown),
        (Some("usb"), false, Some(true), DiskKind::Unknown),
        (Some("mmc"), false, Some(false), DiskKind::Ssd),
    ];
    for (bus, emulated, rotational, want) in cases {
        assert_eq!(
            kind(bus, emulated, rotational),
            want,
            "{bus:?} {rotational:?}"
        );
    }
}
