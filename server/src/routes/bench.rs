//! `POST /api/v1/bench/floor`: the server's floor for the fleet simulator
//! (`kiemke-server bench fleet`). It does what every agent request costs
//! before any work of its own — the layers, the agent's credentials, reading
//! the body under the same size limit as a report — and stores nothing, so
//! ingest's reports/s divided by this endpoint's is the share left after
//! decoding, validation and storage.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};

use super::ingest::{decode, read_limited};
use crate::auth::AuthenticatedAgent;
use crate::error::{AppError, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;

/// Where the floor answers.
pub const FLOOR_PATH: &str = "/api/v1/bench/floor";

/// Reads the body (refusing more than a report may carry) and answers
/// `204`. Only from an enrolled agent.
pub async fn floor(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    _agent: AuthenticatedAgent,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, AppError> {
    decode::check_media_type(&headers).in_lang(lang)?;
    let declared = (headers.get(header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    read_limited(body, state.config.max_body_bytes, declared)
        .await
        .in_lang(lang)?;
    Ok(StatusCode::NO_CONTENT)
}
