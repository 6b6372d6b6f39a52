//! Summary tests: the labels a user reads, in both languages.

use chrono::{NaiveDate, TimeZone, Utc};
use kiemke_shared::inventory::{
    BiosInfo, Chassis, CollectNote, CpuInfo, MemoryInfo, OsInfo, SystemInfo, TpmInfo,
};

use super::*;

/// An OptiPlex read without administrator rights: no serial, no UUID.
fn optiplex() -> Inventory {
    Inventory {
        hostname: Some("UBND-XA-PC01".into()),
        os: OsInfo {
            name: Some("Microsoft Windows 10 Pro".into()),
            version: Some("10.0.19045".into()),
            build: Some("19045".into()),
            kernel: Some("10.0.19045".into()),
            arch: Some("x86_64".into()),
            boot_time: None,
            install_date: Utc.with_ymd_and_hms(2019, 6, 12, 2, 30, 12).single(),
        },
        system: SystemInfo {
            vendor: Some("Dell Inc.".into()),
            model: Some("OptiPlex 3020".into()),
            serial: None,
            uuid: None,
            chassis: Some(Chassis::Desktop),
        },
        bios: BiosInfo {
            vendor: Some("Dell Inc.".into()),
            version: Some("A18".into()),
            date: NaiveDate::from_ymd_opt(2019, 5, 13),
        },
        cpu: CpuInfo {
            brand: Some("Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz".into()),
            cores_physical: Some(4),
            cores_logical: Some(4),
            base_mhz: Some(3300),
        },
        memory: MemoryInfo {
            total_bytes: Some(8_464_302_080),
        },
        disks: vec![
            Disk {
                name: "sda".into(),
                model: Some("Samsung SSD 860 EVO 250GB".into()),
                serial: None,
                size_bytes: Some(250_059_350_016),
                kind: DiskKind::Ssd,
                bus: Some("sata".into()),
                system: true,
                removable: false,
            },
            Disk {
                name: "sdb".into(),
                model: Some("ST500DM002-1BD142".into()),
                serial: None,
                size_bytes: Some(500_107_862_016),
                kind: DiskKind::Hdd,
                bus: Some("sata".into()),
                system: false,
                removable: false,
            },
            Disk {
                name: "vdb".into(),
                model: None,
                serial: None,
                size_bytes: None,
                kind: DiskKind::Unknown,
                bus: None,
                system: false,
                removable: false,
            },
        ],
        nics: vec![
            nic("lo", None, true, false),
            nic("enp0s25", Some(1000), false, false),
            nic("vboxnet0", None, true, false),
            nic("wlp2s0", None, false, true),
        ],
        tpm: TpmInfo {
            present: Some(true),
            version: Some("1.2".into()),
        },
        monitors: vec![Monitor {
            manufacturer: Some("DEL".into()),
            model: Some("DELL E2014H".into()),
            product_code: Some(0xD06A),
            serial: None,
            year: Some(2014),
            connector: Some("HDMI-A-1".into()),
        }],
        notes: vec![
            CollectNote {
                field: "system.serial".into(),
                reason: NoteReason::NeedsPrivilege,
            },
            CollectNote {
                field: "system.uuid".into(),
                reason: NoteReason::NeedsPrivilege,
            },
        ],
    }
}

fn nic(name: &str, mbps: Option<u32>, is_virtual: bool, wireless: bool) -> Nic {
    Nic {
        name: name.into(),
        mac: Some("18:66:da:0a:1b:2c".into()),
        addresses: if mbps.is_some() {
            vec!["192.168.1.23/24".into()]
        } else {
            vec![]
        },
        link_mbps: mbps,
        is_virtual,
        loopback: name == "lo",
        wireless,
        up: Some(mbps.is_some()),
    }
}

#[test]
fn vietnamese_by_default() {
    let text = render(&optiplex(), Lang::default());
    println!("{text}");
    for expected in [
        "Tên máy:",
        "UBND-XA-PC01",
        "Hệ điều hành:",
        "Microsoft Windows 10 Pro 10.0.19045 (bản dựng 19045), x86_64",
        "Ngày cài đặt HĐH:",
        "12/06/2019",
        "Hãng / Mẫu máy:",
        "Dell Inc. / OptiPlex 3020 (máy để bàn)",
        "BIOS (ngày phát hành):",
        "Dell Inc. A18 (13/05/2019)",
        "Bộ xử lý:",
        "4 nhân, 4 luồng, 3300 MHz",
        "Bộ nhớ (RAM):",
        "8 GB",
        "Ổ đĩa:",
        "sda Samsung SSD 860 EVO 250GB: 250 GB, SSD, sata (ổ hệ thống)",
        "sdb ST500DM002-1BD142: 500 GB, HDD, sata",
        "vdb: không rõ loại",
        "Card mạng:",
        "enp0s25: 18:66:da:0a:1b:2c, 1000 Mbps, đang kết nối; 192.168.1.23/24",
        "vboxnet0: 18:66:da:0a:1b:2c, không rõ tốc độ, ảo",
        "Wi-Fi",
        "TPM:",
        "1.2",
        "Màn hình:",
        "DEL DELL E2014H (sản xuất năm 2014), HDMI-A-1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("  - lo:"), "loopback is noise");
}

#[test]
fn privilege_notes_are_explained() {
    let text = render(&optiplex(), Lang::Vi);
    let serial_line = text
        .lines()
        .find(|l| l.starts_with("Số sê-ri:"))
        .expect("serial line");
    assert!(serial_line.ends_with("cần quyền quản trị"), "{serial_line}");
    assert!(text.contains("Administrator (Windows) hoặc root (Linux)"));

    let mut inv = optiplex();
    inv.notes.clear();
    let text = render(&inv, Lang::Vi);
    let serial_line = text
        .lines()
        .find(|l| l.starts_with("Số sê-ri:"))
        .expect("serial line");
    assert!(serial_line.ends_with("không có"), "{serial_line}");
}

#[test]
fn english_on_request() {
    let text = render(&optiplex(), Lang::En);
    for expected in [
        "Computer name:",
        "Operating system:",
        "Vendor / model:",
        "Dell Inc. / OptiPlex 3020 (desktop)",
        "Serial number:",
        "needs administrator rights",
        "Memory (RAM):",
        "(system disk)",
        "speed unknown",
        "virtual",
        "made in 2014",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("Tên máy"));
}

#[test]
fn an_empty_inventory_renders() {
    let text = render(&Inventory::default(), Lang::Vi);
    assert!(text.contains("Ổ đĩa:"));
    assert!(text.lines().all(|l| !l.contains("None")));
    let failed = Inventory {
        notes: vec![CollectNote {
            field: "system".into(),
            reason: NoteReason::Failed,
        }],
        ..Inventory::default()
    };
    let text = render(&failed, Lang::Vi);
    let serial_line = text
        .lines()
        .find(|l| l.starts_with("Số sê-ri:"))
        .expect("serial line");
    assert!(
        serial_line.ends_with("không đọc được"),
        "a parent note applies"
    );
}

#[test]
fn sizes() {
    assert_eq!(gb_decimal(500_107_862_016), 500);
    assert_eq!(gb_decimal(250_059_350_016), 250);
    assert_eq!(gib_rounded(8_464_302_080), 8);
    assert_eq!(gib_rounded(4_022_382_592), 4);
    assert_eq!(gib_rounded(16 * (1 << 30)), 16);
}
