//! Cross-site request forgery: every state-changing request made with a
//! session cookie must prove it comes from one of our pages.
//!
//! - **Forms** carry the session's synchronizer token (random, stored with
//!   the session) in a hidden field named [`FIELD`]:
//!   `<input type="hidden" name="csrf" value="{{ csrf }}">`, where the page's
//!   handler put `viewer.csrf_token()` into the template. The handler of the
//!   `POST` calls [`verify`]`(&viewer, &form.csrf)` before it changes
//!   anything; a refusal is `403` with a message in the user's language.
//! - **JSON API writes** from a session (`PUT`/`POST`/`DELETE` under
//!   `/api/`) send the token in the [`HEADER`] header; the [`Viewer`] and
//!   `Admin` extractors check it themselves.
//! - **Bearer-token callers** (the admin token: scripts, the CLI) need no
//!   token: a browser never adds that header on its own.
//! - **The log-in form**, before any session, uses a double-submit token:
//!   a random value in the cookie [`LOGIN_COOKIE`] and the same value in the
//!   form.
//!
//! The session cookie is also `SameSite=Lax`, so browsers do not send it
//! with cross-site `POST`s at all; the token is the defence that does not
//! depend on the browser.

use subtle::ConstantTimeEq;

use super::access::AccessError;
use super::{Viewer, secret};

/// The form field.
pub const FIELD: &str = "csrf";
/// The header for API writes from a session.
pub const HEADER: &str = "x-csrf-token";
/// The log-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "kiemke_login_csrf";

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Checks the token a form or header sent for `viewer`'s session. Viewers
/// without a session (the admin token) pass.
pub fn verify(viewer: &Viewer, token: &str) -> Result<(), AccessError> {
    match &viewer.csrf {
        None => Ok(()),
        Some(expected) if same(token, expected) => Ok(()),
        Some(_) => Err(AccessError::Csrf),
    }
}

/// A fresh double-submit value for the log-in form.
pub fn login_token() -> String {
    secret::generate().expose().to_owned()
}

/// Checks the log-in form's token against its cookie.
pub fn verify_login(cookie: Option<&str>, field: &str) -> Result<(), AccessError> {
    match cookie {
        Some(c) if same(c, field) => Ok(()),
        _ => Err(AccessError::Csrf),
    }
}

/// The `Set-Cookie` value carrying the log-in form's token.
pub fn login_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn tokens_must_match_the_session() {
        let mut viewer = Viewer::new("xa", Role::ProvinceViewer);
        assert_eq!(verify(&viewer, ""), Ok(()), "bearer callers need none");
        viewer.csrf = Some("a".repeat(64));
        assert_eq!(verify(&viewer, &"a".repeat(64)), Ok(()));
        assert_eq!(verify(&viewer, &"b".repeat(64)), Err(AccessError::Csrf));
        assert_eq!(verify(&viewer, ""), Err(AccessError::Csrf));
        assert_eq!(verify_login(Some("x1"), "x1"), Ok(()));
        assert_eq!(verify_login(None, "x1"), Err(AccessError::Csrf));
        assert_eq!(verify_login(Some(""), ""), Err(AccessError::Csrf));
    }
}
