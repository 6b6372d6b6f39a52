//! The peripherals section: printers and scanners this PC sees, attached to
//! it (USB, a CUPS or Windows print queue) or found on its LAN (SNMP).
//!
//! One flat [`Peripheral`] type for every source, so the server can match a
//! network printer reported by ten PCs (by serial, then MAC, then IP+model)
//! whatever each PC learned it from. Every field but `kind` and `source` is
//! optional: a USB scanner has no IP, an old printer no serial, and a missing
//! value is `null`, never a guess.
//!
//! Page counters and supply levels are kept plain for the policy work, which
//! reads wear from them: [`PageCount::total`] is a lifetime count of
//! impressions, [`Supply::level_pct`] 0–100 or `null` when the device cannot
//! tell.

use serde::{Deserialize, Serialize};

/// Printers and scanners seen from this PC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Peripherals {
    /// Every device, local and on the network, in the order found.
    #[serde(default)]
    pub devices: Vec<Peripheral>,
    /// Whether a LAN discovery ran for this report; `false` means network
    /// printers missing from `devices` were not looked for, not absent.
    #[serde(default)]
    pub discovery_ran: bool,
}

/// What a device is, as far as the agent can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeripheralKind {
    Printer,
    /// Printer and scanner in one (counts as one unit in the equipment norms).
    Mfp,
    Scanner,
    /// A switch, router or access point that answered SNMP.
    NetworkGear,
    Other,
}

impl PeripheralKind {
    /// Whether it prints (a printer or an MFP).
    pub fn prints(self) -> bool {
        matches!(self, PeripheralKind::Printer | PeripheralKind::Mfp)
    }

    /// Whether it scans (a scanner or an MFP).
    pub fn scans(self) -> bool {
        matches!(self, PeripheralKind::Scanner | PeripheralKind::Mfp)
    }

    /// The word a user reads.
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match self {
            PeripheralKind::Printer => lang.pick("máy in", "printer"),
            PeripheralKind::Mfp => lang.pick("máy in đa năng (in + scan)", "multifunction printer"),
            PeripheralKind::Scanner => lang.pick("máy scan", "scanner"),
            PeripheralKind::NetworkGear => lang.pick("thiết bị mạng", "network gear"),
            PeripheralKind::Other => lang.pick("thiết bị khác", "other device"),
        }
    }
}

/// Where the agent learned of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeripheralSource {
    /// LAN discovery over SNMP.
    Snmp,
    /// LAN discovery over mDNS/DNS-SD.
    Mdns,
    /// A CUPS queue on this Linux PC.
    Cups,
    /// A Windows printer or PnP imaging device (WMI).
    Wmi,
    /// The USB bus of this PC (sysfs).
    Usb,
    /// SANE's `scanimage -L`.
    Sane,
}

/// How the device hangs on the PC or the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Connection {
    Usb,
    /// Reached over the network (IP address or URI).
    Network,
    /// A queue shared by another PC (Windows share, SMB).
    Shared,
    /// Parallel, serial or anything else.
    Other,
}

/// One printer, scanner or network device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peripheral {
    pub kind: PeripheralKind,
    pub source: PeripheralSource,
    pub connection: Connection,
    /// The queue or share name the users know it by ("HP-Ke-toan").
    #[serde(default)]
    pub name: Option<String>,
    /// IPv4/IPv6 address, for network devices.
    #[serde(default)]
    pub ip: Option<String>,
    /// Lower-case colon form (see [`crate::inventory::normalize_mac`]): a
    /// dedup key when the serial is missing.
    #[serde(default)]
    pub mac: Option<String>,
    /// The print queue's device URI (`ipp://…`, `socket://…`, `usb://…`).
    #[serde(default)]
    pub uri: Option<String>,
    /// The local port: a Windows port name ("USB001", "IP_10.0.0.5"), or the
    /// USB bus path ("1-1.2"): part of a serial-less USB device's identity.
    #[serde(default)]
    pub port: Option<String>,
    /// USB vendor and product id, 4 lower-case hex digits each.
    #[serde(default)]
    pub usb: Option<UsbId>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    /// Never a placeholder (see [`crate::firmware::is_placeholder_serial`]).
    #[serde(default)]
    pub serial: Option<String>,
    /// The print driver (Windows, CUPS make-and-model).
    #[serde(default)]
    pub driver: Option<String>,
    /// SNMP sysDescr, sysObjectID and sysName, kept for support.
    #[serde(default)]
    pub sys_descr: Option<String>,
    #[serde(default)]
    pub sys_object_id: Option<String>,
    #[serde(default)]
    pub sys_name: Option<String>,
    #[serde(default)]
    pub page_count: Option<PageCount>,
    #[serde(default)]
    pub supplies: Vec<Supply>,
}

impl Peripheral {
    /// An empty device of this kind from this source; fill the rest in.
    pub fn new(kind: PeripheralKind, source: PeripheralSource, connection: Connection) -> Self {
        Peripheral {
            kind,
            source,
            connection,
            name: None,
            ip: None,
            mac: None,
            uri: None,
            port: None,
            usb: None,
            vendor: None,
            model: None,
            serial: None,
            driver: None,
            sys_descr: None,
            sys_object_id: None,
            sys_name: None,
            page_count: None,
            supplies: Vec::new(),
        }
    }
}

/// A USB vendor/product id pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UsbId {
    pub vendor_id: String,
    pub product_id: String,
}

/// The lifetime page counter, and which counter it came from: vendors differ
/// on what the standard one counts, so the policy can tell them apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageCount {
    /// Impressions since manufacture.
    pub total: u64,
    pub counter: PageCounter,
}

/// Which counter a page count was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageCounter {
    /// Printer-MIB prtMarkerLifeCount (`1.3.6.1.2.1.43.10.2.1.4.1.1`).
    PrinterMib,
    /// A vendor's own total, used where the standard one is known to miss
    /// pages (Kyocera counts only printed pages there, not copies).
    Vendor,
}

/// One consumable (toner, drum, waste box...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supply {
    pub description: String,
    pub kind: SupplyKind,
    /// 0–100, or `null` when the device does not say (Printer-MIB −2
    /// "unknown", −3 "some remaining", or no maximum capacity).
    pub level_pct: Option<u8>,
    pub state: SupplyState,
}

/// Printer-MIB prtMarkerSuppliesType, reduced to what a user tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupplyKind {
    Toner,
    Ink,
    Drum,
    WasteToner,
    Fuser,
    TransferUnit,
    Developer,
    Other,
}

/// What a supply level means for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupplyState {
    Ok,
    /// At or below [`LOW_SUPPLY_PCT`].
    Low,
    Empty,
    /// The device says some remains but not how much (Printer-MIB −3).
    SomeRemaining,
    Unknown,
}

/// A supply at or below this percentage is reported low.
pub const LOW_SUPPLY_PCT: u8 = 10;

impl SupplyState {
    /// The words a user reads.
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match self {
            SupplyState::Ok => lang.pick("bình thường", "ok"),
            SupplyState::Low => lang.pick("sắp hết", "low"),
            SupplyState::Empty => lang.pick("đã hết", "empty"),
            SupplyState::SomeRemaining => lang.pick("còn (không rõ mức)", "some remaining"),
            SupplyState::Unknown => lang.pick("không rõ", "unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_are_kebab_case_and_round_trip() {
        let mut p = Peripheral::new(
            PeripheralKind::Mfp,
            PeripheralSource::Snmp,
            Connection::Network,
        );
        p.page_count = Some(PageCount {
            total: 12,
            counter: PageCounter::PrinterMib,
        });
        p.supplies.push(Supply {
            description: "Black Toner".into(),
            kind: SupplyKind::WasteToner,
            level_pct: None,
            state: SupplyState::SomeRemaining,
        });
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["kind"], "mfp");
        assert_eq!(json["page_count"]["counter"], "printer-mib");
        assert_eq!(json["supplies"][0]["kind"], "waste-toner");
        assert_eq!(json["supplies"][0]["state"], "some-remaining");
        let back: Peripheral = serde_json::from_value(json).expect("back");
        assert_eq!(back, p);
        assert!(PeripheralKind::Mfp.prints() && PeripheralKind::Mfp.scans());
        assert!(!PeripheralKind::NetworkGear.prints());
    }
}
