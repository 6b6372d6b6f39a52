//! The province's list of communes (and optionally their sites) from CSV or
//! XLSX: one row per commune, or one row per site with the commune's
//! columns repeated. Headers in Vietnamese or English (see
//! `docs/survey.md`): `Mã xã`, `Loại`, `Tên xã`, `Tỉnh`, and for sites
//! `Mã điểm`, `Loại điểm`, `Tên điểm`, `Đường truyền`, `Số cán bộ`.
//!
//! [`plan`] checks every row and compares it with the store (new, changed,
//! unchanged), collecting every error with its line; [`Plan::apply`]
//! writes the new and changed records in one transaction and records each
//! in the audit log. Re-importing the same file writes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kiemke_shared::{CommuneCode, Lang, SiteCode, SiteKind, SiteRef};

use super::table::{self, Format, Row};
use crate::store::audit::AuditEntry;
use crate::store::communes::{CommuneKind, CommuneRecord};
use crate::store::sites::{Line, SiteRecord};
use crate::store::{Store, StoreError};

/// Most errors listed (the rest are counted).
const MAX_ERRORS: usize = 50;

/// One problem, on one line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 0 for the file as a whole.
    pub line: usize,
    pub vi: String,
    pub en: String,
}

impl LineError {
    pub fn text(&self, lang: Lang) -> String {
        match (self.line, lang) {
            (0, _) => lang.pick(&self.vi, &self.en).to_owned(),
            (n, Lang::Vi) => format!("Dòng {n}: {}", self.vi),
            (n, Lang::En) => format!("Line {n}: {}", self.en),
        }
    }
}

/// All errors as one message.
pub fn report_errors(errors: &[LineError], lang: Lang) -> String {
    let mut text = lang
        .pick(
            "Tệp chưa được nhập (không ghi gì) vì có lỗi:\n",
            "The file was not imported (nothing written) because of errors:\n",
        )
        .to_owned();
    for e in errors.iter().take(MAX_ERRORS) {
        text.push_str("- ");
        text.push_str(&e.text(lang));
        text.push('\n');
    }
    if errors.len() > MAX_ERRORS {
        text.push_str(&match lang {
            Lang::Vi => format!("... và {} lỗi khác.\n", errors.len() - MAX_ERRORS),
            Lang::En => format!("... and {} more.\n", errors.len() - MAX_ERRORS),
        });
    }
    text
}

/// What importing a record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    New,
    Changed,
    Unchanged,
}

impl Change {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Change::New => lang.pick("thêm mới", "new"),
            Change::Changed => lang.pick("cập nhật", "changed"),
            Change::Unchanged => lang.pick("không đổi", "unchanged"),
        }
    }
}

/// A record the file describes, compared with the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned<T> {
    pub line: usize,
    pub change: Change,
    pub record: T,
    pub before: Option<T>,
}

/// A checked import, not yet written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub communes: Vec<Planned<CommuneRecord>>,
    pub sites: Vec<Planned<SiteRecord>>,
}

/// Column roles, by their accepted header spellings (lowercase, `_` as
/// space).
const COLUMNS: [(&str, &[&str]); 9] = [
    (
        "code",
        &["mã xã", "ma xa", "mã đơn vị", "commune code", "code"],
    ),
    ("kind", &["loại", "loai", "loại xã", "kind"]),
    (
        "name",
        &[
            "tên xã",
            "ten xa",
            "tên xã, phường",
            "tên",
            "name",
            "commune name",
        ],
    ),
    ("province", &["tỉnh", "tinh", "province"]),
    ("site_code", &["mã điểm", "ma diem", "site code"]),
    ("site_kind", &["loại điểm", "loai diem", "site kind"]),
    ("site_name", &["tên điểm", "ten diem", "site name"]),
    ("lines", &["đường truyền", "duong truyen", "lines"]),
    ("staff", &["số cán bộ", "so can bo", "staff"]),
];

/// `xa`, `xã`, `phường`, `đặc khu`... → the kind.
pub fn parse_commune_kind(s: &str) -> Option<CommuneKind> {
    match s.trim().to_lowercase().replace(['_', '-'], " ").as_str() {
        "" | "xa" | "xã" => Some(CommuneKind::Xa),
        "phuong" | "phường" => Some(CommuneKind::Phuong),
        "dac khu" | "đặc khu" => Some(CommuneKind::DacKhu),
        _ => None,
    }
}

fn parse_site_kind(s: &str) -> Option<SiteKind> {
    if let Ok(kind) = s.parse::<SiteKind>() {
        return Some(kind);
    }
    let s = s.trim().to_lowercase();
    SiteKind::ALL.into_iter().find(|k| {
        k.label(Lang::Vi).to_lowercase() == s
            || (*k == SiteKind::ServiceCenter && s == "ttpvhcc")
            || (*k == SiteKind::Headquarters && (s == "trụ sở" || s == "trụ sở ubnd xã"))
    })
}

fn err(line: usize, vi: String, en: String) -> LineError {
    LineError { line, vi, en }
}

/// Checks the file and compares it with the store. Every error is
/// returned, with its line.
pub fn plan(
    store: &Store,
    bytes: &[u8],
    format: Format,
    now: DateTime<Utc>,
) -> Result<Plan, Vec<LineError>> {
    let table = table::read(bytes, format).map_err(|e| {
        vec![LineError {
            line: 0,
            vi: e.message(Lang::Vi),
            en: e.message(Lang::En),
        }]
    })?;
    let header = Row {
        line: table.header_line,
        cells: table.headers,
    };
    let header = &header;
    let data = &table.rows[..];
    let mut columns: BTreeMap<&str, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, title) in header.cells.iter().enumerate() {
        let norm = title.to_lowercase().replace('_', " ");
        match COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&norm.trim()))
        {
            Some((role, _)) => {
                if columns.insert(role, i).is_some() {
                    errors.push(err(
                        header.line,
                        format!("cột \"{title}\" bị lặp."),
                        format!("column \"{title}\" repeats."),
                    ));
                }
            }
            None => errors.push(err(
                header.line,
                format!("không hiểu tiêu đề cột \"{title}\" (xem docs/survey.md)."),
                format!("unknown column heading \"{title}\" (see docs/survey.md)."),
            )),
        }
    }
    for required in ["code", "name", "province"] {
        if !columns.contains_key(required) {
            let (vi, en) = match required {
                "code" => ("Mã xã", "Commune code"),
                "name" => ("Tên xã", "Commune name"),
                _ => ("Tỉnh", "Province"),
            };
            errors.push(err(
                header.line,
                format!("thiếu cột \"{vi}\"."),
                format!("the \"{en}\" column is missing."),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let cell = |row: &Row, role: &str| -> String {
        columns
            .get(role)
            .and_then(|i| row.cells.get(*i))
            .cloned()
            .unwrap_or_default()
    };
    let mut communes: BTreeMap<CommuneCode, (usize, CommuneRecord)> = BTreeMap::new();
    let mut sites: BTreeMap<SiteRef, (usize, SiteRecord)> = BTreeMap::new();
    for row in data {
        let line = row.line;
        let code_text = cell(row, "code");
        let Ok(code) = CommuneCode::parse(&code_text) else {
            errors.push(err(
                line,
                format!("mã xã phải gồm 5 chữ số, nhận được \"{code_text}\"."),
                format!("a commune code is 5 digits, got \"{code_text}\"."),
            ));
            continue;
        };
        let kind_text = cell(row, "kind");
        let Some(kind) = parse_commune_kind(&kind_text) else {
            errors.push(err(
                line,
                format!("loại phải là xã, phường hoặc đặc khu, nhận được \"{kind_text}\"."),
                format!("the kind must be xã, phường or đặc khu, got \"{kind_text}\"."),
            ));
            continue;
        };
        let name = cell(row, "name");
        let province = cell(row, "province");
        if name.is_empty()
            || name.chars().count() > 120
            || province.is_empty()
            || province.chars().count() > 120
        {
            errors.push(err(
                line,
                "tên xã và tỉnh không được để trống, dài tối đa 120 ký tự.".into(),
                "the commune name and province must be 1–120 characters.".into(),
            ));
            continue;
        }
        let record = CommuneRecord {
            code: code.clone(),
            kind,
            name,
            province,
            created_at: now,
        };
        match communes.get(&code) {
            Some((first, seen))
                if (seen.kind, &seen.name, &seen.province)
                    != (record.kind, &record.name, &record.province) =>
            {
                errors.push(err(
                    line,
                    format!("xã {code} khác với dòng {first} (loại, tên hoặc tỉnh)."),
                    format!("commune {code} differs from line {first} (kind, name or province)."),
                ));
                continue;
            }
            Some(_) => {}
            None => {
                communes.insert(code.clone(), (line, record));
            }
        }
        let site_text = cell(row, "site_code");
        if site_text.is_empty() {
            continue;
        }
        let Ok(site) = SiteCode::parse(&site_text) else {
            errors.push(err(
                line,
                format!("mã điểm gồm 1–40 ký tự a–z, 0–9 và '-', nhận được \"{site_text}\"."),
                format!("a site code is 1–40 characters of a–z, 0–9 and '-', got \"{site_text}\"."),
            ));
            continue;
        };
        let site_kind_text = cell(row, "site_kind");
        let Some(site_kind) = parse_site_kind(&site_kind_text) else {
            errors.push(err(line, format!("loại điểm không hợp lệ: \"{site_kind_text}\" (headquarters, service-center, health-station, school, village-hall, other)."), format!("unknown site kind \"{site_kind_text}\".")));
            continue;
        };
        let site_name = cell(row, "site_name");
        if site_name.is_empty() || site_name.chars().count() > 120 {
            errors.push(err(
                line,
                "tên điểm không được để trống, dài tối đa 120 ký tự.".into(),
                "the site name must be 1–120 characters.".into(),
            ));
            continue;
        }
        let mut lines = Vec::new();
        let mut bad_line = false;
        for part in cell(row, "lines")
            .split([';', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match Line::parse(part) {
                Ok(l) => lines.push(l),
                Err(e) => {
                    errors.push(err(
                        line,
                        format!("đường truyền {e}"),
                        format!("line {e} (ISP:KIND[:MBPS])"),
                    ));
                    bad_line = true;
                }
            }
        }
        let staff_text = cell(row, "staff");
        let staff = if staff_text.is_empty() {
            None
        } else {
            match staff_text.parse::<u32>() {
                Ok(n) if n <= 10_000 => Some(n),
                _ => {
                    errors.push(err(
                        line,
                        format!("số cán bộ phải là số nguyên 0–10000, nhận được \"{staff_text}\"."),
                        format!("staff must be a whole number 0–10000, got \"{staff_text}\"."),
                    ));
                    continue;
                }
            }
        };
        if bad_line {
            continue;
        }
        let site_ref = SiteRef {
            commune: code,
            site,
        };
        if let Some((first, _)) = sites.get(&site_ref) {
            errors.push(err(
                line,
                format!("điểm {site_ref} đã có ở dòng {first}."),
                format!("site {site_ref} already appears at line {first}."),
            ));
            continue;
        }
        let record = SiteRecord {
            site: site_ref.clone(),
            kind: site_kind,
            name: site_name,
            lines,
            staff,
            created_at: now,
        };
        sites.insert(site_ref, (line, record));
    }
    if data.is_empty() {
        errors.push(err(
            0,
            "Tệp chỉ có dòng tiêu đề.".into(),
            "The file has only its header row.".into(),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    fn compare<T>(e: Result<T, StoreError>) -> Result<T, Vec<LineError>> {
        e.map_err(|e| {
            vec![err(
                0,
                format!("Lỗi lưu trữ: {e}"),
                format!("Storage error: {e}"),
            )]
        })
    }
    let mut plan = Plan::default();
    for (line, mut record) in communes.into_values() {
        let before = compare(store.commune(&record.code))?;
        let change = match &before {
            None => Change::New,
            Some(b) => {
                record.created_at = b.created_at;
                if *b == record {
                    Change::Unchanged
                } else {
                    Change::Changed
                }
            }
        };
        plan.communes.push(Planned {
            line,
            change,
            record,
            before,
        });
    }
    for (line, mut record) in sites.into_values() {
        let before = compare(store.site(&record.site))?;
        let change = match &before {
            None => Change::New,
            Some(b) => {
                record.created_at = b.created_at;
                if *b == record {
                    Change::Unchanged
                } else {
                    Change::Changed
                }
            }
        };
        plan.sites.push(Planned {
            line,
            change,
            record,
            before,
        });
    }
    Ok(plan)
}

impl Plan {
    pub fn count(&self, change: Change) -> (usize, usize) {
        (
            self.communes.iter().filter(|p| p.change == change).count(),
            self.sites.iter().filter(|p| p.change == change).count(),
        )
    }

    /// A summary and one line per record that changes.
    pub fn describe(&self, lang: Lang) -> String {
        let mut text = String::new();
        for change in [Change::New, Change::Changed, Change::Unchanged] {
            let (c, s) = self.count(change);
            text.push_str(&match lang {
                Lang::Vi => format!("{}: {c} xã, {s} điểm\n", change.label(lang)),
                Lang::En => format!("{}: {c} communes, {s} sites\n", change.label(lang)),
            });
        }
        for p in self
            .communes
            .iter()
            .filter(|p| p.change != Change::Unchanged)
        {
            text.push_str(&format!(
                "  [{}] {} {}\n",
                p.change.label(lang),
                p.record.code,
                p.record.full_name_vi()
            ));
        }
        for p in self.sites.iter().filter(|p| p.change != Change::Unchanged) {
            text.push_str(&format!(
                "  [{}] {} {}\n",
                p.change.label(lang),
                p.record.site,
                p.record.name
            ));
        }
        text
    }

    /// Writes the new and changed records (one transaction), then the
    /// audit entries. Returns how many records were written.
    pub fn apply(&self, store: &Store, who: &str) -> Result<usize, StoreError> {
        let communes: Vec<&CommuneRecord> = (self.communes.iter())
            .filter(|p| p.change != Change::Unchanged)
            .map(|p| &p.record)
            .collect();
        let sites: Vec<&SiteRecord> = (self.sites.iter())
            .filter(|p| p.change != Change::Unchanged)
            .map(|p| &p.record)
            .collect();
        store.put_registry(&communes, &sites)?;
        for p in self
            .communes
            .iter()
            .filter(|p| p.change != Change::Unchanged)
        {
            let action = if p.change == Change::New {
                "commune.import-add"
            } else {
                "commune.import-edit"
            };
            store.audit(
                &AuditEntry::new(who, action, p.record.code.to_string())
                    .change(p.before.as_ref(), Some(&p.record)),
            )?;
        }
        for p in self.sites.iter().filter(|p| p.change != Change::Unchanged) {
            let action = if p.change == Change::New {
                "site.import-add"
            } else {
                "site.import-edit"
            };
            store.audit(
                &AuditEntry::new(who, action, p.record.site.to_string())
                    .change(p.before.as_ref(), Some(&p.record)),
            )?;
        }
        Ok(communes.len() + sites.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Mã xã,Loại,Tên xã,Tỉnh,Mã điểm,Loại điểm,Tên điểm,Đường truyền,Số cán bộ\n\
        24118,xã,Biển Hồ,Gia Lai,tru-so,headquarters,Trụ sở UBND xã Biển Hồ,vnpt:internet:100,12\n\
        24118,xã,Biển Hồ,Gia Lai,ttpvhcc,TTPVHCC,TTPVHCC xã Biển Hồ,vnpt:internet:300;viettel:tslcd,8\n\
        24121,phường,Pleiku,Gia Lai,,,,,\n";

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        (dir, store)
    }

    #[test]
    fn an_import_is_all_or_nothing_with_line_numbers() {
        let (_dir, store) = store();
        let bad = "Mã xã,Loại,Tên xã,Tỉnh,Mã điểm,Loại điểm,Tên điểm,Đường truyền\n\
            24118,xã,Biển Hồ,Gia Lai,tru-so,headquarters,Trụ sở,vnpt:internet\n\
            2411,xã,Ia Grai,Gia Lai,,,,\n\
            24121,làng,Pleiku,Gia Lai,,,,\n\
            24118,xã,Biển Hồ,Gia Lai,ttpvhcc,bưu điện,TTPVHCC,vnpt:wifi\n";
        let errors = plan(&store, bad.as_bytes(), Format::Csv, Utc::now()).expect_err("refused");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        let message = report_errors(&errors, Lang::Vi);
        assert!(
            message.contains("Dòng 3: mã xã phải gồm 5 chữ số"),
            "{message}"
        );
        assert!(
            store.communes().expect("read").is_empty(),
            "nothing written"
        );
    }

    #[test]
    fn importing_twice_changes_nothing_the_second_time() {
        let (_dir, store) = store();
        let first = plan(&store, GOOD.as_bytes(), Format::Csv, Utc::now()).expect("plan");
        assert_eq!(first.count(Change::New), (2, 2));
        assert_eq!(first.apply(&store, "test").expect("apply"), 4);
        let sites = store
            .sites(Some(&CommuneCode::parse("24118").expect("code")))
            .expect("sites");
        assert_eq!(sites[1].lines.len(), 2);
        assert_eq!(sites[1].kind, SiteKind::ServiceCenter);
        assert_eq!(sites[0].staff, Some(12));

        let again = plan(&store, GOOD.as_bytes(), Format::Csv, Utc::now()).expect("plan");
        assert_eq!(again.count(Change::Unchanged), (2, 2));
        assert_eq!(again.apply(&store, "test").expect("apply"), 0);

        let renamed = GOOD.replace("24121,phường,Pleiku", "24121,phường,Pleiku Mới");
        let third = plan(&store, renamed.as_bytes(), Format::Csv, Utc::now()).expect("plan");
        assert_eq!(third.count(Change::Changed), (1, 0));
    }

    #[test]
    fn unknown_and_missing_columns_are_named() {
        let (_dir, store) = store();
        let errors = plan(
            &store,
            "Mã xã,Dân số\n24118,20000\n".as_bytes(),
            Format::Csv,
            Utc::now(),
        )
        .expect_err("refused");
        let text = report_errors(&errors, Lang::Vi);
        assert!(
            text.contains("Dân số") && text.contains("thiếu cột \"Tên xã\""),
            "{text}"
        );
    }
}
