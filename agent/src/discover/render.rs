//! The readable output of `kiemke-agent discover`: one block per device,
//! Vietnamese by default.

use std::fmt::Write;

use kiemke_shared::Lang;
use kiemke_shared::peripherals::{PageCounter, Peripheral};

use super::Discovery;

/// The discovery as text for a person.
pub fn render(d: &Discovery, lang: Lang) -> String {
    let mut out = String::new();
    let printers = d.devices.iter().filter(|p| p.kind.prints()).count();
    let _ = writeln!(
        out,
        "{} {}: {} {}, {} {}, {} {} ({} {}).",
        lang.pick("Quét", "Swept"),
        d.subnets.join(", "),
        d.hosts_alive,
        lang.pick("máy trả lời", "hosts answered"),
        d.devices.len(),
        lang.pick("thiết bị SNMP", "SNMP devices"),
        printers,
        lang.pick("máy in", "printers"),
        d.elapsed_ms / 1000,
        lang.pick("giây", "s"),
    );
    if !d.ping_used {
        let _ = writeln!(
            out,
            "{}",
            lang.pick(
                "Không ping được (cần quyền quản trị): đã thử SNMP với mọi địa chỉ.",
                "Could not ping (needs administrator rights): tried SNMP on every address."
            )
        );
    }
    if d.hosts_unfinished > 0 {
        let _ = writeln!(
            out,
            "{} {}",
            d.hosts_unfinished,
            lang.pick(
                "máy chưa đọc xong khi hết thời gian cho phép.",
                "hosts not finished when the time budget ran out."
            )
        );
    }
    out.push_str(&devices(&d.devices, lang));
    out
}

/// One block per device (also used by `kiemke-agent peripherals`).
pub fn devices(list: &[Peripheral], lang: Lang) -> String {
    let mut out = String::new();
    for p in list {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}  {}  {}",
            p.ip.as_deref()
                .or(p.name.as_deref())
                .or(p.port.as_deref())
                .unwrap_or("?"),
            p.kind.label(lang),
            p.model.as_deref().or(p.sys_descr.as_deref()).unwrap_or("")
        );
        let mut field = |label_vi: &str, label_en: &str, value: Option<String>| {
            if let Some(v) = value {
                let _ = writeln!(out, "    {}: {v}", lang.pick(label_vi, label_en));
            }
        };
        field("Hãng", "Vendor", p.vendor.clone());
        field("Số serial", "Serial", p.serial.clone());
        field("MAC", "MAC", p.mac.clone());
        field("Tên", "Name", p.sys_name.clone());
        field("Địa chỉ (URI)", "URI", p.uri.clone());
        field("Cổng", "Port", p.port.clone());
        field("Trình điều khiển", "Driver", p.driver.clone());
        field(
            "Mã USB",
            "USB id",
            p.usb
                .as_ref()
                .map(|u| format!("{}:{}", u.vendor_id, u.product_id)),
        );
        field(
            "Tổng số trang",
            "Total pages",
            p.page_count.as_ref().map(|c| {
                let source = match c.counter {
                    PageCounter::PrinterMib => lang.pick("bộ đếm chuẩn", "standard counter"),
                    PageCounter::Vendor => lang.pick("bộ đếm của hãng", "vendor counter"),
                };
                format!("{} ({source})", c.total)
            }),
        );
        for s in &p.supplies {
            let level = s.level_pct.map_or_else(
                || s.state.label(lang).to_owned(),
                |l| format!("{l}% ({})", s.state.label(lang)),
            );
            let _ = writeln!(
                out,
                "    {} {}: {level}",
                lang.pick("Vật tư", "Supply"),
                s.description
            );
        }
    }
    out
}
