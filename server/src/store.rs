//! The store: reports and devices on disk, in an embedded sled database.
//! This is the only module that touches sled.
//!
//! Trees:
//! - `reports`: report id → [`StoredReport`] (JSON), exactly once per id;
//! - `devices`: device id → [`DeviceRecord`] (JSON);
//! - `device_reports`: device id ++ received time (big-endian µs) ++ report
//!   id → `()`: each device's history, in time order;
//! - `identity`: identity key string → device id (see [`identity`]);
//! - `enroll_tokens`, `agents`: enrollment tokens and enrolled agents, their
//!   secrets only as hashes (see [`trust`]);
//! - `communes`, `sites`: the communes and sites registries (see
//!   [`communes`], [`sites`]); what the province survey reads is
//!   gathered in [`survey`].
//! - `meta`: `schema_version` (and what the flags were computed with);
//! - `assets`, `flags`, `flag_history`: the lifecycle policy's register
//!   entries, latest flags and status changes (see [`flags`]).
//! - `identity`: identity key string → device id (see [`identity`]), and
//!   `reporter:{agent id}` → the device that agent last reported for, which
//!   attributes reports without an inventory (batched probe results);
//! - `peripherals`, `peripheral_identity`, `page_counts`: printers and
//!   scanners from the reports' peripherals sections (see [`peripherals`]);
//! - `line_samples`: each site's ping bursts and throughput tests in time
//!   order, and `speedtest_requests`: tests the server asks sites for (see
//!   [`probes`]);
//! - `manual_assets`, `manual_asset_keys`: equipment registered by hand or
//!   imported from officers' lists (see [`manual_assets`]);
//! - `meta`: `schema_version`.
//! - `users`, `sessions`, `audit`: web users, their log-in sessions (only
//!   hashed ids) and the audit log of every write (see [`users`],
//!   [`sessions`], [`audit`]).
//!
//! An ingest writes the first four in one sled transaction, so a crash never
//! leaves half a report, and then flushes to disk before returning: a report
//! the server acknowledged survives `kill -9`. Reports arriving together
//! share one transaction and one flush ([`ingest_batch`]). A backup ([`backup`]) pauses
//! ingests while it reads every tree, so it is a consistent snapshot.
//!
//! A report from an enrolled agent is filed under the agent's commune and
//! site ([`Origin`]), and its identity keys are looked up within that commune
//! only (`identity` keys `COMMUNE/KEY`), so an agent can never update another
//! commune's device by claiming its serial number.

mod assets;
pub mod audit;
pub mod backup;
pub mod communes;
pub mod flags;
mod group_flush;
pub mod identity;
mod ingest;
mod ingest_batch;
pub mod line_rollups;
pub mod manual_assets;
pub mod peripherals;
pub mod probes;
pub mod proposals;
mod query;
pub mod record;
pub mod scope;
pub mod sessions;
pub mod sites;
pub mod survey;
pub mod survey_index;
pub mod trust;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use kiemke_shared::{Lang, ReportId};

pub use ingest::{IngestOutcome, Ingested};
pub use record::{DeviceRecord, Origin, StoredReport};

/// The schema this build writes; a store with a newer one is refused.
pub const SCHEMA_VERSION: u32 = 1;

/// sled caches this many bytes of pages; the default (1 GiB) is far more than
/// a province's inventory needs.
const CACHE_BYTES: u64 = 64 << 20;

/// The sled database lives in this subdirectory of the data directory, so the
/// data directory can hold other files (configuration, exports) later.
const DB_DIR: &str = "store";

/// How long [`Store::open`] waits for a lock that this process itself is
/// releasing: sled 0.34 closes its files on background threads shortly after
/// the last handle is dropped, so reopening at once in the same process (a
/// restart in tests, a backup restore) can find the lock still held. A lock
/// held by another running server outlasts this and is reported.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

const SCHEMA_KEY: &[u8] = b"schema_version";

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {path} is in use by another Kiểm kê server")]
    Locked { path: PathBuf },
    #[error("cannot open the store in {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store has schema version {found}; this server reads up to {supported}")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("report {report_id} is already stored with different content")]
    Conflict { report_id: ReportId },
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt record in tree {tree}: {detail}")]
    Corrupt { tree: &'static str, detail: String },
    #[error("cannot encode a record: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("store task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// The message an operator reads when the server cannot start.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (StoreError::Locked { path }, Lang::Vi) => format!(
                "Thư mục dữ liệu {} đang được một máy chủ Kiểm kê khác sử dụng. \
                 Hãy dừng máy chủ đó, hoặc chọn thư mục khác bằng --data.",
                path.display()
            ),
            (StoreError::Open { path, source }, Lang::Vi) => format!(
                "Không mở được cơ sở dữ liệu trong {}: {source}",
                path.display()
            ),
            (StoreError::CreateDir { path, source }, Lang::Vi) => {
                format!(
                    "Không tạo được thư mục dữ liệu {}: {source}",
                    path.display()
                )
            }
            (StoreError::SchemaTooNew { found, supported }, Lang::Vi) => format!(
                "Cơ sở dữ liệu có phiên bản {found}, mới hơn phiên bản máy chủ này đọc được \
                 ({supported}). Hãy cập nhật máy chủ Kiểm kê."
            ),
            (other, Lang::Vi) => format!("Lỗi lưu trữ: {other}"),
            (other, Lang::En) => other.to_string(),
        }
    }
}

/// sled reports a held lock only through its message.
fn is_lock_error(e: &std::io::Error) -> bool {
    e.to_string().contains("could not acquire lock")
}

/// The open store. Cheap to clone: every clone shares the same database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    reports: sled::Tree,
    devices: sled::Tree,
    device_reports: sled::Tree,
    identity: sled::Tree,
    tokens: sled::Tree,
    agents: sled::Tree,
    communes: sled::Tree,
    sites: sled::Tree,
    /// Printers and scanners, their identity keys and page-counter history
    /// (see [`peripherals`]).
    peripherals: sled::Tree,
    peripheral_identity: sled::Tree,
    page_counts: sled::Tree,
    /// Each site's probe time series and pending test requests (see
    /// [`probes`]).
    line_samples: sled::Tree,
    speedtest_requests: sled::Tree,
    /// Assets registered by hand and their identity keys (see
    /// [`manual_assets`]).
    manual_assets: sled::Tree,
    manual_asset_keys: sled::Tree,
    /// Ingests hold it shared, a backup exclusively: sled has no snapshot
    /// across trees, so this is what makes a backup consistent.
    writes: Arc<RwLock<()>>,
    /// Shared `fsync`s for acknowledged writes (see [`group_flush`]).
    group_flush: Arc<group_flush::GroupFlush>,
    /// Held while the survey's out-of-date aggregates are recomputed, so a
    /// page view and the server's background catch-up never compute the
    /// same communes twice (see [`Store::survey_refresh_guard`]).
    survey_refresh: Arc<std::sync::Mutex<()>>,
    /// Reports waiting to be written together (see [`ingest_batch`]).
    ingest_batch: Arc<ingest_batch::Batcher<ingest::Request, Ingested>>,
}

impl Store {
    /// Held by every write that spans trees: shared among writers,
    /// exclusive with a backup ([`backup`]), which therefore sees each such
    /// write entirely or not at all.
    pub(crate) fn write_guard(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.writes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store {
    /// Opens (or creates) the store in `data_dir`, locking it against a
    /// second server.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DB_DIR);
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            match sled::Config::new()
                .path(&path)
                .cache_capacity(CACHE_BYTES)
                .open()
            {
                Err(sled::Error::Io(ref e))
                    if is_lock_error(e) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other,
            }
        }
        .map_err(|source| match source {
            // sled reports a held lock only through its message.
            sled::Error::Io(ref e) if is_lock_error(e) => StoreError::Locked {
                path: data_dir.to_owned(),
            },
            source => StoreError::Open {
                path: path.clone(),
                source,
            },
        })?;
        let meta = db.open_tree("meta")?;
        match meta.get(SCHEMA_KEY)? {
            None => {
                meta.insert(SCHEMA_KEY, SCHEMA_VERSION.to_string().as_bytes())?;
            }
            Some(found) => {
                let found: u32 =
                    String::from_utf8_lossy(&found)
                        .parse()
                        .map_err(|_| StoreError::Corrupt {
                            tree: "meta",
                            detail: "schema_version is not a number".into(),
                        })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::SchemaTooNew {
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
            }
        }
        let store = Store {
            reports: db.open_tree("reports")?,
            devices: db.open_tree("devices")?,
            device_reports: db.open_tree("device_reports")?,
            identity: db.open_tree("identity")?,
            tokens: db.open_tree("enroll_tokens")?,
            agents: db.open_tree("agents")?,
            communes: db.open_tree("communes")?,
            sites: db.open_tree("sites")?,
            peripherals: db.open_tree("peripherals")?,
            peripheral_identity: db.open_tree("peripheral_identity")?,
            page_counts: db.open_tree("page_counts")?,
            line_samples: db.open_tree("line_samples")?,
            speedtest_requests: db.open_tree("speedtest_requests")?,
            manual_assets: db.open_tree("manual_assets")?,
            manual_asset_keys: db.open_tree("manual_asset_keys")?,
            db,
            writes: Arc::default(),
            group_flush: Arc::default(),
            survey_refresh: Arc::default(),
            ingest_batch: Arc::default(),
        };
        store.ensure_survey_index()?;
        store.ensure_flag_index()?;
        Ok(store)
    }

    /// Writes everything to disk (also done after every ingest).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.blocking(|store| Ok(store.db.flush().map(drop)?)).await
    }

    /// Runs blocking store work off the async runtime's threads.
    pub async fn blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

#[cfg(test)]
mod tests;
