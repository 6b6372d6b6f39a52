//! Enrollment tokens and enrolled agents.
//!
//! Trees:
//! - `enroll_tokens`: token id → [`TokenRecord`] (JSON; the secret only as
//!   its SHA-256);
//! - `agents`: agent id (16 bytes) → [`AgentRecord`] (JSON; the credential
//!   only as its SHA-256).
//!
//! An enrollment checks the token and consumes one use in the same sled
//! transaction that writes the agent, so two PCs racing for the last use of a
//! token cannot both get in. Every write is flushed before it returns.

use chrono::{DateTime, Utc};
use kiemke_shared::auth::{EnrollmentToken, Secret, TokenId};
use kiemke_shared::{AgentId, CommuneCode, SiteCode};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{Store, StoreError, record};
use crate::auth::secret;

/// One enrollment token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: TokenId,
    /// `sha256:<hex>` of the secret; the secret itself is shown once.
    pub secret_hash: String,
    /// Every agent enrolled with this token reports for this commune.
    pub commune: CommuneCode,
    /// ...and this site, when the token names one.
    pub site: Option<SiteCode>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: u32,
    pub uses: u32,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    /// Whether the token can enroll one more agent at `now`, and if not why.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), EnrollRefusal> {
        if self.revoked_at.is_some() {
            Err(EnrollRefusal::TokenRevoked)
        } else if now >= self.expires_at {
            Err(EnrollRefusal::TokenExpired {
                expired_at: self.expires_at,
            })
        } else if self.uses >= self.max_uses {
            Err(EnrollRefusal::TokenExhausted {
                max_uses: self.max_uses,
            })
        } else {
            Ok(())
        }
    }
}

/// One enrolled agent installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub agent_id: AgentId,
    /// Where its reports are filed: from the token, never from the report.
    pub commune: CommuneCode,
    pub site: Option<SiteCode>,
    /// `sha256:<hex>` of the current credential's secret.
    pub credential_hash: String,
    /// First enrollment.
    pub enrolled_at: DateTime<Utc>,
    /// Latest enrollment (a re-enrollment issues a new credential).
    pub credential_issued_at: DateTime<Utc>,
    /// The token of the latest enrollment.
    pub token_id: TokenId,
    /// As the agent said at enrollment (informative).
    pub hostname: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Why an enrollment is refused. The token's secret is checked first: only
/// someone holding the token learns whether it expired or was used up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollRefusal {
    #[error("unknown enrollment token, or wrong secret")]
    TokenInvalid,
    #[error("the enrollment token expired at {expired_at}")]
    TokenExpired { expired_at: DateTime<Utc> },
    #[error("the enrollment token has been used {max_uses} times, its limit")]
    TokenExhausted { max_uses: u32 },
    #[error("the enrollment token was revoked")]
    TokenRevoked,
    /// The agent id is enrolled (and not revoked) in another commune: moving
    /// it is the province's decision (revoke first), not a token holder's.
    #[error("agent {agent_id} is enrolled in commune {commune}")]
    OtherCommune {
        agent_id: AgentId,
        commune: CommuneCode,
    },
}

/// What an enrollment needs besides the token.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub agent_id: AgentId,
    pub hostname: Option<String>,
    /// The new credential's secret (hashed before it is stored).
    pub credential: Secret,
}

fn agent_key(id: &AgentId) -> &[u8] {
    &id.as_bytes()[..]
}

impl Store {
    /// Stores a new token; fails if its id is taken (a 48-bit collision: the
    /// caller draws another id).
    pub fn insert_token(&self, token: &TokenRecord) -> Result<bool, StoreError> {
        let inserted = self
            .tokens
            .compare_and_swap(
                token.id.as_str(),
                None::<&[u8]>,
                Some(record::encode(token)?),
            )?
            .is_ok();
        self.db.flush()?;
        Ok(inserted)
    }

    pub fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        match self.tokens.get(id.as_str())? {
            Some(bytes) => record::decode("enroll_tokens", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every token, newest first.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut tokens = self
            .tokens
            .iter()
            .values()
            .map(|v| record::decode::<TokenRecord>("enroll_tokens", &v?))
            .collect::<Result<Vec<_>, _>>()?;
        tokens.sort_by_key(|t| std::cmp::Reverse(t.created_at));
        Ok(tokens)
    }

    /// Revokes a token (agents already enrolled with it stay enrolled).
    /// `None` if there is no such token.
    pub fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let updated = update(
            &self.tokens,
            id.as_str().as_bytes(),
            "enroll_tokens",
            |t: &mut TokenRecord| {
                t.revoked_at.get_or_insert(now);
            },
        )?;
        self.db.flush()?;
        Ok(updated)
    }

    /// Checks `token`, consumes one of its uses and (re-)enrolls the agent
    /// with a new credential, atomically; flushed before returning.
    pub fn enroll(
        &self,
        token: &EnrollmentToken,
        enrollment: &Enrollment,
        now: DateTime<Utc>,
    ) -> Result<Result<AgentRecord, EnrollRefusal>, StoreError> {
        let credential_hash = secret::hash(&enrollment.credential);
        // Spans two trees: a backup sees the token's use and the agent together.
        let _writing = self.write_guard();
        let result = (&self.tokens, &self.agents).transaction(|(tokens, agents)| {
            let refuse = |r: EnrollRefusal| Ok(Err(r));
            let Some(bytes) = tokens.get(token.id.as_str())? else {
                return refuse(EnrollRefusal::TokenInvalid);
            };
            let mut record: TokenRecord = record::decode("enroll_tokens", &bytes)
                .map_err(ConflictableTransactionError::Abort)?;
            if !secret::verify(&token.secret, &record.secret_hash) {
                return refuse(EnrollRefusal::TokenInvalid);
            }
            if let Err(refusal) = record.check(now) {
                return refuse(refusal);
            }
            let key = agent_key(&enrollment.agent_id);
            let existing: Option<AgentRecord> = match agents.get(key)? {
                Some(bytes) => Some(
                    record::decode("agents", &bytes)
                        .map_err(ConflictableTransactionError::Abort)?,
                ),
                None => None,
            };
            if let Some(old) = &existing {
                if old.commune != record.commune && old.revoked_at.is_none() {
                    return refuse(EnrollRefusal::OtherCommune {
                        agent_id: old.agent_id,
                        commune: old.commune.clone(),
                    });
                }
            }
            let agent = AgentRecord {
                agent_id: enrollment.agent_id,
                commune: record.commune.clone(),
                site: record.site.clone(),
                credential_hash: credential_hash.clone(),
                enrolled_at: existing.as_ref().map_or(now, |old| old.enrolled_at),
                credential_issued_at: now,
                token_id: record.id.clone(),
                hostname: enrollment.hostname.clone(),
                revoked_at: None,
            };
            record.uses += 1;
            let encoded_token =
                record::encode(&record).map_err(ConflictableTransactionError::Abort)?;
            let encoded_agent =
                record::encode(&agent).map_err(ConflictableTransactionError::Abort)?;
            tokens.insert(token.id.as_str(), encoded_token)?;
            agents.insert(key, encoded_agent)?;
            Ok(Ok(agent))
        });
        let result = result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        })?;
        self.db.flush()?;
        Ok(result)
    }

    pub fn agent(&self, id: &AgentId) -> Result<Option<AgentRecord>, StoreError> {
        match self.agents.get(agent_key(id))? {
            Some(bytes) => record::decode("agents", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every enrolled agent, by commune then site then enrollment time.
    pub fn agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        let mut agents = self
            .agents
            .iter()
            .values()
            .map(|v| record::decode::<AgentRecord>("agents", &v?))
            .collect::<Result<Vec<_>, _>>()?;
        agents.sort_by(|a, b| {
            (&a.commune, &a.site, a.enrolled_at).cmp(&(&b.commune, &b.site, b.enrolled_at))
        });
        Ok(agents)
    }

    /// Revokes an agent's credential: its next report gets 401
    /// `agent_revoked`. `None` if there is no such agent.
    pub fn revoke_agent(
        &self,
        id: &AgentId,
        now: DateTime<Utc>,
    ) -> Result<Option<AgentRecord>, StoreError> {
        let updated = update(
            &self.agents,
            agent_key(id),
            "agents",
            |a: &mut AgentRecord| {
                a.revoked_at.get_or_insert(now);
            },
        )?;
        self.db.flush()?;
        Ok(updated)
    }
}

/// Reads, changes and writes back one JSON record, retrying if another
/// writer got there in between. `None` if there is no such record.
fn update<T: Serialize + serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    key: &[u8],
    name: &'static str,
    change: impl Fn(&mut T),
) -> Result<Option<T>, StoreError> {
    loop {
        let Some(old) = tree.get(key)? else {
            return Ok(None);
        };
        let mut value: T = record::decode(name, &old)?;
        change(&mut value);
        let new = record::encode(&value)?;
        if tree.compare_and_swap(key, Some(old), Some(new))?.is_ok() {
            return Ok(Some(value));
        }
    }
}

#[cfg(test)]
mod tests;
