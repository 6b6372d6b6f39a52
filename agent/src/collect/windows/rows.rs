//! The WMI rows the Windows collector reads, as serde structs. Every field is
//! optional: classes differ between Windows versions, and Wine implements
//! only some of them, some properties partly.
//!
//! Rows are read with `SELECT *` and turned into JSON objects keyed by the
//! property names WMI reports (see `query.rs`), then deserialised here. Recorded
//! rows (from that path, or from PowerShell's `Get-CimInstance | ConvertTo-Json`)
//! deserialise the same way, which is how the mapping is tested on Linux.
//!
//! CIM datetimes (`20190513000000.000000+000`) are kept as strings and parsed
//! by `cim_time`: the `wmi` crate's `WMIDateTime` rejects the asterisk forms
//! (`2019051*******.******+***`) some BIOSes report, and its parser unwraps
//! the UTC offset.

use serde::{Deserialize, Deserializer};

/// A WMI class and the namespace it lives in.
pub trait WmiClass {
    const CLASS: &'static str;
    const NAMESPACE: &'static str = r"ROOT\CIMV2";
}

macro_rules! wmi_class {
    ($row:ty, $class:literal) => {
        impl WmiClass for $row {
            const CLASS: &'static str = $class;
        }
    };
    ($row:ty, $class:literal, $namespace:literal) => {
        impl WmiClass for $row {
            const CLASS: &'static str = $class;
            const NAMESPACE: &'static str = $namespace;
        }
    };
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_OperatingSystem", rename_all = "PascalCase", default)]
pub struct OperatingSystem {
    pub caption: Option<String>,
    pub version: Option<String>,
    pub build_number: Option<String>,
    /// Localised: `64-bit`, `64 bits`, `64-Bit`...
    #[serde(rename = "OSArchitecture")]
    pub os_architecture: Option<String>,
    pub install_date: Option<String>,
    pub last_boot_up_time: Option<String>,
}
wmi_class!(OperatingSystem, "Win32_OperatingSystem");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_ComputerSystem", rename_all = "PascalCase", default)]
pub struct ComputerSystem {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    /// 1 desktop, 2 mobile, 3 workstation, 4/5/7 server, 8 slate.
    #[serde(rename = "PCSystemType")]
    pub pc_system_type: Option<u16>,
}
wmi_class!(ComputerSystem, "Win32_ComputerSystem");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    rename = "Win32_ComputerSystemProduct",
    rename_all = "PascalCase",
    default
)]
pub struct ComputerSystemProduct {
    /// The system serial number (service tag).
    pub identifying_number: Option<String>,
    #[serde(rename = "UUID")]
    pub uuid: Option<String>,
    pub vendor: Option<String>,
    pub name: Option<String>,
}
wmi_class!(ComputerSystemProduct, "Win32_ComputerSystemProduct");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_SystemEnclosure", rename_all = "PascalCase", default)]
pub struct SystemEnclosure {
    /// SMBIOS chassis type codes.
    pub chassis_types: Option<Vec<u16>>,
}
wmi_class!(SystemEnclosure, "Win32_SystemEnclosure");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_BIOS", rename_all = "PascalCase", default)]
pub struct Bios {
    pub manufacturer: Option<String>,
    #[serde(rename = "SMBIOSBIOSVersion")]
    pub smbios_bios_version: Option<String>,
    /// CIM datetime.
    pub release_date: Option<String>,
}
wmi_class!(Bios, "Win32_BIOS");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_Processor", rename_all = "PascalCase", default)]
pub struct Processor {
    pub name: Option<String>,
    pub number_of_cores: Option<u32>,
    pub number_of_logical_processors: Option<u32>,
    /// MHz; the rated (base) clock on most machines, not the current one.
    pub max_clock_speed: Option<u32>,
}
wmi_class!(Processor, "Win32_Processor");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_DiskDrive", rename_all = "PascalCase", default)]
pub struct DiskDrive {
    /// `\\.\PHYSICALDRIVE0`.
    #[serde(rename = "DeviceID")]
    pub device_id: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    /// Bytes, rounded down to whole cylinders.
    #[serde(deserialize_with = "lenient_u64")]
    pub size: Option<u64>,
    /// `IDE`, `SCSI`, `USB`, `1394`.
    pub interface_type: Option<String>,
    /// `Fixed hard disk media`, `External hard disk media`, `Removable Media`.
    pub media_type: Option<String>,
    /// The disk number, as in `MSFT_PhysicalDisk.DeviceId` and `MSFT_Disk.Number`.
    pub index: Option<u32>,
}
wmi_class!(DiskDrive, "Win32_DiskDrive");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "MSFT_PhysicalDisk", rename_all = "PascalCase", default)]
pub struct PhysicalDisk {
    /// The disk number as a string (`"0"`).
    pub device_id: Option<String>,
    /// 0 unspecified, 3 HDD, 4 SSD, 5 SCM.
    pub media_type: Option<u16>,
    /// 7 USB, 11 SATA, 17 NVMe, ... (see `storage::bus_name`).
    pub bus_type: Option<u16>,
    /// Exact size in bytes.
    #[serde(deserialize_with = "lenient_u64")]
    pub size: Option<u64>,
    pub serial_number: Option<String>,
}
wmi_class!(
    PhysicalDisk,
    "MSFT_PhysicalDisk",
    r"ROOT\Microsoft\Windows\Storage"
);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "MSFT_Disk", rename_all = "PascalCase", default)]
pub struct StorageDisk {
    pub number: Option<u32>,
    /// Holds the boot volume (the one with `\Windows`): the system disk.
    pub is_boot: Option<bool>,
    /// Holds the system (EFI/boot loader) partition.
    pub is_system: Option<bool>,
}
wmi_class!(StorageDisk, "MSFT_Disk", r"ROOT\Microsoft\Windows\Storage");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_NetworkAdapter", rename_all = "PascalCase", default)]
pub struct NetworkAdapter {
    /// The driver's description, e.g. `Realtek PCIe GBE Family Controller`.
    pub name: Option<String>,
    /// The name in Network Connections (`Ethernet`, `Wi-Fi`); absent for
    /// hidden miniports.
    #[serde(rename = "NetConnectionID")]
    pub net_connection_id: Option<String>,
    #[serde(rename = "MACAddress")]
    pub mac_address: Option<String>,
    /// Bits per second; `u64::MAX / 2` when unknown.
    #[serde(deserialize_with = "lenient_u64")]
    pub speed: Option<u64>,
    pub physical_adapter: Option<bool>,
    /// 0 Ethernet 802.3, 9 Wireless (most Wi-Fi drivers say 0).
    #[serde(rename = "AdapterTypeID")]
    pub adapter_type_id: Option<u16>,
    pub net_enabled: Option<bool>,
    /// 2 connected, 7 media disconnected, ...
    pub net_connection_status: Option<u16>,
    /// `PCI\VEN_10EC&...`; software adapters are `ROOT\...` or `SWD\...`.
    #[serde(rename = "PNPDeviceID")]
    pub pnp_device_id: Option<String>,
    pub index: Option<u32>,
}
wmi_class!(NetworkAdapter, "Win32_NetworkAdapter");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    rename = "Win32_NetworkAdapterConfiguration",
    rename_all = "PascalCase",
    default
)]
pub struct NetworkAdapterConfiguration {
    /// Same as `Win32_NetworkAdapter.Index`.
    pub index: Option<u32>,
    pub interface_index: Option<u32>,
    #[serde(rename = "IPAddress")]
    pub ip_address: Option<Vec<String>>,
    /// Masks for IPv4 (`255.255.255.0`), prefix lengths for IPv6 (`64`).
    #[serde(rename = "IPSubnet")]
    pub ip_subnet: Option<Vec<String>>,
}
wmi_class!(
    NetworkAdapterConfiguration,
    "Win32_NetworkAdapterConfiguration"
);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_Tpm", rename_all = "PascalCase", default)]
pub struct Tpm {
    /// `2.0, 0, 1.38`: the spec version first.
    pub spec_version: Option<String>,
}
wmi_class!(Tpm, "Win32_Tpm", r"ROOT\CIMV2\Security\MicrosoftTpm");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "WmiMonitorID", rename_all = "PascalCase", default)]
pub struct MonitorId {
    /// `false` for monitors Windows remembers but that are not plugged in.
    pub active: Option<bool>,
    /// `DISPLAY\DELA0C1\5&2f7f6d8&0&UID4352_0`.
    pub instance_name: Option<String>,
    /// The following are UTF-16 code units, zero-padded.
    pub manufacturer_name: Option<Vec<u16>>,
    /// Four hex digits, e.g. `D06A`.
    #[serde(rename = "ProductCodeID")]
    pub product_code_id: Option<Vec<u16>>,
    #[serde(rename = "SerialNumberID")]
    pub serial_number_id: Option<Vec<u16>>,
    pub user_friendly_name: Option<Vec<u16>>,
    pub week_of_manufacture: Option<u16>,
    pub year_of_manufacture: Option<u16>,
}
wmi_class!(MonitorId, "WmiMonitorID", r"ROOT\WMI");

/// A `uint64` property: WMI hands it over as a string, our conversion as a
/// number; PowerShell's JSON as either. Anything else is `None`.
fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Unsigned(u64),
        Signed(i64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(deserializer)? {
        Some(Raw::Unsigned(n)) => Some(n),
        Some(Raw::Signed(n)) => u64::try_from(n).ok(),
        Some(Raw::Float(f)) if (0.0..u64::MAX as f64).contains(&f) => Some(f as u64),
        Some(Raw::Text(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_as_number_or_text() {
        let cases = [
            (r#"{"Speed": 1000000000}"#, Some(1_000_000_000)),
            (r#"{"Speed": "100000000"}"#, Some(100_000_000)),
            (r#"{"Speed": null}"#, None),
            (r#"{}"#, None),
            (r#"{"Speed": "fast"}"#, None),
            (r#"{"Speed": -1}"#, None),
        ];
        for (json, want) in cases {
            let row: NetworkAdapter = serde_json::from_str(json).expect(json);
            assert_eq!(row.speed, want, "{json}");
        }
    }

    #[test]
    fn property_names_are_wmi_names() {
        let row: Bios = serde_json::from_str(
            r#"{"Manufacturer": "Dell Inc.", "SMBIOSBIOSVersion": "A18",
                "ReleaseDate": "20190513000000.000000+000", "Status": "OK"}"#,
        )
        .expect("row");
        assert_eq!(row.smbios_bios_version.as_deref(), Some("A18"));
        assert_eq!(Bios::CLASS, "Win32_BIOS");
        assert_eq!(Tpm::NAMESPACE, r"ROOT\CIMV2\Security\MicrosoftTpm");
        assert_eq!(Processor::NAMESPACE, r"ROOT\CIMV2");
    }
}
