//! Who is looking: every page and read API takes a [`Viewer`] and asks it
//! whether the caller may read or edit a commune's data.
//!
//! Roles (issue 6): a province admin does everything, a province viewer reads
//! everything, a commune officer reads and edits their own commune only.
//!
//! A viewer is, in this order: the admin token (`Authorization: Bearer
//! <admin token>`, a province admin without a session, for scripts), else
//! the user of the session cookie (see [`super::session`]). Without either,
//! API paths (`/api/...`) answer `401` (JSON error) and pages redirect
//! (`303`) to `/login?next=<the page>`. A session user who must change a
//! generated password is sent to `/account/password` first. API writes
//! from a session must carry the CSRF header (see [`super::csrf`]).
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use kiemke_shared::CommuneCode;
use serde::{Deserialize, Serialize};

use super::access::AccessError;
use super::{csrf, session};
use crate::error::AppError;
use crate::routes::lang;
use crate::state::AppState;

/// What a user may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "commune", rename_all = "snake_case")]
pub enum Role {
    /// Quản trị tỉnh: everything, including users and the audit log.
    ProvinceAdmin,
    /// Xem toàn tỉnh: reads every commune, writes nothing.
    ProvinceViewer,
    /// Cán bộ xã: reads and edits their own commune only.
    CommuneOfficer(CommuneCode),
}

/// The authenticated caller of a page or a read API.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The user name, or `admin-token` for the configured admin token.
    pub user: String,
    pub role: Role,
    /// The session's CSRF token, for the forms of the page being rendered;
    /// `None` for the admin token (no session, no forms to protect).
    pub csrf: Option<String>,
}

/// The name [`Viewer::user`] has for the admin token.
pub const ADMIN_TOKEN_USER: &str = "admin-token";

impl Viewer {
    /// A viewer without a session (tests, the admin token).
    pub fn new(user: impl Into<String>, role: Role) -> Viewer {
        Viewer {
            user: user.into(),
            role,
            csrf: None,
        }
    }

    /// The value of every form's hidden `csrf` field (empty without a
    /// session). See [`super::csrf`].
    pub fn csrf_token(&self) -> &str {
        self.csrf.as_deref().unwrap_or_default()
    }

    /// `Ok` if this viewer may read `commune`'s data; `None` (data filed
    /// under no commune) is for province roles only.
    pub fn check_read(&self, commune: Option<&CommuneCode>) -> Result<(), AccessError> {
        match (self.commune_scope(), commune) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(AccessError::NoCommune),
            (Some(own), Some(c)) if own == c => Ok(()),
            (Some(_), Some(c)) => Err(AccessError::OtherCommune(c.clone())),
        }
    }

    /// `Ok` if this viewer may change `commune`'s data.
    pub fn check_edit(&self, commune: Option<&CommuneCode>) -> Result<(), AccessError> {
        match &self.role {
            Role::ProvinceAdmin => Ok(()),
            Role::ProvinceViewer => Err(AccessError::ReadOnly),
            Role::CommuneOfficer(_) => self.check_read(commune),
        }
    }

    /// `Ok` for a province admin.
    pub fn check_admin(&self) -> Result<(), AccessError> {
        if self.is_province_admin() {
            Ok(())
        } else {
            Err(AccessError::AdminOnly)
        }
    }

    pub fn is_province_admin(&self) -> bool {
        self.role == Role::ProvinceAdmin
    }

    /// The commune this viewer is limited to, if any.
    pub fn commune_scope(&self) -> Option<&CommuneCode> {
        match &self.role {
            Role::CommuneOfficer(c) => Some(c),
            Role::ProvinceAdmin | Role::ProvinceViewer => None,
        }
    }

    pub fn may_read(&self, commune: &CommuneCode) -> bool {
        self.commune_scope().is_none_or(|own| own == commune)
    }

    pub fn may_edit(&self, commune: &CommuneCode) -> bool {
        match &self.role {
            Role::ProvinceAdmin => true,
            Role::ProvinceViewer => false,
            Role::CommuneOfficer(own) => own == commune,
        }
    }
}

/// Why no [`Viewer`]: an API error, or a page's redirect to the log-in.
#[derive(Debug)]
pub enum ViewerRejection {
    Api(AppError),
    Login(Redirect),
}

impl IntoResponse for ViewerRejection {
    fn into_response(self) -> Response {
        match self {
            ViewerRejection::Api(e) => e.into_response(),
            ViewerRejection::Login(r) => r.into_response(),
        }
    }
}

impl From<ViewerRejection> for AppError {
    /// For callers that want the JSON error whatever the path.
    fn from(r: ViewerRejection) -> AppError {
        match r {
            ViewerRejection::Api(e) => e,
            ViewerRejection::Login(_) => {
                AppError::new(kiemke_shared::Lang::default(), AccessError::Unauthenticated)
            }
        }
    }
}

/// Whether a path is part of the JSON API (errors) rather than a page
/// (redirects).
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// `/login?next=...` for the page being asked for (GET only: after the
/// log-in the browser comes back with a GET).
pub fn login_redirect(parts: &Parts) -> Redirect {
    if parts.method == Method::GET {
        let target = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        Redirect::to(&format!("/login?next={}", encode_component(target)))
    } else {
        Redirect::to("/login")
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Pages a user with a generated password may still open.
const PASSWORD_PAGES: [&str; 3] = ["/account/password", "/logout", "/login"];

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ViewerRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, ViewerRejection> {
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(viewer.clone());
        }
        let lang = lang::pick(parts.uri.query(), &parts.headers, state.config.lang);
        let api = is_api(parts.uri.path());
        let refuse = |e: AccessError| ViewerRejection::Api(AppError::new(lang, e));

        // 1. The admin token.
        if parts.headers.contains_key(header::AUTHORIZATION) {
            super::Admin::from_token(parts, state)
                .map_err(|e| ViewerRejection::Api(AppError::new(lang, e)))?;
            let viewer = Viewer::new(ADMIN_TOKEN_USER, Role::ProvinceAdmin);
            parts.extensions.insert(viewer.clone());
            return Ok(viewer);
        }

        // 2. The session cookie.
        let found = match session::cookie_value(&parts.headers, session::COOKIE) {
            Some(id) => {
                let id = id.to_owned();
                state
                    .store
                    .blocking(move |store| session::resolve(store, &id, Utc::now()))
                    .await
                    .map_err(|e| ViewerRejection::Api(AppError::new(lang, e)))?
            }
            None => None,
        };
        let Some(found) = found else {
            return Err(if api {
                refuse(AccessError::Unauthenticated)
            } else {
                ViewerRejection::Login(login_redirect(parts))
            });
        };
        let viewer = Viewer {
            user: found.user.name.clone(),
            role: found.user.role.clone(),
            csrf: Some(found.record.csrf.clone()),
        };
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if api && unsafe_method {
            let sent = parts
                .headers
                .get(csrf::HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            csrf::verify(&viewer, sent).map_err(refuse)?;
        }
        if found.user.must_change_password
            && !api
            && parts.method == Method::GET
            && !PASSWORD_PAGES.contains(&parts.uri.path())
        {
            return Err(ViewerRejection::Login(Redirect::to("/account/password")));
        }
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officers_reach_only_their_commune() {
        let own = CommuneCode::parse("24118").expect("code");
        let other = CommuneCode::parse("24121").expect("code");
        let officer = Viewer::new("xa", Role::CommuneOfficer(own.clone()));
        assert!(officer.may_read(&own) && officer.may_edit(&own));
        assert!(!officer.may_read(&other) && !officer.may_edit(&other));
        let viewer = Viewer::new("so", Role::ProvinceViewer);
        assert!(viewer.may_read(&other) && !viewer.may_edit(&other));
        assert_eq!(officer.check_read(Some(&own)), Ok(()));
        assert_eq!(
            officer.check_read(Some(&other)),
            Err(AccessError::OtherCommune(other.clone()))
        );
        assert_eq!(officer.check_read(None), Err(AccessError::NoCommune));
        assert_eq!(viewer.check_read(None), Ok(()));
        assert_eq!(viewer.check_edit(Some(&own)), Err(AccessError::ReadOnly));
        assert_eq!(viewer.check_admin(), Err(AccessError::AdminOnly));
        assert_eq!(
            encode_component("/devices/x?lang=en"),
            "%2Fdevices%2Fx%3Flang%3Den"
        );
    }
}
