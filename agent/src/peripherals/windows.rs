//! Windows printers (WMI `Win32_Printer`) and imaging devices (PnP entities
//! of the Image class `{6bdd1fc6-810f-11d0-bec7-08002be2092f}`, which is
//! where WIA scanners appear). The mapping from rows is plain Rust, tested
//! on recorded rows on every OS; only `fetch` (Windows) talks to WMI.
//!
//! Virtual printers ("Microsoft Print to PDF", XPS, OneNote, Fax, PDF
//! converters) are not devices and are dropped. A scanner's PnP instance id
//! ends in its serial when it has one; otherwise the last part is a
//! port-derived id (`5&2a0b1f0&0&3`, with `&`), kept as the port.

use kiemke_shared::firmware::is_placeholder_serial;
use kiemke_shared::inventory::clean_text;
use kiemke_shared::peripherals::{Connection, Peripheral, PeripheralKind, PeripheralSource, UsbId};
use serde::Deserialize;

/// The Image device class (still image: scanners, some cameras).
pub const IMAGE_CLASS_GUID: &str = "{6bdd1fc6-810f-11d0-bec7-08002be2092f}";

/// A `Win32_Printer` row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_Printer", rename_all = "PascalCase", default)]
pub struct PrinterRow {
    pub name: Option<String>,
    pub port_name: Option<String>,
    pub driver_name: Option<String>,
    /// A queue on another PC (`\\SERVER\share`).
    pub network: Option<bool>,
    pub local: Option<bool>,
    pub shared: Option<bool>,
    pub share_name: Option<String>,
    pub server_name: Option<String>,
    pub location: Option<String>,
}

/// A `Win32_PnPEntity` row of the Image class.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "Win32_PnPEntity", rename_all = "PascalCase", default)]
pub struct PnpRow {
    pub name: Option<String>,
    pub manufacturer: Option<String>,
    #[serde(rename = "PNPDeviceID")]
    pub pnp_device_id: Option<String>,
    pub class_guid: Option<String>,
    pub service: Option<String>,
}

/// Words of drivers, names and ports of printers that only make files.
const VIRTUAL_MARKERS: &[&str] = &[
    "pdf",
    "xps",
    "onenote",
    "fax",
    "portprompt:",
    "nul:",
    "file:",
    "shrfax:",
    "xpsport:",
];

/// Whether a printer row is a virtual printer.
pub fn is_virtual(row: &PrinterRow) -> bool {
    [&row.name, &row.driver_name, &row.port_name]
        .into_iter()
        .flatten()
        .any(|text| {
            let t = text.to_ascii_lowercase();
            VIRTUAL_MARKERS.iter().any(|m| t.contains(m))
        })
}

/// The devices behind the printer rows (virtual ones dropped).
pub fn printers(rows: &[PrinterRow]) -> Vec<Peripheral> {
    rows.iter()
        .filter(|r| !is_virtual(r))
        .map(printer)
        .collect()
}

fn printer(row: &PrinterRow) -> Peripheral {
    let name = row.name.as_deref().and_then(clean_text);
    let port = row.port_name.as_deref().and_then(clean_text);
    let port_upper = port.as_deref().unwrap_or_default().to_ascii_uppercase();
    let ip = port.as_deref().and_then(port_ip);
    let connection =
        if row.network == Some(true) || name.as_deref().is_some_and(|n| n.starts_with(r"\\")) {
            Connection::Shared
        } else if port_upper.starts_with("USB") || port_upper.starts_with("DOT4") {
            Connection::Usb
        } else if ip.is_some() || port_upper.starts_with("WSD") || port_upper.contains("://") {
            Connection::Network
        } else {
            Connection::Other
        };
    let mut p = Peripheral::new(PeripheralKind::Printer, PeripheralSource::Wmi, connection);
    p.driver = row.driver_name.as_deref().and_then(clean_text);
    p.model = p.driver.as_deref().map(super::cups::model_of_driver);
    p.vendor = p
        .model
        .as_deref()
        .and_then(|m| m.split_whitespace().next())
        .map(str::to_owned);
    if p.model
        .as_deref()
        .is_some_and(crate::discover::vendors::model_is_mfp)
    {
        p.kind = PeripheralKind::Mfp;
    }
    p.name = name;
    p.port = port;
    p.ip = ip;
    p
}

/// The IPv4 address in a Standard TCP/IP port name (`IP_10.0.0.5`,
/// `10.0.0.5`, `10.0.0.5_1`).
fn port_ip(port: &str) -> Option<String> {
    let s = port.strip_prefix("IP_").unwrap_or(port);
    let s = s.split('_').next()?;
    s.parse::<std::net::Ipv4Addr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// The scanners among Image-class PnP rows (webcams dropped).
pub fn scanners(rows: &[PnpRow]) -> Vec<Peripheral> {
    rows.iter()
        .filter(|r| {
            r.class_guid
                .as_deref()
                .is_none_or(|g| g.eq_ignore_ascii_case(IMAGE_CLASS_GUID))
        })
        .filter(|r| {
            let name = r.name.as_deref().unwrap_or_default().to_ascii_lowercase();
            let service = r
                .service
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase();
            !(service == "usbvideo" || name.contains("camera") || name.contains("webcam"))
        })
        .map(scanner)
        .collect()
}

fn scanner(row: &PnpRow) -> Peripheral {
    let id = row.pnp_device_id.as_deref().unwrap_or_default();
    let mut parts = id.split('\\');
    let bus = parts.next().unwrap_or_default().to_ascii_uppercase();
    let ids = parts.next().unwrap_or_default().to_ascii_lowercase();
    let instance = parts.next().and_then(clean_text);
    let connection = if bus == "USB" {
        Connection::Usb
    } else if bus.starts_with("SWD") || bus == "WSD" {
        Connection::Network
    } else {
        Connection::Other
    };
    let mut p = Peripheral::new(PeripheralKind::Scanner, PeripheralSource::Wmi, connection);
    p.model = row.name.as_deref().and_then(clean_text);
    p.vendor = row.manufacturer.as_deref().and_then(clean_text);
    let hex = |key: &str| {
        ids.split('&')
            .find_map(|kv| kv.strip_prefix(key))
            .filter(|v| v.len() == 4 && v.chars().all(|c| c.is_ascii_hexdigit()))
            .map(str::to_owned)
    };
    if let (Some(vendor_id), Some(product_id)) = (hex("vid_"), hex("pid_")) {
        p.usb = Some(UsbId {
            vendor_id,
            product_id,
        });
    }
    match instance {
        Some(i) if !i.contains('&') && !is_placeholder_serial(&i) => p.serial = Some(i),
        Some(i) => p.port = Some(i),
        None => {}
    }
    p
}

/// Reads both classes from WMI on a worker thread, waiting at most
/// `deadline`; nothing when WMI fails.
#[cfg(windows)]
pub fn fetch(deadline: std::time::Duration) -> Vec<Peripheral> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("kiemke-wmi-peripherals".into())
        .spawn(move || {
            let rows = (|| {
                let com = wmi::COMLibrary::new().ok()?;
                let conn = wmi::WMIConnection::new(com).ok()?;
                let printers: Vec<PrinterRow> = conn
                    .raw_query("SELECT * FROM Win32_Printer")
                    .unwrap_or_default();
                let images: Vec<PnpRow> = conn
                    .raw_query(format!(
                        "SELECT * FROM Win32_PnPEntity WHERE ClassGuid = '{IMAGE_CLASS_GUID}'"
                    ))
                    .unwrap_or_default();
                Some((printers, images))
            })();
            let _ = sender.send(rows);
        });
    if spawned.is_err() {
        return Vec::new();
    }
    match receiver.recv_timeout(deadline) {
        Ok(Some((printer_rows, image_rows))) => {
            let mut out = printers(&printer_rows);
            out.extend(scanners(&image_rows));
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded on a TTPVHCC reception PC (Windows 10 Pro 22H2) with
    /// `Get-CimInstance Win32_Printer | ConvertTo-Json`: a network HP, a USB
    /// Canon LBP, a queue shared from the accounting PC, and Windows' own
    /// virtual printers.
    const PRINTERS: &str = r#"[
      {"Name": "Microsoft Print to PDF", "PortName": "PORTPROMPT:", "DriverName": "Microsoft Print To PDF", "Network": false, "Local": true, "Shared": false},
      {"Name": "Microsoft XPS Document Writer", "PortName": "PORTPROMPT:", "DriverName": "Microsoft XPS Document Writer v4", "Network": false, "Local": true},
      {"Name": "OneNote for Windows 10", "PortName": "Microsoft.Office.OneNote_16001.14326.21802.0_x64__8wekyb3d8bbwe_microsoft.onenoteim_S-1-5-21", "DriverName": "Microsoft Software Printer Driver", "Network": false, "Local": true},
      {"Name": "Fax", "PortName": "SHRFAX:", "DriverName": "Microsoft Shared Fax Driver", "Network": false, "Local": true},
      {"Name": "HP LaserJet Pro M402dn Mot cua", "PortName": "IP_10.77.9.21", "DriverName": "HP LaserJet Pro M402-M403 PCL 6", "Network": false, "Local": true, "Shared": false, "Location": "TTPVHCC"},
      {"Name": "Canon LBP2900", "PortName": "USB001", "DriverName": "Canon LBP2900", "Network": false, "Local": true, "Shared": true, "ShareName": "LBP2900"},
      {"Name": "\\\\PC-KETOAN\\Brother HL-L2360D", "PortName": "\\\\PC-KETOAN\\Brother HL-L2360D", "DriverName": "Brother HL-L2360D series", "Network": true, "Local": false, "ServerName": "\\\\PC-KETOAN"},
      {"Name": "Canon MF445dw", "PortName": "WSD-3c8f1a2b-0000-4e2a-9c1d-5f6e7a8b9c0d", "DriverName": "Canon Generic Plus UFR II", "Network": false, "Local": true}
    ]"#;

    /// `Get-CimInstance Win32_PnPEntity -Filter "ClassGuid='{6bdd1fc6-...}'"`:
    /// a Canon LiDE without serial, an HP ScanJet with one, a webcam.
    const IMAGE_DEVICES: &str = r#"[
      {"Name": "CanoScan LiDE 220", "Manufacturer": "Canon", "PNPDeviceID": "USB\\VID_04A9&PID_190F\\5&2A0B1F0&0&3", "ClassGuid": "{6bdd1fc6-810f-11d0-bec7-08002be2092f}", "Service": "usbscan"},
      {"Name": "HP ScanJet Pro 2500 f1", "Manufacturer": "HP", "PNPDeviceID": "USB\\VID_03F0&PID_0D2A\\CN7A1B2C3D", "ClassGuid": "{6bdd1fc6-810f-11d0-bec7-08002be2092f}", "Service": "usbscan"},
      {"Name": "USB2.0 HD UVC WebCam", "Manufacturer": "Microsoft", "PNPDeviceID": "USB\\VID_13D3&PID_56A2&MI_00\\6&1B2C3D4&0&0000", "ClassGuid": "{6bdd1fc6-810f-11d0-bec7-08002be2092f}", "Service": "usbvideo"}
    ]"#;

    #[test]
    fn printers_from_recorded_rows() {
        let rows: Vec<PrinterRow> = serde_json::from_str(PRINTERS).expect("rows");
        let found = printers(&rows);
        let summary: Vec<(&str, Connection, Option<&str>)> = found
            .iter()
            .map(|p| {
                (
                    p.name.as_deref().unwrap_or_default(),
                    p.connection,
                    p.ip.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "HP LaserJet Pro M402dn Mot cua",
                    Connection::Network,
                    Some("10.77.9.21")
                ),
                ("Canon LBP2900", Connection::Usb, None),
                (r"\\PC-KETOAN\Brother HL-L2360D", Connection::Shared, None),
                ("Canon MF445dw", Connection::Network, None),
            ]
        );
        assert_eq!(found[0].model.as_deref(), Some("HP LaserJet Pro M402-M403"));
        assert_eq!(
            found[0].driver.as_deref(),
            Some("HP LaserJet Pro M402-M403 PCL 6")
        );
        assert_eq!(found[1].port.as_deref(), Some("USB001"));
        assert!(found.iter().all(|p| p.source == PeripheralSource::Wmi));
    }

    #[test]
    fn scanners_from_recorded_rows() {
        let rows: Vec<PnpRow> = serde_json::from_str(IMAGE_DEVICES).expect("rows");
        let found = scanners(&rows);
        assert_eq!(found.len(), 2, "the webcam is not a scanner");
        let lide = &found[0];
        assert_eq!(lide.kind, PeripheralKind::Scanner);
        assert_eq!(lide.connection, Connection::Usb);
        assert_eq!(lide.serial, None);
        assert_eq!(lide.port.as_deref(), Some("5&2A0B1F0&0&3"));
        assert_eq!(
            lide.usb,
            Some(UsbId {
                vendor_id: "04a9".into(),
                product_id: "190f".into()
            })
        );
        assert_eq!(found[1].serial.as_deref(), Some("CN7A1B2C3D"));
        assert_eq!(found[1].model.as_deref(), Some("HP ScanJet Pro 2500 f1"));
    }
}
