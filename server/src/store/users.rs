//! The people who log in to the web interface.
//!
//! Tree `users`: user name → [`UserRecord`] (JSON). The password is kept
//! only as an argon2id PHC string (see `auth::password`); the record also
//! carries the role, whether the account is disabled, and the failed-log-in
//! counter with the lock-out it leads to (see `auth::login`). Every write is
//! flushed before it returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, record};
use crate::auth::Role;

const USERS: &str = "users";

/// One user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Lower-case name, `[a-z0-9._-]`, what the user types to log in.
    pub name: String,
    /// argon2id PHC string (`$argon2id$v=19$...`); never the password.
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// A disabled account cannot log in and its sessions end.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Failed log-ins since the last success or lock-out.
    pub failed_attempts: u32,
    /// Log-ins are refused until then (even with the right password).
    pub locked_until: Option<DateTime<Utc>>,
    /// Set for generated passwords (first admin, resets): the user is sent
    /// to change it after logging in.
    pub must_change_password: bool,
    pub password_changed_at: DateTime<Utc>,
}

impl UserRecord {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

impl Store {
    fn users_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(USERS)?)
    }

    /// Adds a user; `false` if the name is taken (nothing changed).
    pub fn add_user(&self, user: &UserRecord) -> Result<bool, StoreError> {
        let inserted = self
            .users_tree()?
            .compare_and_swap(
                user.name.as_bytes(),
                None::<&[u8]>,
                Some(record::encode(user)?),
            )?
            .is_ok();
        self.db.flush()?;
        Ok(inserted)
    }

    /// Replaces a user's record (password, lock-out counter, disabling).
    pub fn put_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.users_tree()?
            .insert(user.name.as_bytes(), record::encode(user)?)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        match self.users_tree()?.get(name.as_bytes())? {
            Some(bytes) => record::decode(USERS, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.users_tree()?
            .iter()
            .values()
            .map(|v| record::decode(USERS, &v?))
            .collect()
    }

    /// Whether any user exists (the first start creates `admin` otherwise).
    pub fn has_users(&self) -> Result<bool, StoreError> {
        Ok(!self.users_tree()?.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn user(name: &str, role: Role) -> UserRecord {
        UserRecord {
            name: name.into(),
            password_hash: "$argon2id$placeholder".into(),
            role,
            created_at: Utc::now(),
            disabled_at: None,
            failed_attempts: 0,
            locked_until: None,
            must_change_password: false,
            password_changed_at: Utc::now(),
        }
    }

    #[test]
    fn users_are_added_once_and_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            assert!(!store.has_users().expect("read"));
            assert!(
                store
                    .add_user(&user("so-khcn", Role::ProvinceViewer))
                    .expect("add")
            );
            assert!(
                !store
                    .add_user(&user("so-khcn", Role::ProvinceAdmin))
                    .expect("add")
            );
            let mut u = store.user("so-khcn").expect("read").expect("there");
            assert_eq!(u.role, Role::ProvinceViewer);
            u.failed_attempts = 3;
            store.put_user(&u).expect("put");
        }
        let store = Store::open(dir.path()).expect("reopen");
        let users = store.users().expect("list");
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].failed_attempts, 3);
        assert!(store.user("nobody").expect("read").is_none());
    }
}
