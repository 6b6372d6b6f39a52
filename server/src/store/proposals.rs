//! Saved proposals: number, date, state and its transitions, author, and the
//! frozen input the documents are built from (so an old proposal
//! regenerates the same document whatever the inventory became).
//!
//! Tree `proposals`:
//! - `p/{id:020}` → [`SavedProposal`] (JSON), ids from sled's
//!   `generate_id` (increasing);
//! - `n/{issuer}/{year}` → the last sequence number given to that issuer in
//!   that year (ASCII), so numbers run 1, 2, 3 … per commune and year, as
//!   an office's register of outgoing documents does.
//!
//! A new proposal takes its number and is stored in one transaction, then
//! the store is flushed before the caller is answered.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use kiemke_shared::CommuneCode;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::audit::AuditEntry;
use super::record;
use super::{Store, StoreError};
use crate::proposal::{DocMeta, PriceOverride, ProposalInput, Scope};

const TREE: &str = "proposals";

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    /// Dự thảo: being prepared; prices may change.
    Draft,
    /// Đã trình: sent up, waiting for a decision.
    Submitted,
    /// Đã phê duyệt.
    Approved,
    /// Không phê duyệt: may go back to draft to be revised.
    Rejected,
}

impl ProposalState {
    pub fn label_vi(self) -> &'static str {
        match self {
            ProposalState::Draft => "Dự thảo",
            ProposalState::Submitted => "Đã trình",
            ProposalState::Approved => "Đã phê duyệt",
            ProposalState::Rejected => "Không phê duyệt",
        }
    }

    /// Whether `self → to` is allowed: draft → submitted → approved or
    /// rejected; rejected → draft (revise and submit again).
    pub fn may_become(self, to: ProposalState) -> bool {
        use ProposalState::{Approved, Draft, Rejected, Submitted};
        matches!(
            (self, to),
            (Draft, Submitted) | (Submitted, Approved | Rejected) | (Rejected, Draft)
        )
    }
}

/// One change of state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub from: ProposalState,
    pub to: ProposalState,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A saved proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedProposal {
    pub id: u64,
    /// "12/TTr-UBND".
    pub number: String,
    /// The date printed on the document.
    pub date: NaiveDate,
    pub state: ProposalState,
    /// Who created it (the viewer's user name).
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub history: Vec<Transition>,
    /// The frozen input.
    pub input: ProposalInput,
    pub prices: Vec<PriceOverride>,
}

impl SavedProposal {
    pub fn meta(&self) -> DocMeta {
        DocMeta {
            number: Some(self.number.clone()),
            date: self.date,
        }
    }

    /// The commune a commune's proposal belongs to (`None`: the province's).
    pub fn commune(&self) -> Option<&CommuneCode> {
        match &self.input.scope {
            Scope::Commune(code) => Some(code),
            Scope::Province => None,
        }
    }
}

/// What a new proposal is made of.
#[derive(Debug, Clone)]
pub struct NewProposal {
    /// A number chosen by the author; else the next of the issuer's year.
    pub number: Option<String>,
    pub date: NaiveDate,
    pub author: String,
    pub input: ProposalInput,
    pub prices: Vec<PriceOverride>,
}

/// Why a state change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionRefused {
    NotFound,
    NotAllowed {
        from: ProposalState,
        to: ProposalState,
    },
}

fn key(id: u64) -> String {
    format!("p/{id:020}")
}

/// The document suffix and the counter's issuer key of a scope.
pub fn issuer(scope: &Scope) -> (&'static str, String) {
    match scope {
        Scope::Commune(code) => ("TTr-UBND", code.to_string()),
        Scope::Province => ("TTr-SKHCN", "province".into()),
    }
}

impl Store {
    fn proposals_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// Numbers and stores a new draft, then flushes.
    pub fn create_proposal(&self, new: NewProposal) -> Result<SavedProposal, StoreError> {
        let tree = self.proposals_tree()?;
        let id = self.db.generate_id()?;
        let (suffix, issuer) = issuer(&new.input.scope);
        let counter = format!("n/{issuer}/{}", new.date.year());
        let saved = tree
            .transaction(|tx| {
                let number = match &new.number {
                    Some(n) => n.clone(),
                    None => {
                        let last: u64 = tx
                            .get(counter.as_bytes())?
                            .and_then(|v| String::from_utf8_lossy(&v).parse().ok())
                            .unwrap_or(0);
                        tx.insert(counter.as_bytes(), (last + 1).to_string().as_bytes())?;
                        format!("{}/{suffix}", last + 1)
                    }
                };
                let saved = SavedProposal {
                    id,
                    number,
                    date: new.date,
                    state: ProposalState::Draft,
                    author: new.author.clone(),
                    created_at: Utc::now(),
                    history: Vec::new(),
                    input: new.input.clone(),
                    prices: new.prices.clone(),
                };
                let bytes = record::encode(&saved).map_err(ConflictableTransactionError::Abort)?;
                tx.insert(key(id).as_bytes(), bytes)?;
                Ok(saved)
            })
            .map_err(tx_error)?;
        self.db.flush()?;
        self.audit(
            &AuditEntry::new(&saved.author, "proposal.create", saved.id.to_string()).change(
                None::<&()>,
                Some(&serde_json::json!({"number": saved.number, "scope": saved.input.scope})),
            ),
        )?;
        Ok(saved)
    }

    pub fn proposal(&self, id: u64) -> Result<Option<SavedProposal>, StoreError> {
        match self.proposals_tree()?.get(key(id))? {
            Some(bytes) => record::decode(TREE, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Saved proposals, newest first; `commune`: only that commune's.
    pub fn proposals(
        &self,
        commune: Option<&CommuneCode>,
    ) -> Result<Vec<SavedProposal>, StoreError> {
        let mut out = Vec::new();
        for entry in self.proposals_tree()?.scan_prefix(b"p/").values().rev() {
            let p: SavedProposal = record::decode(TREE, &entry?)?;
            if commune.is_none_or(|c| p.commune() == Some(c)) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Moves a proposal to `to` if its state allows, recording who and
    /// when, then flushes.
    pub fn transition_proposal(
        &self,
        id: u64,
        to: ProposalState,
        by: &str,
        note: Option<String>,
    ) -> Result<Result<SavedProposal, TransitionRefused>, StoreError> {
        let tree = self.proposals_tree()?;
        let outcome = tree
            .transaction(|tx| {
                let Some(bytes) = tx.get(key(id).as_bytes())? else {
                    return Ok(Err(TransitionRefused::NotFound));
                };
                let mut p: SavedProposal =
                    record::decode(TREE, &bytes).map_err(ConflictableTransactionError::Abort)?;
                if !p.state.may_become(to) {
                    return Ok(Err(TransitionRefused::NotAllowed { from: p.state, to }));
                }
                p.history.push(Transition {
                    at: Utc::now(),
                    from: p.state,
                    to,
                    by: by.to_owned(),
                    note: note.clone(),
                });
                p.state = to;
                let encoded = record::encode(&p).map_err(ConflictableTransactionError::Abort)?;
                tx.insert(key(id).as_bytes(), encoded)?;
                Ok(Ok(p))
            })
            .map_err(tx_error)?;
        self.db.flush()?;
        if let Ok(p) = &outcome
            && let Some(t) = p.history.last()
        {
            self.audit(
                &AuditEntry::new(by, "proposal.transition", id.to_string())
                    .change(Some(&t.from), Some(&t.to)),
            )?;
        }
        Ok(outcome)
    }
}

fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn input(scope: Scope) -> ProposalInput {
        ProposalInput {
            scope,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"),
            include_watch: false,
            policy: "test".into(),
            norms: Policy::shipped().norms().clone(),
            province: Some("Gia Lai".into()),
            communes: Vec::new(),
        }
    }

    #[test]
    fn numbers_run_per_issuer_and_year_and_states_move_forward_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let code = CommuneCode::parse("24118").expect("code");
        let new = |scope: Scope, year: i32| NewProposal {
            number: None,
            date: NaiveDate::from_ymd_opt(year, 3, 1).expect("date"),
            author: "xa".into(),
            input: input(scope),
            prices: Vec::new(),
        };
        let a = store
            .create_proposal(new(Scope::Commune(code.clone()), 2026))
            .expect("a");
        let b = store
            .create_proposal(new(Scope::Commune(code.clone()), 2026))
            .expect("b");
        let c = store
            .create_proposal(new(Scope::Province, 2026))
            .expect("c");
        let d = store
            .create_proposal(new(Scope::Commune(code.clone()), 2027))
            .expect("d");
        assert_eq!(
            [&a.number, &b.number, &c.number, &d.number],
            ["1/TTr-UBND", "2/TTr-UBND", "1/TTr-SKHCN", "1/TTr-UBND"]
        );
        assert_eq!(store.proposals(Some(&code)).expect("list").len(), 3);
        assert_eq!(store.proposals(None).expect("list")[0].id, d.id);

        let refused = store
            .transition_proposal(a.id, ProposalState::Approved, "so", None)
            .expect("store");
        assert_eq!(
            refused,
            Err(TransitionRefused::NotAllowed {
                from: ProposalState::Draft,
                to: ProposalState::Approved
            })
        );
        let submitted = store
            .transition_proposal(a.id, ProposalState::Submitted, "xa", None)
            .expect("store")
            .expect("allowed");
        assert_eq!(submitted.state, ProposalState::Submitted);
        assert_eq!(submitted.history.len(), 1);
        assert_eq!(
            store.proposal(a.id).expect("read").map(|p| p.state),
            Some(ProposalState::Submitted)
        );
        assert_eq!(
            store
                .transition_proposal(999, ProposalState::Submitted, "xa", None)
                .expect("store"),
            Err(TransitionRefused::NotFound)
        );
    }
}
