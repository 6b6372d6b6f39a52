//! Reading a host's SNMP answers as a device: what it is (Printer-MIB and
//! Host-Resources-MIB answers make a printer; scan counters or an MFP model
//! name an MFP; the Bridge-MIB or a network vendor a switch), its model,
//! serial, page counter and supplies. Pure functions over a [`Snapshot`], so
//! every rule is tested on recorded values without a network.

use std::collections::BTreeMap;

use kiemke_shared::firmware::is_placeholder_serial;
use kiemke_shared::inventory::{clean_text, normalize_mac};
use kiemke_shared::peripherals::{
    Connection, LOW_SUPPLY_PCT, PageCount, PageCounter, Peripheral, PeripheralKind,
    PeripheralSource, Supply, SupplyKind, SupplyState,
};

use super::snmp::{Snapshot, SnmpValue};
use super::vendors;

pub const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
pub const SYS_OBJECT_ID: &str = "1.3.6.1.2.1.1.2.0";
pub const SYS_NAME: &str = "1.3.6.1.2.1.1.5.0";
/// hrDeviceType.1: `1.3.6.1.2.1.25.3.1.5` (hrDevicePrinter) on printers.
pub const HR_DEVICE_TYPE: &str = "1.3.6.1.2.1.25.3.2.1.2.1";
pub const HR_DEVICE_PRINTER: &str = "1.3.6.1.2.1.25.3.1.5";
/// hrDeviceDescr.1: the model on nearly every printer.
pub const HR_DEVICE_DESCR: &str = "1.3.6.1.2.1.25.3.2.1.3.1";
/// prtGeneralPrinterName.1, a fallback for the model.
pub const PRT_GENERAL_PRINTER_NAME: &str = "1.3.6.1.2.1.43.5.1.1.16.1";
pub const PRT_GENERAL_SERIAL: &str = "1.3.6.1.2.1.43.5.1.1.17.1";
/// entPhysicalSerialNum.1 (Entity-MIB).
pub const ENT_PHYSICAL_SERIAL: &str = "1.3.6.1.2.1.47.1.1.1.1.11.1";
/// prtMarkerLifeCount.1.1.
pub const PRT_MARKER_LIFE_COUNT: &str = "1.3.6.1.2.1.43.10.2.1.4.1.1";
/// dot1dBaseNumPorts: only bridges (switches) answer it.
pub const DOT1D_BASE_NUM_PORTS: &str = "1.3.6.1.2.1.17.1.2.0";
/// prtMarkerSuppliesTable entries: `.<column>.<hrDeviceIndex>.<supplyIndex>`.
pub const PRT_MARKER_SUPPLIES: &str = "1.3.6.1.2.1.43.11.1.1";
/// ifPhysAddress column of the interfaces table.
pub const IF_PHYS_ADDRESS: &str = "1.3.6.1.2.1.2.2.1.6";

/// Scalars read from every host that answers SNMP.
pub const SCALARS: &[&str] = &[
    SYS_OBJECT_ID,
    SYS_NAME,
    HR_DEVICE_TYPE,
    HR_DEVICE_DESCR,
    PRT_GENERAL_PRINTER_NAME,
    PRT_GENERAL_SERIAL,
    ENT_PHYSICAL_SERIAL,
    PRT_MARKER_LIFE_COUNT,
    DOT1D_BASE_NUM_PORTS,
];

/// Tables walked on every host that answers SNMP.
pub const WALKS: &[&str] = &[IF_PHYS_ADDRESS, PRT_MARKER_SUPPLIES];

/// Whether the Printer-MIB (or Host-Resources printer entry) answered.
pub fn is_printer(snap: &Snapshot) -> bool {
    let supplies_prefix = format!("{PRT_MARKER_SUPPLIES}.");
    snap.get(HR_DEVICE_TYPE)
        .is_some_and(|v| v.text().as_deref() == Some(HR_DEVICE_PRINTER))
        || snap.contains_key(PRT_MARKER_LIFE_COUNT)
        || snap.contains_key(PRT_GENERAL_SERIAL)
        || snap.keys().any(|k| k.starts_with(&supplies_prefix))
}

/// The device a host's answers describe.
pub fn interpret(ip: &str, snap: &Snapshot) -> Peripheral {
    let sys_object_id = text(snap, SYS_OBJECT_ID);
    let vendor = sys_object_id.as_deref().and_then(vendors::by_object_id);
    let printer = is_printer(snap);

    let model = if printer {
        text(snap, HR_DEVICE_DESCR).or_else(|| text(snap, PRT_GENERAL_PRINTER_NAME))
    } else {
        None
    };
    let scans = vendor.is_some_and(|v| v.scan_counters.iter().any(|o| snap.contains_key(*o)))
        || model.as_deref().is_some_and(vendors::model_is_mfp);
    let kind = if printer && scans {
        PeripheralKind::Mfp
    } else if printer {
        PeripheralKind::Printer
    } else if vendor.is_some_and(|v| v.network_gear) || snap.contains_key(DOT1D_BASE_NUM_PORTS) {
        PeripheralKind::NetworkGear
    } else {
        PeripheralKind::Other
    };

    let mut device = Peripheral::new(kind, PeripheralSource::Snmp, Connection::Network);
    device.ip = Some(ip.to_owned());
    device.sys_descr = text(snap, SYS_DESCR);
    device.sys_name = text(snap, SYS_NAME);
    device.sys_object_id = sys_object_id;
    device.mac = mac(snap);
    device.vendor = vendor.map(|v| v.name.to_owned()).or_else(|| {
        model
            .as_deref()
            .and_then(|m| m.split_whitespace().next())
            .map(str::to_owned)
    });
    let vendor_serials = vendor.map(|v| v.serial_oids).unwrap_or_default();
    device.serial = [ENT_PHYSICAL_SERIAL, PRT_GENERAL_SERIAL]
        .iter()
        .chain(vendor_serials)
        .filter_map(|oid| text(snap, oid))
        .find(|s| !is_placeholder_serial(s));
    device.model = model;
    if printer {
        device.page_count = page_count(snap, vendor.and_then(|v| v.page_counter));
        device.supplies = supplies(snap);
    }
    device
}

fn text(snap: &Snapshot, oid: &str) -> Option<String> {
    snap.get(oid)
        .and_then(SnmpValue::text)
        .and_then(|t| clean_text(&t))
}

/// The first real hardware address among the interfaces.
fn mac(snap: &Snapshot) -> Option<String> {
    let prefix = format!("{IF_PHYS_ADDRESS}.");
    snap.range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .find_map(|(_, v)| match v {
            SnmpValue::Bytes(b) if b.len() == 6 && b.iter().any(|x| *x != 0) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                normalize_mac(&hex)
            }
            _ => None,
        })
}

/// The vendor counter where the vendor has one that answers, else the
/// Printer-MIB's. Negative or absurd values are no reading.
fn page_count(snap: &Snapshot, vendor_counter: Option<&str>) -> Option<PageCount> {
    let read = |oid: &str| {
        snap.get(oid)
            .and_then(SnmpValue::int)
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n <= kiemke_shared::validate::MAX_PAGE_COUNT)
    };
    vendor_counter
        .and_then(&read)
        .map(|total| PageCount {
            total,
            counter: PageCounter::Vendor,
        })
        .or_else(|| {
            read(PRT_MARKER_LIFE_COUNT).map(|total| PageCount {
                total,
                counter: PageCounter::PrinterMib,
            })
        })
}

/// The rows of prtMarkerSuppliesTable, in index order.
pub fn supplies(snap: &Snapshot) -> Vec<Supply> {
    let prefix = format!("{PRT_MARKER_SUPPLIES}.");
    // (device index, supply index) -> column -> value
    let mut rows: BTreeMap<(u64, u64), BTreeMap<u32, &SnmpValue>> = BTreeMap::new();
    for (oid, value) in snap.range(prefix.clone()..) {
        let Some(rest) = oid.strip_prefix(&prefix) else {
            break;
        };
        let arcs: Vec<u64> = rest.split('.').filter_map(|a| a.parse().ok()).collect();
        if let [column, device, index] = arcs[..] {
            if let Ok(column) = u32::try_from(column) {
                rows.entry((device, index))
                    .or_default()
                    .insert(column, value);
            }
        }
    }
    rows.values()
        .filter_map(|cols| {
            let description = cols
                .get(&6)
                .and_then(|v| v.text())
                .and_then(|t| clean_text(&t))?;
            let kind = supply_kind(cols.get(&5).and_then(|v| v.int()).unwrap_or(2));
            let max = cols.get(&8).and_then(|v| v.int());
            let level = cols.get(&9).and_then(|v| v.int());
            let (level_pct, state) = supply_level(level, max);
            Some(Supply {
                description,
                kind,
                level_pct,
                state,
            })
        })
        .take(kiemke_shared::validate::MAX_SUPPLIES)
        .collect()
}

/// prtMarkerSuppliesType (RFC 3805 PrtMarkerSuppliesTypeTC).
fn supply_kind(code: i64) -> SupplyKind {
    match code {
        3 | 21 => SupplyKind::Toner,
        4 => SupplyKind::WasteToner,
        5..=7 => SupplyKind::Ink,
        9 => SupplyKind::Drum,
        10 => SupplyKind::Developer,
        15 => SupplyKind::Fuser,
        20 => SupplyKind::TransferUnit,
        _ => SupplyKind::Other,
    }
}

/// Level × 100 / max capacity, honouring the Printer-MIB's special values:
/// −1 (no restriction) and −2 (unknown) say nothing, −3 says "some left".
pub fn supply_level(level: Option<i64>, max: Option<i64>) -> (Option<u8>, SupplyState) {
    match (level, max) {
        (Some(-3), _) => (None, SupplyState::SomeRemaining),
        (Some(level), Some(max)) if level >= 0 && max > 0 => {
            let pct = (level.min(max) * 100 + max / 2) / max;
            let pct = u8::try_from(pct.clamp(0, 100)).unwrap_or(100);
            let state = if pct == 0 {
                SupplyState::Empty
            } else if pct <= LOW_SUPPLY_PCT {
                SupplyState::Low
            } else {
                SupplyState::Ok
            };
            (Some(pct), state)
        }
        _ => (None, SupplyState::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(entries: &[(&str, SnmpValue)]) -> Snapshot {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn s(t: &str) -> SnmpValue {
        SnmpValue::Bytes(t.as_bytes().to_vec())
    }

    #[test]
    fn supply_levels_and_special_values() {
        for (level, max, pct, state) in [
            (Some(37), Some(100), Some(37), SupplyState::Ok),
            (Some(8400), Some(12000), Some(70), SupplyState::Ok),
            (Some(8), Some(100), Some(8), SupplyState::Low),
            (Some(0), Some(100), Some(0), SupplyState::Empty),
            (Some(150), Some(100), Some(100), SupplyState::Ok),
            (Some(-3), Some(2600), None, SupplyState::SomeRemaining),
            (Some(-2), Some(100), None, SupplyState::Unknown),
            (Some(-1), Some(100), None, SupplyState::Unknown),
            (Some(50), Some(-2), None, SupplyState::Unknown),
            (None, None, None, SupplyState::Unknown),
        ] {
            assert_eq!(supply_level(level, max), (pct, state), "{level:?}/{max:?}");
        }
    }

    #[test]
    fn kyocera_vendor_counter_wins_over_the_standard_one() {
        let snap = snap(&[
            (SYS_OBJECT_ID, SnmpValue::Oid("1.3.6.1.4.1.1347.41".into())),
            (HR_DEVICE_DESCR, s("ECOSYS P2040dn")),
            (PRT_MARKER_LIFE_COUNT, SnmpValue::Unsigned(30512)),
            (vendors::KYOCERA_TOTAL, SnmpValue::Int(31877)),
        ]);
        let d = interpret("10.0.0.9", &snap);
        assert_eq!(d.kind, PeripheralKind::Printer);
        assert_eq!(
            d.page_count,
            Some(PageCount {
                total: 31877,
                counter: PageCounter::Vendor
            })
        );
        assert_eq!(d.vendor.as_deref(), Some("Kyocera"));
    }

    #[test]
    fn placeholder_serials_fall_through_to_the_next_source() {
        let snap = snap(&[
            (
                SYS_OBJECT_ID,
                SnmpValue::Oid("1.3.6.1.4.1.11.2.3.9.1".into()),
            ),
            (PRT_MARKER_LIFE_COUNT, SnmpValue::Unsigned(5)),
            (ENT_PHYSICAL_SERIAL, s("XXXXXXXXXX")),
            (PRT_GENERAL_SERIAL, s("0000000000")),
            ("1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0", s("PHBCK12345")),
        ]);
        assert_eq!(
            interpret("10.0.0.9", &snap).serial.as_deref(),
            Some("PHBCK12345")
        );
    }

    #[test]
    fn switches_and_unknown_hosts_are_not_printers() {
        let switch = snap(&[
            (SYS_OBJECT_ID, SnmpValue::Oid("1.3.6.1.4.1.99999.1".into())),
            (DOT1D_BASE_NUM_PORTS, SnmpValue::Int(10)),
        ]);
        assert_eq!(
            interpret("10.0.0.1", &switch).kind,
            PeripheralKind::NetworkGear
        );
        let nas = snap(&[(SYS_DESCR, s("Linux nas 5.10"))]);
        let d = interpret("10.0.0.2", &nas);
        assert_eq!(d.kind, PeripheralKind::Other);
        assert!(d.page_count.is_none() && d.model.is_none());
    }

    #[test]
    fn supplies_table_rows_and_mac() {
        let snap = snap(&[
            (HR_DEVICE_TYPE, SnmpValue::Oid(HR_DEVICE_PRINTER.into())),
            ("1.3.6.1.2.1.2.2.1.6.1", SnmpValue::Bytes(vec![0; 6])),
            (
                "1.3.6.1.2.1.2.2.1.6.2",
                SnmpValue::Bytes(vec![0x9c, 0x8e, 0x99, 0xc1, 0xa2, 0xb3]),
            ),
            ("1.3.6.1.2.1.43.11.1.1.5.1.1", SnmpValue::Int(21)),
            ("1.3.6.1.2.1.43.11.1.1.5.1.2", SnmpValue::Int(9)),
            ("1.3.6.1.2.1.43.11.1.1.6.1.1", s("Black Cartridge\0")),
            ("1.3.6.1.2.1.43.11.1.1.6.1.2", s("Drum")),
            ("1.3.6.1.2.1.43.11.1.1.8.1.1", SnmpValue::Int(100)),
            ("1.3.6.1.2.1.43.11.1.1.8.1.2", SnmpValue::Int(100)),
            ("1.3.6.1.2.1.43.11.1.1.9.1.1", SnmpValue::Int(37)),
            ("1.3.6.1.2.1.43.11.1.1.9.1.2", SnmpValue::Int(-2)),
        ]);
        let d = interpret("10.0.0.3", &snap);
        assert_eq!(d.mac.as_deref(), Some("9c:8e:99:c1:a2:b3"));
        assert_eq!(d.supplies.len(), 2);
        assert_eq!(d.supplies[0].description, "Black Cartridge");
        assert_eq!(d.supplies[0].kind, SupplyKind::Toner);
        assert_eq!(d.supplies[0].level_pct, Some(37));
        assert_eq!(d.supplies[1].kind, SupplyKind::Drum);
        assert_eq!(d.supplies[1].state, SupplyState::Unknown);
    }
}
