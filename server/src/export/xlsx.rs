//! A survey workbook with rust_xlsxwriter: bold wrapped headers, frozen
//! header rows, an autofilter over each table, number formats (counts,
//! one decimal, đồng with thousands separators).

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use super::{Cell, Sheet};

/// Writes `sheets` as one workbook; `progress` is told after each sheet
/// (sheets done, sheets in all).
pub fn write(
    sheets: &[Sheet],
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color("EEF0F3");
    let count = Format::new().set_num_format("0");
    let decimal = Format::new().set_num_format("0.0");
    let money = Format::new().set_num_format("#,##0");
    for (i, sheet) in sheets.iter().enumerate() {
        let ws = workbook.add_worksheet();
        ws.set_name(&sheet.name)?;
        for (col, title) in sheet.headers.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            ws.write_string_with_format(0, col, title, &header)?;
            if let Some(w) = sheet.widths.get(usize::from(col)) {
                ws.set_column_width(col, *w)?;
            }
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (col, cell) in row.iter().enumerate() {
                let col = u16::try_from(col).unwrap_or(u16::MAX);
                #[allow(clippy::cast_precision_loss)]
                match cell {
                    Cell::Text(s) => {
                        ws.write_string(r, col, s)?;
                    }
                    Cell::Count(n) => {
                        ws.write_number_with_format(r, col, *n as f64, &count)?;
                    }
                    Cell::Decimal(x) => {
                        ws.write_number_with_format(r, col, *x, &decimal)?;
                    }
                    Cell::Money(n) => {
                        ws.write_number_with_format(r, col, *n as f64, &money)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        let last_col = u16::try_from(sheet.headers.len().saturating_sub(1)).unwrap_or(u16::MAX);
        let last_row = u32::try_from(sheet.rows.len()).unwrap_or(u32::MAX);
        ws.autofilter(0, 0, last_row, last_col)?;
        progress(i + 1, sheets.len());
    }
    workbook.save_to_buffer()
}
