//! The communes registry: every commune (xã/phường) of the province with its
//! official code and name, so the survey lists communes that have not
//! reported yet and documents name the commune as it is officially called.
//!
//! Tree `communes`: commune code → [`CommuneRecord`] (JSON). Codes are the
//! five-digit official codes, so a scan lists communes in code order.

use chrono::{DateTime, Utc};
use kiemke_shared::CommuneCode;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, record};

/// Xã or phường: both are communes for the survey, but documents name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommuneKind {
    /// Xã: a rural commune.
    Xa,
    /// Phường: an urban ward.
    Phuong,
    /// Đặc khu: a special zone (islands).
    DacKhu,
}

impl CommuneKind {
    /// The word documents use before the name ("xã", "phường", "đặc khu").
    pub fn word_vi(self) -> &'static str {
        match self {
            CommuneKind::Xa => "xã",
            CommuneKind::Phuong => "phường",
            CommuneKind::DacKhu => "đặc khu",
        }
    }
}

/// One commune of the province.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneRecord {
    pub code: CommuneCode,
    pub kind: CommuneKind,
    /// The name without the kind, e.g. "Ia Grai".
    pub name: String,
    /// The province, e.g. "Gia Lai".
    pub province: String,
    pub created_at: DateTime<Utc>,
}

impl CommuneRecord {
    /// "xã Ia Grai", as documents write it inside a sentence.
    pub fn full_name_vi(&self) -> String {
        format!("{} {}", self.kind.word_vi(), self.name)
    }
}

impl Store {
    /// Adds a commune; `false` if one with that code exists (unchanged).
    pub fn add_commune(&self, commune: &CommuneRecord) -> Result<bool, StoreError> {
        let inserted = self
            .communes
            .compare_and_swap(
                commune.code.as_str(),
                None::<&[u8]>,
                Some(record::encode(commune)?),
            )?
            .is_ok();
        self.mark_survey_stale(&commune.code)?;
        self.db.flush()?;
        Ok(inserted)
    }

    /// Creates or replaces a commune's record.
    pub fn put_commune(&self, commune: &CommuneRecord) -> Result<(), StoreError> {
        self.communes
            .insert(commune.code.as_str(), record::encode(commune)?)?;
        self.mark_survey_stale(&commune.code)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn commune(&self, code: &CommuneCode) -> Result<Option<CommuneRecord>, StoreError> {
        match self.communes.get(code.as_str())? {
            Some(bytes) => record::decode("communes", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every commune, by code.
    pub fn communes(&self) -> Result<Vec<CommuneRecord>, StoreError> {
        self.communes
            .iter()
            .values()
            .map(|v| record::decode("communes", &v?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communes_are_added_once_and_listed_by_code() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let commune = |code: &str, name: &str| CommuneRecord {
            code: CommuneCode::parse(code).expect("code"),
            kind: CommuneKind::Xa,
            name: name.into(),
            province: "Gia Lai".into(),
            created_at: Utc::now(),
        };
        assert!(
            store
                .add_commune(&commune("24121", "Ia Grai"))
                .expect("add")
        );
        assert!(
            store
                .add_commune(&commune("24118", "Biển Hồ"))
                .expect("add")
        );
        assert!(!store.add_commune(&commune("24118", "Other")).expect("add"));
        let names: Vec<_> = store
            .communes()
            .expect("list")
            .into_iter()
            .map(|c| c.full_name_vi())
            .collect();
        assert_eq!(names, ["xã Biển Hồ", "xã Ia Grai"]);
    }
}
