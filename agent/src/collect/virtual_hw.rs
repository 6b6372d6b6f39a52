//! Recognises virtual hardware by the names hypervisors and VPN/virtualisation
//! software give it. A virtual disk's "rotational" or "media type" flag says
//! nothing about the physical medium behind it, and a virtual adapter is no
//! device identity, so both readers (Linux and Windows) ask here.

/// Vendor or model fragments of disks emulated by a hypervisor.
const VIRTUAL_DISK_HINTS: &[&str] = &[
    "qemu",
    "vmware",
    "vbox",
    "virtualbox",
    "virtual disk",
    "msft virtual",
    "red hat",
    "xen",
    "bochs",
];

/// Name fragments of software network adapters on Windows (hypervisor host
/// adapters, VPN taps, packet-capture loopbacks, RAS miniports).
const VIRTUAL_ADAPTER_HINTS: &[&str] = &[
    "virtualbox",
    "vmware",
    "hyper-v",
    "vethernet",
    "tap-windows",
    "tap-",
    "wintun",
    "wireguard",
    "npcap",
    "loopback",
    "wan miniport",
    "virtual adapter",
    "virtual ethernet",
    "teredo",
    "isatap",
    "microsoft wi-fi direct",
];

/// Whether a disk with this vendor/model is emulated by a hypervisor.
pub fn is_virtual_disk(vendor: Option<&str>, model: Option<&str>) -> bool {
    let text = format!("{} {}", vendor.unwrap_or(""), model.unwrap_or("")).to_lowercase();
    VIRTUAL_DISK_HINTS.iter().any(|hint| text.contains(hint))
}

/// Whether an adapter with this name or description is a software one.
pub fn is_virtual_adapter_name(name: &str) -> bool {
    let name = name.to_lowercase();
    VIRTUAL_ADAPTER_HINTS.iter().any(|hint| name.contains(hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks() {
        let cases = [
            (Some("ATA"), Some("ST500DM002-1BD142"), false),
            (None, Some("Samsung SSD 860 EVO 250GB"), false),
            (Some("QEMU"), Some("QEMU HARDDISK"), true),
            (Some("VMware"), Some("Virtual disk"), true),
            (Some("ATA"), Some("VBOX HARDDISK"), true),
            (Some("Msft"), Some("Virtual Disk"), true),
            (None, None, false),
        ];
        for (vendor, model, want) in cases {
            assert_eq!(is_virtual_disk(vendor, model), want, "{vendor:?} {model:?}");
        }
    }

    #[test]
    fn adapters() {
        let cases = [
            ("Realtek PCIe GBE Family Controller", false),
            ("Intel(R) Dual Band Wireless-AC 7265", false),
            ("VirtualBox Host-Only Ethernet Adapter", true),
            ("VMware Virtual Ethernet Adapter for VMnet8", true),
            ("Hyper-V Virtual Ethernet Adapter", true),
            ("TAP-Windows Adapter V9", true),
            ("WAN Miniport (IP)", true),
            ("Microsoft Wi-Fi Direct Virtual Adapter", true),
        ];
        for (name, want) in cases {
            assert_eq!(is_virtual_adapter_name(name), want, "{name}");
        }
    }
}
