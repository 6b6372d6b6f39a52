//! A generic tabular reader for imports: CSV (UTF-8, with or without a
//! byte-order mark, comma or semicolon separated) or the first sheet of an
//! XLSX workbook, as rows of text cells with their line numbers.

use calamine::{Data, Reader, Xlsx};

/// Largest file accepted (a province's list is a few hundred rows).
pub const MAX_BYTES: usize = 1 << 20;
/// Most data rows accepted.
pub const MAX_ROWS: usize = 20_000;
/// Most columns accepted.
pub const MAX_COLUMNS: usize = 64;

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
}

/// One row: its 1-based line in the file or sheet, and its cells trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
}

/// Why a file cannot be read as a table at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("file too large ({size} bytes, at most {max})")]
    TooLarge { size: usize, max: usize },
    #[error("too many rows (at most {max})")]
    TooManyRows { max: usize },
    #[error("too many columns at line {line} (at most {max})")]
    TooManyColumns { line: usize, max: usize },
    #[error("not UTF-8 text (line {line})")]
    NotUtf8 { line: usize },
    #[error("cannot read the CSV at line {line}: {detail}")]
    Csv { line: usize, detail: String },
    #[error("cannot read the workbook: {0}")]
    Xlsx(String),
    #[error("the file is empty")]
    Empty,
}

impl TableError {
    pub fn message(&self, lang: kiemke_shared::Lang) -> String {
        use kiemke_shared::Lang::{En, Vi};
        match (self, lang) {
            (TableError::TooLarge { size, max }, Vi) => {
                format!("Tệp quá lớn ({size} byte, tối đa {max}).")
            }
            (TableError::TooManyRows { max }, Vi) => {
                format!("Tệp có quá nhiều dòng (tối đa {max}).")
            }
            (TableError::TooManyColumns { line, max }, Vi) => {
                format!("Dòng {line} có quá nhiều cột (tối đa {max}).")
            }
            (TableError::NotUtf8 { line }, Vi) => {
                format!("Dòng {line} không phải văn bản UTF-8: hãy lưu tệp CSV với bảng mã UTF-8.")
            }
            (TableError::Csv { line, detail }, Vi) => {
                format!("Không đọc được CSV ở dòng {line}: {detail}")
            }
            (TableError::Xlsx(detail), Vi) => format!("Không đọc được tệp Excel: {detail}"),
            (TableError::Empty, Vi) => "Tệp không có dữ liệu.".into(),
            (e, En) => format!("{e}."),
        }
    }
}

/// Reads `bytes` as a table; empty rows are skipped.
pub fn read(bytes: &[u8], format: Format) -> Result<Vec<Row>, TableError> {
    if bytes.len() > MAX_BYTES {
        return Err(TableError::TooLarge {
            size: bytes.len(),
            max: MAX_BYTES,
        });
    }
    let rows = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    };
    if rows.is_empty() {
        return Err(TableError::Empty);
    }
    Ok(rows)
}

fn push(rows: &mut Vec<Row>, line: usize, cells: Vec<String>) -> Result<(), TableError> {
    if cells.len() > MAX_COLUMNS {
        return Err(TableError::TooManyColumns {
            line,
            max: MAX_COLUMNS,
        });
    }
    if cells.iter().all(String::is_empty) {
        return Ok(());
    }
    if rows.len() > MAX_ROWS {
        return Err(TableError::TooManyRows { max: MAX_ROWS });
    }
    rows.push(Row { line, cells });
    Ok(())
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Excel in Vietnamese locales writes ';'-separated CSV.
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let commas = first_line.iter().filter(|b| **b == b',').count();
    let semicolons = first_line.iter().filter(|b| **b == b';').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    // The line a byte offset is on (the reader's own count skips empty
    // lines, which the user's editor shows). A record's position is where
    // the reader started: before any line ends it skipped.
    let line_at = |byte: u64| {
        let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while bytes.get(end).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            end += 1;
        }
        bytes[..end].iter().filter(|b| **b == b'\n').count() + 1
    };
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| TableError::Csv {
            line: e.position().map_or(0, |p| line_at(p.byte())),
            detail: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let cells = record
            .iter()
            .map(|c| {
                std::str::from_utf8(c)
                    .map(|s| s.trim().to_owned())
                    .map_err(|_| TableError::NotUtf8 { line })
            })
            .collect::<Result<Vec<_>, _>>()?;
        push(&mut rows, line, cells)?;
    }
    Ok(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Row>, TableError> {
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| TableError::Xlsx(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(TableError::Empty)?
        .map_err(|e| TableError::Xlsx(e.to_string()))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let cells = row
            .iter()
            .map(|c| match c {
                Data::Empty => String::new(),
                Data::String(s) => s.trim().to_owned(),
                // Codes typed as numbers: 24118.0 → "24118".
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                other => other.to_string().trim().to_owned(),
            })
            .collect();
        push(&mut rows, first_row + i + 1, cells)?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_line_numbers() {
        let text = "\u{feff}Mã xã;Tên xã\n24118;Biển Hồ\n\n24121; Ia Grai \n";
        let rows = read(text.as_bytes(), Format::Csv).expect("reads");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].cells, ["Mã xã", "Tên xã"]);
        assert_eq!((rows[2].line, rows[2].cells[1].as_str()), (4, "Ia Grai"));
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert_eq!(read(b"", Format::Csv), Err(TableError::Empty));
        assert!(matches!(
            read(b"a,b\n\xff\xfe,c\n", Format::Csv),
            Err(TableError::NotUtf8 { line: 2 })
        ));
        assert!(matches!(
            read(b"not a zip", Format::Xlsx),
            Err(TableError::Xlsx(_))
        ));
        let big = vec![b'a'; MAX_BYTES + 1];
        assert!(matches!(
            read(&big, Format::Csv),
            Err(TableError::TooLarge { .. })
        ));
    }

    #[test]
    fn xlsx_numbers_read_as_codes() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "Mã xã").expect("write");
        ws.write_number(1, 0, 24118.0).expect("write");
        let bytes = book.save_to_buffer().expect("save");
        let rows = read(&bytes, Format::Xlsx).expect("reads");
        assert_eq!(
            rows[1],
            Row {
                line: 2,
                cells: vec!["24118".into()]
            }
        );
    }
}
