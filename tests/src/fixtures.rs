//! Inventories of made-up PCs whose hardware identity a test chooses.

use kiemke_shared::Inventory;
use kiemke_shared::inventory::{Chassis, Disk, DiskKind, Nic};

/// What makes one PC this PC.
#[derive(Debug, Clone, Default)]
pub struct Pc {
    pub hostname: &'static str,
    pub uuid: Option<&'static str>,
    pub serial: Option<&'static str>,
    pub mac: Option<&'static str>,
    pub ip: &'static str,
}

/// A plausible commune office desktop with the given identity.
pub fn inventory(pc: &Pc) -> Inventory {
    let mut inv = Inventory {
        hostname: Some(pc.hostname.to_owned()),
        ..Inventory::default()
    };
    inv.os.name = Some("Microsoft Windows 10 Pro".into());
    inv.os.version = Some("10.0.19045".into());
    inv.system.vendor = Some("Dell Inc.".into());
    inv.system.model = Some("OptiPlex 3020".into());
    inv.system.serial = pc.serial.map(str::to_owned);
    inv.system.uuid = pc.uuid.map(str::to_owned);
    inv.system.chassis = Some(Chassis::Desktop);
    inv.cpu.brand = Some("Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz".into());
    inv.cpu.cores_logical = Some(4);
    inv.cpu.cores_physical = Some(4);
    inv.memory.total_bytes = Some(4 << 30);
    inv.disks.push(Disk {
        name: "\\\\.\\PHYSICALDRIVE0".into(),
        model: Some("ST500DM002-1BD142".into()),
        serial: None,
        size_bytes: Some(500_107_862_016),
        kind: DiskKind::Hdd,
        bus: Some("sata".into()),
        system: true,
        removable: false,
    });
    inv.nics.push(Nic {
        name: "Ethernet".into(),
        mac: pc.mac.map(str::to_owned),
        addresses: vec![format!("{}/24", pc.ip)],
        link_mbps: Some(100),
        is_virtual: false,
        loopback: false,
        wireless: false,
        up: Some(true),
    });
    inv
}
