//! One device as a page: its facts and its tables (disks, network adapters,
//! monitors, report history), already formatted for the template.

use kiemke_shared::Lang;
use kiemke_shared::api::DeviceDetail;
use kiemke_shared::inventory::{DiskKind, Inventory};

use crate::policy::DeviceFlags;

use super::format::{self, MISSING};
use super::labels::Labels;

/// One row of the facts table.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// A titled table of text cells.
pub struct Table {
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The policy's verdict on a device, formatted.
pub struct StatusView {
    /// `ok`, `watch` or `replace`: the CSS class.
    pub class: &'static str,
    pub label: String,
    /// Each reason: rule id and text.
    pub reasons: Vec<(String, String)>,
    /// Category, age estimate, residual value, policy.
    pub notes: Vec<String>,
}

pub fn status(f: &DeviceFlags, lang: Lang) -> StatusView {
    let vi = lang == Lang::Vi;
    let mut notes = vec![format!(
        "{}: {}",
        lang.pick("Loại thiết bị", "Category"),
        f.category.label(lang)
    )];
    if let (Some(e), Some(l)) = (f.age.earliest, f.age.latest) {
        let range = if e == l {
            e.to_string()
        } else {
            format!("{e}–{l}")
        };
        notes.push(if vi {
            format!("Năm đưa vào sử dụng: {range}")
        } else {
            format!("In service since: {range}")
        });
    }
    if let Some(w) = f.wear.as_ref().filter(|w| w.fixed_asset) {
        notes.push(if vi {
            format!(
                "Nguyên giá {} đ, hao mòn lũy kế {} đ, giá trị còn lại {} đ",
                vnd(w.cost_vnd),
                vnd(w.accumulated_vnd),
                vnd(w.residual_vnd)
            )
        } else {
            format!(
                "Cost {} đ, accumulated wear {} đ, residual value {} đ",
                vnd(w.cost_vnd),
                vnd(w.accumulated_vnd),
                vnd(w.residual_vnd)
            )
        });
    }
    notes.push(if vi {
        format!(
            "Theo {}, đánh giá ngày {}",
            f.policy,
            f.evaluated_on.format("%d/%m/%Y")
        )
    } else {
        format!("Under {}, evaluated on {}", f.policy, f.evaluated_on)
    });
    StatusView {
        class: f.status.key(),
        label: f.status.label(lang).to_owned(),
        reasons: (f.reasons.iter())
            .map(|r| (r.rule.clone(), r.text(lang).to_owned()))
            .collect(),
        notes,
    }
}

/// `15.000.000`: đồng with dots between thousands, as Vietnamese forms write it.
fn vnd(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// The heading of a device page: its host name, or its id if it has none.
pub fn heading(detail: &DeviceDetail) -> String {
    (detail.device.hostname.clone()).unwrap_or_else(|| detail.device.id.to_string())
}

pub fn facts(detail: &DeviceDetail, t: &Labels, lang: Lang) -> Vec<Fact> {
    let d = &detail.device;
    let inv = detail.inventory.clone().unwrap_or_default();
    let fact = |label, value| Fact { label, value };
    let cores = match (inv.cpu.cores_physical, inv.cpu.cores_logical) {
        (None, None) => MISSING.to_owned(),
        (p, l) => format!(
            "{} / {}",
            p.map_or_else(|| MISSING.to_owned(), |n| n.to_string()),
            l.map_or_else(|| MISSING.to_owned(), |n| n.to_string())
        ),
    };
    let bios_date = inv
        .bios
        .date
        .map(|date| date.format("%d/%m/%Y").to_string());
    let tpm = match (inv.tpm.present, inv.tpm.version.as_deref()) {
        (Some(true), Some(v)) => format!("{} ({v})", t.yes),
        (Some(true), None) => t.yes.to_owned(),
        (Some(false), _) => t.no.to_owned(),
        (None, _) => t.unknown.to_owned(),
    };
    let agents: Vec<String> = d.agent_ids.iter().map(ToString::to_string).collect();
    vec![
        fact(t.hostname, format::text(d.hostname.as_deref())),
        fact(t.vendor, format::text(d.vendor.as_deref())),
        fact(t.model, format::text(d.model.as_deref())),
        fact(t.serial, format::text(d.serial.as_deref())),
        fact(
            t.chassis,
            (inv.system.chassis).map_or_else(|| MISSING.to_owned(), |c| c.label(lang).to_owned()),
        ),
        fact(
            t.os,
            format::join(
                &[
                    inv.os.name.as_deref(),
                    inv.os.version.as_deref(),
                    inv.os.arch.as_deref(),
                ],
                " · ",
            ),
        ),
        fact(t.cpu, format::text(inv.cpu.brand.as_deref())),
        fact(t.cores, cores),
        fact(t.ram, format::ram(d.memory_total_bytes, lang)),
        fact(
            t.bios,
            format::join(
                &[
                    inv.bios.vendor.as_deref(),
                    inv.bios.version.as_deref(),
                    bios_date.as_deref(),
                ],
                " · ",
            ),
        ),
        fact(t.tpm, tpm),
        fact(t.first_report, format::time(d.first_seen)),
        fact(t.last_report, format::time(d.last_seen)),
        fact(t.report_count, d.report_count.to_string()),
        fact(t.device_id, d.id.to_string()),
        fact(t.agents, agents.join(", ")),
    ]
}

#[cfg(test)]
#[test]
fn amounts_in_dong() {
    assert_eq!(vnd(15_000_000), "15.000.000");
    assert_eq!(vnd(999), "999");
    assert_eq!(vnd(0), "0");
}

pub fn tables(detail: &DeviceDetail, t: &Labels, lang: Lang) -> Vec<Table> {
    let inv = detail.inventory.clone().unwrap_or_default();
    vec![
        disks(&inv, t, lang),
        nics(&inv, t),
        monitors(&inv, t),
        history(detail, t),
    ]
}

fn disks(inv: &Inventory, t: &Labels, lang: Lang) -> Table {
    let rows = (inv.disks.iter())
        .map(|d| {
            vec![
                d.name.clone(),
                format::text(d.model.as_deref()),
                format::disk(d.size_bytes, lang),
                match d.kind {
                    DiskKind::Ssd => "SSD".to_owned(),
                    DiskKind::Hdd => "HDD".to_owned(),
                    DiskKind::Unknown => t.unknown.to_owned(),
                },
                (if d.system { t.yes } else { t.no }).to_owned(),
            ]
        })
        .collect();
    Table {
        title: t.disks,
        headers: vec![t.name, t.model, t.size, t.kind, t.system_disk],
        rows,
    }
}

fn nics(inv: &Inventory, t: &Labels) -> Table {
    let rows = (inv.nics.iter())
        .filter(|n| !n.loopback)
        .map(|n| {
            let kind = if n.is_virtual {
                t.virtual_nic
            } else if n.wireless {
                t.wireless
            } else {
                t.wired
            };
            vec![
                n.name.clone(),
                format::text(n.mac.as_deref()),
                if n.addresses.is_empty() {
                    MISSING.to_owned()
                } else {
                    n.addresses.join(", ")
                },
                n.link_mbps
                    .map_or_else(|| MISSING.to_owned(), |m| format!("{m} Mbps")),
                kind.to_owned(),
            ]
        })
        .collect();
    Table {
        title: t.nics,
        headers: vec![t.name, "MAC", t.addresses, t.speed, t.kind],
        rows,
    }
}

fn monitors(inv: &Inventory, t: &Labels) -> Table {
    let rows = (inv.monitors.iter())
        .map(|m| {
            vec![
                format::text(m.manufacturer.as_deref()),
                format::text(m.model.as_deref()),
                m.year.map_or_else(|| MISSING.to_owned(), |y| y.to_string()),
            ]
        })
        .collect();
    Table {
        title: t.monitors,
        headers: vec![t.manufacturer, t.model, t.year],
        rows,
    }
}

fn history(detail: &DeviceDetail, t: &Labels) -> Table {
    let rows = (detail.reports.iter())
        .map(|r| {
            vec![
                format::time(r.received_at),
                format::time(r.taken_at),
                r.report_id.to_string(),
                r.agent_id.to_string(),
            ]
        })
        .collect();
    Table {
        title: t.history,
        headers: vec![t.received_at, t.taken_at, t.report_id, t.agent],
        rows,
    }
}
