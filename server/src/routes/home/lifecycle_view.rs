//! The lifecycle part of a device page: the age evidence, wear and residual
//! value year by year, and the status history; and the page of a printer or
//! scanner (seen by PCs rather than reporting itself): its facts, supplies
//! and page-counter trend as a server-rendered SVG.

use std::fmt::Write;

use kiemke_shared::Lang;

use super::device_view::{Fact, Table};
use super::format;
use crate::policy::DeviceFlags;
use crate::store::flags::StatusChange;
use crate::store::peripherals::{PageSample, PeripheralDetail};

fn vnd(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// Age evidence, wear per year, status history.
pub fn tables(flags: Option<&DeviceFlags>, history: &[StatusChange], lang: Lang) -> Vec<Table> {
    let mut tables = Vec::new();
    if let Some(f) = flags {
        tables.push(Table {
            title: lang.pick("Bằng chứng về tuổi máy", "Age evidence"),
            headers: vec![
                lang.pick("Nguồn", "Source"),
                lang.pick("Giá trị", "Value"),
                lang.pick("Năm", "Year"),
                lang.pick("Ghi chú", "Note"),
            ],
            rows: (f.age.evidence.iter())
                .map(|e| {
                    vec![
                        format!("{:?}", e.source).to_lowercase(),
                        e.value.clone(),
                        e.year.to_string(),
                        lang.pick(&e.note_vi, &e.note_en).to_owned(),
                    ]
                })
                .collect(),
        });
        if let Some(test) = &f.service_life {
            tables.push(Table {
                title: lang.pick("Thời hạn sử dụng", "Service life"),
                headers: vec![
                    lang.pick("Đưa vào sử dụng", "In service"),
                    lang.pick("Số năm", "Years"),
                    lang.pick("Hết hạn", "Ends"),
                    lang.pick("Căn cứ", "Rule"),
                ],
                rows: vec![vec![
                    test.in_service.format("%d/%m/%Y").to_string(),
                    test.life_years.to_string(),
                    test.ends.format("%d/%m/%Y").to_string(),
                    lang.pick(&test.source_vi, &test.source_en).to_owned(),
                ]],
            });
        }
        if let Some(w) = f.wear.as_ref().filter(|w| w.fixed_asset) {
            tables.push(Table {
                title: lang.pick(
                    "Hao mòn và giá trị còn lại (đ)",
                    "Wear and residual value (VND)",
                ),
                headers: vec![
                    lang.pick("Năm", "Year"),
                    lang.pick("Chế độ", "Regime"),
                    lang.pick("Hao mòn trong năm", "Wear"),
                    lang.pick("Hao mòn lũy kế", "Accumulated"),
                    lang.pick("Giá trị còn lại", "Residual"),
                ],
                rows: (w.years.iter())
                    .map(|y| {
                        vec![
                            y.year.to_string(),
                            y.regime.clone(),
                            vnd(y.wear_vnd),
                            vnd(y.accumulated_vnd),
                            vnd(y.residual_vnd),
                        ]
                    })
                    .collect(),
            });
        }
    }
    tables.push(Table {
        title: lang.pick("Lịch sử trạng thái", "Status history"),
        headers: vec![
            lang.pick("Thời điểm", "When"),
            lang.pick("Từ", "From"),
            lang.pick("Thành", "To"),
            lang.pick("Lý do", "Reasons"),
            lang.pick("Chính sách", "Policy"),
        ],
        rows: (history.iter())
            .map(|c| {
                vec![
                    format::time(c.at),
                    c.from
                        .map_or_else(|| format::MISSING.to_owned(), |s| s.label(lang).to_owned()),
                    c.to.label(lang).to_owned(),
                    (c.reasons.iter())
                        .map(|r| r.text(lang))
                        .collect::<Vec<_>>()
                        .join(" "),
                    c.policy.clone(),
                ]
            })
            .collect(),
    });
    tables
}

/// A printer's or scanner's facts.
pub fn peripheral_facts(p: &PeripheralDetail, lang: Lang) -> Vec<Fact> {
    let d = &p.device;
    let text = |v: Option<&str>| format::text(v);
    vec![
        Fact {
            label: lang.pick("Loại", "Kind"),
            value: d.kind.label(lang).to_owned(),
        },
        Fact {
            label: lang.pick("Hãng, kiểu máy", "Make, model"),
            value: format::join(&[d.vendor.as_deref(), d.model.as_deref()], " "),
        },
        Fact {
            label: lang.pick("Số sê-ri", "Serial"),
            value: text(d.serial.as_deref()),
        },
        Fact {
            label: lang.pick("Địa chỉ IP", "IP address"),
            value: text(d.ip.as_deref()),
        },
        Fact {
            label: lang.pick("Bộ đếm trang", "Page count"),
            value: d
                .page_count
                .as_ref()
                .map_or_else(|| format::MISSING.to_owned(), |c| c.total.to_string()),
        },
        Fact {
            label: lang.pick("Số máy tính thấy thiết bị", "PCs that see it"),
            value: d.seen_by.len().to_string(),
        },
        Fact {
            label: lang.pick("Lần đầu thấy", "First seen"),
            value: format::time(d.first_seen),
        },
        Fact {
            label: lang.pick("Lần cuối thấy", "Last seen"),
            value: format::time(d.last_seen),
        },
    ]
}

/// Supplies, as a table.
pub fn supplies(p: &PeripheralDetail, lang: Lang) -> Table {
    Table {
        title: lang.pick("Vật tư (mực, trống...)", "Supplies"),
        headers: vec![
            lang.pick("Vật tư", "Supply"),
            lang.pick("Mức còn lại", "Level"),
        ],
        rows: (p.device.supplies.iter())
            .map(|s| {
                vec![
                    s.description.clone(),
                    s.level_pct.map_or_else(
                        || format!("{:?}", s.state).to_lowercase(),
                        |l| format!("{l} %"),
                    ),
                ]
            })
            .collect(),
    }
}

/// The page counter over time as an inline SVG (`None` with fewer than
/// one reading).
pub fn page_trend(samples: &[PageSample], lang: Lang) -> Option<String> {
    let first = samples.first()?;
    let last = samples.last()?;
    let (w, h, pad) = (480.0_f64, 120.0_f64, 6.0_f64);
    let t0 = first.at.timestamp() as f64;
    let span = ((last.at.timestamp() as f64) - t0).max(1.0);
    let lo = samples.iter().map(|s| s.total).min().unwrap_or(0) as f64;
    let hi = samples.iter().map(|s| s.total).max().unwrap_or(0) as f64;
    let range = (hi - lo).max(1.0);
    let mut svg = format!(
        r##"<svg class="trend" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg"><title>{}</title><rect width="{w}" height="{h}" fill="#fff" stroke="#d7dbe0"/><polyline fill="none" stroke="#1f5fa8" stroke-width="2" points=""##,
        lang.pick("Bộ đếm trang theo thời gian", "Page count over time")
    );
    for s in samples {
        let x = pad + (w - 2.0 * pad) * ((s.at.timestamp() as f64) - t0) / span;
        let y = h - pad - (h - 2.0 * pad) * ((s.total as f64) - lo) / range;
        let _ = write!(svg, "{x:.1},{y:.1} ");
    }
    svg.push_str(r#""/></svg>"#);
    Some(svg)
}
