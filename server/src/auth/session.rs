//! Log-in sessions in cookies.
//!
//! `POST /login` creates a session: a random 256-bit id goes to the browser
//! in the cookie [`COOKIE`] (`HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure`
//! when the server speaks HTTPS); the store keeps only its SHA-256 (see
//! `store::sessions`), so sessions survive a restart but not a stolen
//! backup. A session ends after [`IDLE`] without a request, [`ABSOLUTE`]
//! after the log-in whatever happens, at `POST /logout`, and when the user
//! is disabled or their password changes. The role is read from the user's
//! record on every request: a role change applies at once.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::secret;
use crate::store::sessions::SessionRecord;
use crate::store::users::UserRecord;
use crate::store::{Store, StoreError};

/// The session cookie's name.
pub const COOKIE: &str = "kiemke_session";
/// A session unused this long ends.
pub const IDLE: Duration = Duration::hours(2);
/// A session ends this long after the log-in, used or not.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// `last_seen` is written at most this often (not on every request).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub record: SessionRecord,
    pub user: UserRecord,
}

/// The key a session id is stored under.
pub fn id_hash(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` has ended at `now`.
pub fn expired(s: &SessionRecord, now: DateTime<Utc>) -> bool {
    now >= s.last_seen + IDLE || now >= s.created_at + ABSOLUTE
}

/// Starts a session for `user`; the id for the cookie.
pub fn create(store: &Store, user: &str, now: DateTime<Utc>) -> Result<String, StoreError> {
    let id = secret::generate().expose().to_owned();
    let record = SessionRecord {
        user: user.to_owned(),
        created_at: now,
        last_seen: now,
        csrf: secret::generate().expose().to_owned(),
    };
    store.insert_session(&id_hash(&id), &record)?;
    Ok(id)
}

/// The live session with id `id` at `now`, refreshing its idle timer; `None`
/// when unknown, expired (then removed), or its user is gone or disabled.
pub fn resolve(store: &Store, id: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
    // Ids are 64 hex characters; anything else is not worth a look-up.
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let key = id_hash(id);
    let Some(mut record) = store.session(&key)? else {
        return Ok(None);
    };
    if expired(&record, now) {
        store.remove_session(&key)?;
        return Ok(None);
    }
    let Some(user) = store.user(&record.user)?.filter(|u| !u.is_disabled()) else {
        store.remove_session(&key)?;
        return Ok(None);
    };
    if now >= record.last_seen + TOUCH_EVERY {
        record.last_seen = now;
        store.touch_session(&key, &record)?;
    }
    Ok(Some(Session { record, user }))
}

/// Ends the session with id `id` (log-out).
pub fn end(store: &Store, id: &str) -> Result<(), StoreError> {
    store.remove_session(&id_hash(id))
}

/// The `Set-Cookie` value that gives the browser session `id`.
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        ABSOLUTE.num_seconds()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, accounts};

    #[test]
    fn sessions_end_when_idle_or_old_and_with_their_user() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        accounts::create(
            &store,
            "t",
            "xa",
            Role::ProvinceViewer,
            Some("mat-khau-xa-1"),
        )
        .expect("c");
        let t0 = Utc::now();
        let id = create(&store, "xa", t0).expect("create");
        assert_eq!(id.len(), 64);
        assert!(store.session(&id).expect("read").is_none(), "stored hashed");
        // Used every hour: alive until the absolute limit.
        let mut t = t0;
        while t + Duration::hours(1) < t0 + ABSOLUTE {
            t += Duration::hours(1);
            assert!(resolve(&store, &id, t).expect("resolve").is_some(), "{t}");
        }
        assert!(
            resolve(&store, &id, t0 + ABSOLUTE)
                .expect("resolve")
                .is_none()
        );
        // Idle: ends after IDLE.
        let id = create(&store, "xa", t0).expect("create");
        assert!(
            resolve(&store, &id, t0 + IDLE - Duration::minutes(1))
                .expect("r")
                .is_some()
        );
        // ...counted from the last use.
        let last = t0 + IDLE - Duration::minutes(1);
        assert!(
            resolve(&store, &id, last + IDLE - Duration::minutes(1))
                .expect("r")
                .is_some()
        );
        let last = last + IDLE - Duration::minutes(1);
        assert!(resolve(&store, &id, last + IDLE).expect("r").is_none());
        // Its user disabled: ends.
        let id = create(&store, "xa", t0).expect("create");
        accounts::create(
            &store,
            "t",
            "admin2",
            Role::ProvinceAdmin,
            Some("mat-khau-adm"),
        )
        .expect("c");
        accounts::create(
            &store,
            "t",
            "admin3",
            Role::ProvinceAdmin,
            Some("mat-khau-adm"),
        )
        .expect("c");
        accounts::disable(&store, "admin2", "xa").expect("disable");
        assert!(resolve(&store, &id, t0).expect("r").is_none());
        // Garbage ids are not looked up.
        assert!(resolve(&store, "../../etc", t0).expect("r").is_none());
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_tls() {
        let c = set_cookie("ab", true);
        assert!(c.starts_with("kiemke_session=ab;"));
        for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!set_cookie("ab", false).contains("Secure"));
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; kiemke_session=xyz; b=2".parse().expect("header"),
        );
        assert_eq!(cookie_value(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
