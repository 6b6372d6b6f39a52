//! `GET /api/v1/survey` (every commune the viewer may read, with totals)
//! and `GET /api/v1/survey/communes/{code}` (one commune with its devices).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::readable;
use crate::auth::Viewer;
use crate::error::{AppError, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::survey::{self, ProvinceOverview, ProvinceSurvey};

/// The survey the viewer may see: a commune officer's has their commune
/// only, and totals over it.
pub async fn visible_survey(
    state: &AppState,
    viewer: &Viewer,
) -> Result<ProvinceSurvey, crate::store::StoreError> {
    let policy = state.policy.clone();
    let scope = viewer.commune_scope().cloned();
    state
        .store
        .blocking(move |store| {
            let now = Utc::now();
            match scope {
                None => survey::province(store, &policy, now),
                Some(code) => {
                    let inputs = store.survey_inputs(
                        Some(&code),
                        now - chrono::Duration::days(i64::from(
                            policy.file.traffic_light.line_window_days,
                        )),
                    )?;
                    Ok(survey::aggregate::province(&inputs, &policy, now))
                }
            }
        })
        .await
}

/// The overview page's rows the viewer may see: the stored summaries for
/// the province, or the officer's commune computed as in
/// [`visible_survey`].
pub async fn visible_overview(
    state: &AppState,
    viewer: &Viewer,
) -> Result<ProvinceOverview, crate::store::StoreError> {
    if viewer.commune_scope().is_some() {
        return Ok(ProvinceOverview::from(
            &visible_survey(state, viewer).await?,
        ));
    }
    let policy = state.policy.clone();
    state
        .store
        .blocking(move |store| survey::overview(store, &policy, Utc::now()))
        .await
}

pub async fn province(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
) -> Result<Json<ProvinceSurvey>, AppError> {
    Ok(Json(visible_survey(&state, &viewer).await.in_lang(lang)?))
}

pub async fn commune(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let code = match readable(&viewer, &code) {
        Ok(code) => code,
        Err(refusal) => return Ok(refusal.api(lang)),
    };
    let policy = state.policy.clone();
    let wanted = code.clone();
    let detail = state
        .store
        .blocking(move |store| survey::commune(store, &policy, &wanted, Utc::now()))
        .await
        .in_lang(lang)?;
    Ok(match detail {
        Some(detail) => Json(detail).into_response(),
        None => super::Refusal::UnknownCommune {
            commune: code.to_string(),
        }
        .api(lang),
    })
}
