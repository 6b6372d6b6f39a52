//! Backups: a consistent snapshot of every tree of the store in one file, and
//! its restore into a new data directory.
//!
//! # Consistency
//! sled 0.34 has no point-in-time snapshot across trees, and iterating the
//! trees while reports arrive could catch a report without its device's new
//! count. So [`Store::export`] takes the store's write lock exclusively:
//! ingests (which hold it shared for their transaction and flush) wait until
//! the export is written, then continue. Exports write to a local file first
//! (see `routes::admin`), so a slow download never holds the lock.
//!
//! # Format (version 1)
//! A gzip stream of JSON lines:
//! 1. the header: `{"format":"kiemke-backup","version":1,"schema_version":…,
//!    "created_at":…,"server_version":…}`;
//! 2. one line per entry: `{"tree":NAME,"key":BASE64,"value":BASE64}`, the
//!    trees in name order, each in key order;
//! 3. the end: `{"end":{"entries":N,"trees":{NAME:COUNT,…},"sha256":HEX}}`,
//!    where the SHA-256 covers every byte of the lines before it.
//!
//! Every tree is exported, including ones added after this module was
//! written. A file without its end line (a copy cut short) is refused.
//!
//! # Restore
//! [`restore`] verifies the whole file (gzip CRC, SHA-256, counts) before
//! writing anything, then builds the store in a temporary directory beside
//! the target and renames it into place: a failed restore leaves the target
//! as it was.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use kiemke_shared::Lang;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{SCHEMA_VERSION, Store, StoreError};

/// The first field of the header line.
pub const FORMAT: &str = "kiemke-backup";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// A line longer than this is not one we wrote (reports are capped far
/// below it): refuse instead of reading it into memory.
const MAX_LINE: u64 = 64 << 20;

/// Why a backup could not be written, read or restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the backup: {0}")]
    Write(#[source] io::Error),
    #[error("not a Kiểm kê backup")]
    NotABackup,
    #[error("backup format version {0} is not supported (this server reads {FORMAT_VERSION})")]
    UnsupportedVersion(u32),
    #[error("the backup has store schema {found}; this server reads up to {supported}")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("the backup is damaged: {0}")]
    Corrupt(String),
    #[error("the data directory {0} is not empty")]
    TargetNotEmpty(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BackupError {
    fn corrupt(detail: impl Into<String>) -> BackupError {
        BackupError::Corrupt(detail.into())
    }

    /// What the operator reads.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (BackupError::Io { path, source }, Lang::Vi) => {
                format!("Lỗi đọc/ghi {}: {source}", path.display())
            }
            (BackupError::Write(e), Lang::Vi) => format!("Không ghi được bản sao lưu: {e}"),
            (BackupError::NotABackup, Lang::Vi) => {
                "Tệp này không phải bản sao lưu Kiểm kê; không có gì được ghi.".into()
            }
            (BackupError::UnsupportedVersion(v), Lang::Vi) => format!(
                "Bản sao lưu có định dạng phiên bản {v}; máy chủ này chỉ đọc phiên bản \
                 {FORMAT_VERSION}. Hãy cập nhật máy chủ Kiểm kê."
            ),
            (BackupError::SchemaTooNew { found, supported }, Lang::Vi) => format!(
                "Bản sao lưu được tạo bởi máy chủ mới hơn (cơ sở dữ liệu phiên bản {found}, \
                 máy chủ này đọc đến {supported}). Hãy cập nhật máy chủ Kiểm kê."
            ),
            (BackupError::Corrupt(detail), Lang::Vi) => {
                format!("Tệp sao lưu bị hỏng hoặc không đầy đủ ({detail}); không có gì được ghi.")
            }
            (BackupError::TargetNotEmpty(path), Lang::Vi) => format!(
                "Thư mục dữ liệu {} không trống. Hãy chọn một thư mục trống, hoặc thêm \
                 --force để thay thế (dữ liệu cũ được giữ lại ở thư mục bên cạnh).",
                path.display()
            ),
            (BackupError::Store(e), lang) => e.message(lang),
            (other, _) => other.to_string(),
        }
    }
}

/// The header line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub schema_version: u32,
    pub created_at: DateTime<Utc>,
    /// The server build that wrote it, for support.
    pub server_version: String,
}

/// The end line: what a reader checks the file against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub entries: u64,
    pub trees: BTreeMap<String, u64>,
    pub sha256: String,
}

/// What a backup holds, once verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub header: Header,
    pub totals: Totals,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    tree: &'a str,
    key: String,
    value: String,
}

#[derive(Serialize)]
struct EndOut<'a> {
    end: &'a Totals,
}

/// Any line after the header.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineIn {
    tree: Option<String>,
    key: Option<String>,
    value: Option<String>,
    end: Option<Totals>,
}

/// Hashes every line it writes.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn line(&mut self, value: &impl Serialize) -> Result<(), BackupError> {
        let mut bytes = serde_json::to_vec(value).map_err(StoreError::Encode)?;
        bytes.push(b'\n');
        self.hash.update(&bytes);
        self.inner.write_all(&bytes).map_err(BackupError::Write)
    }
}

fn tree_name(name: &[u8]) -> Result<&str, BackupError> {
    std::str::from_utf8(name).map_err(|_| BackupError::corrupt("a tree name is not UTF-8"))
}

impl Store {
    /// Writes a consistent snapshot of every tree to `out` (ingests wait
    /// meanwhile; see the module docs) and returns what it holds.
    pub fn export(&self, out: impl Write) -> Result<Manifest, BackupError> {
        let _paused = self.pause_writes();
        let header = Header {
            format: FORMAT.to_owned(),
            version: FORMAT_VERSION,
            schema_version: SCHEMA_VERSION,
            created_at: Utc::now(),
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let mut w = HashingWriter {
            inner: GzEncoder::new(out, Compression::fast()),
            hash: Sha256::new(),
        };
        w.line(&header)?;
        let mut totals = Totals::default();
        let mut names = self.db.tree_names();
        names.sort();
        for name in names {
            let tree = self.db.open_tree(&name).map_err(StoreError::from)?;
            let name = tree_name(&name)?;
            let mut count = 0u64;
            for entry in tree.iter() {
                let (key, value) = entry.map_err(StoreError::from)?;
                w.line(&EntryOut {
                    tree: name,
                    key: BASE64.encode(&key),
                    value: BASE64.encode(&value),
                })?;
                count += 1;
            }
            totals.entries += count;
            totals.trees.insert(name.to_owned(), count);
        }
        totals.sha256 = hex(&w.hash.finalize_reset());
        w.line(&EndOut { end: &totals })?;
        w.inner
            .finish()
            .and_then(|mut out| out.flush())
            .map_err(BackupError::Write)?;
        Ok(Manifest { header, totals })
    }

    /// Holds ingests off until the guard is dropped.
    fn pause_writes(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.writes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a backup from start to end, checking everything, and hands each
/// entry (tree, key, value) to `entry`. Nothing is trusted before the end
/// line's checksum matches, so a caller that writes entries must be able to
/// throw them away (see [`restore`]).
pub fn read(
    input: impl Read,
    mut entry: impl FnMut(&str, Vec<u8>, Vec<u8>) -> Result<(), BackupError>,
) -> Result<Manifest, BackupError> {
    // A gzip stream that fails to decode is a damaged backup, not a foreign
    // file: a flipped byte can break the very first deflate block, so tell
    // the two apart by the gzip magic, not by where decoding failed.
    let mut raw = BufReader::new(input);
    let gzip = raw
        .fill_buf()
        .is_ok_and(|head| head.starts_with(&[0x1f, 0x8b]));
    let mut reader = BufReader::new(MultiGzDecoder::new(raw));
    let mut hash = Sha256::new();
    let mut line = Vec::new();
    let mut next_line = |line: &mut Vec<u8>| -> Result<bool, BackupError> {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', line)
            .map_err(|e| BackupError::corrupt(format!("gzip: {e}")))?;
        if n > 0 && line.last() != Some(&b'\n') {
            return Err(BackupError::corrupt("a line is cut short"));
        }
        Ok(n > 0)
    };

    // Not gzip, or empty: not one of ours.
    let first = next_line(&mut line).map_err(|e| if gzip { e } else { BackupError::NotABackup })?;
    if !first {
        return Err(BackupError::NotABackup);
    }
    let header: Header = serde_json::from_slice(&line).map_err(|e| {
        // Our header is plain ASCII JSON: bytes beyond ASCII in a gzip
        // stream's first line are damage.
        if gzip && line.iter().any(|b| !b.is_ascii()) {
            BackupError::corrupt(format!("header: {e}"))
        } else {
            BackupError::NotABackup
        }
    })?;
    if header.format != FORMAT {
        return Err(BackupError::NotABackup);
    }
    if header.version != FORMAT_VERSION {
        return Err(BackupError::UnsupportedVersion(header.version));
    }
    if header.schema_version > SCHEMA_VERSION {
        return Err(BackupError::SchemaTooNew {
            found: header.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    hash.update(&line);

    let mut seen = Totals::default();
    let totals = loop {
        if !next_line(&mut line)? {
            return Err(BackupError::corrupt("the end of the file is missing"));
        }
        let parsed: LineIn = serde_json::from_slice(&line)
            .map_err(|e| BackupError::corrupt(format!("line {}: {e}", seen.entries + 2)))?;
        match parsed {
            LineIn {
                end: Some(totals),
                tree: None,
                ..
            } => break totals,
            LineIn {
                tree: Some(tree),
                key: Some(key),
                value: Some(value),
                end: None,
            } => {
                hash.update(&line);
                let decode = |s: &str| {
                    BASE64
                        .decode(s)
                        .map_err(|_| BackupError::corrupt(format!("tree {tree}: bad base64")))
                };
                let (key, value) = (decode(&key)?, decode(&value)?);
                *seen.trees.entry(tree.clone()).or_default() += 1;
                seen.entries += 1;
                entry(&tree, key, value)?;
            }
            _ => {
                return Err(BackupError::corrupt(format!(
                    "line {}: unexpected content",
                    seen.entries + 2
                )));
            }
        }
    };
    if next_line(&mut line)? {
        return Err(BackupError::corrupt("data after the end line"));
    }
    if hex(&hash.finalize()) != totals.sha256 {
        return Err(BackupError::corrupt("SHA-256 mismatch"));
    }
    let declared: BTreeMap<String, u64> = (totals.trees.iter())
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| (t.clone(), *n))
        .collect();
    if totals.entries != seen.entries || declared != seen.trees {
        return Err(BackupError::corrupt("entry counts do not match"));
    }
    Ok(Manifest { header, totals })
}

/// Reads and checks a whole backup file without writing anything.
pub fn verify(file: &Path) -> Result<Manifest, BackupError> {
    read(open(file)?, |_, _, _| Ok(()))
}

fn open(file: &Path) -> Result<fs::File, BackupError> {
    fs::File::open(file).map_err(|source| BackupError::Io {
        path: file.to_owned(),
        source,
    })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub manifest: Manifest,
    /// Where the previous contents of the data directory were moved
    /// (`--force` on a non-empty directory).
    pub previous: Option<PathBuf>,
}

/// Restores `file` into `data_dir`, which must be missing or empty unless
/// `force` (then its contents are moved aside, never deleted). Verifies the
/// whole file first; builds the store beside the target and renames it in.
pub fn restore(file: &Path, data_dir: &Path, force: bool) -> Result<Restored, BackupError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    let occupied = match fs::read_dir(data_dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(data_dir)(e)),
    };
    if occupied && !force {
        return Err(BackupError::TargetNotEmpty(data_dir.to_owned()));
    }
    if occupied && data_dir.join(super::DB_DIR).exists() {
        // Refuses (Locked) while a server runs on it.
        drop(Store::open(data_dir)?);
    }
    verify(file)?;

    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".kiemke-restore-")
        .tempdir_in(&parent)
        .map_err(io_err(&parent))?;
    let manifest = {
        let store = Store::open(staging.path())?;
        let mut trees: BTreeMap<String, sled::Tree> = BTreeMap::new();
        let manifest = read(open(file)?, |name, key, value| {
            if !trees.contains_key(name) {
                let tree = store.db.open_tree(name).map_err(StoreError::from)?;
                trees.insert(name.to_owned(), tree);
            }
            if let Some(tree) = trees.get(name) {
                tree.insert(key, value).map_err(StoreError::from)?;
            }
            Ok(())
        })?;
        store.db.flush().map_err(StoreError::from)?;
        manifest
    };
    // The restored store must open like any other before it goes in place.
    drop(Store::open(staging.path())?);

    let staged = staging.keep();
    let previous = if occupied {
        let aside = sibling(data_dir, "before-restore");
        fs::rename(data_dir, &aside).map_err(io_err(data_dir))?;
        Some(aside)
    } else {
        if data_dir.exists() {
            fs::remove_dir(data_dir).map_err(io_err(data_dir))?;
        }
        None
    };
    fs::rename(&staged, data_dir).map_err(io_err(data_dir))?;
    Ok(Restored { manifest, previous })
}

/// `DIR.before-restore-20260101T120000`: beside `dir`, unused.
fn sibling(dir: &Path, what: &str) -> PathBuf {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{what}-{stamp}"));
    let mut path = dir.with_file_name(&name);
    let mut n = 1;
    while path.exists() {
        path = dir.with_file_name(format!("{}-{n}", name.to_string_lossy()));
        n += 1;
    }
    path
}

/// Writes a backup of the store in `data_dir` (the server must be stopped:
/// the store is locked while it runs) to `out`, atomically: a partial file
/// never carries the final name. Owner-only permissions on Unix: a backup
/// holds everything the server knows.
pub fn backup_to_file(store: &Store, out: &Path) -> Result<Manifest, BackupError> {
    let partial = sibling(out, "partial");
    let io_err = |source| BackupError::Io {
        path: out.to_owned(),
        source,
    };
    let file = create_private(&partial).map_err(io_err)?;
    let result = (|| {
        let mut writer = io::BufWriter::new(file);
        let manifest = store.export(&mut writer)?;
        let file = writer
            .into_inner()
            .map_err(|e| BackupError::Write(e.into_error()))?;
        file.sync_all().map_err(BackupError::Write)?;
        fs::rename(&partial, out).map_err(io_err)?;
        Ok(manifest)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

/// Creates a new file readable and writable by its owner only.
pub fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests;
