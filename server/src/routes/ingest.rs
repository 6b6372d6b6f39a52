//! `POST /api/v1/reports`: receive one report, store it durably, acknowledge.
//!
//! Only from an enrolled agent: [`AuthenticatedAgent`] runs before the body
//! is read, so an unauthenticated request costs no decoding and stores
//! nothing. The report must carry the authenticated agent's id, and it is
//! filed under the commune and site of the agent's enrollment.
//!
//! We read and decompress the body ourselves instead of using axum's `Json`
//! extractor, `DefaultBodyLimit` and tower-http's `RequestDecompressionLayer`:
//! those answer with their own plain-text rejections, while an agent (and the
//! officer reading its log) needs our JSON `ApiError` with a code that says
//! whether to retry and a message in their language. So the compressed limit
//! is applied while reading, and the decompressed limit by inflating through
//! `take(limit + 1)`.

pub mod decode;

use std::future::poll_fn;
use std::pin::Pin;

use axum::Json;
use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use kiemke_shared::api::ReportAck;

use self::decode::{DecodeError, Limits};
use crate::auth::{AuthenticatedAgent, TrustError};
use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::IngestOutcome;

/// After the limit is exceeded we keep reading (and discarding) up to this
/// many times the limit, so the client is still listening when the 413
/// arrives; beyond it we answer at once and the connection is closed.
const DRAIN_FACTOR: usize = 4;

pub async fn ingest(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    agent: AuthenticatedAgent,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ReportAck>, AppError> {
    let limits = Limits {
        max_body: state.config.max_body_bytes,
        max_decompressed: state.config.max_decompressed_bytes,
    };
    decode::check_media_type(&headers).in_lang(lang)?;
    let encoding = decode::content_encoding(&headers).in_lang(lang)?;
    let declared = (headers.get(header::CONTENT_LENGTH))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let raw = read_limited(body, limits.max_body, declared)
        .await
        .in_lang(lang)?;

    // Inflating and parsing up to 16 MiB is CPU work: keep it off the
    // runtime's threads.
    let report = tokio::task::spawn_blocking(move || decode::decode(&raw, encoding, limits))
        .await
        .map_err(|e| AppError::new(lang, Failure::Internal(e.into())))?
        .in_lang(lang)?;

    if report.agent_id != agent.agent_id {
        return Err(AppError::new(
            lang,
            TrustError::WrongAgent {
                authenticated: agent.agent_id,
                claimed: report.agent_id,
            },
        ));
    }
    let (report_id, agent_id) = (report.report_id, report.agent_id);
    // The device's flags are brought up to date in the same store call and
    // made durable by the same flush as the report.
    let ingested = state
        .store
        .ingest_flagged(
            report,
            agent.origin.clone(),
            state.policy.clone(),
            state.as_of(),
        )
        .await
        .in_lang(lang)?;
    let outcome = ingested.outcome;
    let new_device = matches!(
        outcome,
        IngestOutcome::Stored {
            new_device: true,
            ..
        }
    );
    crate::routes::flags::log_refresh(outcome.device_id(), &ingested.flags);
    let mut ack = outcome.ack(report_id);
    if matches!(outcome, IngestOutcome::Stored { .. }) {
        ack.run_speed_test =
            crate::routes::lines::ask_for_speed_test(&state, agent.agent_id, &agent.origin).await;
    }
    tracing::info!(
        report_id = %ack.report_id, device_id = %ack.device_id, %agent_id,
        commune = %agent.origin.commune,
        status = ?ack.status, new_device, "đã nhận báo cáo / report received"
    );
    Ok(Json(ack))
}

/// Reads the body, refusing more than `limit` bytes. A declared
/// `Content-Length` over the limit is refused without buffering anything.
pub(crate) async fn read_limited(
    mut body: Body,
    limit: usize,
    declared: Option<u64>,
) -> Result<Vec<u8>, DecodeError> {
    let too_large = DecodeError::TooLarge { limit };
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let drain_cap = limit.saturating_mul(DRAIN_FACTOR);
    if declared.is_some_and(|n| n > limit_u64.saturating_mul(DRAIN_FACTOR as u64)) {
        return Err(too_large);
    }
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| DecodeError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > drain_cap {
            return Err(too_large);
        }
        if seen <= limit && declared.is_none_or(|n| n <= limit_u64) {
            buf.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(too_large);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let ok = read_limited(Body::from(vec![1u8; 10]), 10, Some(10)).await;
        assert_eq!(ok.map(|b| b.len()).ok(), Some(10));
        let over = read_limited(Body::from(vec![1u8; 11]), 10, None).await;
        assert!(matches!(over, Err(DecodeError::TooLarge { limit: 10 })));
        let declared = read_limited(Body::from(vec![1u8; 11]), 10, Some(11)).await;
        assert!(matches!(declared, Err(DecodeError::TooLarge { limit: 10 })));
        let huge = read_limited(Body::empty(), 10, Some(1 << 40)).await;
        assert!(matches!(huge, Err(DecodeError::TooLarge { limit: 10 })));
    }
}
