//! Asset categories, as the circulars group equipment, and how a reported
//! PC is placed in one.

use std::fmt;
use std::str::FromStr;

use kiemke_shared::Lang;
use kiemke_shared::inventory::Chassis;
use kiemke_shared::peripherals::PeripheralKind;
use serde::{Deserialize, Serialize};

/// An equipment category of the policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Desktop,
    Laptop,
    Tablet,
    Printer,
    Scanner,
    /// Multifunction device (print/scan/copy), counted as one unit.
    Mfp,
    Photocopier,
    NetworkGear,
    Other,
}

/// The category a reported printer, scanner or network device is counted
/// under (the survey's counts and the proposal's holdings alike).
impl From<PeripheralKind> for Category {
    fn from(kind: PeripheralKind) -> Category {
        match kind {
            PeripheralKind::Printer => Category::Printer,
            PeripheralKind::Mfp => Category::Mfp,
            PeripheralKind::Scanner => Category::Scanner,
            PeripheralKind::NetworkGear => Category::NetworkGear,
            PeripheralKind::Other => Category::Other,
        }
    }
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::Desktop,
        Category::Laptop,
        Category::Tablet,
        Category::Printer,
        Category::Scanner,
        Category::Mfp,
        Category::Photocopier,
        Category::NetworkGear,
        Category::Other,
    ];

    /// The spelling in the policy file and the API.
    pub fn key(self) -> &'static str {
        match self {
            Category::Desktop => "desktop",
            Category::Laptop => "laptop",
            Category::Tablet => "tablet",
            Category::Printer => "printer",
            Category::Scanner => "scanner",
            Category::Mfp => "mfp",
            Category::Photocopier => "photocopier",
            Category::NetworkGear => "network-gear",
            Category::Other => "other",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Category::Desktop => lang.pick("máy vi tính để bàn", "desktop PC"),
            Category::Laptop => lang.pick("máy tính xách tay", "laptop"),
            Category::Tablet => lang.pick("máy tính bảng", "tablet"),
            Category::Printer => lang.pick("máy in", "printer"),
            Category::Scanner => lang.pick("máy scan", "scanner"),
            Category::Mfp => lang.pick("máy in đa chức năng", "multifunction printer"),
            Category::Photocopier => lang.pick("máy photocopy", "photocopier"),
            Category::NetworkGear => lang.pick("thiết bị mạng", "network gear"),
            Category::Other => lang.pick("thiết bị khác", "other equipment"),
        }
    }

    /// The category of a PC by its SMBIOS chassis; `None` when the chassis
    /// is unknown (the policy file says what to assume then).
    pub fn from_chassis(chassis: Chassis) -> Category {
        match chassis {
            Chassis::Desktop | Chassis::AllInOne | Chassis::MiniPc => Category::Desktop,
            Chassis::Laptop => Category::Laptop,
            Chassis::Tablet => Category::Tablet,
            Chassis::Server | Chassis::Other => Category::Other,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Category::ALL
            .into_iter()
            .find(|c| c.key() == s)
            .ok_or_else(|| {
                format!(
                    "loại thiết bị không hợp lệ / unknown category {s:?} (desktop, laptop, \
                     tablet, printer, scanner, mfp, photocopier, network-gear, other)"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_chassis_map() {
        for c in Category::ALL {
            assert_eq!(c.key().parse::<Category>(), Ok(c));
            assert_eq!(serde_json::to_string(&c).ok(), Some(format!("\"{c}\"")));
        }
        assert_eq!(Category::from_chassis(Chassis::AllInOne), Category::Desktop);
        assert_eq!(Category::from_chassis(Chassis::Laptop), Category::Laptop);
        assert!("máy in".parse::<Category>().is_err());
    }
}
