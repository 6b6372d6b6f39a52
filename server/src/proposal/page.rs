//! The print view of a proposal (`GET /proposals/{id}`): the same words as
//! the Word document ([`super::text`]) in an HTML page laid out for A4
//! (print CSS: margins of Nghị định 30/2020, Times New Roman 13 pt), with
//! download links that do not print.

use askama::Template;

use super::Rendered;
use super::text::{COLUMNS, DEVICE_COLUMNS, DocText, money};

#[derive(Template)]
#[template(path = "proposal.html")]
struct ProposalPage<'a> {
    t: &'a DocText,
    motto: &'static str,
    motto_sub: &'static str,
    columns: &'static [&'static str],
    device_columns: &'static [&'static str],
    items: Vec<[String; 13]>,
    total_quantity: u32,
    total: String,
    devices: Vec<[String; 11]>,
    by_commune: Vec<[String; 4]>,
    by_category: Vec<[String; 4]>,
    notes: &'a [String],
    /// Shown above the document, not printed: state, downloads.
    toolbar: Vec<(String, String)>,
    status: String,
}

fn opt(v: Option<u64>) -> String {
    v.map(money).unwrap_or_default()
}

/// The page's HTML. `links`: (label, href) for the toolbar; `status`: the
/// saved proposal's state, shown in the toolbar.
pub fn html(
    rendered: &Rendered,
    links: Vec<(String, String)>,
    status: String,
) -> Result<String, askama::Error> {
    let p = &rendered.proposal;
    let items = p
        .items
        .iter()
        .map(|i| {
            let mut reason = i.reason_vi.clone();
            if let Some(note) = &i.price_note_vi {
                reason.push(' ');
                reason.push_str(note);
            }
            [
                i.no.to_string(),
                i.name_vi.clone(),
                i.spec_vi.clone(),
                i.unit_vi.clone(),
                i.held.to_string(),
                i.years_vi.clone(),
                opt(i.original_cost_vnd),
                opt(i.residual_vnd),
                i.quantity.to_string(),
                if i.unit_price_vnd == 0 {
                    "Theo báo giá".into()
                } else {
                    money(i.unit_price_vnd)
                },
                money(i.amount_vnd),
                i.norm_vi.clone(),
                reason,
            ]
        })
        .collect();
    let devices = p
        .items
        .iter()
        .flat_map(|i| &i.replaces)
        .enumerate()
        .map(|(n, d)| {
            [
                (n + 1).to_string(),
                d.commune_vi.clone(),
                d.site_vi.clone(),
                d.category_vi.clone(),
                d.label.clone(),
                d.model.clone().unwrap_or_default(),
                d.year_vi.clone(),
                opt(d.original_cost_vnd),
                opt(d.residual_vnd),
                d.status_vi.clone(),
                d.reasons_vi.clone(),
            ]
        })
        .collect();
    let sub = |rows: &[super::build::Subtotal]| -> Vec<[String; 4]> {
        rows.iter()
            .enumerate()
            .map(|(i, s)| {
                [
                    (i + 1).to_string(),
                    s.name_vi.clone(),
                    s.quantity.to_string(),
                    money(s.amount_vnd),
                ]
            })
            .collect()
    };
    let page = ProposalPage {
        t: &rendered.text,
        motto: super::text::MOTTO,
        motto_sub: super::text::MOTTO_SUB,
        columns: &COLUMNS,
        device_columns: &DEVICE_COLUMNS,
        items,
        total_quantity: p.total_quantity,
        total: money(p.total_vnd),
        devices,
        by_commune: if p.by_commune.len() > 1 {
            sub(&p.by_commune)
        } else {
            Vec::new()
        },
        by_category: if p.by_commune.len() > 1 {
            sub(&p.by_category)
        } else {
            Vec::new()
        },
        notes: &p.notes_vi,
        toolbar: links,
        status,
    };
    page.render()
}
