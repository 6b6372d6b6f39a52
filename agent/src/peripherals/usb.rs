//! USB scanners from sysfs (`/sys/bus/usb/devices`). Scanners have no USB
//! class of their own (most use the vendor-specific class 0xff, a few the
//! still-image class 6), so a device is a scanner when its ids are in the
//! table of known scanners, or when a scanner maker's product string says
//! so ("CanoScan", "ScanJet", "Perfection", "fi-7160"...). A scanner without
//! a serial is still reported: its identity is vendor/product id + this PC
//! + the port (`1-1.2`), which the server keys on.

use std::path::Path;

use kiemke_shared::firmware::is_placeholder_serial;
use kiemke_shared::inventory::clean_text;
use kiemke_shared::peripherals::{Connection, Peripheral, PeripheralKind, PeripheralSource, UsbId};

/// USB vendor ids of scanner makers, with the name reported.
const SCANNER_VENDORS: &[(&str, &str)] = &[
    ("04a9", "Canon"),
    ("1083", "Canon"),
    ("03f0", "HP"),
    ("04b8", "Epson"),
    ("04c5", "Fujitsu"),
    ("0638", "Avision"),
    ("040a", "Kodak"),
    ("07b3", "Plustek"),
    ("055f", "Mustek"),
    ("04f9", "Brother"),
    ("0a82", "Syscan"),
];

/// Vendor:product pairs known to be scanners whatever their strings say
/// (SANE's supported-device lists).
const KNOWN_SCANNERS: &[(&str, &str)] = &[
    ("04a9", "1909"), // CanoScan LiDE 110
    ("04a9", "190a"), // CanoScan LiDE 210
    ("04a9", "190e"), // CanoScan LiDE 120
    ("04a9", "190f"), // CanoScan LiDE 220
];

/// Words in a product string that name a scanner.
const SCANNER_WORDS: &[&str] = &[
    "scan",
    "lide",
    "perfection",
    "fi-",
    "dr-",
    "ds-",
    "document camera",
];

/// The scanners attached to this PC, read under `root` (`/` in production,
/// a recorded tree in tests).
pub fn scanners(root: &Path) -> Vec<Peripheral> {
    let dir = root.join("sys/bus/usb/devices");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        // Interfaces are `1-1.2:1.0`; root hubs `usb1`.
        .filter(|n| !n.contains(':') && !n.starts_with("usb"))
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|port| scanner(&dir, port))
        .collect()
}

fn attr(dir: &Path, name: &str) -> Option<String> {
    clean_text(&std::fs::read_to_string(dir.join(name)).ok()?)
}

fn scanner(devices: &Path, port: &str) -> Option<Peripheral> {
    let dir = devices.join(port);
    let vendor_id = attr(&dir, "idVendor")?.to_ascii_lowercase();
    let product_id = attr(&dir, "idProduct")?.to_ascii_lowercase();
    let product = attr(&dir, "product");
    let known = KNOWN_SCANNERS.contains(&(vendor_id.as_str(), product_id.as_str()));
    let maker = SCANNER_VENDORS
        .iter()
        .find(|(id, _)| *id == vendor_id)
        .map(|(_, name)| *name);
    let says_scanner = product.as_deref().is_some_and(|p| {
        let p = p.to_ascii_lowercase();
        SCANNER_WORDS.iter().any(|w| p.contains(w))
    });
    let prints = interface_classes(devices, port).contains(&7);
    if !(known || (maker.is_some() && says_scanner)) {
        return None;
    }
    // A printer interface too: a USB multifunction printer.
    let kind = if prints {
        PeripheralKind::Mfp
    } else {
        PeripheralKind::Scanner
    };
    let mut p = Peripheral::new(kind, PeripheralSource::Usb, Connection::Usb);
    p.port = Some(port.to_owned());
    p.vendor = maker
        .map(str::to_owned)
        .or_else(|| attr(&dir, "manufacturer"));
    p.model = product;
    p.serial = attr(&dir, "serial").filter(|s| !is_placeholder_serial(s));
    p.usb = Some(UsbId {
        vendor_id,
        product_id,
    });
    Some(p)
}

/// The bInterfaceClass of each interface of the device at `port`.
fn interface_classes(devices: &Path, port: &str) -> Vec<u8> {
    let prefix = format!("{port}:");
    std::fs::read_dir(devices.join(port))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|e| attr(&e.path(), "bInterfaceClass"))
        .filter_map(|c| u8::from_str_radix(&c, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn recorded() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/usb-office-pc")
    }

    #[test]
    fn finds_the_scanners_on_a_recorded_usb_tree() {
        let found = scanners(&recorded());
        type Row<'a> = (
            Option<&'a str>,
            PeripheralKind,
            Option<&'a str>,
            Option<&'a str>,
        );
        let summary: Vec<Row> = found
            .iter()
            .map(|p| {
                (
                    p.port.as_deref(),
                    p.kind,
                    p.model.as_deref(),
                    p.serial.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    Some("1-1.2"),
                    PeripheralKind::Scanner,
                    Some("CanoScan"),
                    None
                ),
                (
                    Some("1-1.3"),
                    PeripheralKind::Scanner,
                    Some("HP ScanJet Pro 2500 f1"),
                    Some("CN7A1B2C3D")
                ),
            ]
        );
        // The serial-less LiDE keeps its ids, vendor and port: its identity.
        let lide = &found[0];
        assert_eq!(
            lide.usb,
            Some(UsbId {
                vendor_id: "04a9".into(),
                product_id: "190f".into()
            })
        );
        assert_eq!(lide.vendor.as_deref(), Some("Canon"));
        assert_eq!(lide.source, PeripheralSource::Usb);
    }

    #[test]
    fn no_usb_tree_no_scanners() {
        assert!(scanners(Path::new("/nonexistent")).is_empty());
    }
}
