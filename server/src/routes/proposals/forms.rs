//! The proposals' forms: create a commune's proposal (its officers and
//! province admins: `GET /communes/{code}/proposals/new`, `POST
//! /communes/{code}/proposals`), create the province's consolidation
//! (province admins: `GET /proposals/new`, `POST /proposals`), and change a
//! proposal's state (`POST /proposals/{id}/transition`, the buttons of the
//! print view).
//!
//! The forms go through the same checks as the JSON API
//! ([`super::create_saved`], [`super::transition_saved`]): who may, the
//! number, the communes, the unit prices (above the norm's maximum only with
//! a reason, printed in the document). Every form carries the session's
//! CSRF token, checked before anything else is read. A refusal or bad input
//! shows the page again with the message in the user's language and the
//! values kept, and saves nothing; success redirects (303) to the print
//! view. The store audits creations and changes of state. A `GET` of a
//! form's `POST` path (the language switch of a page shown again) shows the
//! form, or the print view.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kiemke_shared::{CommuneCode, Lang};

use super::fields::{Entered, Fields, clip, entered, request};
use super::pages::{print_page, refusal_page};
use super::{
    TransitionBody, check_may_change, create_saved, forbidden_province, load, transition_saved,
};
use crate::auth::{Viewer, csrf};
use crate::error::{AppError, InLang};
use crate::proposal::prices::LINE_UPGRADE_KEY;
use crate::proposal::text::money;
use crate::routes::home::labels::{Labels, labels};
use crate::routes::lang::PageLang;
use crate::routes::survey::pages::{other_tag, render};
use crate::routes::survey::{Refusal, readable};
use crate::state::AppState;
use crate::store::proposals::ProposalState;

/// One item's price fields.
pub struct PriceRow {
    pub key: String,
    pub name: String,
    pub max: String,
    pub default: String,
    pub value: String,
    pub reason: String,
}

/// A commune to tick in the consolidation form.
pub struct Choice {
    pub code: String,
    pub name: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "proposal_form.html")]
struct FormPage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    l: Lang,
    heading: String,
    action: String,
    back: (String, String),
    /// The consolidation's communes (empty for a commune's proposal).
    province: bool,
    choices: Vec<Choice>,
    selected: bool,
    include_watch: bool,
    number: String,
    date: String,
    prices: Vec<PriceRow>,
    error: Option<String>,
    csrf: String,
}

/// What the form is for.
enum Target {
    Commune { code: CommuneCode, name: String },
    Province,
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    target: &Target,
    e: &Entered,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    let norms = state.policy.norms();
    let mut prices: Vec<PriceRow> = norms
        .items
        .iter()
        .map(|i| {
            let (value, reason) = e.prices.get(&i.key).cloned().unwrap_or_default();
            PriceRow {
                key: i.key.clone(),
                name: lang.pick(&i.name_vi, &i.name_en).to_owned(),
                max: money(i.max_price_vnd),
                default: money(i.default_price()),
                value,
                reason,
            }
        })
        .collect();
    let line = &norms.line_upgrade;
    let (value, reason) = e.prices.get(LINE_UPGRADE_KEY).cloned().unwrap_or_default();
    prices.push(PriceRow {
        key: LINE_UPGRADE_KEY.into(),
        name: line.name_vi.clone(),
        max: "—".into(),
        default: if line.price_vnd == 0 {
            lang.pick("Theo báo giá", "Carrier's quote").to_owned()
        } else {
            money(line.price_vnd)
        },
        value,
        reason,
    });
    let (heading, action, back, choices) = match target {
        Target::Commune { code, name } => (
            match lang {
                Lang::Vi => format!("Lập tờ trình đề xuất – {name}"),
                Lang::En => format!("Draw up a proposal – {name}"),
            },
            format!("/communes/{code}/proposals?lang={}", lang.tag()),
            (
                format!("/communes/{code}?lang={}", lang.tag()),
                name.clone(),
            ),
            Vec::new(),
        ),
        Target::Province => {
            let communes = state.store.blocking(|s| s.communes()).await.in_lang(lang)?;
            let choices = communes
                .into_iter()
                .map(|c| Choice {
                    checked: e.communes.iter().any(|t| t == c.code.as_str()),
                    code: c.code.to_string(),
                    name: c.full_name_vi(),
                })
                .collect();
            (
                lang.pick(
                    "Lập tờ trình tổng hợp của tỉnh",
                    "Draw up the province's consolidation",
                )
                .to_owned(),
                format!("/proposals?lang={}", lang.tag()),
                (
                    format!("/proposals?lang={}", lang.tag()),
                    lang.pick("Danh sách tờ trình", "Proposals").to_owned(),
                ),
                choices,
            )
        }
    };
    let page = FormPage {
        lang: lang.tag(),
        other_lang: other_tag(lang),
        t: labels(lang),
        l: lang,
        heading,
        action,
        back,
        province: matches!(target, Target::Province),
        choices,
        selected: e.scope == "selected",
        include_watch: e.include_watch,
        number: e.number.clone(),
        date: if e.date.is_empty() {
            state.as_of().format("%Y-%m-%d").to_string()
        } else {
            e.date.clone()
        },
        prices,
        error,
        csrf: viewer.csrf_token().to_owned(),
    };
    Ok((status, render(&page, lang)?).into_response())
}

/// The commune a form names, if the viewer may create its proposals.
async fn commune_target(state: &AppState, viewer: &Viewer, code: &str) -> Result<Target, Refusal> {
    let code = readable(viewer, code)?;
    if !viewer.may_edit(&code) {
        return Err(Refusal::Forbidden {
            commune: code.to_string(),
        });
    }
    let wanted = code.clone();
    let record = state
        .store
        .blocking(move |s| s.commune(&wanted))
        .await
        .ok()
        .flatten();
    let name = record.map_or_else(|| format!("xã {code}"), |r| r.full_name_vi());
    Ok(Target::Commune { code, name })
}

/// Checks the token, reads the form and creates; the answer for each case.
async fn create(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    target: Target,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, AppError> {
    let fields = form.map(|Form(f)| f).unwrap_or_default();
    let token = fields
        .iter()
        .find(|(k, _)| k == csrf::FIELD)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if csrf::verify(viewer, token).is_err() {
        return Ok(Refusal::Csrf.page(lang));
    }
    let bad = StatusCode::BAD_REQUEST;
    let e = match entered(&fields) {
        Ok(e) => e,
        Err((vi, en)) => {
            let message = lang.pick(&vi, &en).to_owned();
            let empty = Entered::default();
            return form_page(state, viewer, lang, &target, &empty, bad, Some(message)).await;
        }
    };
    let commune = match &target {
        Target::Commune { code, .. } => Some(code),
        Target::Province => None,
    };
    let body = match request(&e, state.policy.norms(), commune) {
        Ok(body) => body,
        Err((vi, en)) => {
            let message = lang.pick(&vi, &en).to_owned();
            return form_page(state, viewer, lang, &target, &e, bad, Some(message)).await;
        }
    };
    match create_saved(state, viewer, lang, body).await {
        Ok(saved) => Ok(
            Redirect::to(&format!("/proposals/{}?lang={}", saved.id, lang.tag())).into_response(),
        ),
        Err(err) if !err.status().is_server_error() => {
            let message = err.body().message;
            form_page(
                state,
                viewer,
                lang,
                &target,
                &e,
                err.status(),
                Some(message),
            )
            .await
        }
        Err(err) => Err(err),
    }
}

/// `GET /communes/{code}/proposals/new`.
pub async fn new_for_commune(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    match commune_target(&state, &viewer, &code).await {
        Ok(target) => {
            let e = Entered::default();
            form_page(&state, &viewer, lang, &target, &e, StatusCode::OK, None).await
        }
        Err(refusal) => Ok(refusal.page(lang)),
    }
}

/// `POST /communes/{code}/proposals`.
pub async fn create_for_commune(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Path(code): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, AppError> {
    match commune_target(&state, &viewer, &code).await {
        Ok(target) => create(&state, &viewer, lang, target, form).await,
        Err(refusal) => Ok(refusal.page(lang)),
    }
}

/// `GET /proposals/new`.
pub async fn new_consolidation(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
) -> Result<Response, AppError> {
    if !viewer.is_province_admin() {
        return refusal_page(AppError::new(lang, forbidden_province()));
    }
    let e = Entered {
        scope: "all".into(),
        ..Entered::default()
    };
    form_page(
        &state,
        &viewer,
        lang,
        &Target::Province,
        &e,
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /proposals`.
pub async fn create_consolidation(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, AppError> {
    if !viewer.is_province_admin() {
        return refusal_page(AppError::new(lang, forbidden_province()));
    }
    create(&state, &viewer, lang, Target::Province, form).await
}

/// `POST /proposals/{id}/transition`: `csrf`, `to` (`submitted`,
/// `approved`, `rejected`, `draft`), `note`.
pub async fn transition(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Response, AppError> {
    let p = match load(&state, &viewer, lang, &id).await {
        Ok(p) => p,
        Err(e) => return refusal_page(e),
    };
    if let Err(e) = check_may_change(&viewer, &p, lang) {
        return refusal_page(e);
    }
    let fields = form.map(|Form(f)| f).unwrap_or_default();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    if csrf::verify(&viewer, field(csrf::FIELD)).is_err() {
        return Ok(Refusal::Csrf.page(lang));
    }
    let to = match field("to") {
        "submitted" => ProposalState::Submitted,
        "approved" => ProposalState::Approved,
        "rejected" => ProposalState::Rejected,
        "draft" => ProposalState::Draft,
        other => {
            let message = match lang {
                Lang::Vi => format!(
                    "Trạng thái \"{}\" không hợp lệ: chọn một nút trên trang tờ trình.",
                    clip(other)
                ),
                Lang::En => format!(
                    "\"{}\" is not a state: use one of the proposal page's buttons.",
                    clip(other)
                ),
            };
            return print_page(&viewer, lang, &p, StatusCode::BAD_REQUEST, Some(message));
        }
    };
    let note = field("note").trim();
    let body = TransitionBody {
        to,
        note: (!note.is_empty()).then(|| note.to_owned()),
    };
    match transition_saved(&state, &viewer, lang, p.clone(), body).await {
        Ok(moved) => Ok(
            Redirect::to(&format!("/proposals/{}?lang={}", moved.id, lang.tag())).into_response(),
        ),
        Err(err) if !err.status().is_server_error() => {
            let message = err.body().message;
            print_page(&viewer, lang, &p, err.status(), Some(message))
        }
        Err(err) => Err(err),
    }
}
