//! Log-in sessions, persisted so that a server restart (an update, a crash)
//! does not log every commune officer out.
//!
//! Tree `sessions`: SHA-256 of the session id (hex) → [`SessionRecord`]
//! (JSON). The id itself lives only in the user's cookie: someone who reads
//! the store or a backup cannot take over a session. Expiry is decided by
//! `auth::session` (idle and absolute limits); expired sessions are removed
//! when met and by [`Store::purge_sessions`]. Creating and ending a session is
//! flushed; refreshing `last_seen` is not (losing one refresh in a crash only
//! shortens an idle timeout).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, record};

const SESSIONS: &str = "sessions";

/// One logged-in browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The synchronizer token every form of this session must send back
    /// (random, hex): see `auth::csrf`.
    pub csrf: String,
}

impl Store {
    fn sessions_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(SESSIONS)?)
    }

    pub fn insert_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError> {
        self.sessions_tree()?
            .insert(id_hash.as_bytes(), record::encode(session)?)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        match self.sessions_tree()?.get(id_hash.as_bytes())? {
            Some(bytes) => record::decode(SESSIONS, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Records activity; not flushed (see the module docs).
    pub fn touch_session(&self, id_hash: &str, session: &SessionRecord) -> Result<(), StoreError> {
        self.sessions_tree()?
            .insert(id_hash.as_bytes(), record::encode(session)?)?;
        Ok(())
    }

    pub fn remove_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.sessions_tree()?.remove(id_hash.as_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Ends every session of `user` (disabled, or password changed).
    pub fn remove_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
        self.remove_sessions_where(|s| s.user == user)
    }

    /// Removes sessions for which `expired` holds; how many.
    pub fn purge_sessions(
        &self,
        expired: impl Fn(&SessionRecord) -> bool,
    ) -> Result<usize, StoreError> {
        self.remove_sessions_where(expired)
    }

    fn remove_sessions_where(
        &self,
        pred: impl Fn(&SessionRecord) -> bool,
    ) -> Result<usize, StoreError> {
        let tree = self.sessions_tree()?;
        let mut removed = 0;
        for entry in tree.iter() {
            let (key, bytes) = entry?;
            let session: SessionRecord = record::decode(SESSIONS, &bytes)?;
            if pred(&session) {
                tree.remove(key)?;
                removed += 1;
            }
        }
        self.db.flush()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_stored_under_their_hash_and_removed_per_user() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let s = |user: &str| SessionRecord {
            user: user.into(),
            created_at: Utc::now(),
            last_seen: Utc::now(),
            csrf: "00".into(),
        };
        store.insert_session("h1", &s("a")).expect("insert");
        store.insert_session("h2", &s("a")).expect("insert");
        store.insert_session("h3", &s("b")).expect("insert");
        assert_eq!(
            store.session("h1").expect("read").map(|x| x.user),
            Some("a".to_owned())
        );
        assert_eq!(store.remove_user_sessions("a").expect("remove"), 2);
        assert!(store.session("h1").expect("read").is_none());
        assert!(store.session("h3").expect("read").is_some());
        store.remove_session("h3").expect("remove");
        assert!(store.session("h3").expect("read").is_none());
    }
}
