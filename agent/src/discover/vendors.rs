//! What we know of each vendor that the standard MIBs do not say: its IANA
//! enterprise number (the prefix of its sysObjectID), where it keeps the
//! serial when the Printer-MIB leaves it blank, a page counter that is right
//! where the standard one is not (Kyocera's prtMarkerLifeCount leaves out
//! copies), and counters that prove a device scans.
//!
//! Vendor OIDs are the ones open-source printer inventories read; each is
//! tried only after the standard objects, and a wrong one simply returns
//! nothing.

/// One vendor's quirks.
#[derive(Debug)]
pub struct Vendor {
    /// IANA private enterprise number: `1.3.6.1.4.1.<n>`.
    pub enterprise: u64,
    pub name: &'static str,
    /// Serial number objects, in the order tried.
    pub serial_oids: &'static [&'static str],
    /// A total page counter preferred over prtMarkerLifeCount.
    pub page_counter: Option<&'static str>,
    /// Scan counters: any that answers makes the device an MFP.
    pub scan_counters: &'static [&'static str],
    /// Makes switches and routers, not printers.
    pub network_gear: bool,
}

const fn printer(
    enterprise: u64,
    name: &'static str,
    serial_oids: &'static [&'static str],
) -> Vendor {
    Vendor {
        enterprise,
        name,
        serial_oids,
        page_counter: None,
        scan_counters: &[],
        network_gear: false,
    }
}

const fn gear(enterprise: u64, name: &'static str) -> Vendor {
    Vendor {
        enterprise,
        name,
        serial_oids: &[],
        page_counter: None,
        scan_counters: &[],
        network_gear: true,
    }
}

/// Kyocera's own total of printed and copied pages (kcprtMarkerServiceCount).
pub const KYOCERA_TOTAL: &str = "1.3.6.1.4.1.1347.43.10.1.1.12.1.1";

pub const VENDORS: &[Vendor] = &[
    printer(11, "HP", &["1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0"]),
    Vendor {
        scan_counters: &["1.3.6.1.4.1.1602.1.11.1.3.1.4.501"],
        ..printer(1602, "Canon", &["1.3.6.1.4.1.1602.1.2.1.4.0"])
    },
    printer(2435, "Brother", &["1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.1.0"]),
    printer(367, "Ricoh", &["1.3.6.1.4.1.367.3.2.1.2.1.4.0"]),
    printer(253, "Xerox", &["1.3.6.1.4.1.253.8.53.3.2.1.3.1"]),
    printer(297, "Fuji Xerox", &[]),
    printer(641, "Lexmark", &["1.3.6.1.4.1.641.2.1.2.1.6.1"]),
    Vendor {
        page_counter: Some(KYOCERA_TOTAL),
        scan_counters: &["1.3.6.1.4.1.1347.42.3.1.3.1.1.2"],
        ..printer(1347, "Kyocera", &["1.3.6.1.4.1.1347.43.5.1.1.28.1"])
    },
    printer(1248, "Epson", &[]),
    printer(236, "Samsung", &["1.3.6.1.4.1.236.11.5.1.1.1.4.0"]),
    printer(18334, "Konica Minolta", &[]),
    printer(2385, "Sharp", &[]),
    printer(1129, "Toshiba", &[]),
    gear(9, "Cisco"),
    gear(11863, "TP-Link"),
    gear(171, "D-Link"),
    gear(2011, "Huawei"),
    gear(14988, "MikroTik"),
    gear(41112, "Ubiquiti"),
    gear(2636, "Juniper"),
    gear(890, "Zyxel"),
    gear(4526, "Netgear"),
    gear(4881, "Ruijie"),
    gear(25506, "H3C"),
    gear(14823, "Aruba"),
    gear(12356, "Fortinet"),
];

/// The enterprise number in a sysObjectID (`1.3.6.1.4.1.<n>...`).
pub fn enterprise_of(sys_object_id: &str) -> Option<u64> {
    sys_object_id
        .trim_start_matches('.')
        .strip_prefix("1.3.6.1.4.1.")?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// The vendor of a sysObjectID, when we know it.
pub fn by_object_id(sys_object_id: &str) -> Option<&'static Vendor> {
    let n = enterprise_of(sys_object_id)?;
    VENDORS.iter().find(|v| v.enterprise == n)
}

/// Every vendor OID worth a GET on a device of this vendor.
pub fn oids(vendor: &Vendor) -> Vec<&'static str> {
    let mut oids: Vec<&'static str> = vendor.serial_oids.to_vec();
    oids.extend(vendor.page_counter);
    oids.extend_from_slice(vendor.scan_counters);
    oids
}

/// Whether a model name says the device scans too: vendors' MFP naming
/// (HP "MFP", Brother "MFC-"/"DCP-", Canon "MF"/"iR", Kyocera "ECOSYS M" and
/// "TASKalfa", Ricoh "IM"/"MP", Xerox "WorkCentre").
pub fn model_is_mfp(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    let words: Vec<&str> = m
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .collect();
    m.contains("mfp")
        || m.contains("mfc-")
        || m.contains("dcp-")
        || m.contains("workcentre")
        || m.contains("taskalfa")
        || m.contains("imagerunner")
        || m.contains("ecosys m")
        || words.iter().any(|w| {
            (w.starts_with("mf") && w[2..].starts_with(|c: char| c.is_ascii_digit()))
                || (w.starts_with("ir")
                    && w[2..].starts_with(|c: char| c.is_ascii_digit() || c == '-'))
                || *w == "mp"
                || *w == "im"
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprises_and_vendors() {
        assert_eq!(enterprise_of("1.3.6.1.4.1.1347.41"), Some(1347));
        assert_eq!(enterprise_of(".1.3.6.1.4.1.11.2.3.9.1"), Some(11));
        assert_eq!(enterprise_of("1.3.6.1.2.1.1"), None);
        assert_eq!(
            by_object_id("1.3.6.1.4.1.2435.2.3.9.1").map(|v| v.name),
            Some("Brother")
        );
        assert!(by_object_id("1.3.6.1.4.1.11863.1.1.3").is_some_and(|v| v.network_gear));
        let kyocera = by_object_id("1.3.6.1.4.1.1347.41").expect("kyocera");
        assert!(oids(kyocera).contains(&KYOCERA_TOTAL));
    }

    #[test]
    fn mfp_model_names() {
        for (model, mfp) in [
            ("HP LaserJet Pro MFP M428fdw", true),
            ("HP LaserJet Pro M402dn", false),
            ("Brother MFC-L2701DW series", true),
            ("Brother HL-L2360D series", false),
            ("Canon MF445dw", true),
            ("Canon iR2425", true),
            ("Canon LBP2900", false),
            ("ECOSYS M2040dn", true),
            ("ECOSYS P2040dn", false),
            ("Xerox WorkCentre 3025", true),
        ] {
            assert_eq!(model_is_mfp(model), mfp, "{model}");
        }
    }
}
