//! Test fixtures: WMI rows recorded on a commune office PC, a Dell OptiPlex
//! 3020 (2014) with Windows 10 Pro 22H2, an i5-4590, a Samsung SSD (system
//! disk) and a Seagate HDD, a Realtek NIC, a VirtualBox host-only adapter, a
//! USB Wi-Fi stick and a Dell monitor. Property names and value types are
//! what WMI reports (`uint64` as strings where PowerShell kept them so).

use serde::de::DeserializeOwned;

use super::Rows;

pub const OS: &str = r#"[{
  "Caption": "Microsoft Windows 10 Pro",
  "Version": "10.0.19045",
  "BuildNumber": "19045",
  "OSArchitecture": "64-bit",
  "InstallDate": "20190612093012.000000+420",
  "LastBootUpTime": "20240305073501.500000+420",
  "CSName": "UBND-XA-PC01",
  "OSLanguage": 1066
}]"#;

pub const COMPUTER_SYSTEM: &str = r#"[{
  "Manufacturer": "Dell Inc.",
  "Model": "OptiPlex 3020",
  "PCSystemType": 1,
  "TotalPhysicalMemory": "8464302080"
}]"#;

pub const PRODUCT: &str = r#"[{
  "IdentifyingNumber": "5KZ3T52",
  "UUID": "4C4C4544-004B-5A10-8033-B5C04F543532",
  "Vendor": "Dell Inc.",
  "Name": "OptiPlex 3020"
}]"#;

pub const ENCLOSURE: &str = r#"[{ "ChassisTypes": [15], "SerialNumber": "5KZ3T52" }]"#;

pub const BIOS: &str = r#"[{
  "Manufacturer": "Dell Inc.",
  "SMBIOSBIOSVersion": "A18",
  "ReleaseDate": "20190513000000.000000+000",
  "Version": "DELL   - 1072009"
}]"#;

pub const PROCESSOR: &str = r#"[{
  "Name": "Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz",
  "NumberOfCores": 4,
  "NumberOfLogicalProcessors": 4,
  "MaxClockSpeed": 3301,
  "CurrentClockSpeed": 3301
}]"#;

pub const DISK_DRIVES: &str = r#"[
  {
    "DeviceID": "\\\\.\\PHYSICALDRIVE1",
    "Model": "ST500DM002-1BD142",
    "SerialNumber": "            Z3TB1X2A",
    "Size": "500105249280",
    "InterfaceType": "IDE",
    "MediaType": "Fixed hard disk media",
    "Index": 1
  },
  {
    "DeviceID": "\\\\.\\PHYSICALDRIVE0",
    "Model": "Samsung SSD 860 EVO 250GB",
    "SerialNumber": "S3YJNB0K123456X",
    "Size": "250056737280",
    "InterfaceType": "IDE",
    "MediaType": "Fixed hard disk media",
    "Index": 0
  }
]"#;

pub const PHYSICAL_DISKS: &str = r#"[
  { "DeviceId": "0", "FriendlyName": "Samsung SSD 860 EVO 250GB", "MediaType": 4,
    "BusType": 11, "Size": 250059350016, "SerialNumber": "S3YJNB0K123456X" },
  { "DeviceId": "1", "FriendlyName": "ST500DM002-1BD142", "MediaType": 3,
    "BusType": 11, "Size": 500107862016, "SerialNumber": "Z3TB1X2A" }
]"#;

pub const STORAGE_DISKS: &str = r#"[
  { "Number": 0, "IsBoot": true, "IsSystem": true, "PartitionStyle": 1 },
  { "Number": 1, "IsBoot": false, "IsSystem": false, "PartitionStyle": 1 }
]"#;

pub const ADAPTERS: &str = r#"[
  { "Index": 0, "Name": "Microsoft Kernel Debug Network Adapter", "NetConnectionID": null,
    "MACAddress": null, "Speed": null, "PhysicalAdapter": false, "AdapterTypeID": null,
    "NetEnabled": null, "NetConnectionStatus": null, "PNPDeviceID": "ROOT\\KDNIC\\0000" },
  { "Index": 1, "Name": "Realtek PCIe GBE Family Controller", "NetConnectionID": "Ethernet",
    "MACAddress": "18:66:DA:0A:1B:2C", "Speed": "1000000000", "PhysicalAdapter": true,
    "AdapterTypeID": 0, "NetEnabled": true, "NetConnectionStatus": 2,
    "PNPDeviceID": "PCI\\VEN_10EC&DEV_8168&SUBSYS_05A41028&REV_0C\\01000000684CE00000" },
  { "Index": 4, "Name": "WAN Miniport (IP)", "NetConnectionID": null,
    "MACAddress": "D6:1E:20:52:41:53", "Speed": null, "PhysicalAdapter": false,
    "AdapterTypeID": 0, "NetEnabled": null, "NetConnectionStatus": null,
    "PNPDeviceID": "SWD\\MSRRAS\\MS_NDISWANIP" },
  { "Index": 12, "Name": "VirtualBox Host-Only Ethernet Adapter",
    "NetConnectionID": "VirtualBox Host-Only Network", "MACAddress": "0A:00:27:00:00:0C",
    "Speed": "1000000000", "PhysicalAdapter": true, "AdapterTypeID": 0, "NetEnabled": true,
    "NetConnectionStatus": 2, "PNPDeviceID": "ROOT\\NET\\0000" },
  { "Index": 15, "Name": "TP-Link Wireless USB Adapter", "NetConnectionID": "Wi-Fi",
    "MACAddress": "50:3E:AA:12:34:56", "Speed": "9223372036854775807",
    "PhysicalAdapter": true, "AdapterTypeID": 0, "NetEnabled": false,
    "NetConnectionStatus": 7, "PNPDeviceID": "USB\\VID_2357&PID_010C\\00E04C0001" }
]"#;

pub const CONFIGS: &str = r#"[
  { "Index": 1, "InterfaceIndex": 6,
    "IPAddress": ["192.168.1.23", "fe80::8d4c:1d2e:3a4b:5c6d"],
    "IPSubnet": ["255.255.255.0", "64"] },
  { "Index": 4, "InterfaceIndex": 9, "IPAddress": null, "IPSubnet": null },
  { "Index": 12, "InterfaceIndex": 14,
    "IPAddress": ["192.168.56.1", "fe80::3c5e:9f0b:2a1d:8e7f"],
    "IPSubnet": ["255.255.255.0", "64"] },
  { "Index": 15, "InterfaceIndex": 18, "IPAddress": null, "IPSubnet": null }
]"#;

pub const TPM: &str = r#"[{
  "IsActivated_InitialValue": true,
  "ManufacturerIdTxt": "IFX",
  "SpecVersion": "1.2, 2, 3"
}]"#;

pub const MONITORS: &str = r#"[
  { "Active": true, "InstanceName": "DISPLAY\\DELD06A\\5&2f7f6d8&0&UID4352_0",
    "ManufacturerName": [68, 69, 76, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "ProductCodeID": [68, 48, 54, 65, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "SerialNumberID": [53, 75, 90, 51, 84, 52, 65, 83, 49, 65, 50, 76, 0, 0, 0, 0],
    "UserFriendlyName": [68, 69, 76, 76, 32, 69, 50, 48, 49, 52, 72, 0, 0],
    "WeekOfManufacture": 20, "YearOfManufacture": 2014 },
  { "Active": false, "InstanceName": "DISPLAY\\SAM0E5A\\5&2f7f6d8&0&UID4353_0",
    "ManufacturerName": [83, 65, 77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "ProductCodeID": [48, 69, 53, 65, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "SerialNumberID": [48, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "UserFriendlyName": [83, 50, 50, 70, 51, 53, 48, 0, 0, 0, 0, 0, 0],
    "WeekOfManufacture": 1, "YearOfManufacture": 2017 }
]"#;

/// Parses a recorded JSON array of rows.
pub fn rows<T: DeserializeOwned>(json: &str) -> Vec<T> {
    serde_json::from_str(json).expect("fixture rows parse")
}

/// Everything the OptiPlex answered, as the collector would have fetched it.
pub fn optiplex() -> Rows {
    Rows {
        os: Ok(rows(OS)),
        computer_system: Ok(rows(COMPUTER_SYSTEM)),
        product: Ok(rows(PRODUCT)),
        enclosure: Ok(rows(ENCLOSURE)),
        bios: Ok(rows(BIOS)),
        processors: Ok(rows(PROCESSOR)),
        disk_drives: Ok(rows(DISK_DRIVES)),
        physical_disks: Ok(rows(PHYSICAL_DISKS)),
        storage_disks: Ok(rows(STORAGE_DISKS)),
        adapters: Ok(rows(ADAPTERS)),
        adapter_configs: Ok(rows(CONFIGS)),
        tpm: Ok(rows(TPM)),
        monitors: Ok(rows(MONITORS)),
    }
}
