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

/// Whether a disk with this vendor/model is emulated by a hypervisor.
pub fn is_virtual_disk(vendor: Option<&str>, model: Option<&str>) -> bool {
    let text = format!("{} {}", vendor.unwrap_or(""), model.unwrap_or("")).to_lowercase();
    VIRTUAL_DISK_HINTS.iter().any(|hint| text.contains(hint))
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
}
