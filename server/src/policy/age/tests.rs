//! Age estimates from evidence (acceptance cases of issue 5).

use chrono::{TimeZone, Utc};

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn pc(cpu: &str, bios: Option<NaiveDate>) -> Inventory {
    let mut inv = Inventory::default();
    inv.cpu.brand = Some(cpu.into());
    inv.bios.date = bios;
    inv.system.chassis = Some(Chassis::Desktop);
    inv
}

fn run(register: Option<NaiveDate>, inv: &Inventory) -> AgeEstimate {
    estimate(
        Policy::shipped(),
        CpuTable::shipped(),
        register,
        Some(inv),
        Category::Desktop,
        date(2026, 6, 30),
    )
}

#[test]
fn bios_2012_and_an_i5_3470_give_2012_to_2013() {
    let inv = pc(
        "Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz",
        Some(date(2012, 5, 10)),
    );
    let age = run(None, &inv);
    assert_eq!((age.earliest, age.latest), (Some(2012), Some(2013)));
    assert_eq!(age.confidence, Confidence::Medium);
    let used: Vec<(Source, Role)> = age.evidence.iter().map(|e| (e.source, e.role)).collect();
    assert_eq!(
        used,
        [
            (Source::Cpu, Role::NotBefore),
            (Source::Bios, Role::Estimate)
        ]
    );
}

#[test]
fn the_register_overrides_the_estimate() {
    let inv = pc(
        "Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz",
        Some(date(2012, 5, 10)),
    );
    let age = run(Some(date(2015, 8, 1)), &inv);
    assert_eq!((age.earliest, age.latest), (Some(2015), Some(2015)));
    assert_eq!(age.confidence, Confidence::High);
    assert_eq!(age.evidence.len(), 1);
    assert_eq!(age.evidence[0].role, Role::Authoritative);
}

#[test]
fn a_bios_updated_in_2020_on_a_2013_cpu_does_not_make_the_machine_young() {
    let inv = pc(
        "Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz",
        Some(date(2020, 2, 14)),
    );
    let age = run(None, &inv);
    assert_eq!((age.earliest, age.latest), (Some(2013), Some(2014)));
    let bios = age
        .evidence
        .iter()
        .find(|e| e.source == Source::Bios)
        .expect("bios evidence");
    assert_eq!(bios.role, Role::Ignored);
    assert!(bios.note_vi.contains("cập nhật"), "{}", bios.note_vi);
    assert_eq!(age.confidence, Confidence::Low);
}

#[test]
fn lower_bounds_and_monitors() {
    // OS installed in 2013 on a 2012 CPU: in service by 2013.
    let mut inv = pc("Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz", None);
    inv.os.install_date = Utc.with_ymd_and_hms(2012, 11, 3, 8, 0, 0).single();
    let age = run(None, &inv);
    assert_eq!((age.earliest, age.latest), (Some(2012), Some(2012)));
    assert_eq!(age.confidence, Confidence::Medium);
    // An install date before the CPU existed is ignored.
    inv.os.install_date = Utc.with_ymd_and_hms(2009, 1, 1, 0, 0, 0).single();
    let age = run(None, &inv);
    assert_eq!(age.latest, Some(2013));
    assert!(
        age.evidence
            .iter()
            .any(|e| e.source == Source::OsInstall && e.role == Role::Ignored)
    );
    // An external monitor is only for reference.
    inv.os.install_date = None;
    inv.monitors.push(kiemke_shared::inventory::Monitor {
        year: Some(2019),
        ..Default::default()
    });
    let age = run(None, &inv);
    assert_eq!((age.earliest, age.latest), (Some(2012), Some(2013)));
    // No evidence: no range.
    let age = run(None, &Inventory::default());
    assert_eq!(
        (age.earliest, age.latest, age.confidence),
        (None, None, Confidence::None)
    );
}
