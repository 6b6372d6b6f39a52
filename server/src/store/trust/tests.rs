//! Token expiry, use limits, revocation and re-enrollment, on a real store.

use chrono::{Duration, Utc};

use super::*;
use crate::auth::secret::{generate, generate_token_id, hash};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    (dir, store)
}

fn commune(code: &str) -> CommuneCode {
    CommuneCode::parse(code).expect("commune")
}

/// A token for `code` with `uses` uses, valid for a day.
fn token(store: &Store, code: &str, uses: u32) -> EnrollmentToken {
    let token = EnrollmentToken {
        id: generate_token_id(),
        secret: generate(),
    };
    let now = Utc::now();
    let record = TokenRecord {
        id: token.id.clone(),
        secret_hash: hash(&token.secret),
        commune: commune(code),
        site: None,
        created_at: now,
        expires_at: now + Duration::days(1),
        max_uses: uses,
        uses: 0,
        revoked_at: None,
    };
    assert!(store.insert_token(&record).expect("insert"));
    token
}

fn enrollment(agent_id: AgentId) -> Enrollment {
    Enrollment {
        agent_id,
        hostname: Some("MOTCUA-PC01".into()),
        credential: generate(),
    }
}

#[test]
fn a_token_enrolls_up_to_its_limit_and_the_store_keeps_only_hashes() {
    let (_dir, store) = store();
    let token = token(&store, "24118", 2);
    let now = Utc::now();
    let first = enrollment(AgentId::generate());

    let agent = store
        .enroll(&token, &first, now)
        .expect("store")
        .expect("enrolled");
    store
        .enroll(&token, &enrollment(AgentId::generate()), now)
        .expect("store")
        .expect("second use");
    let third = store
        .enroll(&token, &enrollment(AgentId::generate()), now)
        .expect("store");

    assert_eq!(agent.commune, commune("24118"));
    assert!(secret::verify(&first.credential, &agent.credential_hash));
    assert_eq!(third, Err(EnrollRefusal::TokenExhausted { max_uses: 2 }));
    assert_eq!(
        store.token(&token.id).expect("read").map(|t| t.uses),
        Some(2)
    );
    assert_eq!(store.agents().expect("list").len(), 2);
    let stored = serde_json::to_string(&store.tokens().expect("list")).expect("json");
    assert!(!stored.contains(token.secret.expose()));
    let agents = serde_json::to_string(&store.agents().expect("list")).expect("json");
    assert!(!agents.contains(first.credential.expose()));
}

#[test]
fn expired_revoked_and_wrong_tokens_are_refused_and_consume_nothing() {
    let (_dir, store) = store();
    let token = token(&store, "24118", 5);
    let agent = enrollment(AgentId::generate());
    let later = Utc::now() + Duration::days(2);

    let expired = store.enroll(&token, &agent, later).expect("store");
    let wrong = EnrollmentToken {
        id: token.id.clone(),
        secret: generate(),
    };
    let wrong_secret = store.enroll(&wrong, &agent, Utc::now()).expect("store");
    let unknown = EnrollmentToken {
        id: generate_token_id(),
        secret: token.secret.clone(),
    };
    let unknown_id = store.enroll(&unknown, &agent, Utc::now()).expect("store");
    store.revoke_token(&token.id, Utc::now()).expect("revoke");
    let revoked = store.enroll(&token, &agent, Utc::now()).expect("store");

    assert!(matches!(expired, Err(EnrollRefusal::TokenExpired { .. })));
    assert_eq!(wrong_secret, Err(EnrollRefusal::TokenInvalid));
    assert_eq!(unknown_id, Err(EnrollRefusal::TokenInvalid));
    assert_eq!(revoked, Err(EnrollRefusal::TokenRevoked));
    assert_eq!(
        store.token(&token.id).expect("read").map(|t| t.uses),
        Some(0)
    );
    assert!(store.agent(&agent.agent_id).expect("read").is_none());
}

#[test]
fn expiry_is_exclusive_of_its_instant() {
    let now = Utc::now();
    let record = TokenRecord {
        id: generate_token_id(),
        secret_hash: String::new(),
        commune: commune("24118"),
        site: None,
        created_at: now,
        expires_at: now,
        max_uses: 1,
        uses: 0,
        revoked_at: None,
    };
    assert!(record.check(now - Duration::seconds(1)).is_ok());
    assert!(record.check(now).is_err());
}

#[test]
fn re_enrollment_replaces_the_credential_but_never_moves_an_active_agent() {
    let (_dir, store) = store();
    let here = token(&store, "24118", 5);
    let elsewhere = token(&store, "24121", 5);
    let id = AgentId::generate();
    let first = enrollment(id);
    let second = enrollment(id);
    store
        .enroll(&here, &first, Utc::now())
        .expect("store")
        .expect("first");

    let again = store
        .enroll(&here, &second, Utc::now())
        .expect("store")
        .expect("again");
    let moved = store
        .enroll(&elsewhere, &enrollment(id), Utc::now())
        .expect("store");
    store.revoke_agent(&id, Utc::now()).expect("revoke");
    let after_revoke = store
        .enroll(&elsewhere, &enrollment(id), Utc::now())
        .expect("store");

    assert!(!secret::verify(&first.credential, &again.credential_hash));
    assert!(secret::verify(&second.credential, &again.credential_hash));
    assert!(matches!(moved, Err(EnrollRefusal::OtherCommune { .. })));
    let moved = after_revoke.expect("a revoked agent may be enrolled anew");
    assert_eq!(moved.commune, commune("24121"));
    assert!(moved.revoked_at.is_none());
}

#[test]
fn revoking_what_does_not_exist_says_so() {
    let (_dir, store) = store();
    assert_eq!(
        store
            .revoke_agent(&AgentId::generate(), Utc::now())
            .expect("ok"),
        None
    );
    assert_eq!(
        store
            .revoke_token(&generate_token_id(), Utc::now())
            .expect("ok"),
        None
    );
}
