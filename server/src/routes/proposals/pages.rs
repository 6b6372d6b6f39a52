//! The proposals' pages: the list (`GET /proposals`: the proposals the
//! viewer may read, newest first, with links to the print view and the
//! downloads, and to the create forms the viewer may use) and the print view
//! (`GET /proposals/{id}`: the document, with a bar of links and the changes
//! of state the viewer may make, as buttons).
//!
//! Pages speak the viewer's language (`?lang=`); the document itself is a
//! Vietnamese administrative text whatever the language. A refusal (another
//! commune's proposal, no such proposal) is an HTML page with the reason.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use kiemke_shared::Lang;

use super::{PROPOSALS_PATH, load, may_change, may_move, rendered};
use crate::auth::Viewer;
use crate::error::{AppError, InLang};
use crate::proposal::page::{Action, Toolbar};
use crate::proposal::text::money;
use crate::proposal::{self, Scope};
use crate::routes::home::format;
use crate::routes::home::labels::{Labels, labels};
use crate::routes::lang::PageLang;
use crate::routes::survey::pages::{ErrorPage, other_tag, render};
use crate::state::AppState;
use crate::store::proposals::{ProposalState, SavedProposal};

/// The most communes a consolidation's row names before "…".
const NAMES_IN_ROW: usize = 4;

/// A state's name in `lang`.
pub fn state_label(state: ProposalState, lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => state.label_vi(),
        Lang::En => match state {
            ProposalState::Draft => "Draft",
            ProposalState::Submitted => "Submitted",
            ProposalState::Approved => "Approved",
            ProposalState::Rejected => "Rejected",
        },
    }
}

/// A state's key, as forms send it.
pub fn state_key(state: ProposalState) -> &'static str {
    match state {
        ProposalState::Draft => "draft",
        ProposalState::Submitted => "submitted",
        ProposalState::Approved => "approved",
        ProposalState::Rejected => "rejected",
    }
}

/// An amount in đồng, grouped as the language writes it.
pub fn amount(vnd: u64, lang: Lang) -> String {
    let grouped = money(vnd);
    match lang {
        Lang::Vi => format!("{grouped} đ"),
        Lang::En => format!("{} VND", grouped.replace('.', ",")),
    }
}

/// A refusal as an HTML page with its status; a server error stays one.
pub fn refusal_page(err: AppError) -> Result<Response, AppError> {
    let status = err.status();
    if status.is_server_error() {
        return Err(err);
    }
    let page = ErrorPage::new(err.lang, status, err.body().message);
    let html = page
        .render()
        .map_err(|e| AppError::new(err.lang, anyhow::Error::new(e)))?;
    Ok((status, Html(html)).into_response())
}

/// One proposal of the list.
pub struct Row {
    pub id: u64,
    pub href: String,
    pub number: String,
    pub date: String,
    pub communes: String,
    pub state_key: &'static str,
    pub state: &'static str,
    pub total: String,
    pub author: String,
    pub docx: String,
    pub xlsx: String,
}

#[derive(Template)]
#[template(path = "proposals.html")]
struct ListPage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    l: Lang,
    rows: Vec<Row>,
    /// (label, href, id) of the create forms this viewer may use.
    create: Vec<(&'static str, String, &'static str)>,
}

/// "xã Ia Grai", or "Tổng hợp 3 xã: xã A, xã B, xã C".
fn communes_text(p: &SavedProposal, lang: Lang) -> String {
    let names: Vec<&str> = p
        .input
        .communes
        .iter()
        .map(|c| c.full_name_vi.as_str())
        .collect();
    match &p.input.scope {
        Scope::Commune(code) => names
            .first()
            .map_or_else(|| code.to_string(), |n| (*n).to_owned()),
        Scope::Province => {
            let mut shown = names
                .iter()
                .take(NAMES_IN_ROW)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            if names.len() > NAMES_IN_ROW {
                shown.push_str(", …");
            }
            let head = match lang {
                Lang::Vi => format!("Tổng hợp {} xã, phường", names.len()),
                Lang::En => format!("Consolidation of {} communes", names.len()),
            };
            if shown.is_empty() {
                head
            } else {
                format!("{head}: {shown}")
            }
        }
    }
}

fn row(p: &SavedProposal, lang: Lang) -> Row {
    let api = format!("{PROPOSALS_PATH}/{}", p.id);
    Row {
        id: p.id,
        href: format!("/proposals/{}?lang={}", p.id, lang.tag()),
        number: p.number.clone(),
        date: p.date.format("%d/%m/%Y").to_string(),
        communes: communes_text(p, lang),
        state_key: state_key(p.state),
        state: state_label(p.state, lang),
        total: amount(rendered(p).proposal.total_vnd, lang),
        author: p.author.clone(),
        docx: format!("{api}/docx"),
        xlsx: format!("{api}/xlsx"),
    }
}

/// `GET /proposals`.
pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
) -> Result<Response, AppError> {
    let scope = viewer.commune_scope().cloned();
    let saved = state
        .store
        .blocking(move |s| s.proposals(scope.as_ref()))
        .await
        .in_lang(lang)?;
    let rows = saved
        .iter()
        .filter(|p| super::may_read(&viewer, p))
        .map(|p| row(p, lang))
        .collect();
    let mut create = Vec::new();
    if let Some(own) = viewer.commune_scope()
        && viewer.may_edit(own)
    {
        create.push((
            lang.pick("Lập tờ trình đề xuất", "Draw up a proposal"),
            format!("/communes/{own}/proposals/new?lang={}", lang.tag()),
            "create-commune",
        ));
    }
    if viewer.is_province_admin() {
        create.push((
            lang.pick(
                "Lập tờ trình tổng hợp của tỉnh",
                "Draw up the province's consolidation",
            ),
            format!("/proposals/new?lang={}", lang.tag()),
            "create-province",
        ));
    }
    let page = ListPage {
        lang: lang.tag(),
        other_lang: other_tag(lang),
        t: labels(lang),
        l: lang,
        rows,
        create,
    };
    render(&page, lang)
}

/// The changes of state `viewer` may make to `p` now, as buttons.
fn actions(viewer: &Viewer, p: &SavedProposal, lang: Lang) -> Vec<Action> {
    use ProposalState::{Approved, Draft, Rejected, Submitted};
    if !may_change(viewer, p) {
        return Vec::new();
    }
    let next: &[ProposalState] = match p.state {
        Draft => &[Submitted],
        Submitted => &[Approved, Rejected],
        Rejected => &[Draft],
        Approved => &[],
    };
    next.iter()
        .filter(|to| p.state.may_become(**to) && may_move(viewer, p, **to))
        .map(|&to| Action {
            label: match to {
                Submitted => lang.pick("Trình tờ trình", "Submit"),
                Approved => lang.pick("Phê duyệt", "Approve"),
                Rejected => lang.pick("Không phê duyệt", "Reject"),
                Draft => lang.pick("Trả về dự thảo", "Back to draft"),
            }
            .to_owned(),
            href: format!("/proposals/{}/transition?lang={}", p.id, lang.tag()),
            to: state_key(to),
            note: (to == Rejected).then(|| {
                lang.pick("Lý do (không bắt buộc)", "Reason (optional)")
                    .to_owned()
            }),
        })
        .collect()
}

/// "22/11/2026 14:05 – canbo: Dự thảo → Đã trình (ghi chú)", created first.
fn history(p: &SavedProposal, lang: Lang) -> Vec<String> {
    let created = match lang {
        Lang::Vi => format!("{} – {}: lập dự thảo", format::time(p.created_at), p.author),
        Lang::En => format!("{} – {}: drafted", format::time(p.created_at), p.author),
    };
    std::iter::once(created)
        .chain(p.history.iter().map(|t| {
            let mut line = format!(
                "{} – {}: {} → {}",
                format::time(t.at),
                t.by,
                state_label(t.from, lang),
                state_label(t.to, lang)
            );
            if let Some(note) = &t.note {
                line.push_str(&format!(" ({note})"));
            }
            line
        }))
        .collect()
}

/// The print view of `p` for `viewer`, with `error` above the document.
pub fn print_page(
    viewer: &Viewer,
    lang: Lang,
    p: &SavedProposal,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    let api = format!("{PROPOSALS_PATH}/{}", p.id);
    let other = other_tag(lang);
    let bar = Toolbar {
        status: match lang {
            Lang::Vi => format!("Tờ trình {} – {}", p.number, state_label(p.state, lang)),
            Lang::En => format!("Proposal {} – {}", p.number, state_label(p.state, lang)),
        },
        links: vec![
            (
                lang.pick("← Danh sách tờ trình", "← Proposals").to_owned(),
                format!("/proposals?lang={}", lang.tag()),
            ),
            (
                lang.pick("Tải Word (.docx)", "Download Word (.docx)")
                    .to_owned(),
                format!("{api}/docx"),
            ),
            (
                lang.pick("Tải Excel (.xlsx)", "Download Excel (.xlsx)")
                    .to_owned(),
                format!("{api}/xlsx"),
            ),
            (
                labels(lang).other_lang_name.to_owned(),
                format!("/proposals/{}?lang={other}", p.id),
            ),
        ],
        actions: actions(viewer, p, lang),
        csrf: viewer.csrf_token().to_owned(),
        error,
        print_label: lang.pick("In", "Print").to_owned(),
        history: history(p, lang),
    };
    let html = proposal::page::html_with(&rendered(p), &bar)
        .map_err(|e| AppError::new(lang, anyhow::anyhow!("cannot render the page: {e}")))?;
    Ok((status, Html(html)).into_response())
}

/// `GET /proposals/{id}`.
pub async fn print(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    match load(&state, &viewer, lang, &id).await {
        Ok(p) => print_page(&viewer, lang, &p, StatusCode::OK, None),
        Err(e) => refusal_page(e),
    }
}
