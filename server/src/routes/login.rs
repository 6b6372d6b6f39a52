//! Logging in and out, and changing one's password.
//!
//! | route | what |
//! |---|---|
//! | `GET /login[?next=/page]` | the form: inputs `username`, `password`, hidden `csrf` (and `next`) |
//! | `POST /login` | form fields `username`, `password`, `csrf`[, `next`]: on success `303` to `next` (same-site paths only) or `/`, with the `kiemke_session` cookie; a generated password sends the user to `/account/password` first; refused: the form again, `401` (one message whether or not the user exists) or `403` (CSRF) |
//! | `GET /logout`, `POST /logout` | a confirmation form; the `POST` (with `csrf`) ends the session and clears the cookie |
//! | `GET /account/password`, `POST /account/password` | change one's own password (`current`, `new`, `confirm`, `csrf`); ends every session of the user |

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use kiemke_shared::Lang;
use serde::Deserialize;

use super::access_labels::{self, AccessLabels};
use crate::auth::access::AccessError;
use crate::auth::accounts::{self, AccountError};
use crate::auth::{Viewer, csrf, session};
use crate::config::TlsMode;
use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::PageLang;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static AccessLabels,
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static AccessLabels,
    user: &'a str,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage<'a> {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static AccessLabels,
    user: &'a str,
    csrf: &'a str,
    must_change: bool,
    error: Option<String>,
}

pub(crate) fn other(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => Lang::En.tag(),
        Lang::En => Lang::Vi.tag(),
    }
}

pub(crate) fn render(page: &impl Template, lang: Lang) -> Result<Html<String>, AppError> {
    page.render()
        .map(Html)
        .map_err(|e| AppError::new(lang, Failure::Internal(e.into())))
}

/// Whether cookies get `Secure` (the server speaks HTTPS).
pub(crate) fn secure(state: &AppState) -> bool {
    !matches!(state.config.tls, TlsMode::Off)
}

/// `next` if it is a path on this site (`/x`, not `//host` or `/\host`),
/// else `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 2000
                && !n.chars().any(|c| c.is_control() || c == '\\') =>
        {
            n
        }
        _ => "/",
    }
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_form(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let token = csrf::login_token();
    let page = LoginPage {
        lang: lang.tag(),
        other_lang: other(lang),
        t: access_labels::labels(lang),
        csrf: &token,
        next: safe_next(Some(next)),
        username,
        error,
    };
    let mut response = (status, render(&page, lang)?).into_response();
    set_cookie(&mut response, &csrf::login_cookie(&token, secure(state)));
    Ok(response)
}

pub async fn login_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let next = query.ok().and_then(|Query(q)| q.next);
    login_form(
        &state,
        lang,
        StatusCode::OK,
        safe_next(next.as_deref()),
        "",
        None,
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Ok(Form(form)) = form else {
        return login_form(&state, lang, StatusCode::BAD_REQUEST, "/", "", None);
    };
    let next = safe_next(form.next.as_deref()).to_owned();
    let username: String = form.username.trim().chars().take(64).collect();
    if let Err(e) = csrf::verify_login(
        session::cookie_value(&headers, csrf::LOGIN_COOKIE),
        &form.csrf,
    ) {
        let message = e.message(lang);
        return login_form(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            &next,
            &username,
            Some(message),
        );
    }
    let name = username.clone();
    let now = Utc::now();
    let outcome = state
        .store
        .blocking(move |store| {
            Ok(match accounts::login(store, &name, &form.password, now) {
                Ok(user) => Ok((
                    session::create(store, &user.name, now)?,
                    user.must_change_password,
                )),
                Err(e) => Err(e),
            })
        })
        .await
        .in_lang(lang)?;
    match outcome {
        Ok((id, must_change)) => {
            tracing::info!(user = %username, "đăng nhập / logged in");
            let to = if must_change {
                format!("/account/password?lang={}", lang.tag())
            } else {
                next
            };
            let mut response = Redirect::to(&to).into_response();
            set_cookie(&mut response, &session::set_cookie(&id, secure(&state)));
            Ok(response)
        }
        Err(e @ AccountError::LoginRefused) => {
            tracing::info!(user = %username, "đăng nhập thất bại / log-in refused");
            login_form(
                &state,
                lang,
                StatusCode::UNAUTHORIZED,
                &next,
                &username,
                Some(e.message(lang)),
            )
        }
        Err(e) => Err(AppError::new(lang, e)),
    }
}

pub async fn logout_page(viewer: Viewer, PageLang(lang): PageLang) -> Result<Response, AppError> {
    let page = LogoutPage {
        lang: lang.tag(),
        other_lang: other(lang),
        t: access_labels::labels(lang),
        user: &viewer.user,
        csrf: viewer.csrf_token(),
    };
    Ok(render(&page, lang)?.into_response())
}

/// A form whose only field is the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, AppError> {
    let token = form.map(|Form(f)| f.csrf).unwrap_or_default();
    csrf::verify(&viewer, &token).in_lang(lang)?;
    if let Some(id) = session::cookie_value(&headers, session::COOKIE) {
        let id = id.to_owned();
        state
            .store
            .blocking(move |store| session::end(store, &id))
            .await
            .in_lang(lang)?;
    }
    let mut response = Redirect::to(&format!("/login?lang={}", lang.tag())).into_response();
    set_cookie(&mut response, &session::clear_cookie(secure(&state)));
    Ok(response)
}

fn password_form(
    lang: Lang,
    viewer: &Viewer,
    must_change: bool,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    let page = PasswordPage {
        lang: lang.tag(),
        other_lang: other(lang),
        t: access_labels::labels(lang),
        user: &viewer.user,
        csrf: viewer.csrf_token(),
        must_change,
        error,
    };
    Ok((status, render(&page, lang)?).into_response())
}

pub async fn password_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let name = viewer.user.clone();
    let must_change = state
        .store
        .blocking(move |store| Ok(store.user(&name)?.is_some_and(|u| u.must_change_password)))
        .await
        .in_lang(lang)?;
    password_form(lang, &viewer, must_change, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Ok(Form(form)) = form else {
        return Err(AppError::new(lang, AccessError::Csrf));
    };
    csrf::verify(&viewer, &form.csrf).in_lang(lang)?;
    if viewer.csrf.is_none() {
        // The admin token is not an account.
        return Err(AppError::new(lang, AccessError::AdminOnly));
    }
    let t = access_labels::labels(lang);
    if form.new != form.confirm {
        let error = Some(t.passwords_differ.to_owned());
        return password_form(lang, &viewer, true, StatusCode::UNPROCESSABLE_ENTITY, error);
    }
    let name = viewer.user.clone();
    let changed = state
        .store
        .blocking(move |store| {
            Ok(accounts::change_own_password(
                store,
                &name,
                &form.current,
                &form.new,
            ))
        })
        .await
        .in_lang(lang)?;
    match changed {
        Ok(()) => {
            // Every session of the user ended with the change: log in again.
            let mut response = Redirect::to(&format!("/login?lang={}", lang.tag())).into_response();
            set_cookie(&mut response, &session::clear_cookie(secure(&state)));
            Ok(response)
        }
        Err(e @ (AccountError::WrongCurrentPassword | AccountError::Password(_))) => {
            // A form to correct, not a refused log-in: 422.
            let message = e.message(lang);
            password_form(
                lang,
                &viewer,
                true,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
            )
        }
        Err(e) => Err(AppError::new(lang, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/devices/x?lang=en")), "/devices/x?lang=en");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
