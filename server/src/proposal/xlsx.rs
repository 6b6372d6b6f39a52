//! The annex as an Excel workbook officers can edit: sheet "Phụ lục" with
//! the items, where amounts (`= quantity × unit price`) and the totals
//! (`SUM`) are formulas, so a changed quantity or price recomputes; sheet
//! "Thiết bị thay thế" with every device to be replaced; and, for a
//! consolidation, "Theo xã" and "Theo loại" with the subtotals. A4
//! landscape, Times New Roman.

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet,
    XlsxError,
};

use super::Rendered;
use super::build::Subtotal;
use super::text::{COLUMNS, DEVICE_COLUMNS};

/// Excel's paper code for A4.
const PAPER_A4: u8 = 9;
/// The first row of items (0-based), below the title block and header.
const FIRST_ITEM_ROW: u32 = 5;

/// The workbook's bytes. `created` is written as the workbook's creation
/// time, so the same proposal gives the same bytes.
pub fn write(rendered: &Rendered, created: DateTime<Utc>) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let when = ExcelDateTime::from_ymd(
        u16::try_from(created.year()).unwrap_or(2026),
        u8::try_from(created.month()).unwrap_or(1),
        u8::try_from(created.day()).unwrap_or(1),
    )?
    .and_hms(
        u16::try_from(created.hour()).unwrap_or(0),
        u8::try_from(created.minute()).unwrap_or(0),
        created.second(),
    )?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(&rendered.text.annex_subtitle)
            .set_creation_datetime(&when),
    );
    let f = Formats::new();
    annex(workbook.add_worksheet(), rendered, &f)?;
    devices(workbook.add_worksheet(), rendered, &f)?;
    let p = &rendered.proposal;
    if p.by_commune.len() > 1 {
        subtotals(
            workbook.add_worksheet(),
            "Theo xã",
            "Xã, phường",
            &p.by_commune,
            &f,
        )?;
        subtotals(
            workbook.add_worksheet(),
            "Theo loại",
            "Loại tài sản",
            &p.by_category,
            &f,
        )?;
    }
    workbook.save_to_buffer()
}

struct Formats {
    title: Format,
    caption: Format,
    header: Format,
    text: Format,
    center: Format,
    money: Format,
    bold_money: Format,
    bold: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(11);
        let cell = base
            .clone()
            .set_border(FormatBorder::Thin)
            .set_text_wrap()
            .set_align(FormatAlign::VerticalCenter);
        Formats {
            title: base
                .clone()
                .set_bold()
                .set_font_size(13)
                .set_align(FormatAlign::Center),
            caption: base
                .clone()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Center),
            header: cell.clone().set_bold().set_align(FormatAlign::Center),
            text: cell.clone(),
            center: cell.clone().set_align(FormatAlign::Center),
            money: cell.clone().set_num_format("#,##0"),
            bold_money: cell.clone().set_bold().set_num_format("#,##0"),
            bold: cell.set_bold().set_align(FormatAlign::Center),
        }
    }
}

fn page(sheet: &mut Worksheet, name: &str) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    sheet.set_paper_size(PAPER_A4);
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// Sets a row's height for its wrapped texts: spreadsheet programs do not
/// grow rows written by a library, so long reasons would be cut off.
/// `cells`: (text, column width in characters).
fn fit_row(sheet: &mut Worksheet, row: u32, cells: &[(&str, f64)]) -> Result<(), XlsxError> {
    let lines = cells
        .iter()
        .map(|(text, width)| {
            let chars = text.chars().count() as f64;
            (chars / (width * 1.3).max(1.0)).ceil().max(1.0)
        })
        .fold(1.0, f64::max);
    sheet.set_row_height(row, 15.0 * lines)?;
    Ok(())
}

fn annex(sheet: &mut Worksheet, rendered: &Rendered, f: &Formats) -> Result<(), XlsxError> {
    page(sheet, "Phụ lục")?;
    let t = &rendered.text;
    let last_col = u16::try_from(COLUMNS.len() - 1).unwrap_or(12);
    sheet.merge_range(0, 0, 0, last_col, &t.issuer, &f.title)?;
    sheet.set_row_height(2, 30.0)?;
    sheet.merge_range(
        1,
        0,
        1,
        last_col,
        &format!("{} – {}", t.annex_title, t.annex_subtitle),
        &f.title,
    )?;
    sheet.merge_range(2, 0, 2, last_col, &t.annex_caption, &f.caption)?;
    let widths = [
        5.0, 24.0, 32.0, 8.0, 9.0, 11.0, 14.0, 14.0, 9.0, 14.0, 16.0, 22.0, 48.0,
    ];
    for (col, w) in widths.iter().enumerate() {
        sheet.set_column_width(u16::try_from(col).unwrap_or(0), *w)?;
    }
    let header_row = FIRST_ITEM_ROW - 1;
    sheet.set_row_height(header_row, 45.0)?;
    for (col, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(
            header_row,
            u16::try_from(col).unwrap_or(0),
            *name,
            &f.header,
        )?;
    }
    sheet.set_repeat_rows(header_row, header_row)?;
    let items = &rendered.proposal.items;
    for (i, item) in items.iter().enumerate() {
        let row = FIRST_ITEM_ROW + u32::try_from(i).unwrap_or(0);
        let excel_row = row + 1;
        sheet.write_number_with_format(row, 0, f64::from(item.no), &f.center)?;
        sheet.write_string_with_format(row, 1, &item.name_vi, &f.text)?;
        sheet.write_string_with_format(row, 2, &item.spec_vi, &f.text)?;
        sheet.write_string_with_format(row, 3, &item.unit_vi, &f.center)?;
        sheet.write_number_with_format(row, 4, f64::from(item.held), &f.center)?;
        sheet.write_string_with_format(row, 5, &item.years_vi, &f.center)?;
        write_opt(sheet, row, 6, item.original_cost_vnd, &f.money)?;
        write_opt(sheet, row, 7, item.residual_vnd, &f.money)?;
        sheet.write_number_with_format(row, 8, f64::from(item.quantity), &f.center)?;
        #[allow(clippy::cast_precision_loss)]
        sheet.write_number_with_format(row, 9, item.unit_price_vnd as f64, &f.money)?;
        sheet.write_formula_with_format(
            row,
            10,
            Formula::new(format!("=I{excel_row}*J{excel_row}")),
            &f.money,
        )?;
        sheet.write_string_with_format(row, 11, &item.norm_vi, &f.text)?;
        let mut reason = item.reason_vi.clone();
        if let Some(note) = &item.price_note_vi {
            reason.push(' ');
            reason.push_str(note);
        }
        sheet.write_string_with_format(row, 12, &reason, &f.text)?;
        fit_row(
            sheet,
            row,
            &[
                (&item.name_vi, widths[1]),
                (&item.spec_vi, widths[2]),
                (&item.norm_vi, widths[11]),
                (&reason, widths[12]),
            ],
        )?;
    }
    let total_row = FIRST_ITEM_ROW + u32::try_from(items.len()).unwrap_or(0);
    let (first, last) = (FIRST_ITEM_ROW + 1, total_row + 1);
    sheet.merge_range(total_row, 0, total_row, 7, "Tổng cộng", &f.bold)?;
    if items.is_empty() {
        sheet.write_number_with_format(total_row, 8, 0.0, &f.bold)?;
        sheet.write_number_with_format(total_row, 10, 0.0, &f.bold_money)?;
    } else {
        let last = last - 1;
        sheet.write_formula_with_format(
            total_row,
            8,
            Formula::new(format!("=SUM(I{first}:I{last})")),
            &f.bold,
        )?;
        sheet.write_formula_with_format(
            total_row,
            10,
            Formula::new(format!("=SUM(K{first}:K{last})")),
            &f.bold_money,
        )?;
    }
    sheet.write_blank(total_row, 9, &f.text)?;
    sheet.write_blank(total_row, 11, &f.text)?;
    sheet.write_blank(total_row, 12, &f.text)?;
    sheet.write_string(total_row + 1, 1, &t.words_line)?;
    for (i, note) in rendered.proposal.notes_vi.iter().enumerate() {
        sheet.write_string(
            total_row + 3 + u32::try_from(i).unwrap_or(0),
            1,
            format!("- {note}"),
        )?;
    }
    Ok(())
}

fn write_opt(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: Option<u64>,
    format: &Format,
) -> Result<(), XlsxError> {
    match value {
        #[allow(clippy::cast_precision_loss)]
        Some(v) => sheet.write_number_with_format(row, col, v as f64, format)?,
        None => sheet.write_blank(row, col, format)?,
    };
    Ok(())
}

fn devices(sheet: &mut Worksheet, rendered: &Rendered, f: &Formats) -> Result<(), XlsxError> {
    page(sheet, "Thiết bị thay thế")?;
    let widths = [
        5.0, 18.0, 22.0, 16.0, 26.0, 22.0, 12.0, 14.0, 14.0, 16.0, 60.0,
    ];
    for (col, w) in widths.iter().enumerate() {
        sheet.set_column_width(u16::try_from(col).unwrap_or(0), *w)?;
    }
    sheet.merge_range(0, 0, 0, 10, "DANH SÁCH THIẾT BỊ ĐỀ NGHỊ THAY THẾ", &f.title)?;
    for (col, name) in DEVICE_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(2, u16::try_from(col).unwrap_or(0), *name, &f.header)?;
    }
    let devices = rendered.proposal.items.iter().flat_map(|i| &i.replaces);
    for (i, d) in devices.enumerate() {
        let row = 3 + u32::try_from(i).unwrap_or(0);
        sheet.write_number_with_format(row, 0, f64::from(row - 2), &f.center)?;
        sheet.write_string_with_format(row, 1, &d.commune_vi, &f.text)?;
        sheet.write_string_with_format(row, 2, &d.site_vi, &f.text)?;
        sheet.write_string_with_format(row, 3, &d.category_vi, &f.text)?;
        sheet.write_string_with_format(row, 4, &d.label, &f.text)?;
        sheet.write_string_with_format(row, 5, d.model.as_deref().unwrap_or(""), &f.text)?;
        sheet.write_string_with_format(row, 6, &d.year_vi, &f.center)?;
        write_opt(sheet, row, 7, d.original_cost_vnd, &f.money)?;
        write_opt(sheet, row, 8, d.residual_vnd, &f.money)?;
        sheet.write_string_with_format(row, 9, &d.status_vi, &f.text)?;
        sheet.write_string_with_format(row, 10, &d.reasons_vi, &f.text)?;
        fit_row(
            sheet,
            row,
            &[(&d.reasons_vi, widths[10]), (&d.label, widths[4])],
        )?;
    }
    Ok(())
}

fn subtotals(
    sheet: &mut Worksheet,
    name: &str,
    label: &str,
    rows: &[Subtotal],
    f: &Formats,
) -> Result<(), XlsxError> {
    page(sheet, name)?;
    for (col, w) in [6.0, 40.0, 12.0, 18.0].iter().enumerate() {
        sheet.set_column_width(u16::try_from(col).unwrap_or(0), *w)?;
    }
    for (col, h) in ["STT", label, "Số lượng", "Thành tiền (đồng)"]
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(0, u16::try_from(col).unwrap_or(0), *h, &f.header)?;
    }
    for (i, s) in rows.iter().enumerate() {
        let row = 1 + u32::try_from(i).unwrap_or(0);
        sheet.write_number_with_format(row, 0, f64::from(row), &f.center)?;
        sheet.write_string_with_format(row, 1, &s.name_vi, &f.text)?;
        sheet.write_number_with_format(row, 2, f64::from(s.quantity), &f.center)?;
        #[allow(clippy::cast_precision_loss)]
        sheet.write_number_with_format(row, 3, s.amount_vnd as f64, &f.money)?;
    }
    let total = 1 + u32::try_from(rows.len()).unwrap_or(0);
    sheet.write_string_with_format(total, 1, "Tổng cộng", &f.bold)?;
    sheet.write_formula_with_format(
        total,
        2,
        Formula::new(format!("=SUM(C2:C{total})")),
        &f.bold,
    )?;
    sheet.write_formula_with_format(
        total,
        3,
        Formula::new(format!("=SUM(D2:D{total})")),
        &f.bold_money,
    )?;
    Ok(())
}
