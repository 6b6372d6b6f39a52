//! `POST /api/v1/enroll`: an agent exchanges an enrollment token for its own
//! credential. The token decides the commune and site; the token's use is
//! consumed in the same transaction that stores the agent (see
//! `store::trust`); the credential's secret is returned this once and kept
//! only as a hash.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use chrono::Utc;
use kiemke_shared::SiteRef;
use kiemke_shared::auth::{AgentCredential, EnrollRequest, EnrollResponse};

use crate::auth::{TrustError, secret};
use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::trust::Enrollment;

/// An enrollment request is a few hundred bytes.
const MAX_BODY: usize = 16 * 1024;

/// Host names longer than this are cut (they are informative only).
const MAX_HOSTNAME: usize = 255;

pub async fn enroll(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    body: Bytes,
) -> Result<Json<EnrollResponse>, AppError> {
    let invalid = |field: &'static str, detail: String| {
        AppError::new(lang, TrustError::Invalid { field, detail })
    };
    if body.len() > MAX_BODY {
        return Err(invalid("body", format!("> {MAX_BODY} bytes")));
    }
    let request: EnrollRequest = serde_json::from_slice(&body).map_err(|e| {
        let field = if e.to_string().contains("kkt_") {
            "token"
        } else {
            "body"
        };
        invalid(field, e.to_string())
    })?;
    let enrollment = Enrollment {
        agent_id: request.agent_id,
        hostname: request
            .hostname
            .map(|h| h.chars().take(MAX_HOSTNAME).collect()),
        credential: secret::generate(),
    };
    let credential = AgentCredential {
        agent_id: request.agent_id,
        secret: enrollment.credential.clone(),
    };
    let token = request.token;
    let token_id = token.id.clone();
    let agent = state
        .store
        .blocking(move |store| store.enroll(&token, &enrollment, Utc::now()))
        .await
        .in_lang(lang)?
        .map_err(|refusal| {
            tracing::warn!(token_id = %token_id, agent_id = %request.agent_id, %refusal, "từ chối đăng ký / enrollment refused");
            AppError::new(lang, Failure::Trust(refusal.into()))
        })?;
    let site_name = match &agent.site {
        Some(site) => {
            let site = SiteRef {
                commune: agent.commune.clone(),
                site: site.clone(),
            };
            state
                .store
                .blocking(move |store| store.site(&site))
                .await
                .in_lang(lang)?
                .map(|s| s.name)
        }
        None => None,
    };
    tracing::info!(
        agent_id = %agent.agent_id, commune = %agent.commune, site = ?agent.site,
        token_id = %agent.token_id, hostname = ?agent.hostname,
        "đã đăng ký tác tử / agent enrolled"
    );
    Ok(Json(EnrollResponse {
        credential,
        commune: agent.commune,
        site: agent.site,
        site_name,
    }))
}
