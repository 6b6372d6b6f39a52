//! `POST /api/v1/admin/backup`: a consistent backup of the running server,
//! for `kiemke-server backup --server URL` (sled lets only one process open
//! the store, so the running server must take the snapshot itself).
//!
//! Guarded like the rest of the admin API by [`Admin`] (the `admin-token`,
//! `Authorization: Bearer …`); without one configured the endpoint is off. The snapshot is written first to an
//! unlinked temporary file in the data directory (ingests pause only for
//! that), then streamed: a slow download never holds the store's lock. This
//! route sits outside the request timeout, which would cut a large backup.

use std::io::{BufWriter, Seek, SeekFrom, Write};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemke_shared::Lang;
use kiemke_shared::api::{ApiError, ErrorCode};
use tokio_util::io::ReaderStream;

use crate::auth::Admin;
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::backup::{BackupError, Manifest};

pub const BACKUP_PATH: &str = "/api/v1/admin/backup";
/// Response header: entries in the backup (the client checks the file).
pub const ENTRIES_HEADER: &str = "x-kiemke-backup-entries";

/// Why an online backup failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupFailure {
    #[error("backup failed: {0}")]
    Backup(#[from] BackupError),
    #[error("backup task failed: {0}")]
    Task(String),
}

/// An [`BackupFailure`] told in the request's language.
#[derive(Debug)]
pub struct BackupResponse(Lang, BackupFailure);

impl IntoResponse for BackupResponse {
    fn into_response(self) -> Response {
        let BackupResponse(lang, err) = self;
        tracing::error!(cause = %err, "sao lưu thất bại / backup failed");
        let body = ApiError {
            error: ErrorCode::Internal,
            message: lang
                .pick(
                    "Máy chủ không tạo được bản sao lưu; xem nhật ký máy chủ.",
                    "The server could not take the backup; see the server's log.",
                )
                .to_owned(),
            field: None,
        };
        (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
    }
}

pub async fn backup(
    _admin: Admin,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
) -> Result<Response, BackupResponse> {
    let fail = |e: BackupFailure| BackupResponse(lang, e);
    let (store, dir) = (state.store.clone(), state.config.data_dir.clone());
    let (file, manifest) = tokio::task::spawn_blocking(move || snapshot(&store, &dir))
        .await
        .map_err(|e| fail(BackupFailure::Task(e.to_string())))?
        .map_err(|e| fail(e.into()))?;
    tracing::info!(
        entries = manifest.totals.entries, sha256 = %manifest.totals.sha256,
        "đã tạo bản sao lưu / backup taken"
    );
    let name = format!(
        "attachment; filename=\"kiemke-{}.kiemke-backup\"",
        manifest.header.created_at.format("%Y%m%dT%H%M%SZ")
    );
    let stream = ReaderStream::new(tokio::fs::File::from_std(file));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    for (name, value) in [
        (header::CONTENT_DISPOSITION.as_str(), name),
        (ENTRIES_HEADER, manifest.totals.entries.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// Exports into an anonymous file in `dir` (gone from the directory at
/// once, so nothing is left behind whatever happens next).
fn snapshot(
    store: &crate::store::Store,
    dir: &std::path::Path,
) -> Result<(std::fs::File, Manifest), BackupError> {
    let io = |source| BackupError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut file = tempfile::tempfile_in(dir).map_err(io)?;
    let manifest = {
        let mut writer = BufWriter::new(&mut file);
        let manifest = store.export(&mut writer)?;
        writer.flush().map_err(BackupError::Write)?;
        manifest
    };
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok((file, manifest))
}
