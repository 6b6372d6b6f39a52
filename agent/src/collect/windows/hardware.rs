//! Maps WMI rows to the machine's identity and core parts: OS, system
//! (vendor, model, serial, UUID, chassis), BIOS, CPU, TPM and monitors. Pure
//! functions, tested on recorded rows.

use kiemke_shared::firmware;
use kiemke_shared::inventory::{
    BiosInfo, Chassis, CpuInfo, Monitor, OsInfo, SystemInfo, TpmInfo, clean_text,
};

use super::super::system::mhz_from_brand;
use super::cim_time::{parse_date, parse_datetime};
use super::rows::{
    Bios, ComputerSystem, ComputerSystemProduct, MonitorId, OperatingSystem, Processor,
    SystemEnclosure, Tpm,
};

/// Overrides what `sysinfo` guessed about the OS with what Windows says.
pub fn apply_os(os: &mut OsInfo, row: &OperatingSystem) {
    let text = |v: &Option<String>| v.as_deref().and_then(clean_text);
    os.name = text(&row.caption).or(os.name.take());
    os.version = text(&row.version).or(os.version.take());
    os.build = text(&row.build_number).or(os.build.take());
    os.kernel = text(&row.version).or(os.kernel.take());
    os.arch = row
        .os_architecture
        .as_deref()
        .and_then(arch)
        .map(str::to_owned)
        .or(os.arch.take());
    os.install_date = row.install_date.as_deref().and_then(parse_datetime);
    if os.boot_time.is_none() {
        os.boot_time = row.last_boot_up_time.as_deref().and_then(parse_datetime);
    }
}

/// `OSArchitecture` is localised (`64-bit`, `64 bits`, `ARM 64-bit
/// Processor`), so only its digits and `ARM` are trusted.
fn arch(raw: &str) -> Option<&'static str> {
    let arm = raw.to_ascii_lowercase().contains("arm");
    match (arm, raw.contains("64"), raw.contains("32")) {
        (true, true, _) => Some("aarch64"),
        (true, false, _) => Some("arm"),
        (false, true, _) => Some("x86_64"),
        (false, false, true) => Some("x86"),
        _ => None,
    }
}

/// Vendor, model, serial, UUID and chassis from the three classes that hold
/// them (any may be missing).
pub fn system_info(
    computer: Option<&ComputerSystem>,
    product: Option<&ComputerSystemProduct>,
    enclosure: Option<&SystemEnclosure>,
) -> SystemInfo {
    let field = |v: Option<&Option<String>>| v?.as_deref().and_then(firmware::text);
    let chassis_from_enclosure = enclosure
        .and_then(|e| e.chassis_types.as_ref())
        .and_then(|codes| codes.iter().find_map(|&c| Chassis::from_smbios(c.into())));
    SystemInfo {
        vendor: field(computer.map(|c| &c.manufacturer))
            .or_else(|| field(product.map(|p| &p.vendor))),
        model: field(computer.map(|c| &c.model)).or_else(|| field(product.map(|p| &p.name))),
        serial: field(product.map(|p| &p.identifying_number)),
        uuid: product
            .and_then(|p| p.uuid.as_deref())
            .and_then(firmware::smbios_uuid),
        chassis: chassis_from_enclosure
            .or_else(|| computer?.pc_system_type.and_then(pc_system_type)),
    }
}

/// `Win32_ComputerSystem.PCSystemType`, when the enclosure says nothing.
fn pc_system_type(code: u16) -> Option<Chassis> {
    match code {
        1 | 3 => Some(Chassis::Desktop),
        2 => Some(Chassis::Laptop),
        4 | 5 | 7 => Some(Chassis::Server),
        8 => Some(Chassis::Tablet),
        6 => Some(Chassis::Other),
        _ => None,
    }
}

pub fn bios_info(row: &Bios) -> BiosInfo {
    BiosInfo {
        vendor: row.manufacturer.as_deref().and_then(firmware::text),
        version: row.smbios_bios_version.as_deref().and_then(firmware::text),
        date: row.release_date.as_deref().and_then(parse_date),
    }
}

/// Core counts (summed over sockets) and base clock from `Win32_Processor`;
/// the brand's `@ 3.30GHz` stays the first source for the base clock.
pub fn apply_cpu(cpu: &mut CpuInfo, rows: &[Processor]) {
    let Some(first) = rows.first() else {
        return;
    };
    if cpu.brand.is_none() {
        cpu.brand = first.name.as_deref().and_then(clean_text);
    }
    let sum = |get: fn(&Processor) -> Option<u32>| -> Option<u32> {
        let counts: Vec<u32> = rows.iter().filter_map(get).collect();
        (!counts.is_empty())
            .then(|| counts.iter().sum())
            .filter(|&n| n > 0)
    };
    cpu.cores_physical = sum(|p| p.number_of_cores).or(cpu.cores_physical);
    cpu.cores_logical = sum(|p| p.number_of_logical_processors).or(cpu.cores_logical);
    cpu.base_mhz = cpu
        .brand
        .as_deref()
        .and_then(mhz_from_brand)
        .or_else(|| first.max_clock_speed.filter(|&mhz| mhz > 0))
        .or(cpu.base_mhz);
}

/// No `Win32_Tpm` instance means no TPM (or one disabled in firmware).
pub fn tpm_info(rows: &[Tpm]) -> TpmInfo {
    let Some(row) = rows.first() else {
        return TpmInfo {
            present: Some(false),
            version: None,
        };
    };
    let version = row
        .spec_version
        .as_deref()
        .and_then(|v| v.split(',').next())
        .and_then(clean_text);
    TpmInfo {
        present: Some(true),
        version,
    }
}

/// The monitors Windows sees as plugged in.
pub fn monitors(rows: &[MonitorId]) -> Vec<Monitor> {
    rows.iter()
        .filter(|row| row.active != Some(false))
        .map(|row| Monitor {
            manufacturer: utf16_text(row.manufacturer_name.as_deref()),
            model: utf16_text(row.user_friendly_name.as_deref()),
            product_code: utf16_text(row.product_code_id.as_deref())
                .and_then(|hex| u16::from_str_radix(&hex, 16).ok()),
            serial: utf16_text(row.serial_number_id.as_deref()).filter(|s| s != "0"),
            year: row.year_of_manufacture.filter(|&y| y >= 1990),
            connector: None,
        })
        .collect()
}

/// A zero-padded UTF-16 array as text.
fn utf16_text(units: Option<&[u16]>) -> Option<String> {
    let units = units?;
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    firmware::text(&String::from_utf16_lossy(&units[..end]))
}

#[cfg(test)]
mod tests;
