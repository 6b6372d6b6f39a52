//! The province survey on the web: the JSON API (`/api/v1/survey`,
//! `/api/v1/survey/communes/{code}`), the overview and commune pages, the
//! forms that create and edit communes and sites, the import of the
//! province's list with a preview, and the exports
//! (`/export/survey.xlsx|csv`).
//!
//! Every handler takes a [`Viewer`]: a commune officer sees only their own
//! commune (another commune's page or API answers 403) and edits only it; a
//! province viewer reads everything and edits nothing.

pub mod api;
pub mod assets;
pub mod chart;
pub mod export;
pub mod forms;
pub mod import;
pub mod pages;

use axum::Json;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use kiemke_shared::Lang;
use kiemke_shared::api::{ApiError, ErrorCode};

use crate::routes::{Access, Route, route};

/// `GET /api/v1/survey`.
pub const SURVEY_PATH: &str = "/api/v1/survey";

/// The survey's entries of the route catalog ([`crate::routes::catalog`]).
pub fn entries() -> Vec<Route> {
    use Access::{Admin, Read, Write};
    use Method as M;
    vec![
        route(M::GET, SURVEY_PATH, Read, api::province),
        route(
            M::GET,
            format!("{SURVEY_PATH}/communes/{{code}}"),
            Read,
            api::commune,
        ),
        route(M::GET, "/survey", Read, pages::overview),
        route(M::GET, "/communes/new", Admin, forms::new_commune),
        route(M::POST, "/communes", Admin, forms::create_commune),
        route(M::GET, "/communes/{code}", Read, pages::commune),
        route(M::POST, "/communes/{code}", Write, forms::update_commune),
        route(M::GET, "/communes/{code}/edit", Write, forms::edit_commune),
        route(M::GET, "/communes/{code}/sites/new", Write, forms::new_site),
        route(M::POST, "/communes/{code}/sites", Write, forms::save_site),
        route(
            M::GET,
            "/communes/{code}/sites/{site}/edit",
            Write,
            forms::edit_site,
        ),
        // The commune's manual assets (photocopiers, scanners, projectors...).
        route(
            M::GET,
            "/communes/{code}/manual-assets/new",
            Write,
            assets::new,
        ),
        route(
            M::POST,
            "/communes/{code}/manual-assets",
            Write,
            assets::create,
        ),
        route(
            M::GET,
            "/communes/{code}/manual-assets/{id}/edit",
            Write,
            assets::edit,
        ),
        route(
            M::POST,
            "/communes/{code}/manual-assets/{id}",
            Write,
            assets::update,
        ),
        route(
            M::POST,
            "/communes/{code}/manual-assets/{id}/delete",
            Write,
            assets::delete,
        ),
        route(M::GET, "/import", Admin, import::form),
        route(M::POST, "/import/preview", Admin, import::preview),
        route(M::POST, "/import/commit", Admin, import::commit),
        route(M::GET, "/export/survey.xlsx", Read, export::xlsx),
        route(M::GET, "/export/survey.csv", Read, export::csv),
    ]
}

/// Why a survey request is refused, for the API (JSON) and pages (HTML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The viewer may not read (or edit) this commune.
    Forbidden { commune: String },
    /// No such commune.
    UnknownCommune { commune: String },
    /// Bad input; the message says how to fix it.
    Invalid {
        field: String,
        vi: String,
        en: String,
    },
    /// A form without this session's CSRF token.
    Csrf,
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Forbidden { .. } | Refusal::Csrf => StatusCode::FORBIDDEN,
            Refusal::UnknownCommune { .. } => StatusCode::NOT_FOUND,
            Refusal::Invalid { .. } => StatusCode::BAD_REQUEST,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Refusal::Forbidden { commune }, Lang::Vi) => format!(
                "Tài khoản này không có quyền với xã mã {commune}: cán bộ xã chỉ xem và sửa \
                 dữ liệu của xã mình."
            ),
            (Refusal::Forbidden { commune }, Lang::En) => format!(
                "This account has no rights on commune {commune}: a commune officer sees and \
                 edits their own commune only."
            ),
            (Refusal::UnknownCommune { commune }, Lang::Vi) => {
                format!("Không có xã nào có mã {commune} trong danh sách của tỉnh.")
            }
            (Refusal::UnknownCommune { commune }, Lang::En) => {
                format!("There is no commune with code {commune} in the province's list.")
            }
            (Refusal::Invalid { vi, en, .. }, lang) => lang.pick(vi, en).to_owned(),
            (Refusal::Csrf, lang) => lang
                .pick(
                    "Biểu mẫu đã hết hạn hoặc không gửi từ trang của Kiểm kê. Hãy mở lại trang \
                     và gửi lại.",
                    "The form expired or did not come from a Kiểm kê page. Reopen the page and \
                     send it again.",
                )
                .to_owned(),
        }
    }

    /// As a JSON API error.
    pub fn api(&self, lang: Lang) -> Response {
        let (error, field) = match self {
            Refusal::Forbidden { .. } | Refusal::Csrf => (ErrorCode::Forbidden, None),
            Refusal::UnknownCommune { .. } => (ErrorCode::NotFound, None),
            Refusal::Invalid { field, .. } => (ErrorCode::InvalidField, Some(field.clone())),
        };
        let body = ApiError {
            error,
            message: self.message(lang),
            field,
        };
        (self.status(), Json(body)).into_response()
    }

    /// As an HTML page.
    pub fn page(&self, lang: Lang) -> Response {
        let page = pages::ErrorPage::new(lang, self.status(), self.message(lang));
        match askama::Template::render(&page) {
            Ok(html) => (self.status(), Html(html)).into_response(),
            Err(_) => (self.status(), self.message(lang)).into_response(),
        }
    }
}

/// The commune a request names, checked: a valid code the viewer may read.
pub fn readable(
    viewer: &crate::auth::Viewer,
    code: &str,
) -> Result<kiemke_shared::CommuneCode, Refusal> {
    let commune = kiemke_shared::CommuneCode::parse(code).map_err(|_| Refusal::Invalid {
        field: "commune".into(),
        vi: format!("Mã xã phải gồm 5 chữ số, nhận được {:?}.", truncate(code)),
        en: format!("A commune code is 5 digits, got {:?}.", truncate(code)),
    })?;
    if viewer.may_read(&commune) {
        Ok(commune)
    } else {
        Err(Refusal::Forbidden {
            commune: commune.to_string(),
        })
    }
}

/// The commune a form writes to, checked: one the viewer may edit.
pub fn editable(
    viewer: &crate::auth::Viewer,
    code: &str,
) -> Result<kiemke_shared::CommuneCode, Refusal> {
    let commune = readable(viewer, code)?;
    if viewer.may_edit(&commune) {
        Ok(commune)
    } else {
        Err(Refusal::Forbidden {
            commune: commune.to_string(),
        })
    }
}

/// A form's CSRF token, checked against the viewer's session.
pub fn check_csrf(viewer: &crate::auth::Viewer, token: Option<&str>) -> Result<(), Refusal> {
    crate::auth::csrf::verify(viewer, token.unwrap_or("")).map_err(|_| Refusal::Csrf)
}

/// The message for a form body that could not be decoded.
pub fn bad_form(lang: Lang) -> String {
    lang.pick(
        "Biểu mẫu gửi lên không đọc được; hãy mở lại trang và nhập lại.",
        "The form could not be read; reopen the page and fill it in again.",
    )
    .to_owned()
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}
