//! User accounts: creating them, changing passwords, disabling, and logging
//! in with the lock-out after repeated failures. Shared by the `user`
//! commands (`cli::users`), the first start (`ensure_first_admin`) and the
//! web pages (`routes::login`, `routes::users`). Every change is written to
//! the audit log here, so no caller can forget it.

use chrono::{DateTime, Duration, Utc};
use kiemke_shared::Lang;
use serde::Serialize;

use super::Role;
use super::password::{self, PasswordRule};
use crate::store::audit::AuditEntry;
use crate::store::users::UserRecord;
use crate::store::{Store, StoreError};

/// Failures in a row that lock an account.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked account refuses log-ins.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// The longest user name.
pub const MAX_NAME: usize = 64;
/// The first start's administrator.
pub const FIRST_ADMIN: &str = "admin";

/// Why an account action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid user name")]
    InvalidName,
    #[error("user {0} exists")]
    Exists(String),
    #[error("no user {0}")]
    NotFound(String),
    #[error(transparent)]
    Password(#[from] PasswordRule),
    /// Wrong name or password, disabled or locked: one answer for all, so
    /// that nobody learns which names exist.
    #[error("log-in refused")]
    LoginRefused,
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("the last active province admin cannot be disabled")]
    LastAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AccountError {
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match self {
            AccountError::InvalidName => {
                if vi {
                    format!(
                        "Tên đăng nhập không hợp lệ: 1 đến {MAX_NAME} ký tự, chỉ gồm chữ thường không \
                     dấu, chữ số và . _ -"
                    )
                } else {
                    format!(
                        "Invalid user name: 1 to {MAX_NAME} characters, only lower-case letters \
                     without accents, digits and . _ -"
                    )
                }
            }
            AccountError::Exists(name) => {
                if vi {
                    format!("Đã có người dùng {name}.")
                } else {
                    format!("User {name} already exists.")
                }
            }
            AccountError::NotFound(name) => {
                if vi {
                    format!("Không có người dùng {name}.")
                } else {
                    format!("There is no user {name}.")
                }
            }
            AccountError::Password(rule) => rule.message(lang),
            AccountError::LoginRefused => lang
                .pick(
                    "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang tạm khóa. Sau 5 lần nhập \
                     sai, tài khoản bị khóa 15 phút; nếu quên mật khẩu, hãy nhờ quản trị tỉnh đặt \
                     lại.",
                    "Wrong user name or password, or the account is locked. After 5 failures an \
                     account is locked for 15 minutes; if you forgot your password, ask the \
                     province administrator to reset it.",
                )
                .to_owned(),
            AccountError::WrongCurrentPassword => lang
                .pick(
                    "Mật khẩu hiện tại không đúng.",
                    "The current password is wrong.",
                )
                .to_owned(),
            AccountError::LastAdmin => lang
                .pick(
                    "Không thể vô hiệu hóa quản trị tỉnh cuối cùng còn hoạt động.",
                    "The last active province administrator cannot be disabled.",
                )
                .to_owned(),
            AccountError::Store(_) | AccountError::Internal(_) => lang
                .pick(
                    "Máy chủ gặp lỗi khi xử lý yêu cầu. Hãy thử lại sau.",
                    "The server failed to handle the request. Try again later.",
                )
                .to_owned(),
        }
    }
}

/// What the audit log shows of an account (never the hash).
#[derive(Debug, Serialize)]
struct AccountView<'a> {
    name: &'a str,
    role: &'a Role,
    disabled_at: Option<DateTime<Utc>>,
    must_change_password: bool,
}

impl<'a> From<&'a UserRecord> for AccountView<'a> {
    fn from(u: &'a UserRecord) -> Self {
        AccountView {
            name: &u.name,
            role: &u.role,
            disabled_at: u.disabled_at,
            must_change_password: u.must_change_password,
        }
    }
}

/// Checks a user name: `[a-z0-9._-]{1,64}`.
pub fn check_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AccountError::InvalidName)
    }
}

/// Creates a user. With `password: None` a password is generated and
/// returned (to be shown once), and must be changed at first log-in.
pub fn create(
    store: &Store,
    who: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<(UserRecord, Option<String>), AccountError> {
    check_name(name)?;
    let (password, generated) = match password {
        Some(p) => {
            password::check_rules(p)?;
            (p.to_owned(), None)
        }
        None => {
            let p = password::generate();
            (p.clone(), Some(p))
        }
    };
    let now = Utc::now();
    let user = UserRecord {
        name: name.to_owned(),
        password_hash: password::hash(&password)?,
        role,
        created_at: now,
        disabled_at: None,
        failed_attempts: 0,
        locked_until: None,
        must_change_password: generated.is_some(),
        password_changed_at: now,
    };
    if !store.add_user(&user)? {
        return Err(AccountError::Exists(name.to_owned()));
    }
    store.audit(
        &AuditEntry::new(who, "user.add", name)
            .change(None::<&()>, Some(&AccountView::from(&user))),
    )?;
    Ok((user, generated))
}

/// Sets a new password (`None`: generated, returned, to be changed at the
/// next log-in), clears the lock-out and ends the user's sessions.
pub fn set_password(
    store: &Store,
    who: &str,
    name: &str,
    password: Option<&str>,
) -> Result<Option<String>, AccountError> {
    let mut user = store
        .user(name)?
        .ok_or_else(|| AccountError::NotFound(name.to_owned()))?;
    let (password, generated) = match password {
        Some(p) => {
            password::check_rules(p)?;
            (p.to_owned(), None)
        }
        None => {
            let p = password::generate();
            (p.clone(), Some(p))
        }
    };
    let before = serde_json::to_value(AccountView::from(&user)).unwrap_or_default();
    user.password_hash = password::hash(&password)?;
    user.password_changed_at = Utc::now();
    user.must_change_password = generated.is_some() && who != name;
    user.failed_attempts = 0;
    user.locked_until = None;
    store.put_user(&user)?;
    store.remove_user_sessions(name)?;
    store.audit(
        &AuditEntry::new(who, "user.password", name)
            .change(Some(&before), Some(&AccountView::from(&user))),
    )?;
    Ok(generated)
}

/// Changes one's own password, checking the current one.
pub fn change_own_password(
    store: &Store,
    name: &str,
    current: &str,
    new: &str,
) -> Result<(), AccountError> {
    let user = store
        .user(name)?
        .ok_or_else(|| AccountError::NotFound(name.to_owned()))?;
    if !password::verify(current, &user.password_hash) {
        return Err(AccountError::WrongCurrentPassword);
    }
    set_password(store, name, name, Some(new)).map(drop)
}

/// Disables an account and ends its sessions (the record stays, for the
/// audit log's sake). The last active province admin cannot be disabled.
pub fn disable(store: &Store, who: &str, name: &str) -> Result<UserRecord, AccountError> {
    let mut user = store
        .user(name)?
        .ok_or_else(|| AccountError::NotFound(name.to_owned()))?;
    if user.is_disabled() {
        return Ok(user);
    }
    if user.role == Role::ProvinceAdmin {
        let admins = store
            .users()?
            .into_iter()
            .filter(|u| u.role == Role::ProvinceAdmin && !u.is_disabled())
            .count();
        if admins <= 1 {
            return Err(AccountError::LastAdmin);
        }
    }
    let before = serde_json::to_value(AccountView::from(&user)).unwrap_or_default();
    user.disabled_at = Some(Utc::now());
    store.put_user(&user)?;
    store.remove_user_sessions(name)?;
    store.audit(
        &AuditEntry::new(who, "user.disable", name)
            .change(Some(&before), Some(&AccountView::from(&user))),
    )?;
    Ok(user)
}

/// Checks a log-in at `now`: the user, if the password is right and the
/// account is active and not locked. Counts failures; the
/// [`MAX_FAILURES`]th in a row locks the account for [`LOCKOUT`]. Every
/// attempt goes to the audit log.
pub fn login(
    store: &Store,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<UserRecord, AccountError> {
    // Names are not secret, but bound what goes into the log.
    let shown: String = name.chars().take(MAX_NAME).collect();
    let refuse = |reason: &str| -> Result<UserRecord, AccountError> {
        store.audit(&AuditEntry {
            at: now,
            ..AuditEntry::new(shown.clone(), "login.failure", shown.clone())
                .change(None::<&()>, Some(&serde_json::json!({ "reason": reason })))
        })?;
        Err(AccountError::LoginRefused)
    };
    let user = match check_name(name)
        .ok()
        .map(|()| store.user(name))
        .transpose()?
    {
        Some(Some(user)) => user,
        _ => {
            // Same work as for a real user: the answer's timing tells nothing.
            let _ = password::verify(password, password::dummy_hash());
            return refuse("unknown-user");
        }
    };
    if user.is_disabled() {
        let _ = password::verify(password, password::dummy_hash());
        return refuse("disabled");
    }
    if user.locked_until.is_some_and(|until| now < until) {
        let _ = password::verify(password, password::dummy_hash());
        return refuse("locked");
    }
    let mut user = user;
    if !password::verify(password, &user.password_hash) {
        user.failed_attempts = user.failed_attempts.saturating_add(1);
        let mut reason = "wrong-password";
        if user.failed_attempts >= MAX_FAILURES {
            user.failed_attempts = 0;
            user.locked_until = Some(now + LOCKOUT);
            reason = "wrong-password-locked";
        }
        store.put_user(&user)?;
        return refuse(reason);
    }
    if user.failed_attempts != 0 || user.locked_until.is_some() {
        user.failed_attempts = 0;
        user.locked_until = None;
        store.put_user(&user)?;
    }
    store.audit(&AuditEntry {
        at: now,
        ..AuditEntry::new(name, "login.success", name)
    })?;
    Ok(user)
}

/// On a store without users, creates [`FIRST_ADMIN`] with a generated
/// password and returns the password (to print once); `None` otherwise.
pub fn ensure_first_admin(store: &Store) -> Result<Option<String>, AccountError> {
    if store.has_users()? {
        return Ok(None);
    }
    let (_, password) = create(store, "system", FIRST_ADMIN, Role::ProvinceAdmin, None)?;
    Ok(password)
}

/// The line the first start prints (stdout), in the server's language.
/// Format (stable; scripts and tests read it):
/// `Tài khoản quản trị đầu tiên: admin / mật khẩu: <PASSWORD> (...)` or
/// `First administrator account: admin / password: <PASSWORD> (...)`.
pub fn first_admin_line(password: &str, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!(
            "Tài khoản quản trị đầu tiên: {FIRST_ADMIN} / mật khẩu: {password} (chỉ hiện một lần \
             này; hãy đăng nhập và đổi mật khẩu ngay)"
        ),
        Lang::En => format!(
            "First administrator account: {FIRST_ADMIN} / password: {password} (shown this once; \
             log in and change it now)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        (dir, store)
    }

    #[test]
    fn names_are_checked() {
        for ok in ["admin", "xa.ia-grai_1", "a"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Admin", "cán-bộ", "a b", "a/b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn five_failures_lock_the_account_for_fifteen_minutes() {
        let (_dir, store) = store();
        create(
            &store,
            "t",
            "canbo",
            Role::ProvinceViewer,
            Some("dung-mat-khau"),
        )
        .expect("create");
        let t0 = Utc::now();
        for i in 0..MAX_FAILURES {
            let e = login(&store, "canbo", "sai-mat-khau", t0).expect_err("wrong password");
            assert!(matches!(e, AccountError::LoginRefused), "{i}: {e}");
        }
        // Locked: even the right password is refused, with the same message.
        let locked = login(&store, "canbo", "dung-mat-khau", t0 + Duration::minutes(14))
            .expect_err("locked");
        let unknown = login(&store, "khong-co", "dung-mat-khau", t0).expect_err("unknown");
        assert_eq!(locked.message(Lang::Vi), unknown.message(Lang::Vi));
        assert!(locked.message(Lang::Vi).contains("tạm khóa"));
        // After the lock-out the right password works and resets the count.
        let user =
            login(&store, "canbo", "dung-mat-khau", t0 + Duration::minutes(16)).expect("unlocked");
        assert_eq!(user.failed_attempts, 0);
        assert!(user.locked_until.is_none());
        // Four failures then a success: no lock.
        for _ in 0..MAX_FAILURES - 1 {
            let _ = login(&store, "canbo", "sai", t0 + Duration::minutes(17));
        }
        login(&store, "canbo", "dung-mat-khau", t0 + Duration::minutes(17)).expect("ok");
        let log = store.audit_log(100, 0).expect("log");
        assert!(log.entries.iter().any(|e| e.action == "login.success"));
        assert!(log.entries.iter().any(|e| e.action == "login.failure"
            && e.after == Some(serde_json::json!({"reason": "wrong-password-locked"}))));
    }

    #[test]
    fn disabled_users_cannot_log_in_and_the_last_admin_stays() {
        let (_dir, store) = store();
        let pw = ensure_first_admin(&store)
            .expect("first")
            .expect("password");
        assert!(ensure_first_admin(&store).expect("again").is_none());
        let admin = login(&store, FIRST_ADMIN, &pw, Utc::now()).expect("login");
        assert!(admin.must_change_password);
        assert!(matches!(
            disable(&store, "t", FIRST_ADMIN),
            Err(AccountError::LastAdmin)
        ));
        create(
            &store,
            "admin",
            "xa",
            Role::ProvinceViewer,
            Some("mat-khau-cua-xa"),
        )
        .expect("c");
        disable(&store, "admin", "xa").expect("disable");
        assert!(login(&store, "xa", "mat-khau-cua-xa", Utc::now()).is_err());
        let generated = set_password(&store, "admin", "xa", None)
            .expect("reset")
            .expect("generated");
        assert!(
            store
                .user("xa")
                .expect("r")
                .expect("u")
                .must_change_password
        );
        // Still disabled after a reset.
        assert!(login(&store, "xa", &generated, Utc::now()).is_err());
        assert!(first_admin_line(&pw, Lang::Vi).contains(&format!("admin / mật khẩu: {pw}")));
    }
}
