//! The Tờ trình as a Word document, in the form of Nghị định 30/2020/NĐ-CP
//! (Phụ lục I): A4, margins top and bottom 20 mm, left 30 mm, right 15 mm;
//! Times New Roman 13 pt (14 pt for the motto's second line and the
//! title); the issuing body and the national motto side by side; number,
//! place and date (italics); title; addressees; body; total in figures and
//! in words; "Nơi nhận" beside the signature block; then the annex table
//! and the devices to be replaced. The words come from [`super::text`].

use docx_rs::{
    AlignmentType, BreakType, Docx, LineSpacing, PageMargin, PageOrientationType, PageSize,
    Paragraph, Run, RunFonts, SectionProperty, SpecialIndentType, Table, TableCell, TableRow,
    WidthType,
};

use super::Rendered;
use super::text::{self, COLUMNS, DEVICE_COLUMNS, money};

const FONT: &str = "Times New Roman";
/// Sizes in half-points.
const BODY: usize = 26;
const SMALL: usize = 24;
const TABLE: usize = 18;
/// A4 in twips (1/20 pt) and the margins (1 mm = 56.7 twips).
const A4: (u32, u32) = (11_906, 16_838);
const MARGIN_TOP: i32 = 1_134;
const MARGIN_BOTTOM: i32 = 1_134;
const MARGIN_LEFT: i32 = 1_701;
const MARGIN_RIGHT: i32 = 850;
/// The width between the margins.
const TEXT_WIDTH: usize = 11_906 - 1_701 - 850;
/// The annex is a landscape section (left margin 20 mm): its text width.
const ANNEX_MARGIN_LEFT: i32 = 1_134;
const ANNEX_WIDTH: usize = 16_838 - 1_134 - 850;

fn margins(left: i32) -> PageMargin {
    PageMargin {
        top: MARGIN_TOP,
        left,
        bottom: MARGIN_BOTTOM,
        right: MARGIN_RIGHT,
        header: 720,
        footer: 720,
        gutter: 0,
    }
}

/// Why the document could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the Word document: {0}")]
pub struct DocxError(String);

/// The Word document's bytes. `created` (RFC 3339) is written as the
/// document's creation time, so the same proposal gives the same bytes.
pub fn write(rendered: &Rendered, created: &str) -> Result<Vec<u8>, DocxError> {
    let t = &rendered.text;
    let p = &rendered.proposal;
    // The last section (the annex) is landscape; the letter's section
    // (portrait) ends with the paragraph after the signature block.
    let mut docx = Docx::new()
        .page_size(A4.1, A4.0)
        .page_orient(PageOrientationType::Landscape)
        .page_margin(margins(ANNEX_MARGIN_LEFT))
        .default_fonts(fonts())
        .default_size(BODY)
        .created_at(created)
        .updated_at(created)
        .add_table(header_block(t));
    docx = docx
        .add_paragraph(empty())
        .add_paragraph(centered(&t.title, BODY + 2, true, false))
        .add_paragraph(centered(&t.subtitle, BODY + 2, true, false))
        .add_paragraph(empty());
    docx = docx.add_paragraph(addressees(&t.addressees));
    docx = docx.add_paragraph(empty());
    for line in &t.body {
        docx = docx.add_paragraph(body(line));
    }
    docx = docx
        .add_paragraph(body(&t.total_line).bold())
        .add_paragraph(body(&t.words_line).italic())
        .add_paragraph(body(&t.closing))
        .add_paragraph(empty())
        .add_table(signature_block(t))
        .add_paragraph(
            empty().section_property(
                SectionProperty::new()
                    .page_size(PageSize::new().size(A4.0, A4.1))
                    .page_orient(PageOrientationType::Portrait)
                    .page_margin(margins(MARGIN_LEFT)),
            ),
        );

    // Annex.
    docx = docx
        .add_paragraph(centered(&t.annex_title, BODY, true, false))
        .add_paragraph(centered(&t.annex_subtitle, BODY, true, false))
        .add_paragraph(centered(&t.annex_caption, SMALL, false, true))
        .add_paragraph(empty())
        .add_table(annex_table(rendered));
    docx = docx.add_paragraph(
        Paragraph::new()
            .add_run(Run::new().add_text(&t.words_line).italic().size(SMALL))
            .align(AlignmentType::Left),
    );
    if !p.notes_vi.is_empty() {
        docx = docx.add_paragraph(left(&format!("{}:", t.notes_title), SMALL, true, false));
        for note in &p.notes_vi {
            docx = docx.add_paragraph(left(&format!("- {note}"), SMALL, false, false));
        }
    }
    if p.items.iter().any(|i| !i.replaces.is_empty()) {
        docx = docx
            .add_paragraph(empty())
            .add_paragraph(centered(
                "DANH SÁCH THIẾT BỊ ĐỀ NGHỊ THAY THẾ",
                BODY,
                true,
                false,
            ))
            .add_table(devices_table(rendered));
    }
    if p.by_commune.len() > 1 {
        docx = docx
            .add_paragraph(empty())
            .add_paragraph(centered("TỔNG HỢP THEO XÃ, PHƯỜNG", BODY, true, false))
            .add_table(subtotals_table("Xã, phường", &p.by_commune, p.total_vnd))
            .add_paragraph(empty())
            .add_paragraph(centered("TỔNG HỢP THEO LOẠI TÀI SẢN", BODY, true, false))
            .add_table(subtotals_table("Loại tài sản", &p.by_category, p.total_vnd));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| DocxError(e.to_string()))?;
    Ok(out.into_inner())
}

fn fonts() -> RunFonts {
    RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT)
}

fn run(text: &str, size: usize, bold: bool, italic: bool) -> Run {
    let mut r = Run::new().add_text(text).size(size).fonts(fonts());
    if bold {
        r = r.bold();
    }
    if italic {
        r = r.italic();
    }
    r
}

fn tight() -> LineSpacing {
    LineSpacing::new().before(0).after(0)
}

fn empty() -> Paragraph {
    Paragraph::new().line_spacing(tight())
}

fn centered(text: &str, size: usize, bold: bool, italic: bool) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, size, bold, italic))
        .align(AlignmentType::Center)
        .line_spacing(tight())
}

fn left(text: &str, size: usize, bold: bool, italic: bool) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, size, bold, italic))
        .align(AlignmentType::Left)
        .line_spacing(tight())
}

/// A body paragraph: justified, first line indented 1 cm, 6 pt after.
fn body(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, BODY, false, false))
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(567)), None, None)
        .line_spacing(LineSpacing::new().before(0).after(120))
}

fn addressees(lines: &[String]) -> Paragraph {
    let mut p = Paragraph::new()
        .align(AlignmentType::Center)
        .line_spacing(tight());
    match lines {
        [one] => p = p.add_run(run(&format!("Kính gửi: {one}"), BODY, false, false)),
        many => {
            p = p.add_run(run("Kính gửi:", BODY, false, false));
            for line in many {
                p = p
                    .add_run(Run::new().add_break(BreakType::TextWrapping))
                    .add_run(run(&format!("- {line}"), BODY, false, false));
            }
        }
    }
    p
}

fn cell(paragraphs: Vec<Paragraph>, width: usize) -> TableCell {
    paragraphs
        .into_iter()
        .fold(TableCell::new(), TableCell::add_paragraph)
        .width(width, WidthType::Dxa)
}

/// Issuing body (left) and national motto (right), side by side.
fn header_block(t: &text::DocText) -> Table {
    let left_w = TEXT_WIDTH * 9 / 20;
    let right_w = TEXT_WIDTH - left_w;
    let mut issuer = Vec::new();
    if let Some(parent) = &t.issuer_parent {
        issuer.push(centered(parent, SMALL, false, false));
    }
    for line in &t.issuer_lines {
        issuer.push(centered(line, SMALL, true, false));
    }
    issuer.push(centered("───────", SMALL, false, false));
    issuer.push(centered(&t.number, BODY, false, false));
    let motto = vec![
        centered(text::MOTTO, SMALL, true, false),
        centered(text::MOTTO_SUB, BODY, true, false),
        centered("───────────────", SMALL, false, false),
        centered(&t.place_date, BODY, false, true),
    ];
    Table::without_borders(vec![TableRow::new(vec![
        cell(issuer, left_w),
        cell(motto, right_w),
    ])])
    .set_grid(vec![left_w, right_w])
    .width(TEXT_WIDTH, WidthType::Dxa)
}

/// "Nơi nhận" (left) and the signature (right).
fn signature_block(t: &text::DocText) -> Table {
    let half = TEXT_WIDTH / 2;
    let copies = t
        .copies
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                left(line, SMALL, true, true)
            } else {
                left(line, 22, false, false)
            }
        })
        .collect();
    let mut sign: Vec<Paragraph> = t
        .signature
        .iter()
        .map(|line| centered(line, BODY, true, false))
        .collect();
    sign.push(centered(
        "(Ký, ghi rõ họ tên, đóng dấu)",
        SMALL,
        false,
        true,
    ));
    Table::without_borders(vec![TableRow::new(vec![
        cell(copies, half),
        cell(sign, TEXT_WIDTH - half),
    ])])
    .set_grid(vec![half, TEXT_WIDTH - half])
    .width(TEXT_WIDTH, WidthType::Dxa)
}

fn table_cell(text: &str, width: usize, bold: bool, align: AlignmentType) -> TableCell {
    cell(
        vec![
            Paragraph::new()
                .add_run(run(text, TABLE, bold, false))
                .align(align)
                .line_spacing(tight()),
        ],
        width,
    )
}

/// Column widths (twips) summing to the annex's text width.
fn widths(shares: &[usize]) -> Vec<usize> {
    let total: usize = shares.iter().sum();
    shares.iter().map(|s| ANNEX_WIDTH * s / total).collect()
}

fn header_row(columns: &[&str], widths: &[usize]) -> TableRow {
    TableRow::new(
        columns
            .iter()
            .zip(widths)
            .map(|(c, w)| table_cell(c, *w, true, AlignmentType::Center))
            .collect(),
    )
}

fn opt_money(v: Option<u64>) -> String {
    v.map(money).unwrap_or_default()
}

fn annex_table(rendered: &Rendered) -> Table {
    let w = widths(&[4, 14, 16, 5, 6, 7, 10, 10, 6, 10, 11, 12, 20]);
    let (c, r, l) = (
        AlignmentType::Center,
        AlignmentType::Right,
        AlignmentType::Left,
    );
    let mut rows = vec![header_row(&COLUMNS, &w)];
    for item in &rendered.proposal.items {
        let price = if item.unit_price_vnd == 0 {
            "Theo báo giá".to_owned()
        } else {
            money(item.unit_price_vnd)
        };
        let mut reason = item.reason_vi.clone();
        if let Some(note) = &item.price_note_vi {
            reason.push(' ');
            reason.push_str(note);
        }
        let values: [(String, AlignmentType); 13] = [
            (item.no.to_string(), c),
            (item.name_vi.clone(), l),
            (item.spec_vi.clone(), l),
            (item.unit_vi.clone(), c),
            (item.held.to_string(), c),
            (item.years_vi.clone(), c),
            (opt_money(item.original_cost_vnd), r),
            (opt_money(item.residual_vnd), r),
            (item.quantity.to_string(), c),
            (price, r),
            (money(item.amount_vnd), r),
            (item.norm_vi.clone(), l),
            (reason, l),
        ];
        rows.push(TableRow::new(
            values
                .iter()
                .zip(&w)
                .map(|((v, a), width)| table_cell(v, *width, false, *a))
                .collect(),
        ));
    }
    let p = &rendered.proposal;
    let span: usize = w[..8].iter().sum();
    rows.push(TableRow::new(vec![
        table_cell("Tổng cộng", span, true, c).grid_span(8),
        table_cell(&p.total_quantity.to_string(), w[8], true, c),
        table_cell("", w[9], false, c),
        table_cell(&money(p.total_vnd), w[10], true, r),
        table_cell("", w[11], false, c),
        table_cell("", w[12], false, c),
    ]));
    Table::new(rows)
        .set_grid(w)
        .width(ANNEX_WIDTH, WidthType::Dxa)
}

fn devices_table(rendered: &Rendered) -> Table {
    let w = widths(&[4, 10, 12, 8, 14, 12, 7, 9, 9, 8, 25]);
    let (c, r, l) = (
        AlignmentType::Center,
        AlignmentType::Right,
        AlignmentType::Left,
    );
    let mut rows = vec![header_row(&DEVICE_COLUMNS, &w)];
    let devices = rendered.proposal.items.iter().flat_map(|i| &i.replaces);
    for (n, d) in devices.enumerate() {
        let values: [(String, AlignmentType); 11] = [
            ((n + 1).to_string(), c),
            (d.commune_vi.clone(), l),
            (d.site_vi.clone(), l),
            (d.category_vi.clone(), l),
            (d.label.clone(), l),
            (d.model.clone().unwrap_or_default(), l),
            (d.year_vi.clone(), c),
            (opt_money(d.original_cost_vnd), r),
            (opt_money(d.residual_vnd), r),
            (d.status_vi.clone(), l),
            (d.reasons_vi.clone(), l),
        ];
        rows.push(TableRow::new(
            values
                .iter()
                .zip(&w)
                .map(|((v, a), width)| table_cell(v, *width, false, *a))
                .collect(),
        ));
    }
    Table::new(rows)
        .set_grid(w)
        .width(ANNEX_WIDTH, WidthType::Dxa)
}

fn subtotals_table(label: &str, rows_in: &[super::build::Subtotal], total: u64) -> Table {
    let w = widths(&[6, 40, 14, 20]);
    let (c, r, l) = (
        AlignmentType::Center,
        AlignmentType::Right,
        AlignmentType::Left,
    );
    let mut rows = vec![header_row(
        &["STT", label, "Số lượng", "Thành tiền (đồng)"],
        &w,
    )];
    for (i, s) in rows_in.iter().enumerate() {
        rows.push(TableRow::new(vec![
            table_cell(&(i + 1).to_string(), w[0], false, c),
            table_cell(&s.name_vi, w[1], false, l),
            table_cell(&s.quantity.to_string(), w[2], false, c),
            table_cell(&money(s.amount_vnd), w[3], false, r),
        ]));
    }
    rows.push(TableRow::new(vec![
        table_cell("", w[0], false, c),
        table_cell("Tổng cộng", w[1], true, l),
        table_cell(
            &rows_in.iter().map(|s| s.quantity).sum::<u32>().to_string(),
            w[2],
            true,
            c,
        ),
        table_cell(&money(total), w[3], true, r),
    ]));
    Table::new(rows)
        .set_grid(w)
        .width(ANNEX_WIDTH, WidthType::Dxa)
}
