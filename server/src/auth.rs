//! Who may do what. The foundation the survey UI's log-in (issue 6) extends:
//! today two kinds of callers are authenticated.
//!
//! - **Agents**: [`AuthenticatedAgent`] reads `Authorization: Bearer
//!   <agent_id>.<secret>`, checks the secret against the stored hash in
//!   constant time and refuses revoked agents. Handlers that take it never run
//!   for an unauthenticated request.
//! - **The province administrator**: [`Admin`] checks `Authorization: Bearer
//!   <admin token>` against the token in the server's configuration, or
//!   accepts a logged-in user whose role is province admin (see [`Viewer`]).
//! - **Web users**: [`Viewer`], from the admin token or a session cookie
//!   ([`session`]); accounts and the lock-out in [`accounts`], passwords
//!   in [`password`], CSRF in [`csrf`], refusals in [`access`].
//!
//! # Layout
//! - [`secret`]: random secrets, their hashes, constant-time verification.
//! - [`error`]: [`TrustError`], every refusal with its status, code and
//!   message in the request's language.
//! - [`tokens`]: issuing enrollment tokens (shared by the CLI and the admin API).
//! - [`viewer`]: [`Viewer`], who reads pages and the read API, and their [`Role`].
//! - [`accounts`], [`password`], [`session`], [`csrf`], [`access`]: users,
//!   their passwords, log-in sessions, forms' CSRF tokens, access refusals.

pub mod access;
pub mod accounts;
pub mod csrf;
pub mod error;
pub mod password;
pub mod secret;
pub mod session;
pub mod tokens;
pub mod viewer;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use kiemke_shared::AgentId;
use kiemke_shared::auth::AgentCredential;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use self::error::TrustError;
pub use self::viewer::{Role, Viewer};
use crate::error::AppError;
use crate::routes::lang;
use crate::state::AppState;
use crate::store::Origin;

/// An agent whose credential checked out: the only way a handler learns
/// which agent is calling and where its reports belong.
#[derive(Debug, Clone)]
pub struct AuthenticatedAgent {
    pub agent_id: AgentId,
    /// From the agent's enrollment, never from anything the agent sends.
    pub origin: Origin,
}

impl FromRequestParts<AppState> for AuthenticatedAgent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let lang = lang::pick(parts.uri.query(), &parts.headers, state.config.lang);
        let refuse = |e: TrustError| AppError::new(lang, e);
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| refuse(TrustError::MissingCredential))?;
        let credential = value
            .to_str()
            .ok()
            .and_then(|v| AgentCredential::from_authorization(v).ok())
            .ok_or_else(|| refuse(TrustError::MalformedCredential))?;
        let id = credential.agent_id;
        let agent = state
            .store
            .blocking(move |store| store.agent(&id))
            .await
            .map_err(|e| AppError::new(lang, e))?;
        // Unknown agent and wrong secret get the same answer.
        let agent = agent
            .filter(|a| secret::verify(&credential.secret, &a.credential_hash))
            .ok_or_else(|| refuse(TrustError::BadCredential))?;
        if agent.revoked_at.is_some() {
            return Err(refuse(TrustError::AgentRevoked { agent_id: id }));
        }
        Ok(AuthenticatedAgent {
            agent_id: agent.agent_id,
            origin: Origin {
                commune: agent.commune,
                site: agent.site,
            },
        })
    }
}

/// The province administrator: the configured admin token, or a session
/// whose user is a province admin.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl Admin {
    /// Checks `Authorization: Bearer <admin token>`.
    pub fn from_token(parts: &Parts, state: &AppState) -> Result<Admin, TrustError> {
        let Some(expected) = &state.config.admin_token else {
            return Err(TrustError::AdminDisabled);
        };
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
            .map(|(_, token)| token.trim());
        match presented {
            Some(token) if same_secret(token, expected.expose()) => Ok(Admin),
            _ => Err(TrustError::AdminUnauthorized),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let lang = lang::pick(parts.uri.query(), &parts.headers, state.config.lang);
        let has_session = session::cookie_value(&parts.headers, session::COOKIE).is_some();
        if parts.headers.contains_key(header::AUTHORIZATION) || !has_session {
            return Admin::from_token(parts, state).map_err(|e| AppError::new(lang, e));
        }
        let viewer = Viewer::from_request_parts(parts, state)
            .await
            .map_err(AppError::from)?;
        viewer
            .check_admin()
            .map(|()| Admin)
            .map_err(|e| AppError::new(lang, e))
    }
}

/// Compares two secrets of any length in constant time (by their hashes, so
/// the length of the expected one does not leak either).
pub fn same_secret(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    bool::from(a.ct_eq(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_tokens_compare_exactly() {
        assert!(same_secret("s3cret-admin-token", "s3cret-admin-token"));
        assert!(!same_secret("s3cret-admin-token", "s3cret-admin-tokeN"));
        assert!(!same_secret("", "s3cret-admin-token"));
    }
}
