//! A site's line over HTTP:
//! - `GET /api/v1/sites/{commune}/{site}/lines`: the line status
//!   ([`crate::lines::site_status`]): target verdicts over 7 and 30 days with
//!   their measurements, availability, daily latency;
//! - `POST /api/v1/sites/{commune}/{site}/speedtest`: ask the site for a
//!   throughput test now; the next agent of the site to report is told to
//!   run one in its acknowledgement (`run_speed_test`), one PC at a time.
//!
//! Reading needs [`Viewer::may_read`] on the commune, asking needs
//! [`Viewer::may_edit`]; otherwise 403 and nothing changes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use kiemke_shared::{AgentId, CommuneCode, Lang, SiteCode, SiteRef};

use crate::auth::Viewer;
use crate::auth::access::AccessError;
use crate::error::{AppError, Failure, InLang};
use crate::lines::{self, SiteLineStatus};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::Origin;
use crate::store::audit::AuditEntry;
use crate::store::probes::SpeedTestRequest;

/// Where sites live in the API.
pub const SITES_PATH: &str = "/api/v1/sites";

/// How long a test handed to one agent keeps others from being asked.
pub const SPEED_TEST_HOLD: chrono::Duration = chrono::Duration::hours(2);

/// The site named by the path, validated.
pub fn parse_site(lang: Lang, commune: &str, site: &str) -> Result<SiteRef, AppError> {
    let commune = CommuneCode::parse(commune).map_err(|_| {
        AppError::new(
            lang,
            Failure::InvalidValue {
                field: "commune".into(),
                vi: format!(
                    "Mã xã {:?} không hợp lệ: mã đơn vị hành chính gồm 5 chữ số, ví dụ 24118.",
                    commune.chars().take(20).collect::<String>()
                ),
                en: format!(
                    "Invalid commune code {:?}: five digits, e.g. 24118.",
                    commune.chars().take(20).collect::<String>()
                ),
            },
        )
    })?;
    let site = SiteCode::parse(site).map_err(|_| {
        AppError::new(
            lang,
            Failure::InvalidValue {
                field: "site".into(),
                vi: "Mã điểm không hợp lệ: chữ thường không dấu, chữ số và dấu gạch ngang, \
                     tối đa 40 ký tự (ví dụ ttpvhcc)."
                    .into(),
                en: "Invalid site code: lowercase ASCII letters, digits and hyphens, at most \
                     40 characters (e.g. ttpvhcc)."
                    .into(),
            },
        )
    })?;
    Ok(SiteRef { commune, site })
}

/// 403 for another commune's data.
pub fn forbidden(lang: Lang, viewer: &Viewer, commune: &CommuneCode, edit: bool) -> AppError {
    let refusal = if edit {
        viewer.check_edit(Some(commune))
    } else {
        viewer.check_read(Some(commune))
    };
    AppError::new(
        lang,
        refusal
            .err()
            .unwrap_or_else(|| AccessError::OtherCommune(commune.clone())),
    )
}

fn unknown_site(lang: Lang, site: &SiteRef) -> AppError {
    AppError::new(
        lang,
        Failure::NotFound {
            vi: format!("Chưa có điểm {site} trong danh sách điểm của xã."),
            en: format!("There is no site {site} in the sites registry."),
        },
    )
}

pub async fn status(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    Path((commune, site)): Path<(String, String)>,
) -> Result<Json<SiteLineStatus>, AppError> {
    let site = parse_site(lang, &commune, &site)?;
    if !viewer.may_read(&site.commune) {
        return Err(forbidden(lang, &viewer, &site.commune, false));
    }
    let policy = state.policy.clone();
    let wanted = site.clone();
    let status = state
        .store
        .blocking(move |store| lines::site_status(store, &policy, &wanted, Utc::now()))
        .await
        .in_lang(lang)?;
    status.map(Json).ok_or_else(|| unknown_site(lang, &site))
}

pub async fn request_speed_test(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    Path((commune, site)): Path<(String, String)>,
) -> Result<(StatusCode, Json<SpeedTestRequest>), AppError> {
    let site = parse_site(lang, &commune, &site)?;
    if !viewer.may_edit(&site.commune) {
        return Err(forbidden(lang, &viewer, &site.commune, true));
    }
    let user = viewer.user.clone();
    let wanted = site.clone();
    let request = state
        .store
        .blocking(move |store| match store.site(&wanted)? {
            Some(_) => store
                .request_speed_test(&wanted, &user, Utc::now())
                .map(Some),
            None => Ok(None),
        })
        .await
        .in_lang(lang)?
        .ok_or_else(|| unknown_site(lang, &site))?;
    let entry = AuditEntry::new(&viewer.user, "site.speedtest_request", site.to_string());
    if let Err(e) = state.store.blocking(move |s| s.audit(&entry)).await {
        tracing::error!(error = %e, "không ghi được nhật ký / audit entry not written");
    }
    tracing::info!(%site, user = %viewer.user, "yêu cầu đo tốc độ / throughput test requested");
    Ok((StatusCode::ACCEPTED, Json(request)))
}

/// Whether the acknowledgement of a report just stored should ask its agent
/// for a throughput test (see `store::probes`). Failures only log: the
/// report is stored, the ack must go out.
pub async fn ask_for_speed_test(state: &AppState, agent: AgentId, origin: &Origin) -> bool {
    let Some(code) = origin.site.clone() else {
        return false;
    };
    let site = SiteRef {
        commune: origin.commune.clone(),
        site: code,
    };
    let max_age = chrono::Duration::days(i64::from(
        state.policy.file.line_targets.speed_test_max_age_days,
    ));
    let result = state
        .store
        .blocking(move |store| {
            store.claim_speed_test(&site, agent, Utc::now(), max_age, SPEED_TEST_HOLD)
        })
        .await;
    result.unwrap_or_else(|e| {
        tracing::warn!(cause = %e, "không quyết định được việc đo tốc độ / speed-test decision failed");
        false
    })
}
