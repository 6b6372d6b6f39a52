//! The manual asset list: equipment no agent can find (photocopiers without
//! a network card, USB scanners on PCs without an agent, projectors, UPS,
//! network gear), as officers keep it in Excel. Columns (header names as
//! in `docs/import-tai-san.md`; case and a trailing "(…)" are ignored,
//! Vietnamese with or without diacritics):
//!
//! | column | required | example |
//! |---|---|---|
//! | Loại tài sản | yes | máy photocopy, máy scan, máy in, máy in đa năng, thiết bị mạng, máy tính để bàn, máy tính xách tay, máy tính bảng, khác |
//! | Tên tài sản / Model | yes | Ricoh MP 2014 |
//! | Số serial | no | E334M123456 |
//! | Mã xã | unless given to the import | 24118 |
//! | Mã điểm | no | ttpvhcc |
//! | Ngày đưa vào sử dụng | no | 15/08/2019, 2019-08-15 or 2019 |
//! | Nguyên giá | no | 45.000.000 (đồng) |
//! | Nguồn vốn | no | Ngân sách xã |
//! | Ghi chú | no | |
//!
//! [`parse`] checks every row and returns either all assets or every
//! error with its line number: an import is all or nothing.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use kiemke_shared::firmware::is_placeholder_serial;
use kiemke_shared::{CommuneCode, Lang, SiteCode, SiteRef};
use serde::Serialize;

use super::table::Table;
use crate::policy::Category;
use crate::store::manual_assets::NewManualAsset;

/// Longest model name and funding source.
pub const MAX_TEXT: usize = 200;
/// Largest original cost accepted (đồng): 1,000 billion.
pub const MAX_COST_VND: u64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Category,
    Model,
    Serial,
    Commune,
    Site,
    InService,
    Cost,
    Funding,
    Note,
}

/// Accepted header names, lowercased, without a trailing "(…)".
const HEADERS: &[(Column, &[&str])] = &[
    (
        Column::Category,
        &["loại tài sản", "loai tai san", "loại thiết bị", "category"],
    ),
    (
        Column::Model,
        &[
            "tên tài sản / model",
            "tên tài sản",
            "ten tai san",
            "model",
            "tên, model",
        ],
    ),
    (
        Column::Serial,
        &["số serial", "so serial", "serial", "số sê-ri"],
    ),
    (Column::Commune, &["mã xã", "ma xa", "commune"]),
    (Column::Site, &["mã điểm", "ma diem", "site"]),
    (
        Column::InService,
        &[
            "ngày đưa vào sử dụng",
            "ngay dua vao su dung",
            "năm sử dụng",
            "in service",
        ],
    ),
    (Column::Cost, &["nguyên giá", "nguyen gia", "cost"]),
    (Column::Funding, &["nguồn vốn", "nguon von", "funding"]),
    (Column::Note, &["ghi chú", "ghi chu", "note"]),
];

/// Category words officers write, lowercased.
const CATEGORIES: &[(&str, Category)] = &[
    ("máy vi tính để bàn", Category::Desktop),
    ("máy tính để bàn", Category::Desktop),
    ("may tinh de ban", Category::Desktop),
    ("máy tính xách tay", Category::Laptop),
    ("may tinh xach tay", Category::Laptop),
    ("máy tính bảng", Category::Tablet),
    ("máy in", Category::Printer),
    ("may in", Category::Printer),
    ("máy in đa năng", Category::Mfp),
    ("may in da nang", Category::Mfp),
    ("máy scan", Category::Scanner),
    ("máy quét", Category::Scanner),
    ("may scan", Category::Scanner),
    ("máy photocopy", Category::Photocopier),
    ("máy photo", Category::Photocopier),
    ("may photocopy", Category::Photocopier),
    ("thiết bị mạng", Category::NetworkGear),
    ("thiet bi mang", Category::NetworkGear),
    ("máy chiếu", Category::Other),
    ("bộ lưu điện", Category::Other),
    ("ups", Category::Other),
    ("khác", Category::Other),
    ("khac", Category::Other),
];

/// One problem with the file, in both languages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub vi: String,
    pub en: String,
}

impl RowError {
    fn new(line: usize, vi: String, en: String) -> RowError {
        RowError { line, vi, en }
    }

    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => format!("Dòng {}: {}", self.line, self.vi),
            Lang::En => format!("Line {}: {}", self.line, self.en),
        }
    }
}

fn normalize_header(h: &str) -> String {
    let h = h.split('(').next().unwrap_or_default();
    h.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Parses a category as written in the file, or an API key (`photocopier`).
pub fn parse_category(text: &str) -> Option<Category> {
    let lower = normalize_header(text);
    CATEGORIES
        .iter()
        .find(|(word, _)| *word == lower)
        .map(|(_, c)| *c)
        .or_else(|| Category::ALL.into_iter().find(|c| c.key() == lower))
}

/// `15/08/2019`, `15-08-2019`, `2019-08-15`, or a year alone (1 January).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
        .or_else(|| {
            (t.len() == 4)
                .then(|| t.parse::<i32>().ok())
                .flatten()
                .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1))
        })
}

/// `45.000.000`, `45,000,000`, `45 000 000` or `45000000` đồng.
pub fn parse_cost(text: &str) -> Option<u64> {
    let digits: String = text
        .trim()
        .trim_end_matches("đồng")
        .trim_end_matches('đ')
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' ' | '\u{a0}'))
        .collect();
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse::<u64>().ok())
        .flatten()
        .filter(|v| *v <= MAX_COST_VND)
}

/// What the import checks sites against.
pub trait SiteRegistry {
    fn has_site(&self, site: &SiteRef) -> bool;
}

impl<F: Fn(&SiteRef) -> bool> SiteRegistry for F {
    fn has_site(&self, site: &SiteRef) -> bool {
        self(site)
    }
}

/// Every asset of `table`, or every error. `commune` is the commune the
/// import is for (a row naming another is an error); without it every row
/// must name its commune. `today` bounds the service dates.
pub fn parse(
    table: &Table,
    commune: Option<&CommuneCode>,
    sites: &dyn SiteRegistry,
    today: NaiveDate,
) -> Result<Vec<NewManualAsset>, Vec<RowError>> {
    let mut columns: HashMap<Column, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, header) in table.headers.iter().enumerate() {
        let name = normalize_header(header);
        if let Some((column, _)) = HEADERS.iter().find(|(_, names)| names.contains(&&*name)) {
            if columns.insert(*column, i).is_some() {
                errors.push(RowError::new(
                    1,
                    format!("cột \"{header}\" xuất hiện hai lần."),
                    format!("column \"{header}\" appears twice."),
                ));
            }
        }
    }
    for (column, vi, en) in [
        (Column::Category, "Loại tài sản", "Loại tài sản (category)"),
        (
            Column::Model,
            "Tên tài sản / Model",
            "Tên tài sản / Model (model)",
        ),
    ] {
        if !columns.contains_key(&column) {
            errors.push(RowError::new(
                1,
                format!("thiếu cột \"{vi}\" (xem mẫu docs/import-tai-san.md)."),
                format!("the column \"{en}\" is missing (see docs/import-tai-san.md)."),
            ));
        }
    }
    if commune.is_none() && !columns.contains_key(&Column::Commune) {
        errors.push(RowError::new(
            1,
            "thiếu cột \"Mã xã\": hãy thêm cột này hoặc chọn xã khi nhập (--commune).".into(),
            "the column \"Mã xã\" (commune) is missing: add it or give the commune to the \
             import (--commune)."
                .into(),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut assets = Vec::new();
    for row in &table.rows {
        let get = |c: Column| -> &str {
            columns
                .get(&c)
                .and_then(|i| row.cells.get(*i))
                .map_or("", String::as_str)
        };
        let line = row.line;
        let before = errors.len();
        let mut fail = |vi: String, en: String| errors.push(RowError::new(line, vi, en));

        let category = match get(Column::Category) {
            "" => {
                fail(
                    "thiếu loại tài sản.".into(),
                    "the category (Loại tài sản) is empty.".into(),
                );
                None
            }
            text => parse_category(text).or_else(|| {
                fail(
                    format!(
                        "loại tài sản \"{text}\" không nhận ra; dùng: máy photocopy, máy scan, \
                         máy in, máy in đa năng, thiết bị mạng, máy tính để bàn, máy tính xách \
                         tay, máy tính bảng, khác."
                    ),
                    format!(
                        "unknown category \"{text}\"; use one of: máy photocopy, máy scan, máy in, \
                         máy in đa năng, thiết bị mạng, máy tính để bàn, máy tính xách tay, máy \
                         tính bảng, khác."
                    ),
                );
                None
            }),
        };
        let model = get(Column::Model);
        if model.is_empty() {
            fail(
                "thiếu tên tài sản / model.".into(),
                "the model (Tên tài sản / Model) is empty.".into(),
            );
        } else if model.chars().count() > MAX_TEXT {
            fail(
                format!("tên tài sản dài quá {MAX_TEXT} ký tự."),
                format!("the model is longer than {MAX_TEXT} characters."),
            );
        }
        let serial = Some(get(Column::Serial))
            .filter(|s| !s.is_empty() && !is_placeholder_serial(s))
            .map(str::to_uppercase);
        let row_commune = match (get(Column::Commune), commune) {
            ("", Some(c)) => Some(c.clone()),
            ("", None) => {
                fail(
                    "thiếu mã xã.".into(),
                    "the commune code (Mã xã) is empty.".into(),
                );
                None
            }
            (text, given) => match CommuneCode::parse(text) {
                Ok(c) if given.is_some_and(|g| *g != c) => {
                    fail(
                        format!(
                            "mã xã {c} khác xã đang nhập ({}).",
                            given.map(ToString::to_string).unwrap_or_default()
                        ),
                        format!(
                            "commune {c} is not the commune being imported ({}).",
                            given.map(ToString::to_string).unwrap_or_default()
                        ),
                    );
                    None
                }
                Ok(c) => Some(c),
                Err(_) => {
                    fail(
                        format!("mã xã \"{text}\" không hợp lệ (5 chữ số, ví dụ 24118)."),
                        format!("invalid commune code \"{text}\" (five digits, e.g. 24118)."),
                    );
                    None
                }
            },
        };
        let site = match get(Column::Site) {
            "" => None,
            text => match (SiteCode::parse(text), &row_commune) {
                (Err(_), _) => {
                    fail(
                        format!("mã điểm \"{text}\" không hợp lệ (chữ thường không dấu, số, '-')."),
                        format!(
                            "invalid site code \"{text}\" (lowercase ASCII letters, digits, '-')."
                        ),
                    );
                    None
                }
                (Ok(code), Some(c)) => {
                    let site = SiteRef {
                        commune: c.clone(),
                        site: code,
                    };
                    if !sites.has_site(&site) {
                        fail(
                            format!("điểm {site} chưa có trong danh sách điểm của xã."),
                            format!("site {site} is not in the sites registry."),
                        );
                    }
                    Some(site.site)
                }
                (Ok(code), None) => Some(code),
            },
        };
        let in_service = match get(Column::InService) {
            "" => None,
            text => match parse_date(text) {
                Some(d) if d > today || d.year() < 1980 => {
                    fail(
                        format!("ngày đưa vào sử dụng {text} nằm ngoài khoảng 1980 đến hôm nay."),
                        format!("the in-service date {text} is not between 1980 and today."),
                    );
                    None
                }
                Some(d) => Some(d),
                None => {
                    fail(
                        format!(
                            "ngày đưa vào sử dụng \"{text}\" không đọc được (dd/mm/yyyy hoặc năm)."
                        ),
                        format!(
                            "cannot read the in-service date \"{text}\" (dd/mm/yyyy or a year)."
                        ),
                    );
                    None
                }
            },
        };
        let cost_vnd = match get(Column::Cost) {
            "" => None,
            text => parse_cost(text).or_else(|| {
                fail(
                    format!("nguyên giá \"{text}\" không phải số đồng (ví dụ 45.000.000)."),
                    format!(
                        "the original cost \"{text}\" is not an amount in đồng (e.g. 45.000.000)."
                    ),
                );
                None
            }),
        };
        let funding = get(Column::Funding);
        let note = get(Column::Note);
        if funding.chars().count() > MAX_TEXT || note.chars().count() > MAX_TEXT {
            fail(
                format!("nguồn vốn hoặc ghi chú dài quá {MAX_TEXT} ký tự."),
                format!("the funding source or note is longer than {MAX_TEXT} characters."),
            );
        }
        if errors.len() > before {
            continue;
        }
        if let (Some(category), Some(commune)) = (category, row_commune) {
            assets.push(NewManualAsset {
                commune,
                site,
                category,
                model: model.to_owned(),
                serial,
                in_service,
                cost_vnd,
                funding_source: Some(funding.to_owned()).filter(|f| !f.is_empty()),
                note: Some(note.to_owned()).filter(|n| !n.is_empty()),
                source_line: Some(line),
            });
        }
    }
    if errors.is_empty() {
        Ok(assets)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::table::{self, Format};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).expect("date")
    }

    fn known(site: &SiteRef) -> bool {
        site.site.as_str() == "ttpvhcc"
    }

    #[test]
    fn a_good_list_parses() {
        let csv = "STT,Loại tài sản,Tên tài sản / Model,Số serial,Mã điểm,Ngày đưa vào sử dụng,Nguyên giá (đồng),Nguồn vốn\n\
                   1,Máy photocopy,Ricoh MP 2014,e334m1,ttpvhcc,15/08/2019,\"45.000.000\",Ngân sách xã\n\
                   2,máy scan,Canon DR-C225,,ttpvhcc,2021,,\n";
        let t = table::read(csv.as_bytes(), Format::Csv).expect("table");
        let commune = CommuneCode::parse("24118").expect("code");
        let assets = parse(&t, Some(&commune), &known, today()).expect("parses");
        assert_eq!(assets.len(), 2);
        assert_eq!(assets[0].category, Category::Photocopier);
        assert_eq!(assets[0].serial.as_deref(), Some("E334M1"));
        assert_eq!(assets[0].cost_vnd, Some(45_000_000));
        assert_eq!(assets[0].in_service, NaiveDate::from_ymd_opt(2019, 8, 15));
        assert_eq!(assets[1].category, Category::Scanner);
        assert_eq!(assets[1].in_service, NaiveDate::from_ymd_opt(2021, 1, 1));
        assert_eq!(assets[1].source_line, Some(3));
    }

    #[test]
    fn every_bad_row_is_named_by_its_line() {
        let csv = "Loại tài sản,Model,Mã xã,Mã điểm,Ngày đưa vào sử dụng,Nguyên giá\n\
                   máy in,HP M402,24118,,,\n\
                   tủ lạnh,LG,24118,,,\n\
                   máy in,Canon,24121,,,\n\
                   máy in,Brother,24118,kho,31/02/2020,mười triệu\n";
        let t = table::read(csv.as_bytes(), Format::Csv).expect("table");
        let commune = CommuneCode::parse("24118").expect("code");
        let errors = parse(&t, Some(&commune), &known, today()).expect_err("bad rows");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 5, 5]);
        assert!(
            errors[0]
                .message(Lang::Vi)
                .starts_with("Dòng 3: loại tài sản \"tủ lạnh\"")
        );
        assert!(errors[1].vi.contains("24121"));
        assert!(errors[2].vi.contains("kho"));
    }

    #[test]
    fn missing_columns_are_reported_on_line_one() {
        let t = table::read("Model\nHP\n".as_bytes(), Format::Csv).expect("table");
        let errors = parse(&t, None, &known, today()).expect_err("columns");
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|e| e.line == 1));
    }

    #[test]
    fn words_dates_and_amounts() {
        assert_eq!(
            parse_category("Máy  Photocopy"),
            Some(Category::Photocopier)
        );
        assert_eq!(parse_category("network-gear"), Some(Category::NetworkGear));
        assert_eq!(parse_category("xe máy"), None);
        assert_eq!(
            parse_date("2019-08-15"),
            NaiveDate::from_ymd_opt(2019, 8, 15)
        );
        assert_eq!(parse_date("5/8/2019"), NaiveDate::from_ymd_opt(2019, 8, 5));
        assert_eq!(parse_date("15/13/2019"), None);
        assert_eq!(parse_cost("45,000,000"), Some(45_000_000));
        assert_eq!(parse_cost("13 500 000 đ"), Some(13_500_000));
        assert_eq!(parse_cost("-5"), None);
        assert_eq!(parse_cost("1.0e9"), None);
    }
}
