//! User management for the province admin: `GET /users` (the list and the
//! add form), `POST /users` (add: `username`, `role`, `commune`,
//! `password` (empty: generated), `csrf`), `POST /users/{name}/disable`
//! and `POST /users/{name}/password` (reset to a generated password, shown
//! once). Every form carries the session's CSRF token; every change goes to
//! the audit log (in `auth::accounts`).

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiemke_shared::{CommuneCode, Lang};
use serde::Deserialize;

use super::access_labels::{self, AccessLabels};
use super::login::{CsrfForm, other, render};
use crate::auth::access::AccessError;
use crate::auth::accounts;
use crate::auth::{Role, Viewer, csrf};
use crate::error::{AppError, InLang};
use crate::routes::lang::PageLang;
use crate::state::AppState;
use crate::store::users::UserRecord;

struct Row {
    name: String,
    role: String,
    created: String,
    state: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersHtml<'a> {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static AccessLabels,
    csrf: &'a str,
    rows: Vec<Row>,
    error: Option<String>,
    new_password: Option<(String, String)>,
}

fn role_label(role: &Role, t: &AccessLabels) -> String {
    match role {
        Role::ProvinceAdmin => t.role_admin.to_owned(),
        Role::ProvinceViewer => t.role_viewer.to_owned(),
        Role::CommuneOfficer(c) => format!("{} {c}", t.role_officer),
    }
}

/// The page, with an error or a new password to show.
/// The page again with a refusal's message above the list (its status
/// kept); a server error is returned as such.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    err: AppError,
) -> Result<Response, AppError> {
    let status = err.status();
    if status.is_server_error() {
        return Err(err);
    }
    show(state, viewer, lang, status, Some(err.body().message), None).await
}

async fn show(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
    new_password: Option<(String, String)>,
) -> Result<Response, AppError> {
    let t = access_labels::labels(lang);
    let users: Vec<UserRecord> = state
        .store
        .blocking(|store| store.users())
        .await
        .in_lang(lang)?;
    let now = chrono::Utc::now();
    let rows = users
        .iter()
        .map(|u| Row {
            name: u.name.clone(),
            role: role_label(&u.role, t),
            created: u.created_at.format("%d/%m/%Y").to_string(),
            state: if u.is_disabled() {
                t.disabled
            } else if u.locked_until.is_some_and(|l| l > now) {
                t.locked
            } else {
                t.active
            }
            .to_owned(),
            disabled: u.is_disabled(),
        })
        .collect();
    let page = UsersHtml {
        lang: lang.tag(),
        other_lang: other(lang),
        t,
        csrf: viewer.csrf_token(),
        rows,
        error,
        new_password,
    };
    Ok((status, render(&page, lang)?).into_response())
}

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
) -> Result<Response, AppError> {
    viewer.check_admin().in_lang(lang)?;
    show(&state, &viewer, lang, StatusCode::OK, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    password: String,
}

fn parse_role(role: &str, commune: &str, lang: Lang) -> Result<Role, String> {
    let commune = commune.trim();
    match role {
        "province-admin" => Ok(Role::ProvinceAdmin),
        "province-viewer" => Ok(Role::ProvinceViewer),
        "commune-officer" => CommuneCode::parse(commune)
            .map(Role::CommuneOfficer)
            .map_err(|_| {
                lang.pick(
                    "Cán bộ xã cần mã xã gồm 5 chữ số.",
                    "A commune officer needs a five-digit commune code.",
                )
                .to_owned()
            }),
        _ => Err(lang
            .pick("Vai trò không hợp lệ.", "Invalid role.")
            .to_owned()),
    }
}

pub async fn add(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    form: Result<Form<AddForm>, FormRejection>,
) -> Result<Response, AppError> {
    viewer.check_admin().in_lang(lang)?;
    let Ok(Form(form)) = form else {
        return Err(AppError::new(lang, AccessError::Csrf));
    };
    csrf::verify(&viewer, &form.csrf).in_lang(lang)?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let role = match parse_role(&form.role, &form.commune, lang) {
        Ok(role) => role,
        Err(message) => {
            return show(&state, &viewer, lang, unprocessable, Some(message), None).await;
        }
    };
    let who = viewer.user.clone();
    let name = form.username.trim().to_owned();
    let password = (!form.password.is_empty()).then_some(form.password);
    let created = state
        .store
        .blocking(move |store| {
            Ok(accounts::create(
                store,
                &who,
                &name,
                role,
                password.as_deref(),
            ))
        })
        .await
        .in_lang(lang)?;
    match created {
        Ok((user, generated)) => {
            let shown = generated.map(|p| (user.name, p));
            show(&state, &viewer, lang, StatusCode::CREATED, None, shown).await
        }
        Err(e) => refused(&state, &viewer, lang, AppError::new(lang, e)).await,
    }
}

pub async fn disable(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Path(name): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, AppError> {
    viewer.check_admin().in_lang(lang)?;
    let token = form.map(|Form(f)| f.csrf).unwrap_or_default();
    csrf::verify(&viewer, &token).in_lang(lang)?;
    let who = viewer.user.clone();
    let done = state
        .store
        .blocking(move |store| Ok(accounts::disable(store, &who, &name)))
        .await
        .in_lang(lang)?;
    match done {
        Ok(_) => show(&state, &viewer, lang, StatusCode::OK, None, None).await,
        Err(e) => refused(&state, &viewer, lang, AppError::new(lang, e)).await,
    }
}

pub async fn reset_password(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Path(name): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, AppError> {
    viewer.check_admin().in_lang(lang)?;
    let token = form.map(|Form(f)| f.csrf).unwrap_or_default();
    csrf::verify(&viewer, &token).in_lang(lang)?;
    let who = viewer.user.clone();
    let target = name.clone();
    let done = state
        .store
        .blocking(move |store| Ok(accounts::set_password(store, &who, &target, None)))
        .await
        .in_lang(lang)?;
    match done {
        Ok(generated) => {
            let shown = generated.map(|p| (name, p));
            show(&state, &viewer, lang, StatusCode::OK, None, shown).await
        }
        Err(e) => refused(&state, &viewer, lang, AppError::new(lang, e)).await,
    }
}
