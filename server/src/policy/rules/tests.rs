//! Each rule on a small inventory.

use kiemke_shared::inventory::{Disk, Nic};

use super::*;
use crate::policy::cpu::CpuTable;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn ids(reasons: &[Reason]) -> Vec<&str> {
    reasons.iter().map(|r| r.rule.as_str()).collect()
}

fn os(name: &str, version: &str) -> Inventory {
    let mut inv = Inventory::default();
    inv.os.name = Some(name.into());
    inv.os.version = Some(version.into());
    inv
}

fn run(inv: &Inventory, target: u32, on: NaiveDate) -> Vec<Reason> {
    let cpu = inv
        .cpu
        .brand
        .as_deref()
        .and_then(|b| CpuTable::shipped().lookup(b));
    evaluate(
        Policy::shipped(),
        Category::Desktop,
        Some(inv),
        cpu.as_ref(),
        target,
        None,
        on,
    )
}

#[test]
fn operating_systems_out_of_support() {
    let on = date(2026, 6, 30);
    let cases = [
        (
            "Microsoft Windows 7 Professional",
            "6.1.7601",
            Some("Windows 7"),
        ),
        ("Microsoft Windows 8.1 Pro", "6.3.9600", Some("Windows 8.1")),
        ("Microsoft Windows 10 Pro", "10.0.19045", Some("Windows 10")),
        ("Microsoft Windows 10 Enterprise LTSC", "10.0.19044", None),
        ("Microsoft Windows 10 Enterprise LTSC", "10.0.17763", None),
        (
            "Microsoft Windows 11 Pro",
            "10.0.22631",
            Some("Windows 11 23H2"),
        ),
        ("Microsoft Windows 11 Enterprise", "10.0.22631", None),
        ("Microsoft Windows 11 Pro", "10.0.26100", None),
        ("Microsoft Windows 11 Pro", "10.0.26200", None),
        ("Ubuntu", "20.04", Some("Ubuntu 20.04 LTS")),
        ("Ubuntu", "24.04", None),
        ("Debian GNU/Linux", "10", Some("Debian 10")),
        ("Debian GNU/Linux", "12", None),
        ("Some Unknown OS", "1.0", None),
    ];
    for (name, version, want) in cases {
        let reasons = run(&os(name, version), 100, on);
        let got = reasons.iter().find(|r| r.rule == "os-end-of-support");
        assert_eq!(
            got.is_some(),
            want.is_some(),
            "{name} {version}: {reasons:?}"
        );
        if let (Some(r), Some(label)) = (got, want) {
            assert!(
                r.value.as_deref().is_some_and(|v| v.starts_with(label)),
                "{r:?}"
            );
            assert_eq!(r.severity, Severity::Warning);
            assert!(r.vi.contains("hết hỗ trợ"), "{}", r.vi);
        }
    }
    // Windows 10 was supported until 14/10/2025.
    let before = run(
        &os("Microsoft Windows 10 Pro", "10.0.19045"),
        100,
        date(2025, 10, 13),
    );
    assert!(before.is_empty(), "{before:?}");
    // Windows 11 24H2 Home/Pro ends 13/10/2026.
    let after = run(
        &os("Microsoft Windows 11 Pro", "10.0.26100"),
        100,
        date(2026, 10, 13),
    );
    assert_eq!(ids(&after), ["os-end-of-support"]);
}

#[test]
fn hardware_rules() {
    let mut inv = os("Microsoft Windows 11 Pro", "10.0.26200");
    inv.cpu.brand = Some("Intel(R) Pentium(R) CPU G2030 @ 3.00GHz".into());
    inv.cpu.cores_logical = Some(2);
    inv.memory.total_bytes = Some(4 << 30);
    inv.tpm.present = Some(false);
    inv.disks.push(Disk {
        name: "sda".into(),
        model: Some("ST500DM002".into()),
        serial: None,
        size_bytes: None,
        kind: DiskKind::Hdd,
        bus: None,
        system: true,
        removable: false,
    });
    inv.nics.push(Nic {
        name: "eth0".into(),
        mac: None,
        addresses: vec![],
        link_mbps: Some(100),
        is_virtual: false,
        loopback: false,
        wireless: false,
        up: Some(true),
    });
    let reasons = run(&inv, 200, date(2026, 6, 30));
    assert_eq!(
        ids(&reasons),
        [
            "cpu-windows11",
            "tpm2",
            "ram-min",
            "system-disk-ssd",
            "cpu-threads",
            "nic-line-target"
        ]
    );
    let cpu = &reasons[0];
    assert_eq!(cpu.severity, Severity::Blocking);
    assert_eq!(cpu.value.as_deref(), Some("Intel Pentium G2030"));
    assert!(
        reasons[2].vi.contains("4.0 GB") && reasons[2].vi.contains("8 GB"),
        "{}",
        reasons[2].vi
    );
    assert!(reasons[5].en.contains("100 Mbps") && reasons[5].en.contains("200 Mbps"));

    // 8 GB installed shows as ~7.8 GiB usable: not flagged. A 100 Mbps card
    // meets the default 100 Mbps target.
    inv.memory.total_bytes = Some(7_900 << 20);
    inv.tpm = kiemke_shared::inventory::TpmInfo {
        present: Some(true),
        version: Some("2.0".into()),
    };
    inv.cpu.brand = Some("Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz".into());
    inv.cpu.cores_logical = Some(6);
    inv.disks[0].kind = DiskKind::Ssd;
    assert_eq!(run(&inv, 100, date(2026, 6, 30)), vec![]);
}

#[test]
fn printer_counters_and_errors() {
    let p = PrinterFacts {
        page_count: Some(85_000),
        rated_life_pages: Some(100_000),
        errors: vec!["toner empty".into()],
    };
    let reasons = evaluate(
        Policy::shipped(),
        Category::Printer,
        None,
        None,
        100,
        Some(&p),
        date(2026, 1, 1),
    );
    assert_eq!(ids(&reasons), ["printer-page-count", "supplies-errors"]);
    let fine = PrinterFacts {
        page_count: Some(50_000),
        ..p
    };
    let fine = PrinterFacts {
        errors: vec![],
        ..fine
    };
    assert!(
        evaluate(
            Policy::shipped(),
            Category::Printer,
            None,
            None,
            100,
            Some(&fine),
            date(2026, 1, 1)
        )
        .is_empty()
    );
}
