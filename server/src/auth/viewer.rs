//! Who is looking: every page and read API takes a [`Viewer`] and asks it
//! whether the caller may read or edit a commune's data.
//!
//! Roles (issue 6): a province admin does everything, a province viewer reads
//! everything, a commune officer reads and edits their own commune only.
//! Today a viewer is the province administrator's bearer token; log-in
//! sessions for named users extend [`Viewer::from_request_parts`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kiemke_shared::CommuneCode;
use serde::{Deserialize, Serialize};

use super::{Admin, TrustError};
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
}

impl Viewer {
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

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let lang = lang::pick(parts.uri.query(), &parts.headers, state.config.lang);
        match Admin::from_request_parts(parts, state).await {
            Ok(Admin) => Ok(Viewer {
                user: "admin-token".into(),
                role: Role::ProvinceAdmin,
            }),
            Err(_) => Err(AppError::new(lang, TrustError::AdminUnauthorized)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officers_reach_only_their_commune() {
        let own = CommuneCode::parse("24118").expect("code");
        let other = CommuneCode::parse("24121").expect("code");
        let officer = Viewer {
            user: "xa".into(),
            role: Role::CommuneOfficer(own.clone()),
        };
        assert!(officer.may_read(&own) && officer.may_edit(&own));
        assert!(!officer.may_read(&other) && !officer.may_edit(&other));
        let viewer = Viewer {
            user: "so".into(),
            role: Role::ProvinceViewer,
        };
        assert!(viewer.may_read(&other) && !viewer.may_edit(&other));
    }
}
