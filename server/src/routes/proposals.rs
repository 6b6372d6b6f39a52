//! Proposals over HTTP. Every route takes a [`Viewer`]: a commune officer
//! works on their own commune's proposals; the consolidation is the
//! province administrator's.
//!
//! | method and path | body → answer |
//! |---|---|
//! | `GET /api/v1/proposals` | → `{"proposals": [ProposalBrief]}` (the viewer's communes), newest first |
//! | `POST /api/v1/proposals` | [`CreateBody`] → `201` [`ProposalView`] (a numbered draft, input frozen) |
//! | `GET /api/v1/proposals/{id}` | → [`ProposalView`]: items, totals, notes, document text |
//! | `POST /api/v1/proposals/{id}/transition` | `{"to": "submitted", "note"?}` → [`ProposalView`] |
//! | `GET /api/v1/proposals/{id}/docx`, `…/xlsx` | → the Word document, the workbook |
//! | `GET /proposals/{id}` | → the print view (HTML, A4), see [`pages`] |
//!
//! The web pages and forms over the same rules: [`pages`] (the list, the
//! print view with its buttons), [`forms`] (create, change of state) and
//! [`fields`] (the create form's input).
//!
//! States: draft → submitted (the commune, or the province for its own) →
//! approved or rejected (the province administrator); rejected → draft.

pub mod fields;
pub mod forms;
pub mod pages;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use kiemke_shared::api::ErrorCode;
use kiemke_shared::{CommuneCode, Lang};
use serde::{Deserialize, Serialize};

use crate::auth::viewer::Viewer;
use crate::error::{AppError, Failure, InLang};
use crate::proposal::gather::{self, Request};
use crate::proposal::text::DocText;
use crate::proposal::{self, PriceOverride, Proposal, Rendered, Scope, prices};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::proposals::{
    NewProposal, ProposalState, SavedProposal, Transition, TransitionRefused,
};

pub const PROPOSALS_PATH: &str = "/api/v1/proposals";

/// The most communes one consolidation names.
pub const MAX_COMMUNES: usize = 1_000;
/// The longest document number accepted ("12/TTr-UBND").
pub const MAX_NUMBER_CHARS: usize = 40;
/// The longest note a change of state takes.
pub const MAX_NOTE_CHARS: usize = 500;

/// `POST /api/v1/proposals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// A commune's proposal…
    #[serde(default)]
    pub commune: Option<CommuneCode>,
    /// …or the province's consolidation (of `communes`, or all).
    #[serde(default)]
    pub province: bool,
    #[serde(default)]
    pub communes: Vec<CommuneCode>,
    /// Propose devices flagged `watch` too.
    #[serde(default)]
    pub include_watch: bool,
    /// The document number; else the next of the issuer's year.
    #[serde(default)]
    pub number: Option<String>,
    /// The document date; else today (or the configured evaluation date).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub prices: Vec<PriceOverride>,
}

/// A saved proposal with its built items and document text.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub id: u64,
    pub number: String,
    pub date: NaiveDate,
    pub state: ProposalState,
    pub state_vi: &'static str,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub history: Vec<Transition>,
    pub scope: Scope,
    pub as_of: NaiveDate,
    pub include_watch: bool,
    pub prices: Vec<PriceOverride>,
    pub proposal: Proposal,
    pub text: DocText,
    /// The print view and the downloads.
    pub links: Links,
}

#[derive(Debug, Clone, Serialize)]
pub struct Links {
    pub html: String,
    pub docx: String,
    pub xlsx: String,
}

/// A proposal in the list.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalBrief {
    pub id: u64,
    pub number: String,
    pub date: NaiveDate,
    pub state: ProposalState,
    pub author: String,
    pub scope: Scope,
    pub total_vnd: u64,
}

#[derive(Debug, Serialize)]
pub struct ProposalList {
    pub proposals: Vec<ProposalBrief>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    pub to: ProposalState,
    #[serde(default)]
    pub note: Option<String>,
}

fn refused(status: StatusCode, code: ErrorCode, vi: String, en: String) -> Failure {
    Failure::Refused {
        status,
        code,
        vi,
        en,
    }
}

fn invalid(field: &str, vi: String, en: String) -> Failure {
    Failure::InvalidValue {
        field: field.to_owned(),
        vi,
        en,
    }
}

pub(crate) fn forbidden_province() -> Failure {
    refused(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        "Chỉ quản trị tỉnh được lập và xem tờ trình tổng hợp của tỉnh.".into(),
        "Only the province administrator makes and reads the province's consolidation.".into(),
    )
}

fn forbidden_commune(code: &CommuneCode) -> Failure {
    refused(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        format!("Tài khoản này không được làm việc với tờ trình của xã {code}."),
        format!("This account may not work on commune {code}'s proposals."),
    )
}

fn not_found(id: &str) -> Failure {
    refused(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("Không có tờ trình nào có mã {id}."),
        format!("There is no proposal with id {id}."),
    )
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Failure> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let detail = e.inner().to_string();
        invalid(
            if field == "." { "body" } else { &field },
            format!("Nội dung yêu cầu không hợp lệ: {detail}"),
            format!("Invalid request body: {detail}"),
        )
    })
}

pub(crate) fn may_read(viewer: &Viewer, p: &SavedProposal) -> bool {
    match p.commune() {
        Some(code) => viewer.may_read(code),
        None => viewer.commune_scope().is_none(),
    }
}

/// Renders a saved proposal as it was frozen.
pub(crate) fn rendered(p: &SavedProposal) -> Rendered {
    proposal::render(&p.input, &p.prices, &p.meta())
}

fn view(p: SavedProposal) -> ProposalView {
    let Rendered { proposal, text } = rendered(&p);
    let base = format!("{PROPOSALS_PATH}/{}", p.id);
    ProposalView {
        links: Links {
            html: format!("/proposals/{}", p.id),
            docx: format!("{base}/docx"),
            xlsx: format!("{base}/xlsx"),
        },
        id: p.id,
        number: p.number,
        date: p.date,
        state: p.state,
        state_vi: p.state.label_vi(),
        author: p.author,
        created_at: p.created_at,
        history: p.history,
        scope: p.input.scope,
        as_of: p.input.as_of,
        include_watch: p.input.include_watch,
        prices: p.prices,
        proposal,
        text,
    }
}

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
) -> Result<Json<ProposalList>, AppError> {
    let scope = viewer.commune_scope().cloned();
    let saved = state
        .store
        .blocking(move |s| s.proposals(scope.as_ref()))
        .await
        .in_lang(lang)?;
    let proposals = saved
        .into_iter()
        .filter(|p| may_read(&viewer, p))
        .map(|p| ProposalBrief {
            total_vnd: rendered(&p).proposal.total_vnd,
            id: p.id,
            number: p.number,
            date: p.date,
            state: p.state,
            author: p.author,
            scope: p.input.scope,
        })
        .collect();
    Ok(Json(ProposalList { proposals }))
}

pub async fn create(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    body: Bytes,
) -> Result<(StatusCode, Json<ProposalView>), AppError> {
    // CSRF: a session's API write carries `X-CSRF-Token`, checked by the
    // `Viewer` extractor before this runs.
    let body: CreateBody = parse(&body).in_lang(lang)?;
    let saved = create_saved(&state, &viewer, lang, body).await?;
    Ok((StatusCode::CREATED, Json(view(saved))))
}

/// Checks a request to create a proposal (who may, and its input), then
/// gathers, numbers and saves it: the rules of the API and the web form.
/// A refusal saves nothing.
pub(crate) async fn create_saved(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    body: CreateBody,
) -> Result<SavedProposal, AppError> {
    let scope = match (&body.commune, body.province) {
        (Some(code), false) => {
            if !viewer.may_edit(code) {
                return Err(AppError::new(lang, forbidden_commune(code)));
            }
            Scope::Commune(code.clone())
        }
        (None, true) => {
            if !viewer.is_province_admin() {
                return Err(AppError::new(lang, forbidden_province()));
            }
            Scope::Province
        }
        _ => {
            return Err(AppError::new(
                lang,
                invalid(
                    "commune",
                    "Hãy chọn một xã (\"commune\": \"24118\") hoặc tờ trình tổng hợp của tỉnh \
                     (\"province\": true), không chọn cả hai."
                        .into(),
                    "Choose one commune (\"commune\": \"24118\") or the province's \
                     consolidation (\"province\": true), not both."
                        .into(),
                ),
            ));
        }
    };
    if body.communes.len() > MAX_COMMUNES || (!body.communes.is_empty() && !body.province) {
        return Err(AppError::new(
            lang,
            invalid(
                "communes",
                format!("Danh sách xã chỉ dùng cho tờ trình tổng hợp, tối đa {MAX_COMMUNES} xã."),
                format!("The commune list is for a consolidation only, at most {MAX_COMMUNES}."),
            ),
        ));
    }
    if let Some(n) = &body.number
        && (n.trim().is_empty()
            || n.chars().count() > MAX_NUMBER_CHARS
            || n.chars().any(char::is_control))
    {
        return Err(AppError::new(
            lang,
            invalid(
                "number",
                format!(
                    "Số tờ trình (ví dụ \"12/TTr-UBND\") không được trống, tối đa \
                     {MAX_NUMBER_CHARS} ký tự."
                ),
                format!(
                    "The number (e.g. \"12/TTr-UBND\") must not be empty, at most \
                     {MAX_NUMBER_CHARS} characters."
                ),
            ),
        ));
    }
    let norms = state.policy.norms().clone();
    prices::check(&norms, &body.prices)
        .map_err(|e| AppError::new(lang, invalid(&e.field, e.vi, e.en)))?;
    let as_of = state.as_of();
    let request = Request {
        scope,
        communes: body.communes,
        include_watch: body.include_watch,
        as_of,
    };
    let policy = state.policy.clone();
    let (number, date, author, prices) = (
        body.number.map(|n| n.trim().to_owned()),
        body.date.unwrap_or(as_of),
        viewer.user.clone(),
        body.prices,
    );
    let saved = state
        .store
        .blocking(move |s| {
            let input = gather::gather(s, &policy, &request)?;
            s.create_proposal(NewProposal {
                number,
                date,
                author,
                input,
                prices,
            })
        })
        .await
        .in_lang(lang)?;
    tracing::info!(id = saved.id, number = %saved.number, author = %saved.author, "đã lập tờ trình / proposal created");
    Ok(saved)
}

pub(crate) async fn load(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    id: &str,
) -> Result<SavedProposal, AppError> {
    let Ok(number) = id.parse::<u64>() else {
        return Err(AppError::new(lang, not_found(id)));
    };
    let found = state
        .store
        .blocking(move |s| s.proposal(number))
        .await
        .in_lang(lang)?;
    match found {
        Some(p) if may_read(viewer, &p) => Ok(p),
        // Another commune's proposal is forbidden, not hidden (as devices).
        Some(p) => Err(AppError::new(
            lang,
            match p.commune() {
                Some(code) => forbidden_commune(code),
                None => forbidden_province(),
            },
        )),
        None => Err(AppError::new(lang, not_found(id))),
    }
}

pub async fn detail(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Json<ProposalView>, AppError> {
    Ok(Json(view(load(&state, &viewer, lang, &id).await?)))
}

pub async fn transition(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ProposalView>, AppError> {
    let p = load(&state, &viewer, lang, &id).await?;
    // Only those who may change something read the request.
    check_may_change(&viewer, &p, lang)?;
    let body: TransitionBody = parse(&body).in_lang(lang)?;
    Ok(Json(view(
        transition_saved(&state, &viewer, lang, p, body).await?,
    )))
}

/// Whether `viewer` may change anything of `p`: its commune's officers and
/// province admins (a consolidation: province admins only).
pub(crate) fn may_change(viewer: &Viewer, p: &SavedProposal) -> bool {
    viewer.is_province_admin() || p.commune().is_some_and(|c| viewer.may_edit(c))
}

/// `403` unless [`may_change`].
pub(crate) fn check_may_change(
    viewer: &Viewer,
    p: &SavedProposal,
    lang: Lang,
) -> Result<(), AppError> {
    if may_change(viewer, p) {
        return Ok(());
    }
    Err(AppError::new(
        lang,
        match p.commune() {
            Some(code) => forbidden_commune(code),
            None => forbidden_province(),
        },
    ))
}

/// Whether `viewer` may move `p` to `to` (the order of states aside):
/// approving and rejecting are the province administrator's; submitting
/// and reopening, the commune's (a consolidation's: the administrator's).
pub(crate) fn may_move(viewer: &Viewer, p: &SavedProposal, to: ProposalState) -> bool {
    if matches!(to, ProposalState::Approved | ProposalState::Rejected) {
        viewer.is_province_admin()
    } else {
        p.commune()
            .map_or(viewer.is_province_admin(), |c| viewer.may_edit(c))
    }
}

/// Moves `p` (loaded, [`check_may_change`] passed) as `body` asks, if the
/// viewer may and its state allows; the store records who and when and
/// audits it. A refusal changes nothing.
pub(crate) async fn transition_saved(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    p: SavedProposal,
    body: TransitionBody,
) -> Result<SavedProposal, AppError> {
    if !may_move(viewer, &p, body.to) {
        return Err(AppError::new(
            lang,
            refused(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "Tài khoản này không được chuyển trạng thái tờ trình này (phê duyệt hoặc không \
                 phê duyệt là việc của quản trị tỉnh)."
                    .into(),
                "This account may not change this proposal's state (approving or rejecting is \
                 the province administrator's)."
                    .into(),
            ),
        ));
    }
    if body
        .note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(AppError::new(
            lang,
            invalid(
                "note",
                format!("Ghi chú tối đa {MAX_NOTE_CHARS} ký tự."),
                format!("The note takes at most {MAX_NOTE_CHARS} characters."),
            ),
        ));
    }
    let by = viewer.user.clone();
    let to = body.to;
    let id = p.id;
    let outcome = state
        .store
        .blocking(move |s| s.transition_proposal(id, to, &by, body.note))
        .await
        .in_lang(lang)?;
    match outcome {
        Ok(p) => Ok(p),
        Err(TransitionRefused::NotFound) => Err(AppError::new(lang, not_found(&id.to_string()))),
        Err(TransitionRefused::NotAllowed { from, to }) => Err(AppError::new(
            lang,
            refused(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                format!(
                    "Tờ trình đang ở trạng thái \"{}\", không chuyển sang \"{}\" được. Thứ tự: dự \
                     thảo → đã trình → đã phê duyệt hoặc không phê duyệt; không phê duyệt → dự thảo.",
                    from.label_vi(),
                    to.label_vi()
                ),
                format!(
                    "The proposal is {from:?}; it cannot become {to:?}. Order: draft → submitted → \
                     approved or rejected; rejected → draft."
                ),
            ),
        )),
    }
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// "to-trinh-12-TTr-UBND": a file name from the number.
fn file_stem(p: &SavedProposal) -> String {
    let number: String = p
        .number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("to-trinh-{number}")
}

pub async fn docx(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let p = load(&state, &viewer, lang, &id).await?;
    let created = p.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let bytes = proposal::docx::write(&rendered(&p), &created)
        .map_err(|e| AppError::new(lang, anyhow::Error::new(e)))?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        format!("{}.docx", file_stem(&p)),
    ))
}

pub async fn xlsx(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let p = load(&state, &viewer, lang, &id).await?;
    let bytes = proposal::xlsx::write(&rendered(&p), p.created_at)
        .map_err(|e| AppError::new(lang, anyhow::anyhow!("cannot write the workbook: {e}")))?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("{}-phu-luc.xlsx", file_stem(&p)),
    ))
}
