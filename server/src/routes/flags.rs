//! The lifecycle policy over HTTP:
//! - `GET /api/v1/devices?status=&category=&commune=&site=&reason=` (with
//!   `limit`/`offset`): the device list, filtered, each with its flags;
//! - `GET /api/v1/devices/{id}/flags[?as_of=YYYY-MM-DD]`: status, reasons,
//!   age evidence, wear, and the status history (`as_of` evaluates afresh
//!   on that date without storing);
//! - `GET|PUT /api/v1/devices/{id}/asset`: the asset register entry (PUT
//!   re-evaluates the device at once);
//! - `GET /api/v1/flags/summary`: devices per commune and status.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use kiemke_shared::{DeviceId, Lang};
use serde::{Deserialize, Serialize};

use crate::auth::Viewer;
use crate::auth::access::AccessError;
use crate::error::{AppError, Failure, InLang};
use crate::policy::{AssetRecord, Category, DeviceFlags, Status};
use crate::routes::devices::check_read_device;
use crate::routes::devices::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::AuditEntry;
use crate::store::flags::{CommuneCount, DeviceFilter, FlaggedList, StatusChange};

/// Status changes listed with a device's flags.
pub const HISTORY_LIMIT: usize = 100;

/// `GET /api/v1/devices` query: paging and filters.
#[derive(Debug, Default, Deserialize)]
pub struct DeviceQuery {
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub commune: Option<String>,
    pub site: Option<String>,
    pub reason: Option<String>,
}

fn invalid(field: &str, vi: String, en: String) -> Failure {
    Failure::InvalidValue {
        field: field.to_owned(),
        vi,
        en,
    }
}

fn invalid_query(e: &QueryRejection) -> Failure {
    let detail = e.body_text();
    invalid(
        "query",
        format!(
            "Tham số truy vấn không hợp lệ: {detail}. Giá trị hợp lệ: status = ok, watch, replace; \
             category = desktop, laptop, tablet, printer, scanner, mfp, photocopier, network-gear, \
             other; limit, offset = số nguyên không âm; as_of = YYYY-MM-DD."
        ),
        format!(
            "Invalid query parameters: {detail}. Valid: status = ok, watch, replace; category = \
             desktop, laptop, tablet, printer, scanner, mfp, photocopier, network-gear, other; \
             limit, offset = non-negative integers; as_of = YYYY-MM-DD."
        ),
    )
}

fn device_id(lang: Lang, id: &str) -> Result<DeviceId, AppError> {
    id.parse()
        .map_err(|e| AppError::new(lang, Failure::InvalidDeviceId(e)))
}

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    query: Result<Query<DeviceQuery>, QueryRejection>,
) -> Result<Json<FlaggedList>, AppError> {
    let Query(mut q) = query.map_err(|e| AppError::new(lang, invalid_query(&e)))?;
    // An officer lists their own commune; asking for another is refused.
    if let Some(own) = viewer.commune_scope() {
        match q.commune.as_deref() {
            Some(asked) if asked != own.as_str() => {
                let asked = kiemke_shared::CommuneCode::parse(asked)
                    .map_err(|_| AppError::new(lang, AccessError::OtherCommune(own.clone())))?;
                return Err(AppError::new(lang, AccessError::OtherCommune(asked)));
            }
            _ => q.commune = Some(own.as_str().to_owned()),
        }
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let offset = q.offset.unwrap_or(0);
    let filter = DeviceFilter {
        status: q.status,
        category: q.category,
        commune: q.commune,
        site: q.site,
        reason: q.reason,
    };
    let list = state
        .store
        .blocking(move |store| store.list_flagged(&filter, limit, offset))
        .await
        .in_lang(lang)?;
    Ok(Json(list))
}

/// `GET /api/v1/devices/{id}/flags`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagsResponse {
    /// `null` until the device is evaluated (it has sent no inventory yet).
    pub flags: Option<DeviceFlags>,
    /// Status changes, newest first.
    pub history: Vec<StatusChange>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AsOf {
    pub as_of: Option<NaiveDate>,
}

pub async fn device_flags(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
    query: Result<Query<AsOf>, QueryRejection>,
) -> Result<Json<FlagsResponse>, AppError> {
    let id = device_id(lang, &id)?;
    check_read_device(&state, &viewer, lang, id).await?;
    let Query(AsOf { as_of }) = query.map_err(|e| AppError::new(lang, invalid_query(&e)))?;
    let policy = state.policy.clone();
    let found = state
        .store
        .blocking(move |store| {
            if store.device_record(&id)?.is_none() {
                return Ok(None);
            }
            let flags = match as_of {
                Some(date) => store.evaluate_device(&policy, &id, date)?,
                None => store.flags(&id)?,
            };
            Ok(Some(FlagsResponse {
                flags,
                history: store.flag_history(&id, HISTORY_LIMIT)?,
            }))
        })
        .await
        .in_lang(lang)?;
    found
        .map(Json)
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))
}

pub async fn get_asset(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Json<AssetRecord>, AppError> {
    let id = device_id(lang, &id)?;
    check_read_device(&state, &viewer, lang, id).await?;
    let found = state
        .store
        .blocking(move |store| {
            Ok(match store.device_record(&id)? {
                Some(_) => Some(store.asset(&id)?.unwrap_or_default()),
                None => None,
            })
        })
        .await
        .in_lang(lang)?;
    found
        .map(Json)
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))
}

/// `PUT /api/v1/devices/{id}/asset`: the stored entry and the new flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetResponse {
    pub asset: AssetRecord,
    pub flags: Option<DeviceFlags>,
}

pub async fn put_asset(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<AssetResponse>, AppError> {
    let id = device_id(lang, &id)?;
    // Who may edit is decided before the body is read.
    let commune = state
        .store
        .blocking(move |store| store.device_commune(&id))
        .await
        .in_lang(lang)?
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))?;
    viewer.check_edit(commune.as_ref()).in_lang(lang)?;
    let asset: AssetRecord =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body))
            .map_err(|e| {
                let field = e.path().to_string();
                let inner = e.into_inner();
                AppError::new(
                    lang,
                    invalid(
                        &field,
                        format!(
                            "Nội dung không hợp lệ ở trường `{field}`: {inner}. Các trường: \
                             asset_tag, in_service (YYYY-MM-DD), cost_vnd (số nguyên, đồng), \
                             category, commune, site, site_kind, note."
                        ),
                        format!(
                            "Invalid body at field `{field}`: {inner}. Fields: asset_tag, \
                             in_service (YYYY-MM-DD), cost_vnd (integer, đồng), category, \
                             commune, site, site_kind, note."
                        ),
                    ),
                )
            })?;
    asset
        .validate(crate::policy::today())
        .map_err(|(field, vi, en)| AppError::new(lang, invalid(field, vi, en)))?;
    // Moving a device to another commune needs the right to edit that one too.
    if asset.commune.is_some() {
        viewer.check_edit(asset.commune.as_ref()).in_lang(lang)?;
    }
    let (policy, as_of) = (state.policy.clone(), state.as_of());
    let who = viewer.user.clone();
    let stored = state
        .store
        .blocking(move |store| {
            let before = store.asset(&id)?;
            let Some(asset) = store.put_asset(&id, asset)? else {
                return Ok(None);
            };
            store.audit(
                &AuditEntry::new(who, "asset.put", id.to_string())
                    .change(before.as_ref(), Some(&asset)),
            )?;
            let flags = store.recompute_device(&policy, &id, as_of)?.map(|(f, _)| f);
            Ok(Some(AssetResponse { asset, flags }))
        })
        .await
        .in_lang(lang)?;
    stored
        .map(Json)
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))
}

/// `GET /api/v1/flags/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryResponse {
    pub policy: String,
    pub evaluated_on: NaiveDate,
    /// By commune code; devices with no commune yet last (`commune: null`).
    pub communes: Vec<CommuneCount>,
    pub total: CommuneCount,
}

pub async fn summary(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
) -> Result<Json<SummaryResponse>, AppError> {
    let summary = state
        .store
        .blocking(|store| store.flag_summary())
        .await
        .in_lang(lang)?;
    let (communes, total) = match viewer.commune_scope() {
        None => (summary.communes, summary.total),
        Some(own) => {
            let mine: Vec<CommuneCount> = summary
                .communes
                .into_iter()
                .filter(|c| c.commune.as_deref() == Some(own.as_str()))
                .collect();
            let total = mine
                .first()
                .cloned()
                .map_or_else(CommuneCount::default, |c| CommuneCount {
                    commune: None,
                    ..c
                });
            (mine, total)
        }
    };
    Ok(Json(SummaryResponse {
        policy: state.policy.name(),
        evaluated_on: state.as_of(),
        communes,
        total,
    }))
}

/// Logs what a re-evaluation after a report did: a status change, or why
/// it failed (the report is stored and acknowledged all the same; the next
/// evaluation catches up).
pub fn log_refresh(id: DeviceId, result: &Result<Option<(DeviceFlags, bool)>, StoreError>) {
    match result {
        Ok(Some((flags, true))) => tracing::info!(
            device_id = %id, status = ?flags.status, reasons = ?flags.counted_rules(),
            "trạng thái thiết bị thay đổi / device status changed"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(
            device_id = %id, cause = %e,
            "không đánh giá được thiết bị / device evaluation failed"
        ),
    }
}
