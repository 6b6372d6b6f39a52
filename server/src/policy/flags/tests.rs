//! Statuses with their reasons.

use kiemke_shared::inventory::{Chassis, Disk, DiskKind};

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn pc(
    cpu: &str,
    bios: NaiveDate,
    os: (&str, &str),
    ram_gib: u64,
    ssd: bool,
    threads: u32,
) -> Inventory {
    let mut inv = Inventory::default();
    inv.system.chassis = Some(Chassis::Desktop);
    inv.cpu.brand = Some(cpu.into());
    inv.cpu.cores_logical = Some(threads);
    inv.bios.date = Some(bios);
    inv.os.name = Some(os.0.into());
    inv.os.version = Some(os.1.into());
    inv.memory.total_bytes = Some(ram_gib << 30);
    inv.tpm.present = Some(true);
    inv.tpm.version = Some("2.0".into());
    inv.disks.push(Disk {
        name: "disk0".into(),
        model: None,
        serial: None,
        size_bytes: None,
        kind: if ssd { DiskKind::Ssd } else { DiskKind::Hdd },
        bus: None,
        system: true,
        removable: false,
    });
    inv
}

fn flags(inv: &Inventory, register: Option<&AssetRecord>, on: NaiveDate) -> DeviceFlags {
    let inputs = DeviceInputs {
        inventory: Some(inv),
        register,
        printer: None,
    };
    evaluate(
        Policy::shipped(),
        CpuTable::shipped(),
        DeviceId::generate(),
        inputs,
        on,
    )
}

fn rules_of(f: &DeviceFlags) -> Vec<&str> {
    f.reasons.iter().map(|r| r.rule.as_str()).collect()
}

#[test]
fn three_offices_three_statuses() {
    let on = date(2026, 6, 30);
    let old = pc(
        "Intel(R) Pentium(R) CPU G2030 @ 3.00GHz",
        date(2013, 6, 1),
        ("Microsoft Windows 7 Professional", "6.1.7601"),
        4,
        false,
        2,
    );
    let f = flags(&old, None, on);
    assert_eq!(f.status, Status::Replace);
    assert_eq!(
        rules_of(&f),
        [
            "service-life",
            "cpu-windows11",
            "os-end-of-support",
            "ram-min",
            "system-disk-ssd",
            "cpu-threads"
        ]
    );
    assert!(f.reasons[0].vi.contains("2013–2014"), "{}", f.reasons[0].vi);

    let mid = pc(
        "11th Gen Intel(R) Core(TM) i5-11400 @ 2.60GHz",
        date(2021, 5, 1),
        ("Microsoft Windows 10 Pro", "10.0.19045"),
        8,
        true,
        12,
    );
    let f = flags(&mid, None, on);
    assert_eq!(
        (f.status, rules_of(&f)),
        (Status::Watch, vec!["os-end-of-support"])
    );

    let new = pc(
        "13th Gen Intel(R) Core(TM) i5-13400",
        date(2023, 3, 1),
        ("Microsoft Windows 11 Pro", "10.0.26200"),
        16,
        true,
        16,
    );
    let f = flags(&new, None, on);
    assert_eq!((f.status, f.reasons.len()), (Status::Ok, 0));
    assert_eq!(f.category, Category::Desktop);
}

#[test]
fn the_register_decides_the_service_life_and_the_wear() {
    let inv = pc(
        "13th Gen Intel(R) Core(TM) i5-13400",
        date(2023, 3, 1),
        ("Microsoft Windows 11 Pro", "10.0.26200"),
        16,
        true,
        16,
    );
    let register = AssetRecord {
        in_service: Some(date(2019, 3, 15)),
        cost_vnd: Some(15_000_000),
        category: Some(Category::Laptop),
        ..AssetRecord::default()
    };
    let f = flags(&inv, Some(&register), date(2026, 12, 31));
    assert_eq!(
        (f.status, f.category, f.category_source),
        (Status::Replace, Category::Laptop, CategorySource::Register)
    );
    assert_eq!(rules_of(&f), ["service-life"]);
    assert!(
        f.reasons[0].vi.contains("15/03/2026") && f.reasons[0].vi.contains("sổ tài sản"),
        "{}",
        f.reasons[0].vi
    );
    let wear = f.wear.expect("wear");
    assert_eq!((wear.accumulated_vnd, wear.residual_vnd), (15_000_000, 0));

    // Ends within 12 months: watch.
    let register = AssetRecord {
        in_service: Some(date(2020, 2, 1)),
        ..AssetRecord::default()
    };
    let f = flags(&inv, Some(&register), date(2026, 6, 30));
    assert_eq!(f.status, Status::Watch);
    assert!(
        f.reasons[0].en.contains("ends on 01/02/2027"),
        "{}",
        f.reasons[0].en
    );
}

#[test]
fn one_weak_source_only_warns_and_no_evidence_says_so() {
    // CPU only (no BIOS date): past on the youngest estimate, but one
    // source: watch, not replace.
    let mut inv = pc(
        "Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz",
        date(2012, 1, 1),
        ("Microsoft Windows 11 Pro", "10.0.26200"),
        8,
        true,
        4,
    );
    inv.bios.date = None;
    let f = flags(&inv, None, date(2026, 6, 30));
    let life = f
        .reasons
        .iter()
        .find(|r| r.rule == "service-life")
        .expect("service life");
    assert_eq!(life.severity, Severity::Warning);
    assert!(life.vi.contains("có thể"), "{}", life.vi);

    let f = flags(&Inventory::default(), None, date(2026, 6, 30));
    assert_eq!(
        (f.status, f.category_source),
        (Status::Ok, CategorySource::Assumed)
    );
    assert_eq!(f.reasons[0].severity, Severity::Info);
}
