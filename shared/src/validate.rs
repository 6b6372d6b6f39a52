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
use crate::probes::Probes;
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
/// Ping bursts in one report: a day of 5-minute bursts to a dozen targets,
/// with room to spare (the agent batches far fewer).
pub const MAX_PINGS: usize = 4096;
/// Throughput tests in one report.
pub const MAX_SPEED_TESTS: usize = 64;
/// Probes in one burst (the agent's own `--count` limit).
pub const MAX_PING_COUNT: u32 = 10_000;
/// Longest round-trip time a probe may report: one minute (the agent's
/// longest timeout); anything above is a clock or encoding error.
pub const MAX_RTT_MS: f64 = 60_000.0;
/// Longest probe interval and timeout, in milliseconds.
pub const MAX_PROBE_MS: u32 = 60_000;
/// Parallel streams of a throughput test.
pub const MAX_STREAMS: u32 = 64;
/// Longest direction of a throughput test, in seconds.
pub const MAX_TEST_SECONDS: f64 = 600.0;
/// Bytes one test may move per direction: 600 s at 400 Gbit/s.
pub const MAX_TEST_BYTES: u64 = 30 << 40;
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
    #[error("not a finite number between {min} and {max}")]
    OutOfRange { min: f64, max: f64 },
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
            (Problem::OutOfRange { min, max }, Lang::Vi) => {
                format!("Trường {f} phải là một số trong khoảng {min}–{max}")
            }
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
    if let Some(probes) = &report.probes {
        validate_probes(probes)?;
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

/// Checks every limit of a probes section: counts, and ranges a real
/// measurement cannot leave (negative or absurd times, loss outside 0–100,
/// more replies than probes, percentiles out of order).
pub fn validate_probes(probes: &Probes) -> Result<(), ValidationError> {
    max_count("probes.pings", probes.pings.len(), MAX_PINGS)?;
    for (i, p) in probes.pings.iter().enumerate() {
        let f = format!("probes.pings[{i}]");
        required_text(&format!("{f}.target"), &p.target)?;
        optional_text(&format!("{f}.address"), &p.address)?;
        optional_text(&format!("{f}.error"), &p.error)?;
        check_time(&format!("{f}.started_at"), &p.started_at)?;
        max_u64(
            &format!("{f}.sent"),
            Some(p.sent.into()),
            MAX_PING_COUNT.into(),
        )?;
        max_u64(
            &format!("{f}.received"),
            Some(p.received.into()),
            p.sent.into(),
        )?;
        max_u64(
            &format!("{f}.interval_ms"),
            Some(p.interval_ms.into()),
            MAX_PROBE_MS.into(),
        )?;
        max_u64(
            &format!("{f}.timeout_ms"),
            Some(p.timeout_ms.into()),
            MAX_PROBE_MS.into(),
        )?;
        in_range(&format!("{f}.loss_pct"), Some(p.loss_pct), 100.0)?;
        in_range(&format!("{f}.jitter_ms"), p.jitter_ms, MAX_RTT_MS)?;
        if let Some(rtt) = &p.rtt_ms {
            let ordered = [rtt.min, rtt.median, rtt.p95, rtt.max];
            for (name, v) in ["min", "median", "p95", "max"].iter().zip(ordered) {
                in_range(&format!("{f}.rtt_ms.{name}"), Some(v), MAX_RTT_MS)?;
            }
            if ordered.windows(2).any(|w| w[0] > w[1]) {
                return Err(ValidationError::new(
                    format!("{f}.rtt_ms"),
                    Problem::Invalid("min ≤ median ≤ p95 ≤ max"),
                ));
            }
        }
        if p.received > 0 && p.rtt_ms.is_none() {
            return Err(ValidationError::new(
                format!("{f}.rtt_ms"),
                Problem::Invalid("replies without round-trip times"),
            ));
        }
    }

    max_count(
        "probes.speed_tests",
        probes.speed_tests.len(),
        MAX_SPEED_TESTS,
    )?;
    for (i, t) in probes.speed_tests.iter().enumerate() {
        let f = format!("probes.speed_tests[{i}]");
        required_text(&format!("{f}.server"), &t.server)?;
        optional_text(&format!("{f}.interface"), &t.interface)?;
        check_time(&format!("{f}.started_at"), &t.started_at)?;
        for (name, streams) in [
            ("streams_down", t.streams_down),
            ("streams_up", t.streams_up),
        ] {
            if streams == 0 || streams > MAX_STREAMS {
                return Err(ValidationError::new(
                    format!("{f}.{name}"),
                    Problem::OutOfRange {
                        min: 1.0,
                        max: MAX_STREAMS.into(),
                    },
                ));
            }
        }
        for (name, seconds) in [
            ("duration_s", t.duration_s),
            ("warmup_s", t.warmup_s),
            ("measured_down_s", t.measured_down_s),
            ("measured_up_s", t.measured_up_s),
        ] {
            in_range(&format!("{f}.{name}"), Some(seconds), MAX_TEST_SECONDS)?;
        }
        for (name, bytes, part) in [
            ("bytes_down", t.bytes_down, None),
            ("bytes_up", t.bytes_up, None),
            (
                "measured_bytes_down",
                t.measured_bytes_down,
                Some(t.bytes_down),
            ),
            ("measured_bytes_up", t.measured_bytes_up, Some(t.bytes_up)),
        ] {
            max_u64(
                &format!("{f}.{name}"),
                Some(bytes),
                part.unwrap_or(MAX_TEST_BYTES).min(MAX_TEST_BYTES),
            )?;
        }
        for (name, per) in [
            ("download_per_second_mbps", &t.download_per_second_mbps),
            ("upload_per_second_mbps", &t.upload_per_second_mbps),
        ] {
            for (q, v) in [("p10", per.p10), ("p50", per.p50), ("p90", per.p90)] {
                in_range(&format!("{f}.{name}.{q}"), Some(v), crate::Mbps::MAX)?;
            }
            if per.p10 > per.p50 || per.p50 > per.p90 {
                return Err(ValidationError::new(
                    format!("{f}.{name}"),
                    Problem::Invalid("p10 ≤ p50 ≤ p90"),
                ));
            }
        }
        in_range(
            &format!("{f}.latency_idle_ms"),
            t.latency_idle_ms,
            MAX_RTT_MS,
        )?;
        in_range(
            &format!("{f}.latency_loaded_ms"),
            t.latency_loaded_ms,
            MAX_RTT_MS,
        )?;
        max_u64(
            &format!("{f}.link_mbps"),
            t.link_mbps.map(u64::from),
            MAX_LINK_MBPS.into(),
        )?;
    }
    Ok(())
}

/// A finite number in `0..=max`.
fn in_range(field: &str, value: Option<f64>, max: f64) -> Result<(), ValidationError> {
    match value {
        Some(v) if !(v.is_finite() && (0.0..=max).contains(&v)) => Err(ValidationError::new(
            field,
            Problem::OutOfRange { min: 0.0, max },
        )),
        _ => Ok(()),
    }
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

    fn ping() -> crate::probes::PingResult {
        crate::probes::PingResult {
            target: "192.168.1.1".into(),
            address: Some("192.168.1.1".into()),
            role: Some(crate::probes::TargetRole::Gateway),
            method: crate::probes::RttMethod::Icmp,
            port: None,
            started_at: Utc::now(),
            sent: 20,
            received: 19,
            loss_pct: 5.0,
            rtt_ms: Some(crate::probes::RttSummary {
                min: 0.4,
                median: 0.6,
                p95: 1.2,
                max: 3.0,
            }),
            jitter_ms: Some(0.2),
            interval_ms: 200,
            timeout_ms: 1000,
            error: None,
        }
    }

    fn speed() -> crate::probes::SpeedResult {
        let per = crate::probes::PerSecond {
            p10: 90.0,
            p50: 94.0,
            p90: 95.0,
        };
        crate::probes::SpeedResult {
            server: "https://kiemke.example.gov.vn/".into(),
            api: crate::probes::SpeedApi::Kiemke,
            trigger: None,
            started_at: Utc::now(),
            download_mbps: crate::Mbps::new(94.0).expect("valid"),
            upload_mbps: crate::Mbps::new(93.0).expect("valid"),
            streams_down: 6,
            streams_up: 4,
            duration_s: 10.0,
            warmup_s: 2.0,
            measured_down_s: 8.0,
            measured_up_s: 8.0,
            bytes_down: 117_000_000,
            bytes_up: 116_000_000,
            measured_bytes_down: 94_000_000,
            measured_bytes_up: 93_000_000,
            download_per_second_mbps: per,
            upload_per_second_mbps: per,
            latency_idle_ms: Some(12.0),
            latency_loaded_ms: Some(40.0),
            latency_method: Some(crate::probes::RttMethod::Icmp),
            interface: Some("eth0".into()),
            link_mbps: Some(1000),
            wireless: Some(false),
            target_mbps: crate::Mbps::new(100.0).expect("valid"),
            limited_by: None,
            interface_bytes_down: None,
            interface_bytes_up: None,
        }
    }

    #[test]
    fn probe_limits_name_their_field() {
        let mut r = report();
        r.probes = Some(Probes {
            pings: vec![ping()],
            speed_tests: vec![speed()],
        });
        assert_eq!(validate_report(&r), Ok(()));

        type Breaker = fn(&mut Probes);
        let cases: Vec<(Breaker, &str)> = vec![
            (|p| p.pings[0].loss_pct = -1.0, "probes.pings[0].loss_pct"),
            (|p| p.pings[0].loss_pct = 100.5, "probes.pings[0].loss_pct"),
            (|p| p.pings[0].received = 21, "probes.pings[0].received"),
            (|p| p.pings[0].sent = 10_001, "probes.pings[0].sent"),
            (
                |p| p.pings[0].jitter_ms = Some(f64::NAN),
                "probes.pings[0].jitter_ms",
            ),
            (
                |p| {
                    if let Some(r) = p.pings[0].rtt_ms.as_mut() {
                        r.median = -0.1;
                    }
                },
                "probes.pings[0].rtt_ms.median",
            ),
            (
                |p| {
                    if let Some(r) = p.pings[0].rtt_ms.as_mut() {
                        r.max = 0.5;
                    }
                },
                "probes.pings[0].rtt_ms",
            ),
            (|p| p.pings[0].rtt_ms = None, "probes.pings[0].rtt_ms"),
            (|p| p.pings[0].target.clear(), "probes.pings[0].target"),
            (|p| p.pings = vec![ping(); MAX_PINGS + 1], "probes.pings"),
            (
                |p| p.speed_tests[0].streams_down = 0,
                "probes.speed_tests[0].streams_down",
            ),
            (
                |p| p.speed_tests[0].streams_up = 65,
                "probes.speed_tests[0].streams_up",
            ),
            (
                |p| p.speed_tests[0].duration_s = 3600.0,
                "probes.speed_tests[0].duration_s",
            ),
            (
                |p| p.speed_tests[0].measured_bytes_down = 117_000_001,
                "probes.speed_tests[0].measured_bytes_down",
            ),
            (
                |p| p.speed_tests[0].upload_per_second_mbps.p10 = 99.0,
                "probes.speed_tests[0].upload_per_second_mbps",
            ),
            (
                |p| p.speed_tests[0].latency_loaded_ms = Some(-3.0),
                "probes.speed_tests[0].latency_loaded_ms",
            ),
            (
                |p| p.speed_tests[0].link_mbps = Some(u32::MAX),
                "probes.speed_tests[0].link_mbps",
            ),
        ];
        for (breaker, field) in cases {
            let mut probes = Probes {
                pings: vec![ping()],
                speed_tests: vec![speed()],
            };
            breaker(&mut probes);
            let err = validate_probes(&probes).expect_err(field);
            assert_eq!(err.field, field);
            assert!(err.message(Lang::Vi).contains(field));
        }
    }

    #[test]
    fn negative_speeds_do_not_even_decode() {
        let mut json = serde_json::to_value(speed()).expect("serialises");
        json["download_mbps"] = serde_json::json!(-5.0);
        assert!(serde_json::from_value::<crate::probes::SpeedResult>(json).is_err());
    }
}
