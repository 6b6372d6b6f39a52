//! The audit log for province admins: `GET /audit` (a page) and
//! `GET /api/v1/audit?limit=&offset=` (JSON [`AuditPage`]), newest first.
//! Entries are written by every write (see `store::audit`).

use askama::Template;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use kiemke_shared::Lang;

use super::access_labels::{self, AccessLabels};
use super::devices::Page;
use super::login::{other, render};
use crate::auth::Viewer;
use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::{PageLang, RequestLang};
use crate::state::AppState;
use crate::store::audit::AuditPage;

pub const AUDIT_API_PATH: &str = "/api/v1/audit";
/// Entries per page when the request does not say.
pub const DEFAULT_LIMIT: usize = 100;
/// The most entries one request may ask for.
pub const MAX_LIMIT: usize = 1000;
/// How much of a before/after value a page shows.
const SHOWN_CHARS: usize = 300;

async fn read(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<(AuditPage, usize, usize), AppError> {
    viewer.check_admin().in_lang(lang)?;
    let Query(page) =
        page.map_err(|e| AppError::new(lang, Failure::InvalidQuery(e.body_text())))?;
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let offset = page.offset.unwrap_or(0);
    let log = state
        .store
        .blocking(move |store| store.audit_log(limit, offset))
        .await
        .in_lang(lang)?;
    Ok((log, limit, offset))
}

pub async fn api(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<AuditPage>, AppError> {
    Ok(Json(read(&state, &viewer, lang, page).await?.0))
}

struct Row {
    at: String,
    who: String,
    action: String,
    target: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditHtml {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static AccessLabels,
    summary: String,
    rows: Vec<Row>,
    prev_href: Option<String>,
    next_href: Option<String>,
}

fn shown(value: Option<&serde_json::Value>) -> String {
    let text = value.map(ToString::to_string).unwrap_or_default();
    let mut cut: String = text.chars().take(SHOWN_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

pub async fn page(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Response, AppError> {
    let (log, limit, offset) = read(&state, &viewer, lang, page).await?;
    let href = |offset: usize| format!("/audit?offset={offset}&lang={}", lang.tag());
    let shown_to = offset.saturating_add(log.entries.len());
    let page = AuditHtml {
        lang: lang.tag(),
        other_lang: other(lang),
        t: access_labels::labels(lang),
        summary: match lang {
            Lang::Vi => format!("{} mục, mới nhất trước.", log.total),
            Lang::En => format!("{} entries, newest first.", log.total),
        },
        rows: log
            .entries
            .iter()
            .map(|e| Row {
                at: e.at.format("%d/%m/%Y %H:%M:%S").to_string(),
                who: e.who.clone(),
                action: e.action.clone(),
                target: e.target.clone(),
                before: shown(e.before.as_ref()),
                after: shown(e.after.as_ref()),
            })
            .collect(),
        prev_href: (offset > 0).then(|| href(offset.saturating_sub(limit))),
        next_href: ((shown_to as u64) < log.total).then(|| href(shown_to)),
    };
    Ok(render(&page, lang)?.into_response())
}
