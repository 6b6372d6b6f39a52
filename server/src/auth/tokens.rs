//! Issuing enrollment tokens: the one place that draws a token's id and
//! secret, checks the request (commune, registered site, expiry, uses) and
//! stores the token. Used by `kiemke-server token create` and by
//! `POST /api/v1/admin/tokens`.

use chrono::{DateTime, Utc};
use kiemke_shared::auth::EnrollmentToken;
use kiemke_shared::{CommuneCode, SiteCode, SiteRef};

use super::TrustError;
use super::secret;
use crate::error::Failure;
use crate::store::Store;
use crate::store::trust::TokenRecord;

/// A token is valid for at most a year: long-lived tokens are how stolen
/// tokens stay useful.
pub const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// Uses one token may allow (a large commune has a few dozen PCs).
pub const MAX_USES: u32 = 10_000;

/// Defaults: one PC, one week. A commune with many PCs gets `--uses N`.
pub const DEFAULT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_USES: u32 = 1;

/// What the province asks for.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub commune: CommuneCode,
    pub site: Option<SiteCode>,
    pub lifetime: std::time::Duration,
    pub max_uses: u32,
}

/// Checks `new`, stores the token, and returns it with its secret: the only
/// time the secret exists outside the agent that will use it.
pub fn issue(
    store: &Store,
    new: &NewToken,
    now: DateTime<Utc>,
) -> Result<(EnrollmentToken, TokenRecord), Failure> {
    if new.max_uses == 0 || new.max_uses > MAX_USES {
        return Err(TrustError::Invalid {
            field: "uses",
            detail: format!("1..={MAX_USES}"),
        }
        .into());
    }
    if new.lifetime.is_zero() || new.lifetime > MAX_LIFETIME {
        return Err(TrustError::Invalid {
            field: "expires",
            detail: "1s..=365d".into(),
        }
        .into());
    }
    if let Some(site) = &new.site {
        let site = SiteRef {
            commune: new.commune.clone(),
            site: site.clone(),
        };
        if store.site(&site)?.is_none() {
            return Err(TrustError::UnknownSite(site).into());
        }
    }
    let lifetime = chrono::Duration::from_std(new.lifetime).map_err(|e| TrustError::Invalid {
        field: "expires",
        detail: e.to_string(),
    })?;
    loop {
        let token = EnrollmentToken {
            id: secret::generate_token_id(),
            secret: secret::generate(),
        };
        let record = TokenRecord {
            id: token.id.clone(),
            secret_hash: secret::hash(&token.secret),
            commune: new.commune.clone(),
            site: new.site.clone(),
            created_at: now,
            expires_at: now + lifetime,
            max_uses: new.max_uses,
            uses: 0,
            revoked_at: None,
        };
        // A taken id (48 random bits) only means drawing again.
        if store.insert_token(&record)? {
            return Ok((token, record));
        }
    }
}
