//! The inventory section: what this PC is made of and runs.
//!
//! The JSON keys below are a public contract that other tools rely on; the
//! stable ones (`hostname`, `os.name`, `os.version`, `cpu.brand`,
//! `cpu.cores_logical`, `memory.total_bytes`, `disks[].kind`, `system.vendor`,
//! `system.model`, `bios.date`, `nics[].link_mbps`) are always present, `null`
//! when the machine has no value. Every field is optional because every
//! source can be missing on some PC (no DMI in a VM, no rights to read the
//! serial, Wine without disks); a missing value is `null`, never a guess.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The stable keys as JSON pointers into an inventory. The array keys
/// (`disks[].kind`, `nics[].link_mbps`) are present on every element of
/// [`Inventory::disks`] and [`Inventory::nics`] by construction (the fields
/// are not optional in the struct).
pub const STABLE_KEYS: &[&str] = &[
    "/hostname",
    "/os/name",
    "/os/version",
    "/cpu/brand",
    "/cpu/cores_logical",
    "/memory/total_bytes",
    "/system/vendor",
    "/system/model",
    "/bios/date",
    "/disks",
    "/nics",
];

/// The hardware and OS inventory of one PC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub hostname: Option<String>,
    pub os: OsInfo,
    pub system: SystemInfo,
    pub bios: BiosInfo,
    pub cpu: CpuInfo,
    pub memory: MemoryInfo,
    #[serde(default)]
    pub disks: Vec<Disk>,
    #[serde(default)]
    pub nics: Vec<Nic>,
    #[serde(default)]
    pub tpm: TpmInfo,
    #[serde(default)]
    pub monitors: Vec<Monitor>,
    /// Fields the agent could not read and why, so that "absent" can be told
    /// apart from "failed" (e.g. the serial needs administrator rights).
    #[serde(default)]
    pub notes: Vec<CollectNote>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsInfo {
    /// e.g. `Microsoft Windows 10 Pro`, `Debian GNU/Linux`.
    pub name: Option<String>,
    /// e.g. `10.0.19045` or `12`.
    pub version: Option<String>,
    /// Windows build or Linux distribution build id, where there is one.
    pub build: Option<String>,
    /// Kernel version (Linux) or NT version.
    pub kernel: Option<String>,
    /// CPU architecture the OS runs as, e.g. `x86_64`, `x86`.
    pub arch: Option<String>,
    pub boot_time: Option<DateTime<Utc>>,
    /// When the OS was installed, where the OS exposes it: a lower bound on
    /// the hardware's age, never the age itself.
    pub install_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub vendor: Option<String>,
    pub model: Option<String>,
    /// Needs root on Linux; absent (with a note) when unreadable.
    pub serial: Option<String>,
    /// SMBIOS system UUID. Needs root on Linux.
    pub uuid: Option<String>,
    pub chassis: Option<Chassis>,
}

/// The SMBIOS chassis type, grouped the way the policy needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chassis {
    Desktop,
    Laptop,
    AllInOne,
    Tablet,
    MiniPc,
    Server,
    Other,
}

impl Chassis {
    /// Maps an SMBIOS chassis type code (DMTF DSP0134, table "System
    /// Enclosure or Chassis Types") to its group; `None` for "unknown" (2),
    /// zero and codes outside the table.
    pub fn from_smbios(code: u32) -> Option<Chassis> {
        Some(match code {
            3..=7 | 15 | 16 | 24 | 26 => Chassis::Desktop,
            8..=10 | 14 | 31 | 32 => Chassis::Laptop,
            13 => Chassis::AllInOne,
            11 | 30 => Chassis::Tablet,
            33..=36 => Chassis::MiniPc,
            17 | 23 | 25 | 28 | 29 => Chassis::Server,
            1 | 12 | 18..=22 | 27 => Chassis::Other,
            _ => return None,
        })
    }

    pub fn label(self, lang: crate::Lang) -> &'static str {
        use Chassis::*;
        match self {
            Desktop => lang.pick("máy để bàn", "desktop"),
            Laptop => lang.pick("máy tính xách tay", "laptop"),
            AllInOne => lang.pick("máy liền màn hình (all-in-one)", "all-in-one"),
            Tablet => lang.pick("máy tính bảng", "tablet"),
            MiniPc => lang.pick("máy tính mini", "mini PC"),
            Server => lang.pick("máy chủ", "server"),
            Other => lang.pick("khác", "other"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BiosInfo {
    pub vendor: Option<String>,
    pub version: Option<String>,
    /// BIOS release date: evidence of the hardware's age.
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuInfo {
    /// The brand string exactly as the CPU reports it, e.g.
    /// `Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz` (the policy parses it).
    pub brand: Option<String>,
    pub cores_physical: Option<u32>,
    pub cores_logical: Option<u32>,
    /// Base (nominal) frequency, not the current one.
    pub base_mhz: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryInfo {
    pub total_bytes: Option<u64>,
}

/// One physical disk (partitions and virtual block devices are not disks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    /// OS name, e.g. `sda`, `nvme0n1`, `\\.\PHYSICALDRIVE0`.
    pub name: String,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub size_bytes: Option<u64>,
    pub kind: DiskKind,
    /// Bus or transport where known, e.g. `sata`, `nvme`, `usb`, `virtio`.
    pub bus: Option<String>,
    /// Holds the running OS (no SSD for the system disk is a policy finding).
    pub system: bool,
    pub removable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskKind {
    Ssd,
    Hdd,
    Unknown,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nic {
    pub name: String,
    /// Lower-case, colon-separated, e.g. `3c:52:82:0a:1b:2c`.
    pub mac: Option<String>,
    /// Addresses with prefix length, e.g. `192.168.1.23/24`.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Negotiated link speed; `null` when down or unknown (common for Wi-Fi
    /// and virtual interfaces).
    pub link_mbps: Option<u32>,
    /// Software interface (bridge, tunnel, VPN, container): never a device
    /// identity, never a line measurement path.
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
    pub loopback: bool,
    pub wireless: bool,
    /// Operational state where known.
    pub up: Option<bool>,
}

impl Nic {
    /// Whether this interface's MAC identifies the hardware: a physical,
    /// non-loopback NIC with a globally administered, non-zero MAC.
    /// Locally administered MACs (randomised Wi-Fi, VMs) are excluded.
    pub fn hardware_mac(&self) -> Option<&str> {
        if self.is_virtual || self.loopback {
            return None;
        }
        let mac = self.mac.as_deref()?;
        let first = u8::from_str_radix(mac.get(0..2)?, 16).ok()?;
        let locally_administered = first & 0b10 != 0;
        let multicast = first & 0b1 != 0;
        let zero = mac.bytes().all(|b| b == b'0' || b == b':');
        (!locally_administered && !multicast && !zero).then_some(mac)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TpmInfo {
    /// `null` when presence could not be determined.
    pub present: Option<bool>,
    /// Spec version, e.g. `2.0` or `1.2` (Windows 11 needs 2.0).
    pub version: Option<String>,
}

/// A monitor, from its EDID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    /// Three-letter PNP manufacturer id, e.g. `DEL`, `SAM`, `HWP`.
    pub manufacturer: Option<String>,
    /// Model name from the EDID descriptor, e.g. `DELL P2219H`.
    pub model: Option<String>,
    pub product_code: Option<u16>,
    pub serial: Option<String>,
    /// EDID year of manufacture (or model year): evidence of age.
    pub year: Option<u16>,
    /// Connector as the OS names it, e.g. `HDMI-A-1`.
    pub connector: Option<String>,
}

/// A field the agent could not fill, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectNote {
    /// Dotted path of the field, e.g. `system.serial`.
    pub field: String,
    pub reason: NoteReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteReason {
    /// Readable only with administrator/root rights.
    NeedsPrivilege,
    /// This OS or machine does not expose it.
    NotAvailable,
    /// The source exists but could not be read or parsed.
    Failed,
}

/// Normalises a string read from firmware or the OS: trims whitespace,
/// drops control characters, and turns empty strings into `None`.
pub fn clean_text(raw: &str) -> Option<String> {
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Normalises a MAC address to lower-case colon form; `None` if it is not one.
pub fn normalize_mac(raw: &str) -> Option<String> {
    let hex: String = raw.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let separators_ok = raw
        .chars()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.'));
    if hex.len() != 12 || !separators_ok {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).filter_map(|i| lower.get(i * 2..i * 2 + 2)).collect();
    Some(pairs.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic(mac: &str) -> Nic {
        Nic {
            name: "eth0".into(),
            mac: Some(mac.into()),
            addresses: vec![],
            link_mbps: Some(1000),
            is_virtual: false,
            loopback: false,
            wireless: false,
            up: Some(true),
        }
    }

    #[test]
    fn hardware_macs() {
        assert_eq!(
            nic("3c:52:82:0a:1b:2c").hardware_mac(),
            Some("3c:52:82:0a:1b:2c")
        );
        assert_eq!(
            nic("02:42:ac:11:00:02").hardware_mac(),
            None,
            "locally administered"
        );
        assert_eq!(nic("00:00:00:00:00:00").hardware_mac(), None);
        assert_eq!(nic("01:00:5e:00:00:01").hardware_mac(), None, "multicast");
        let mut v = nic("3c:52:82:0a:1b:2c");
        v.is_virtual = true;
        assert_eq!(v.hardware_mac(), None);
    }

    #[test]
    fn macs_normalise() {
        assert_eq!(
            normalize_mac("3C-52-82-0A-1B-2C").as_deref(),
            Some("3c:52:82:0a:1b:2c")
        );
        assert_eq!(
            normalize_mac("3c52.820a.1b2c").as_deref(),
            Some("3c:52:82:0a:1b:2c")
        );
        assert_eq!(normalize_mac("3c:52:82:0a:1b"), None);
        assert_eq!(normalize_mac("zz:52:82:0a:1b:2c:00"), None);
    }

    #[test]
    fn chassis_codes() {
        assert_eq!(Chassis::from_smbios(3), Some(Chassis::Desktop));
        assert_eq!(Chassis::from_smbios(10), Some(Chassis::Laptop));
        assert_eq!(Chassis::from_smbios(13), Some(Chassis::AllInOne));
        assert_eq!(Chassis::from_smbios(35), Some(Chassis::MiniPc));
        assert_eq!(Chassis::from_smbios(2), None);
        assert_eq!(Chassis::from_smbios(200), None);
    }

    #[test]
    fn stable_keys_are_present_even_when_empty() {
        let json = serde_json::to_value(Inventory::default()).expect("serialises");
        for path in STABLE_KEYS {
            assert!(json.pointer(path).is_some(), "missing {path}");
        }
    }

    #[test]
    fn clean_text_drops_junk() {
        assert_eq!(clean_text("  Dell Inc.\n\0"), Some("Dell Inc.".into()));
        assert_eq!(clean_text(" \t "), None);
    }
}
