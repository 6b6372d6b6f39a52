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
    /// Shown above the document, not printed: state, downloads, actions.
    bar: &'a Toolbar,
}

/// The bar above the document (not printed): the saved proposal's state,
/// links (downloads, the list) and the changes of state the viewer may
/// make, as forms.
#[derive(Debug, Clone, Default)]
pub struct Toolbar {
    /// "Tờ trình 1/TTr-UBND – Dự thảo".
    pub status: String,
    /// (label, href).
    pub links: Vec<(String, String)>,
    pub actions: Vec<Action>,
    /// The session's CSRF token, for the action forms.
    pub csrf: String,
    /// A refused action's message.
    pub error: Option<String>,
    /// "In / Print".
    pub print_label: String,
    /// Who created it and moved it, one line each (not printed).
    pub history: Vec<String>,
}

/// A change of state offered as a button: a form posting `to` (and a note
/// when asked for) to `href`.
#[derive(Debug, Clone)]
pub struct Action {
    pub label: String,
    pub href: String,
    /// The state's key: `submitted`, `approved`, `rejected`, `draft`.
    pub to: &'static str,
    /// The placeholder of a note field, when the action takes one.
    pub note: Option<String>,
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
    html_with(
        rendered,
        &Toolbar {
            status,
            links,
            print_label: "In / Print".into(),
            ..Toolbar::default()
        },
    )
}

/// The page's HTML under a full [`Toolbar`].
pub fn html_with(rendered: &Rendered, bar: &Toolbar) -> Result<String, askama::Error> {
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
        bar,
    };
    page.render()
}
