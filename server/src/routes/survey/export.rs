//! `GET /export/survey.xlsx?commune=CODE` and `GET /export/survey.csv?
//! commune=CODE&table=summary|devices`: the province (or one commune) as a
//! download. A commune officer gets their own commune whatever they ask
//! for, and 403 for another one.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kiemke_shared::{CommuneCode, Lang};
use serde::Deserialize;

use super::{Refusal, readable};
use crate::auth::Viewer;
use crate::error::{AppError, Failure, InLang};
use crate::export::{self, Table};
use crate::routes::lang::PageLang;
use crate::state::AppState;
use crate::survey;

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    pub commune: Option<String>,
    #[serde(default)]
    pub table: Table,
}

/// The commune the export is limited to, if any.
fn scope(viewer: &Viewer, query: &ExportQuery) -> Result<Option<CommuneCode>, Refusal> {
    match query.commune.as_deref().filter(|c| !c.is_empty()) {
        Some(code) => readable(viewer, code).map(Some),
        None => Ok(viewer.commune_scope().cloned()),
    }
}

async fn data(
    state: &AppState,
    scope: Option<CommuneCode>,
    lang: Lang,
) -> Result<(survey::ProvinceSurvey, Vec<survey::CommuneDetail>), AppError> {
    let policy = state.policy.clone();
    state
        .store
        .blocking(move |store| survey::with_devices(store, &policy, scope.as_ref(), Utc::now()))
        .await
        .in_lang(lang)
}

fn file_name(scope: Option<&CommuneCode>, ext: &str) -> String {
    let date = (Utc::now() + chrono::Duration::hours(7)).format("%Y-%m-%d");
    match scope {
        Some(c) => format!("khao-sat-{c}-{date}.{ext}"),
        None => format!("khao-sat-toan-tinh-{date}.{ext}"),
    }
}

fn download(bytes: Vec<u8>, content_type: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn xlsx(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) =
        query.map_err(|e| AppError::new(lang, Failure::InvalidQuery(e.body_text())))?;
    let scope = match scope(&viewer, &query) {
        Ok(scope) => scope,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let (survey, details) = data(&state, scope.clone(), lang).await?;
    let bytes = tokio::task::spawn_blocking(move || {
        export::xlsx::write(&export::sheets(&survey, &details, lang), |_, _| {})
    })
    .await
    .map_err(|e| AppError::new(lang, Failure::Internal(e.into())))?
    .map_err(|e| AppError::new(lang, Failure::Internal(e.into())))?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &file_name(scope.as_ref(), "xlsx"),
    ))
}

pub async fn csv(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) =
        query.map_err(|e| AppError::new(lang, Failure::InvalidQuery(e.body_text())))?;
    let scope = match scope(&viewer, &query) {
        Ok(scope) => scope,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let (survey, details) = data(&state, scope.clone(), lang).await?;
    let sheet = match query.table {
        Table::Summary => export::summary_table(&survey, lang),
        Table::Devices => export::device_table(&details, None, lang),
    };
    let bytes =
        export::csv::write(&sheet).map_err(|e| AppError::new(lang, Failure::Internal(e.into())))?;
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        &file_name(scope.as_ref(), "csv"),
    ))
}
