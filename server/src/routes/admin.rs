//! `POST /api/v1/admin/backup`: a consistent backup of the running server,
//! for `kiemke-server backup --server URL` (sled lets only one process open
//! the store, so the running server must take the snapshot itself).
//!
//! Guarded by the `admin-token` (`Authorization: Bearer …`); without one
//! configured the endpoint is off. The snapshot is written first to an
//! unlinked temporary file in the data directory (ingests pause only for
//! that), then streamed: a slow download never holds the store's lock. This
//! route sits outside the request timeout, which would cut a large backup.

use std::io::{BufWriter, Seek, SeekFrom, Write};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemke_shared::Lang;
use kiemke_shared::api::{ApiError, ErrorCode};
use tokio_util::io::ReaderStream;

use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::backup::{BackupError, Manifest};

pub const BACKUP_PATH: &str = "/api/v1/admin/backup";
/// Response header: entries in the backup (the client checks the file).
pub const ENTRIES_HEADER: &str = "x-kiemke-backup-entries";

/// Why an admin request failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("online backups are off: no admin-token is configured")]
    Disabled,
    #[error("missing or wrong admin token")]
    Unauthorized,
    #[error("backup failed: {0}")]
    Backup(#[from] BackupError),
    #[error("backup task failed: {0}")]
    Task(String),
}

/// An [`AdminError`] told in the request's language.
#[derive(Debug)]
pub struct AdminFailure(Lang, AdminError);

impl IntoResponse for AdminFailure {
    fn into_response(self) -> Response {
        let AdminFailure(lang, err) = self;
        let (status, error, message) = match &err {
            AdminError::Disabled => (
                StatusCode::FORBIDDEN,
                ErrorCode::Unauthorized,
                lang.pick(
                    "Sao lưu khi máy chủ đang chạy chưa được bật: hãy đặt admin-token trong \
                     cấu hình máy chủ (hoặc biến KIEMKE_SERVER_ADMIN_TOKEN) rồi khởi động lại.",
                    "Online backups are off: set admin-token in the server's configuration \
                     (or KIEMKE_SERVER_ADMIN_TOKEN) and restart it.",
                ),
            ),
            AdminError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                lang.pick(
                    "Thiếu hoặc sai mã quản trị (Authorization: Bearer ...).",
                    "Missing or wrong admin token (Authorization: Bearer ...).",
                ),
            ),
            AdminError::Backup(_) | AdminError::Task(_) => {
                tracing::error!(cause = %err, "sao lưu thất bại / backup failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    lang.pick(
                        "Máy chủ không tạo được bản sao lưu; xem nhật ký máy chủ.",
                        "The server could not take the backup; see the server's log.",
                    ),
                )
            }
        };
        let body = ApiError {
            error,
            message: message.to_owned(),
            field: None,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), AdminError> {
    let token = state
        .config
        .admin_token
        .as_ref()
        .ok_or(AdminError::Disabled)?;
    let presented = (headers.get(header::AUTHORIZATION))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(AdminError::Unauthorized)?;
    if token.matches(presented) {
        Ok(())
    } else {
        Err(AdminError::Unauthorized)
    }
}

pub async fn backup(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    headers: HeaderMap,
) -> Result<Response, AdminFailure> {
    let fail = |e: AdminError| AdminFailure(lang, e);
    authorize(&state, &headers).map_err(|e| {
        tracing::warn!(cause = %e, "yêu cầu sao lưu bị từ chối / backup request refused");
        fail(e)
    })?;
    let (store, dir) = (state.store.clone(), state.config.data_dir.clone());
    let (file, manifest) = tokio::task::spawn_blocking(move || snapshot(&store, &dir))
        .await
        .map_err(|e| fail(AdminError::Task(e.to_string())))?
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
