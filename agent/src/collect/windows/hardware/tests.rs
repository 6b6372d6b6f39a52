//! Mapping tests on the recorded OptiPlex rows and a few variants.

use chrono::NaiveDate;

use super::super::fixtures::{self, rows};
use super::*;

#[test]
fn os_overrides_sysinfo() {
    let mut os = OsInfo {
        name: Some("Windows".into()),
        version: Some("10 (19045)".into()),
        kernel: Some("19045".into()),
        arch: Some("x86".into()),
        ..OsInfo::default()
    };
    let row: Vec<OperatingSystem> = rows(fixtures::OS);
    apply_os(&mut os, &row[0]);
    assert_eq!(os.name.as_deref(), Some("Microsoft Windows 10 Pro"));
    assert_eq!(os.version.as_deref(), Some("10.0.19045"));
    assert_eq!(os.build.as_deref(), Some("19045"));
    assert_eq!(os.kernel.as_deref(), Some("10.0.19045"));
    assert_eq!(os.arch.as_deref(), Some("x86_64"));
    assert_eq!(
        os.install_date.map(|d| d.to_rfc3339()).as_deref(),
        Some("2019-06-12T02:30:12+00:00")
    );
    assert_eq!(
        os.boot_time.map(|d| d.to_rfc3339()).as_deref(),
        Some("2024-03-05T00:35:01+00:00")
    );
}

#[test]
fn architectures() {
    let cases = [
        ("64-bit", Some("x86_64")),
        ("64 bits", Some("x86_64")),
        ("64-Bit", Some("x86_64")),
        ("32-bit", Some("x86")),
        ("ARM 64-bit Processor", Some("aarch64")),
        ("", None),
    ];
    for (raw, want) in cases {
        assert_eq!(arch(raw), want, "{raw}");
    }
}

#[test]
fn optiplex_system_and_bios() {
    let computer: Vec<ComputerSystem> = rows(fixtures::COMPUTER_SYSTEM);
    let product: Vec<ComputerSystemProduct> = rows(fixtures::PRODUCT);
    let enclosure: Vec<SystemEnclosure> = rows(fixtures::ENCLOSURE);
    let system = system_info(computer.first(), product.first(), enclosure.first());
    assert_eq!(
        system,
        SystemInfo {
            vendor: Some("Dell Inc.".into()),
            model: Some("OptiPlex 3020".into()),
            serial: Some("5KZ3T52".into()),
            uuid: Some("4c4c4544-004b-5a10-8033-b5c04f543532".into()),
            chassis: Some(Chassis::Desktop),
        }
    );
    let bios: Vec<Bios> = rows(fixtures::BIOS);
    assert_eq!(
        bios_info(&bios[0]),
        BiosInfo {
            vendor: Some("Dell Inc.".into()),
            version: Some("A18".into()),
            date: NaiveDate::from_ymd_opt(2019, 5, 13),
        }
    );
}

#[test]
fn whitebox_placeholders_and_laptop_fallback() {
    let computer: Vec<ComputerSystem> = rows(
        r#"[{"Manufacturer": "System manufacturer", "Model": "System Product Name", "PCSystemType": 2}]"#,
    );
    let product: Vec<ComputerSystemProduct> = rows(
        r#"[{"IdentifyingNumber": "System Serial Number", "Vendor": "ASUS",
             "UUID": "03000200-0400-0500-0006-000700080009", "Name": "X550LD"}]"#,
    );
    let enclosure: Vec<SystemEnclosure> = rows(r#"[{"ChassisTypes": [2]}]"#);
    let system = system_info(computer.first(), product.first(), enclosure.first());
    assert_eq!(system.vendor.as_deref(), Some("ASUS"));
    assert_eq!(system.model.as_deref(), Some("X550LD"));
    assert_eq!(system.serial, None);
    assert_eq!(system.uuid, None);
    assert_eq!(
        system.chassis,
        Some(Chassis::Laptop),
        "unknown enclosure, mobile PC"
    );
}

#[test]
fn cpu_from_processor_rows() {
    let processors: Vec<Processor> = rows(fixtures::PROCESSOR);
    let mut cpu = CpuInfo::default();
    apply_cpu(&mut cpu, &processors);
    assert_eq!(
        cpu,
        CpuInfo {
            brand: Some("Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz".into()),
            cores_physical: Some(4),
            cores_logical: Some(4),
            base_mhz: Some(3300),
        }
    );

    // Two sockets of an AMD server: counts add up, no "@" so MaxClockSpeed.
    let processors: Vec<Processor> = rows(
        r#"[{"Name": "AMD EPYC 7302 16-Core Processor", "NumberOfCores": 16,
             "NumberOfLogicalProcessors": 32, "MaxClockSpeed": 3000},
            {"Name": "AMD EPYC 7302 16-Core Processor", "NumberOfCores": 16,
             "NumberOfLogicalProcessors": 32, "MaxClockSpeed": 3000}]"#,
    );
    let mut cpu = CpuInfo::default();
    apply_cpu(&mut cpu, &processors);
    assert_eq!(cpu.cores_physical, Some(32));
    assert_eq!(cpu.cores_logical, Some(64));
    assert_eq!(cpu.base_mhz, Some(3000));

    // Wine: no rows, sysinfo's values stay.
    let mut cpu = CpuInfo {
        cores_logical: Some(2),
        ..CpuInfo::default()
    };
    apply_cpu(&mut cpu, &[]);
    assert_eq!(cpu.cores_logical, Some(2));
}

#[test]
fn tpm_versions() {
    let cases = [
        (fixtures::TPM, Some(true), Some("1.2")),
        (
            r#"[{"SpecVersion": "2.0, 0, 1.38"}]"#,
            Some(true),
            Some("2.0"),
        ),
        (r#"[{"SpecVersion": null}]"#, Some(true), None),
        ("[]", Some(false), None),
    ];
    for (json, present, version) in cases {
        let tpm = tpm_info(&rows::<Tpm>(json));
        assert_eq!(tpm.present, present, "{json}");
        assert_eq!(tpm.version.as_deref(), version, "{json}");
    }
}

#[test]
fn active_monitors_only() {
    let monitors = monitors(&rows(fixtures::MONITORS));
    assert_eq!(
        monitors,
        vec![Monitor {
            manufacturer: Some("DEL".into()),
            model: Some("DELL E2014H".into()),
            product_code: Some(0xD06A),
            serial: Some("5KZ3T4AS1A2L".into()),
            year: Some(2014),
            connector: None,
        }]
    );
}
