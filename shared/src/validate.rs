//! Limits on everything a report may contain. The server refuses a report
//! that breaks one with a 4xx naming the field; the agent checks its own
//! reports before spooling them so a bad one never clogs the queue.
//!
//! Limits are generous for real PCs and tight against abuse: a commune PC has
//! a handful of disks and NICs, not thousands; no PC has 10^18 bytes of RAM.
//! Dates are checked against a fixed sane range, not the server's clock,
//! because old PCs with dead CMOS batteries report wrong times and their
//! inventory is still worth keeping.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::inventory::Inventory;
use crate::peripherals::Peripherals;
use crate::report::Report;
use crate::{Lang, protocol};

/// Longest free-text value (model names, serials, versions).
pub const MAX_TEXT: usize = 256;
pub const MAX_DISKS: usize = 64;
pub const MAX_NICS: usize = 128;
pub const MAX_ADDRESSES_PER_NIC: usize = 64;
pub const MAX_MONITORS: usize = 16;
pub const MAX_NOTES: usize = 64;
/// 64 TiB of RAM.
pub const MAX_MEMORY_BYTES: u64 = 64 << 40;
/// 1 PiB per disk.
pub const MAX_DISK_BYTES: u64 = 1 << 50;
pub const MAX_CORES: u32 = 4096;
pub const MAX_CPU_MHZ: u32 = 10_000;
pub const MAX_LINK_MBPS: u32 = 400_000;
/// Devices in one report's peripherals section (a /22 office LAN's printers,
/// switches and the PC's own queues, with room to spare).
pub const MAX_PERIPHERALS: usize = 512;
pub const MAX_SUPPLIES: usize = 32;
/// A lifetime page counter past a billion impressions is a broken reading
/// (the largest production printers do tens of millions).
pub const MAX_PAGE_COUNT: u64 = 1_000_000_000;
pub const EARLIEST_YEAR: i32 = 1980;
pub const LATEST_YEAR: i32 = 2100;

/// One broken limit: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// Dotted path, e.g. `inventory.disks[3].size_bytes`.
    pub field: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("longer than {max} characters")]
    TooLong { max: usize },
    #[error("more than {max} entries")]
    TooMany { max: usize },
    #[error("out of range (at most {max})")]
    TooLarge { max: u64 },
    #[error("year outside {min}..={max}")]
    YearOutOfRange { min: i32, max: i32 },
    #[error("contains control characters")]
    ControlCharacters,
    #[error("empty")]
    Empty,
    #[error("not a valid value: {0}")]
    Invalid(&'static str),
    #[error("protocol version {0} is not supported")]
    UnsupportedVersion(u32),
}

impl ValidationError {
    fn new(field: impl Into<String>, problem: Problem) -> Self {
        ValidationError {
            field: field.into(),
            problem,
        }
    }

    /// The message a user reads, naming the field.
    pub fn message(&self, lang: Lang) -> String {
        let f = &self.field;
        match (&self.problem, lang) {
            (Problem::TooLong { max }, Lang::Vi) => format!("Trường {f} dài quá {max} ký tự"),
            (Problem::TooMany { max }, Lang::Vi) => format!("Trường {f} có quá {max} phần tử"),
            (Problem::TooLarge { max }, Lang::Vi) => {
                format!("Trường {f} vượt giới hạn (tối đa {max})")
            }
            (Problem::YearOutOfRange { min, max }, Lang::Vi) => {
                format!("Trường {f} có năm ngoài khoảng {min}–{max}")
            }
            (Problem::ControlCharacters, Lang::Vi) => format!("Trường {f} chứa ký tự điều khiển"),
            (Problem::Empty, Lang::Vi) => format!("Trường {f} không được để trống"),
            (Problem::Invalid(what), Lang::Vi) => format!("Trường {f} không hợp lệ: {what}"),
            (Problem::UnsupportedVersion(v), Lang::Vi) => {
                format!("Phiên bản giao thức {v} không được hỗ trợ")
            }
            (_, Lang::En) => format!("field {f}: {}", self.problem),
        }
    }
}

/// Checks every limit of a decoded report; the first broken one is returned.
pub fn validate_report(report: &Report) -> Result<(), ValidationError> {
    if !protocol::SUPPORTED_VERSIONS.contains(&report.protocol_version) {
        return Err(ValidationError::new(
            "protocol_version",
            Problem::UnsupportedVersion(report.protocol_version),
        ));
    }
    check_time("taken_at", &report.taken_at)?;
    required_text("agent.version", &report.agent.version)?;
    required_text("agent.os_family", &report.agent.os_family)?;
    if let Some(inventory) = &report.inventory {
        validate_inventory(inventory)?;
    }
    if let Some(peripherals) = &report.peripherals {
        validate_peripherals(peripherals)?;
    }
    Ok(())
}

/// Checks every limit of a peripherals section.
pub fn validate_peripherals(per: &Peripherals) -> Result<(), ValidationError> {
    max_count("peripherals.devices", per.devices.len(), MAX_PERIPHERALS)?;
    for (i, d) in per.devices.iter().enumerate() {
        let p = format!("peripherals.devices[{i}]");
        let texts = [
            ("name", &d.name),
            ("uri", &d.uri),
            ("port", &d.port),
            ("vendor", &d.vendor),
            ("model", &d.model),
            ("serial", &d.serial),
            ("driver", &d.driver),
            ("sys_descr", &d.sys_descr),
            ("sys_object_id", &d.sys_object_id),
            ("sys_name", &d.sys_name),
        ];
        for (name, value) in texts {
            optional_text(&format!("{p}.{name}"), value)?;
        }
        if let Some(ip) = &d.ip {
            if ip.parse::<IpAddr>().is_err() {
                return Err(ValidationError::new(
                    format!("{p}.ip"),
                    Problem::Invalid("IP address"),
                ));
            }
        }
        if let Some(mac) = &d.mac {
            if crate::inventory::normalize_mac(mac).as_deref() != Some(mac.as_str()) {
                return Err(ValidationError::new(
                    format!("{p}.mac"),
                    Problem::Invalid("MAC aa:bb:cc:dd:ee:ff"),
                ));
            }
        }
        if let Some(usb) = &d.usb {
            for (name, id) in [
                ("vendor_id", &usb.vendor_id),
                ("product_id", &usb.product_id),
            ] {
                let ok = id.len() == 4
                    && id
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
                if !ok {
                    return Err(ValidationError::new(
                        format!("{p}.usb.{name}"),
                        Problem::Invalid("4 lower-case hex digits"),
                    ));
                }
            }
        }
        if let Some(count) = &d.page_count {
            max_u64(
                &format!("{p}.page_count.total"),
                Some(count.total),
                MAX_PAGE_COUNT,
            )?;
        }
        max_count(&format!("{p}.supplies"), d.supplies.len(), MAX_SUPPLIES)?;
        for (j, s) in d.supplies.iter().enumerate() {
            let q = format!("{p}.supplies[{j}]");
            text(&format!("{q}.description"), &s.description)?;
            max_u64(&format!("{q}.level_pct"), s.level_pct.map(u64::from), 100)?;
        }
    }
    Ok(())
}

/// Checks every limit of an inventory section.
pub fn validate_inventory(inv: &Inventory) -> Result<(), ValidationError> {
    let texts = [
        ("inventory.hostname", &inv.hostname),
        ("inventory.os.name", &inv.os.name),
        ("inventory.os.version", &inv.os.version),
        ("inventory.os.build", &inv.os.build),
        ("inventory.os.kernel", &inv.os.kernel),
        ("inventory.os.arch", &inv.os.arch),
        ("inventory.system.vendor", &inv.system.vendor),
        ("inventory.system.model", &inv.system.model),
        ("inventory.system.serial", &inv.system.serial),
        ("inventory.system.uuid", &inv.system.uuid),
        ("inventory.bios.vendor", &inv.bios.vendor),
        ("inventory.bios.version", &inv.bios.version),
        ("inventory.cpu.brand", &inv.cpu.brand),
        ("inventory.tpm.version", &inv.tpm.version),
    ];
    for (field, value) in texts {
        optional_text(field, value)?;
    }
    for (field, time) in [
        ("inventory.os.boot_time", &inv.os.boot_time),
        ("inventory.os.install_date", &inv.os.install_date),
    ] {
        if let Some(t) = time {
            check_time(field, t)?;
        }
    }
    if let Some(date) = inv.bios.date {
        check_date("inventory.bios.date", date)?;
    }
    max_u64(
        "inventory.memory.total_bytes",
        inv.memory.total_bytes,
        MAX_MEMORY_BYTES,
    )?;
    max_u64(
        "inventory.cpu.cores_physical",
        inv.cpu.cores_physical.map(u64::from),
        MAX_CORES.into(),
    )?;
    max_u64(
        "inventory.cpu.cores_logical",
        inv.cpu.cores_logical.map(u64::from),
        MAX_CORES.into(),
    )?;
    max_u64(
        "inventory.cpu.base_mhz",
        inv.cpu.base_mhz.map(u64::from),
        MAX_CPU_MHZ.into(),
    )?;

    max_count("inventory.disks", inv.disks.len(), MAX_DISKS)?;
    for (i, d) in inv.disks.iter().enumerate() {
        let p = format!("inventory.disks[{i}]");
        required_text(&format!("{p}.name"), &d.name)?;
        optional_text(&format!("{p}.model"), &d.model)?;
        optional_text(&format!("{p}.serial"), &d.serial)?;
        optional_text(&format!("{p}.bus"), &d.bus)?;
        max_u64(&format!("{p}.size_bytes"), d.size_bytes, MAX_DISK_BYTES)?;
    }

    max_count("inventory.nics", inv.nics.len(), MAX_NICS)?;
    for (i, n) in inv.nics.iter().enumerate() {
        let p = format!("inventory.nics[{i}]");
        required_text(&format!("{p}.name"), &n.name)?;
        if let Some(mac) = &n.mac {
            if crate::inventory::normalize_mac(mac).as_deref() != Some(mac.as_str()) {
                return Err(ValidationError::new(
                    format!("{p}.mac"),
                    Problem::Invalid("MAC aa:bb:cc:dd:ee:ff"),
                ));
            }
        }
        max_u64(
            &format!("{p}.link_mbps"),
            n.link_mbps.map(u64::from),
            MAX_LINK_MBPS.into(),
        )?;
        max_count(
            &format!("{p}.addresses"),
            n.addresses.len(),
            MAX_ADDRESSES_PER_NIC,
        )?;
        for (j, a) in n.addresses.iter().enumerate() {
            if !is_cidr(a) {
                return Err(ValidationError::new(
                    format!("{p}.addresses[{j}]"),
                    Problem::Invalid("IP/prefix"),
                ));
            }
        }
    }

    max_count("inventory.monitors", inv.monitors.len(), MAX_MONITORS)?;
    for (i, m) in inv.monitors.iter().enumerate() {
        let p = format!("inventory.monitors[{i}]");
        optional_text(&format!("{p}.manufacturer"), &m.manufacturer)?;
        optional_text(&format!("{p}.model"), &m.model)?;
        optional_text(&format!("{p}.serial"), &m.serial)?;
        optional_text(&format!("{p}.connector"), &m.connector)?;
        if let Some(year) = m.year {
            check_year(&format!("{p}.year"), i32::from(year))?;
        }
    }

    max_count("inventory.notes", inv.notes.len(), MAX_NOTES)?;
    for (i, n) in inv.notes.iter().enumerate() {
        required_text(&format!("inventory.notes[{i}].field"), &n.field)?;
    }
    Ok(())
}

fn required_text(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, Problem::Empty));
    }
    text(field, value)
}

fn optional_text(field: &str, value: &Option<String>) -> Result<(), ValidationError> {
    value.as_deref().map_or(Ok(()), |v| text(field, v))
}

fn text(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            field,
            Problem::TooLong { max: MAX_TEXT },
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, Problem::ControlCharacters));
    }
    Ok(())
}

fn max_u64(field: &str, value: Option<u64>, max: u64) -> Result<(), ValidationError> {
    match value {
        Some(v) if v > max => Err(ValidationError::new(field, Problem::TooLarge { max })),
        _ => Ok(()),
    }
}

fn max_count(field: &str, len: usize, max: usize) -> Result<(), ValidationError> {
    if len > max {
        return Err(ValidationError::new(field, Problem::TooMany { max }));
    }
    Ok(())
}

fn check_year(field: &str, year: i32) -> Result<(), ValidationError> {
    if (EARLIEST_YEAR..=LATEST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            Problem::YearOutOfRange {
                min: EARLIEST_YEAR,
                max: LATEST_YEAR,
            },
        ))
    }
}

fn check_time(field: &str, t: &DateTime<Utc>) -> Result<(), ValidationError> {
    check_year(field, t.year())
}

fn check_date(field: &str, d: NaiveDate) -> Result<(), ValidationError> {
    check_year(field, d.year())
}

fn is_cidr(s: &str) -> bool {
    let (ip, prefix) = s.split_once('/').unwrap_or((s, ""));
    match ip.parse::<IpAddr>() {
        Ok(addr) => {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            prefix.is_empty() || prefix.parse::<u8>().is_ok_and(|p| p <= max)
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AgentId;
    use crate::inventory::{Disk, DiskKind, Nic};
    use crate::report::AgentInfo;

    fn report() -> Report {
        let mut r = Report::new(
            AgentId::generate(),
            AgentInfo {
                version: "0.1.0".into(),
                os_family: "linux".into(),
                privileged: Some(false),
            },
            Utc::now(),
        );
        r.inventory = Some(Inventory::default());
        r
    }

    fn nic() -> Nic {
        Nic {
            name: "eth0".into(),
            mac: Some("3c:52:82:0a:1b:2c".into()),
            addresses: vec!["192.168.1.5/24".into(), "fe80::1/64".into()],
            link_mbps: Some(1000),
            is_virtual: false,
            loopback: false,
            wireless: false,
            up: Some(true),
        }
    }

    #[test]
    fn a_plain_report_is_valid() {
        let mut r = report();
        if let Some(inv) = r.inventory.as_mut() {
            inv.nics.push(nic());
        }
        assert_eq!(validate_report(&r), Ok(()));
    }

    #[test]
    fn each_limit_names_its_field() {
        type Breaker = fn(&mut Inventory);
        let cases: Vec<(Breaker, &str)> = vec![
            (
                |i| i.hostname = Some("x".repeat(MAX_TEXT + 1)),
                "inventory.hostname",
            ),
            (
                |i| i.system.serial = Some("AB\u{0}C".into()),
                "inventory.system.serial",
            ),
            (
                |i| i.memory.total_bytes = Some(1_000_000_000_000_000_000),
                "inventory.memory.total_bytes",
            ),
            (
                |i| i.cpu.cores_logical = Some(100_000),
                "inventory.cpu.cores_logical",
            ),
            (
                |i| i.bios.date = NaiveDate::from_ymd_opt(1900, 1, 1),
                "inventory.bios.date",
            ),
            (
                |i| {
                    i.disks = (0..=MAX_DISKS)
                        .map(|n| Disk {
                            name: format!("sd{n}"),
                            model: None,
                            serial: None,
                            size_bytes: None,
                            kind: DiskKind::Unknown,
                            bus: None,
                            system: false,
                            removable: false,
                        })
                        .collect()
                },
                "inventory.disks",
            ),
            (
                |i| {
                    let mut n = nic();
                    n.mac = Some("3C-52-82-0A-1B-2C".into());
                    i.nics = vec![n];
                },
                "inventory.nics[0].mac",
            ),
            (
                |i| {
                    let mut n = nic();
                    n.addresses = vec!["192.168.1.300/24".into()];
                    i.nics = vec![n];
                },
                "inventory.nics[0].addresses[0]",
            ),
            (
                |i| {
                    let mut n = nic();
                    n.link_mbps = Some(u32::MAX);
                    i.nics = vec![n];
                },
                "inventory.nics[0].link_mbps",
            ),
        ];
        for (breaker, field) in cases {
            let mut r = report();
            if let Some(inv) = r.inventory.as_mut() {
                breaker(inv);
            }
            let err = validate_report(&r).expect_err(field);
            assert_eq!(err.field, field);
            assert!(err.message(Lang::Vi).contains(field));
        }
    }

    #[test]
    fn peripheral_limits_name_their_field() {
        use crate::peripherals::*;
        type Breaker = fn(&mut Peripheral);
        let cases: Vec<(Breaker, &str)> = vec![
            (
                |p| {
                    p.page_count = Some(PageCount {
                        total: MAX_PAGE_COUNT + 1,
                        counter: PageCounter::PrinterMib,
                    })
                },
                "peripherals.devices[0].page_count.total",
            ),
            (
                |p| {
                    p.supplies = vec![Supply {
                        description: "Toner".into(),
                        kind: SupplyKind::Toner,
                        level_pct: Some(101),
                        state: SupplyState::Ok,
                    }]
                },
                "peripherals.devices[0].supplies[0].level_pct",
            ),
            (
                |p| p.ip = Some("10.0.0.300".into()),
                "peripherals.devices[0].ip",
            ),
            (
                |p| p.mac = Some("AA-BB".into()),
                "peripherals.devices[0].mac",
            ),
            (
                |p| {
                    p.usb = Some(UsbId {
                        vendor_id: "04A9".into(),
                        product_id: "1904".into(),
                    })
                },
                "peripherals.devices[0].usb.vendor_id",
            ),
            (
                |p| p.serial = Some("x".repeat(MAX_TEXT + 1)),
                "peripherals.devices[0].serial",
            ),
        ];
        for (breaker, field) in cases {
            let mut r = report();
            let mut d = Peripheral::new(
                PeripheralKind::Printer,
                PeripheralSource::Snmp,
                Connection::Network,
            );
            assert_eq!(
                validate_peripherals(&Peripherals {
                    devices: vec![d.clone()],
                    discovery_ran: true
                }),
                Ok(())
            );
            breaker(&mut d);
            r.peripherals = Some(Peripherals {
                devices: vec![d],
                discovery_ran: true,
            });
            assert_eq!(validate_report(&r).expect_err(field).field, field);
        }
    }

    #[test]
    fn unsupported_version_and_empty_agent_fields() {
        let mut r = report();
        r.protocol_version = 99;
        assert_eq!(
            validate_report(&r).expect_err("version").field,
            "protocol_version"
        );
        let mut r = report();
        r.agent.version = " ".into();
        assert_eq!(
            validate_report(&r).expect_err("empty").problem,
            Problem::Empty
        );
    }
}
