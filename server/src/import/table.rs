//! A spreadsheet as text: the header row and the data rows, each with the
//! line number the officer sees (the header is line 1), so every error can
//! name its line. CSV (comma, semicolon or tab, UTF-8 with or without BOM)
//! and XLSX (the first sheet; dates become `YYYY-MM-DD`, whole numbers lose
//! their `.0`) read the same way. Blank rows are skipped; cells are trimmed.
//!
//! Limits apply before anything is parsed further: [`MAX_FILE_BYTES`] and
//! [`MAX_ROWS`].

use std::io::Cursor;

use kiemke_shared::Lang;

/// Larger files are refused: a commune's list is a few hundred rows.
pub const MAX_FILE_BYTES: usize = 5 << 20;
/// Data rows at most.
pub const MAX_ROWS: usize = 5_000;
/// Characters per cell at most.
pub const MAX_CELL_CHARS: usize = 500;

/// The file's format, from its name or content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// By the file name's extension.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(Format::Xlsx)
        } else {
            None
        }
    }

    /// XLSX if the bytes are a ZIP archive (what an .xlsx is), else CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// One data row: its line number and its cells (as many as the header).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
}

/// A read spreadsheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The header row's line (1 unless blank lines come first).
    pub header_line: usize,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// Why a file could not be read as a table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("more than {limit} rows")]
    TooManyRows { limit: usize },
    #[error("the file has no header row")]
    Empty,
    #[error("line {line}: a cell is longer than {limit} characters")]
    CellTooLong { line: usize, limit: usize },
    #[error("line {line}: not valid CSV: {detail}")]
    Csv { line: usize, detail: String },
    #[error("not a readable XLSX workbook: {0}")]
    Xlsx(String),
}

impl TableError {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (TableError::TooLarge { limit }, Lang::Vi) => {
                format!("Tệp lớn hơn {} MB: hãy chia thành nhiều tệp.", limit >> 20)
            }
            (TableError::TooManyRows { limit }, Lang::Vi) => {
                format!("Tệp có hơn {limit} dòng: hãy chia thành nhiều tệp.")
            }
            (TableError::Empty, Lang::Vi) => "Tệp không có dòng tiêu đề.".into(),
            (TableError::CellTooLong { line, limit }, Lang::Vi) => {
                format!("Dòng {line}: một ô dài quá {limit} ký tự.")
            }
            (TableError::Csv { line, detail }, Lang::Vi) => {
                format!("Dòng {line}: không đọc được CSV ({detail}). Hãy lưu tệp dạng CSV UTF-8.")
            }
            (TableError::Xlsx(detail), Lang::Vi) => {
                format!("Không đọc được tệp Excel (.xlsx): {detail}")
            }
            (other, Lang::En) => {
                let mut s = other.to_string();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                format!("{s}.")
            }
        }
    }
}

/// Reads `bytes` in `format`.
pub fn read(bytes: &[u8], format: Format) -> Result<Table, TableError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(TableError::TooLarge {
            limit: MAX_FILE_BYTES,
        });
    }
    let raw = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    };
    let mut lines = raw
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let (header_line, headers) = lines.next().ok_or(TableError::Empty)?;
    let mut rows = Vec::new();
    for (line, mut cells) in lines {
        if rows.len() == MAX_ROWS {
            return Err(TableError::TooManyRows { limit: MAX_ROWS });
        }
        if cells.iter().any(|c| c.chars().count() > MAX_CELL_CHARS) {
            return Err(TableError::CellTooLong {
                line,
                limit: MAX_CELL_CHARS,
            });
        }
        cells.resize(headers.len().max(cells.len()), String::new());
        rows.push(Row { line, cells });
    }
    Ok(Table {
        header_line,
        headers,
        rows,
    })
}

/// The delimiter of the header line: the most frequent of `,`, `;`, tab
/// (Excel in Vietnamese locales saves with `;` or `,`).
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn read_csv(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| TableError::Csv {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        detail: "không phải UTF-8 / not UTF-8".into(),
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| TableError::Csv {
            line: e
                .position()
                .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0)),
            detail: e.to_string(),
        })?;
        if out.len() > MAX_ROWS + 1 {
            return Err(TableError::TooManyRows { limit: MAX_ROWS });
        }
        let line = record
            .position()
            .map_or(out.len() + 1, |p| usize::try_from(p.line()).unwrap_or(0));
        out.push((line, record.iter().map(|c| c.trim().to_owned()).collect()));
    }
    Ok(out)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| TableError::Xlsx(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| TableError::Xlsx("no sheet".into()))?
        .map_err(|e| TableError::Xlsx(e.to_string()))?;
    // Line numbers are the sheet's own row numbers (the range may start
    // below row 1).
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    if range.height() > MAX_ROWS + 50 {
        return Err(TableError::TooManyRows { limit: MAX_ROWS });
    }
    let cell = |data: &Data| -> String {
        match data {
            Data::Empty | Data::Error(_) => String::new(),
            Data::String(s) => s.trim().to_owned(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(d) => d
                .as_datetime()
                .map(|d| d.date().format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        }
    };
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| (first_row + i + 1, row.iter().map(cell).collect()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_semicolons_and_blank_rows() {
        let text = "\u{feff}Loại tài sản;Model\nmáy in; HP M402 \n\n;\nmáy scan;\"Canon, DR\"\n";
        let t = read(text.as_bytes(), Format::sniff(text.as_bytes())).expect("reads");
        assert_eq!(t.headers, ["Loại tài sản", "Model"]);
        assert_eq!(
            t.rows,
            [
                Row {
                    line: 2,
                    cells: vec!["máy in".into(), "HP M402".into()]
                },
                Row {
                    line: 5,
                    cells: vec!["máy scan".into(), "Canon, DR".into()]
                },
            ]
        );
    }

    #[test]
    fn limits_and_bad_files() {
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(matches!(
            read(&big, Format::Csv),
            Err(TableError::TooLarge { .. })
        ));
        let many = format!("a\n{}", "x\n".repeat(MAX_ROWS + 1));
        assert!(matches!(
            read(many.as_bytes(), Format::Csv),
            Err(TableError::TooManyRows { .. })
        ));
        assert_eq!(read(b"\n\n", Format::Csv), Err(TableError::Empty));
        let long = format!("a\n{}\n", "x".repeat(MAX_CELL_CHARS + 1));
        assert_eq!(
            read(long.as_bytes(), Format::Csv),
            Err(TableError::CellTooLong {
                line: 2,
                limit: MAX_CELL_CHARS
            })
        );
        assert!(matches!(
            read(b"PK\x03\x04garbage", Format::Xlsx),
            Err(TableError::Xlsx(_))
        ));
        let latin1 = b"a\n\xe1\n";
        assert!(matches!(
            read(latin1, Format::Csv),
            Err(TableError::Csv { line: 2, .. })
        ));
        assert!(TableError::Empty.message(Lang::Vi).contains("tiêu đề"));
    }

    #[test]
    fn xlsx_dates_and_numbers_become_text() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2019, 8, 15).expect("date");
        let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        sheet.write(0, 0, "Model").expect("cell");
        sheet.write(0, 1, "Ngày").expect("cell");
        sheet.write(0, 2, "Nguyên giá").expect("cell");
        sheet.write(1, 0, "Ricoh MP 2014").expect("cell");
        sheet
            .write_datetime_with_format(1, 1, &date, &format)
            .expect("cell");
        sheet.write(1, 2, 45_000_000).expect("cell");
        let bytes = book.save_to_buffer().expect("xlsx");
        let t = read(&bytes, Format::sniff(&bytes)).expect("reads");
        assert_eq!(t.headers, ["Model", "Ngày", "Nguyên giá"]);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[0].cells, ["Ricoh MP 2014", "2019-08-15", "45000000"]);
    }
}
