//! The portable part of the inventory, through `sysinfo`: host name, OS
//! name/version/kernel, architecture, boot time, CPU brand and core counts,
//! and total memory. The OS-specific collectors run after this one and fill
//! in (or correct) what `sysinfo` cannot know.
//!
//! Only what is needed is refreshed: `System::new_all()` enumerates every
//! process (slow, and it aborts under Wine), so it is never called.

use chrono::{DateTime, Utc};
use kiemke_shared::Inventory;
use kiemke_shared::inventory::clean_text;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, System};

/// Fills the portable fields of `inventory`.
pub fn collect(inventory: &mut Inventory) {
    inventory.hostname = System::host_name().and_then(|h| clean_text(&h));

    let os = &mut inventory.os;
    os.name = System::name().and_then(|n| clean_text(&n));
    os.version = System::os_version().and_then(|v| clean_text(&v));
    os.kernel = System::kernel_version().and_then(|k| clean_text(&k));
    os.arch = clean_text(&System::cpu_arch()).filter(|a| a != "unknown");
    os.boot_time = from_unix_seconds(System::boot_time());

    let mut sys = System::new();
    sys.refresh_cpu_list(CpuRefreshKind::nothing());
    sys.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());

    let cpu = &mut inventory.cpu;
    cpu.brand = sys.cpus().first().and_then(|c| clean_text(c.brand()));
    cpu.cores_logical = u32::try_from(sys.cpus().len()).ok().filter(|&n| n > 0);
    cpu.cores_physical = System::physical_core_count()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0);
    cpu.base_mhz = base_mhz(sysfs_base_khz(), cpu.brand.as_deref());

    let total = sys.total_memory();
    inventory.memory.total_bytes = (total > 0).then_some(total);
}

/// A Unix time in seconds as a date; `None` for zero (unknown).
fn from_unix_seconds(seconds: u64) -> Option<DateTime<Utc>> {
    let seconds = i64::try_from(seconds).ok().filter(|&s| s > 0)?;
    DateTime::from_timestamp(seconds, 0)
}

/// The CPU's base (nominal) frequency: what the kernel's `base_frequency`
/// says (kHz), else what the brand string says (`... @ 3.20GHz`). Never the
/// current frequency, which moves with load and power saving.
pub fn base_mhz(sysfs_khz: Option<u64>, brand: Option<&str>) -> Option<u32> {
    sysfs_khz
        .filter(|&khz| khz > 0)
        .and_then(|khz| u32::try_from(khz / 1000).ok())
        .or_else(|| brand.and_then(mhz_from_brand))
}

/// Parses the `@ 3.20GHz` (or `@ 800MHz`) suffix Intel puts in its brand
/// strings.
pub fn mhz_from_brand(brand: &str) -> Option<u32> {
    let (_, after) = brand.rsplit_once('@')?;
    let after = after.trim().to_ascii_lowercase();
    let (number, scale) = if let Some(n) = after.strip_suffix("ghz") {
        (n, 1000.0)
    } else if let Some(n) = after.strip_suffix("mhz") {
        (n, 1.0)
    } else {
        return None;
    };
    let value: f64 = number.trim().parse().ok()?;
    let mhz = (value * scale).round();
    (1.0..100_000.0).contains(&mhz).then_some(mhz as u32)
}

#[cfg(target_os = "linux")]
fn sysfs_base_khz() -> Option<u64> {
    std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/base_frequency")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn sysfs_base_khz() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_frequencies() {
        let cases = [
            ("Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz", Some(3200)),
            ("Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz", Some(3300)),
            ("Intel(R) Pentium(R) CPU G2030 @ 3.00GHz", Some(3000)),
            (
                "Intel(R) Core(TM)2 Duo CPU     E7500  @ 2.93GHz",
                Some(2930),
            ),
            ("Intel(R) Atom(TM) CPU N270   @ 1.60GHz ", Some(1600)),
            ("Some CPU @ 800MHz", Some(800)),
            ("AMD Ryzen 5 3600 6-Core Processor", None),
            ("13th Gen Intel(R) Core(TM) i5-1335U", None),
            ("Weird @ fastGHz", None),
            ("", None),
        ];
        for (brand, want) in cases {
            assert_eq!(mhz_from_brand(brand), want, "{brand}");
        }
    }

    #[test]
    fn sysfs_wins_over_brand() {
        let brand = Some("Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz");
        assert_eq!(base_mhz(Some(3_200_000), None), Some(3200));
        assert_eq!(base_mhz(Some(2_900_000), brand), Some(2900));
        assert_eq!(base_mhz(None, brand), Some(3200));
        assert_eq!(base_mhz(Some(0), brand), Some(3200));
        assert_eq!(base_mhz(None, Some("AMD Ryzen 5 3600")), None);
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(from_unix_seconds(0), None);
        assert_eq!(
            from_unix_seconds(1_700_000_000).map(|d| d.to_rfc3339()),
            Some("2023-11-14T22:13:20+00:00".into())
        );
    }
}
