//! A survey table as CSV: UTF-8 with a byte-order mark (Excel otherwise
//! reads Vietnamese as mojibake), comma-separated, a header row, decimals
//! with a dot.

use super::{Cell, Sheet};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a CSV could not be written.
#[derive(Debug, thiserror::Error)]
#[error("không ghi được CSV / cannot write CSV: {0}")]
pub struct CsvError(#[from] csv::Error);

pub fn write(sheet: &Sheet) -> Result<Vec<u8>, CsvError> {
    let mut out = BOM.to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&sheet.headers)?;
        for row in &sheet.rows {
            w.write_record(row.iter().map(cell))?;
        }
        w.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Count(n) | Cell::Money(n) => n.to_string(),
        Cell::Decimal(x) => format!("{x:.1}"),
        Cell::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_starts_with_a_bom_and_quotes_what_needs_it() {
        let sheet = Sheet {
            name: "Tổng hợp".into(),
            headers: vec!["Tên xã, phường".into(), "Tỷ lệ (%)".into()],
            rows: vec![vec![Cell::Text("xã Ia Grai".into()), Cell::Decimal(33.333)]],
            widths: vec![],
        };
        let bytes = write(&sheet).expect("csv");
        assert!(bytes.starts_with(BOM));
        let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
        assert_eq!(text, "\"Tên xã, phường\",Tỷ lệ (%)\nxã Ia Grai,33.3\n");
    }
}
