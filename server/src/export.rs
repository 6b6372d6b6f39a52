//! Survey exports, for officers who edit them in Excel: an XLSX workbook
//! ([`xlsx`]: a province summary sheet, one row per commune, then one sheet
//! per device category) and the same tables as CSV ([`csv`], UTF-8 with a
//! byte-order mark so Excel reads Vietnamese correctly). Headers are
//! Vietnamese unless English is asked for.
//!
//! The tables are built once ([`summary_table`], [`device_table`]) and
//! written by either format, so both carry the same figures as
//! `/api/v1/survey`.

pub mod csv;
pub mod xlsx;

use kiemke_shared::Lang;

use crate::policy::Category;
use crate::routes::home::format;
use crate::survey::{CommuneDetail, CommuneSurvey, DeviceLine, ProvinceSurvey};

/// Which table a CSV holds (a workbook holds them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Table {
    /// One row per commune.
    #[default]
    Summary,
    /// One row per device, every category.
    Devices,
}

/// A cell: text, a count, a decimal or an amount of money.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// Shown with one decimal (percentages, GB).
    Decimal(f64),
    /// Whole đồng, with thousands separators.
    Money(u64),
    Empty,
}

/// A table with its header.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// A worksheet name: at most 31 characters, none of `[]:*?/\`.
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Column widths in characters.
    pub widths: Vec<f64>,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt(s: Option<&str>) -> Cell {
    s.map_or(Cell::Empty, |s| Cell::Text(s.to_owned()))
}

/// The categories counted in the summary, in column order.
pub const CATEGORIES: [Category; 9] = Category::ALL;

/// The province summary: one row per commune.
pub fn summary_table(survey: &ProvinceSurvey, lang: Lang) -> Sheet {
    let mut headers: Vec<String> = [
        lang.pick("STT", "No."),
        lang.pick("Mã xã", "Commune code"),
        lang.pick("Tên xã, phường", "Commune"),
        lang.pick("Đèn", "Light"),
        lang.pick("Số tiêu chí chưa đạt", "Criteria not met"),
        lang.pick("Tiêu chí chưa đạt", "Unmet criteria"),
        lang.pick("Tổng thiết bị", "Devices"),
    ]
    .map(str::to_owned)
    .to_vec();
    headers.extend(CATEGORIES.iter().map(|c| capitalize(c.label(lang))));
    headers.extend(
        [
            lang.pick("Số máy tính", "PCs"),
            lang.pick("Đề xuất thay thế", "Due for replacement"),
            lang.pick("Tỷ lệ thay thế (%)", "Replace share (%)"),
            lang.pick("Cần theo dõi", "To watch"),
            lang.pick("Tỷ lệ theo dõi (%)", "Watch share (%)"),
            lang.pick("Số điểm", "Sites"),
            lang.pick(
                "Điểm đạt mục tiêu đường truyền",
                "Sites meeting line target",
            ),
            lang.pick("Báo cáo gần nhất", "Last report"),
            lang.pick("Máy tính im lặng > 7 ngày", "PCs silent > 7 days"),
        ]
        .map(str::to_owned),
    );
    let rows = survey
        .communes
        .iter()
        .enumerate()
        .map(|(i, c)| summary_row(i, c, lang))
        .collect();
    let mut widths = vec![6.0, 10.0, 28.0, 8.0, 10.0, 60.0, 10.0];
    widths.extend(CATEGORIES.iter().map(|_| 12.0));
    widths.extend([10.0, 12.0, 12.0, 12.0, 12.0, 8.0, 14.0, 17.0, 12.0]);
    Sheet {
        name: lang.pick("Tổng hợp", "Summary").to_owned(),
        headers,
        rows,
        widths,
    }
}

fn summary_row(i: usize, c: &CommuneSurvey, lang: Lang) -> Vec<Cell> {
    let mut row = vec![
        Cell::Count(i as u64 + 1),
        text(&c.code),
        text(&c.name),
        text(c.light.label(lang)),
        Cell::Count(c.unmet.len() as u64),
        text(
            c.unmet
                .iter()
                .map(|u| u.text(lang))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Cell::Count(c.devices_total),
    ];
    row.extend(
        CATEGORIES
            .iter()
            .map(|k| Cell::Count(c.devices_by_category.get(k).copied().unwrap_or(0))),
    );
    row.extend([
        Cell::Count(c.pcs),
        Cell::Count(c.replace),
        Cell::Decimal(c.replace_share_percent),
        Cell::Count(c.watch),
        Cell::Decimal(c.watch_share_percent),
        Cell::Count(c.sites.len() as u64),
        Cell::Count(u64::from(c.sites_meeting_target)),
        c.last_report.map_or(Cell::Empty, |t| text(format::time(t))),
        Cell::Count(c.silent_pcs),
    ]);
    row
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The devices of `details` in `category` (every category with `None`),
/// one row each.
pub fn device_table(details: &[CommuneDetail], category: Option<Category>, lang: Lang) -> Sheet {
    let mut headers: Vec<String> = [
        lang.pick("STT", "No."),
        lang.pick("Mã xã", "Commune code"),
        lang.pick("Tên xã, phường", "Commune"),
        lang.pick("Điểm", "Site"),
    ]
    .map(str::to_owned)
    .to_vec();
    if category.is_none() {
        headers.push(lang.pick("Loại thiết bị", "Category").to_owned());
    }
    headers.extend(
        [
            lang.pick("Tên máy", "Name"),
            lang.pick("Hãng", "Vendor"),
            lang.pick("Kiểu máy", "Model"),
            lang.pick("Số sê-ri", "Serial"),
            lang.pick("Hệ điều hành", "Operating system"),
            lang.pick("Bộ xử lý", "Processor"),
            lang.pick("RAM (GB)", "RAM (GB)"),
            lang.pick("Năm sử dụng từ", "In service from"),
            lang.pick("Năm sử dụng đến", "In service to"),
            lang.pick("Trạng thái", "Status"),
            lang.pick("Lý do", "Reasons"),
            lang.pick("Giá trị còn lại (đ)", "Residual value (VND)"),
            lang.pick("Bộ đếm trang", "Page count"),
            lang.pick("Báo cáo gần nhất", "Last report"),
            lang.pick("Mã thiết bị", "Device id"),
        ]
        .map(str::to_owned),
    );
    let mut rows = Vec::new();
    for d in details {
        for line in d
            .devices
            .iter()
            .filter(|l| category.is_none_or(|c| l.category == c))
        {
            rows.push(device_row(
                rows.len(),
                &d.survey,
                line,
                category.is_none(),
                lang,
            ));
        }
    }
    let mut widths = vec![6.0, 10.0, 24.0, 14.0];
    if category.is_none() {
        widths.push(18.0);
    }
    widths.extend([
        18.0, 14.0, 24.0, 14.0, 28.0, 36.0, 9.0, 9.0, 9.0, 16.0, 60.0, 14.0, 12.0, 17.0, 38.0,
    ]);
    Sheet {
        name: category.map_or_else(
            || lang.pick("Thiết bị", "Devices").to_owned(),
            |c| sheet_name(c, lang),
        ),
        headers,
        rows,
        widths,
    }
}

fn device_row(
    i: usize,
    commune: &CommuneSurvey,
    d: &DeviceLine,
    with_category: bool,
    lang: Lang,
) -> Vec<Cell> {
    let mut row = vec![
        Cell::Count(i as u64 + 1),
        text(&commune.code),
        text(&commune.name),
        opt(d.site.as_deref()),
    ];
    if with_category {
        row.push(text(d.category.label(lang)));
    }
    let year = |y: Option<i32>| {
        y.and_then(|y| u64::try_from(y).ok())
            .map_or(Cell::Empty, Cell::Count)
    };
    row.extend([
        text(&d.name),
        opt(d.vendor.as_deref()),
        opt(d.model.as_deref()),
        opt(d.serial.as_deref()),
        opt(d.os.as_deref()),
        opt(d.cpu.as_deref()),
        d.ram_gib.map_or(Cell::Empty, Cell::Decimal),
        year(d.in_service_from),
        year(d.in_service_to),
        d.status.map_or(Cell::Empty, |s| text(s.label(lang))),
        text(match lang {
            Lang::Vi => d.reasons_vi.join(" "),
            Lang::En => d.reasons_en.join(" "),
        }),
        d.residual_vnd.map_or(Cell::Empty, Cell::Money),
        d.page_count.map_or(Cell::Empty, Cell::Count),
        text(format::time(d.last_seen)),
        text(d.id.to_string()),
    ]);
    row
}

/// A category's sheet name (Excel: at most 31 characters).
fn sheet_name(c: Category, lang: Lang) -> String {
    capitalize(c.label(lang)).chars().take(31).collect()
}

/// Every sheet of the workbook: the summary, then one per category that
/// has devices (desktop PCs always).
pub fn sheets(survey: &ProvinceSurvey, details: &[CommuneDetail], lang: Lang) -> Vec<Sheet> {
    let mut sheets = vec![summary_table(survey, lang)];
    for c in CATEGORIES {
        let any = details
            .iter()
            .any(|d| d.devices.iter().any(|l| l.category == c));
        if any || c == Category::Desktop {
            sheets.push(device_table(details, Some(c), lang));
        }
    }
    sheets
}
