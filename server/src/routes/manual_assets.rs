//! Assets registered by hand, over HTTP (the web forms on the commune page
//! are `routes::survey::assets`):
//! - `GET /api/v1/manual-assets[?commune=CODE]`: the list (a commune
//!   officer sees their own commune only);
//! - `POST /api/v1/manual-assets`: add one (JSON [`NewManualAsset`]); 409 if
//!   its serial is already registered in the commune;
//! - `PUT|DELETE /api/v1/manual-assets/{id}`: edit or delete one;
//! - `POST /api/v1/manual-assets/import?commune=CODE`: a CSV or XLSX list
//!   (the body; format sniffed), all or nothing: 200 with what changed, or
//!   422 with every error and its line (Vietnamese by default).
//!
//! Writing needs [`Viewer::may_edit`] on the asset's commune.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kiemke_shared::{CommuneCode, DeviceId, Lang, SiteRef};
use serde::{Deserialize, Serialize};

use crate::auth::Viewer;
use crate::error::{AppError, Failure, InLang};
use crate::import::{assets as import_assets, table};
use crate::routes::lang::RequestLang;
use crate::routes::lines::forbidden;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::manual_assets::{ImportSummary, ManualAsset, NewManualAsset};

pub const MANUAL_ASSETS_PATH: &str = "/api/v1/manual-assets";

#[derive(Debug, Default, Deserialize)]
pub struct CommuneQuery {
    pub commune: Option<String>,
}

fn parse_commune(lang: Lang, text: &str) -> Result<CommuneCode, AppError> {
    CommuneCode::parse(text).map_err(|_| {
        AppError::new(
            lang,
            Failure::InvalidValue {
                field: "commune".into(),
                vi: "Mã xã không hợp lệ: mã đơn vị hành chính gồm 5 chữ số, ví dụ 24118.".into(),
                en: "Invalid commune code: five digits, e.g. 24118.".into(),
            },
        )
    })
}

fn invalid(lang: Lang, field: &str, vi: String, en: String) -> AppError {
    AppError::new(
        lang,
        Failure::InvalidValue {
            field: field.into(),
            vi,
            en,
        },
    )
}

fn parse_id(lang: Lang, id: &str) -> Result<DeviceId, AppError> {
    id.parse()
        .map_err(|e| AppError::new(lang, Failure::InvalidDeviceId(e)))
}

fn not_found(lang: Lang, id: DeviceId) -> AppError {
    AppError::new(
        lang,
        Failure::NotFound {
            vi: format!("Không có tài sản nào có mã {id}."),
            en: format!("There is no asset with id {id}."),
        },
    )
}

/// Refuses a viewer who may not edit the commune a body names before the
/// body is checked, so a refusal says nothing about the body.
fn guard_body(lang: Lang, viewer: &Viewer, body: &[u8]) -> Result<(), AppError> {
    let named = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| CommuneCode::parse(v.get("commune")?.as_str()?).ok());
    let refusal = match named {
        Some(commune) => viewer.check_edit(Some(&commune)),
        None => viewer.check_edit(viewer.commune_scope()),
    };
    refusal.map_err(|e| AppError::new(lang, e))
}

/// Records a write in the audit log; a failure to record only logs (the
/// write itself is done and flushed).
async fn audit<B: Serialize + Sync, A: Serialize + Sync>(
    state: &AppState,
    viewer: &Viewer,
    action: &'static str,
    target: &(impl ToString + ?Sized),
    before: Option<&B>,
    after: Option<&A>,
) {
    let entry = AuditEntry::new(&viewer.user, action, target.to_string()).change(before, after);
    if let Err(e) = state.store.blocking(move |s| s.audit(&entry)).await {
        tracing::error!(error = %e, action, "không ghi được nhật ký / audit entry not written");
    }
}

/// Checks one asset from the API like an import row (site registered,
/// texts within limits).
async fn check(state: &AppState, lang: Lang, body: &Bytes) -> Result<NewManualAsset, AppError> {
    let asset: NewManualAsset = serde_json::from_slice(body).map_err(|e| {
        invalid(
            lang,
            "body",
            format!("Nội dung JSON không hợp lệ: {e}"),
            format!("Invalid JSON body: {e}"),
        )
    })?;
    if asset.model.trim().is_empty() || asset.model.chars().count() > import_assets::MAX_TEXT {
        return Err(invalid(
            lang,
            "model",
            format!(
                "Tên tài sản / model phải có 1 đến {} ký tự.",
                import_assets::MAX_TEXT
            ),
            format!(
                "The model must have 1 to {} characters.",
                import_assets::MAX_TEXT
            ),
        ));
    }
    if asset
        .cost_vnd
        .is_some_and(|c| c > import_assets::MAX_COST_VND)
    {
        return Err(invalid(
            lang,
            "cost_vnd",
            "Nguyên giá quá lớn.".into(),
            "The original cost is too large.".into(),
        ));
    }
    if [&asset.funding_source, &asset.note, &asset.serial]
        .into_iter()
        .flatten()
        .any(|t| t.chars().count() > import_assets::MAX_TEXT)
    {
        return Err(invalid(
            lang,
            "body",
            format!(
                "Số serial, nguồn vốn và ghi chú tối đa {} ký tự.",
                import_assets::MAX_TEXT
            ),
            format!(
                "Serial, funding source and note have at most {} characters.",
                import_assets::MAX_TEXT
            ),
        ));
    }
    if let Some(code) = &asset.site {
        let site = SiteRef {
            commune: asset.commune.clone(),
            site: code.clone(),
        };
        let wanted = site.clone();
        let known = state
            .store
            .blocking(move |s| s.site(&wanted))
            .await
            .in_lang(lang)?;
        if known.is_none() {
            return Err(invalid(
                lang,
                "site",
                format!("Điểm {site} chưa có trong danh sách điểm của xã."),
                format!("Site {site} is not in the sites registry."),
            ));
        }
    }
    Ok(NewManualAsset {
        source_line: None,
        ..asset
    })
}

pub async fn list(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    Query(query): Query<CommuneQuery>,
) -> Result<Json<Vec<ManualAsset>>, AppError> {
    let commune = match query.commune.as_deref() {
        Some(c) => Some(parse_commune(lang, c)?),
        None => viewer.commune_scope().cloned(),
    };
    if let Some(c) = &commune {
        if !viewer.may_read(c) {
            return Err(forbidden(lang, &viewer, c, false));
        }
    }
    let list = state
        .store
        .blocking(move |s| s.manual_assets(commune.as_ref()))
        .await
        .in_lang(lang)?;
    Ok(Json(list))
}

pub async fn create(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    body: Bytes,
) -> Result<(StatusCode, Json<ManualAsset>), AppError> {
    guard_body(lang, &viewer, &body)?;
    let asset = check(&state, lang, &body).await?;
    if !viewer.may_edit(&asset.commune) {
        return Err(forbidden(lang, &viewer, &asset.commune, true));
    }
    let added = state
        .store
        .blocking(move |s| s.add_manual_asset(&asset, Utc::now()))
        .await
        .in_lang(lang)?;
    match added {
        Ok(asset) => {
            audit(
                &state,
                &viewer,
                "manual_asset.create",
                &asset.id,
                None::<&ManualAsset>,
                Some(&asset),
            )
            .await;
            Ok((StatusCode::CREATED, Json(asset)))
        }
        Err(existing) => Err(invalid(
            lang,
            "serial",
            format!("Tài sản có số serial này đã được đăng ký (mã {existing})."),
            format!("An asset with this serial is already registered (id {existing})."),
        )),
    }
}

pub async fn update(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ManualAsset>, AppError> {
    let id = parse_id(lang, &id)?;
    let old = state
        .store
        .blocking(move |s| s.manual_asset(&id))
        .await
        .in_lang(lang)?
        .ok_or_else(|| not_found(lang, id))?;
    if !viewer.may_edit(&old.asset.commune) {
        return Err(forbidden(lang, &viewer, &old.asset.commune, true));
    }
    let asset = check(&state, lang, &body).await?;
    if !viewer.may_edit(&asset.commune) {
        return Err(forbidden(lang, &viewer, &asset.commune, true));
    }
    let new = state
        .store
        .blocking(move |s| s.update_manual_asset(&id, &asset, Utc::now()))
        .await
        .in_lang(lang)?
        .ok_or_else(|| not_found(lang, id))?;
    audit(
        &state,
        &viewer,
        "manual_asset.update",
        &id,
        Some(&old),
        Some(&new),
    )
    .await;
    Ok(Json(new))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id = parse_id(lang, &id)?;
    let old = state
        .store
        .blocking(move |s| s.manual_asset(&id))
        .await
        .in_lang(lang)?
        .ok_or_else(|| not_found(lang, id))?;
    if !viewer.may_edit(&old.asset.commune) {
        return Err(forbidden(lang, &viewer, &old.asset.commune, true));
    }
    state
        .store
        .blocking(move |s| s.delete_manual_asset(&id))
        .await
        .in_lang(lang)?;
    audit(
        &state,
        &viewer,
        "manual_asset.delete",
        &id,
        Some(&old),
        None::<&ManualAsset>,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The answer to a refused import: every error, each with its line.
#[derive(Debug, Serialize)]
pub struct ImportRefused {
    pub error: kiemke_shared::api::ErrorCode,
    pub message: String,
    pub errors: Vec<ImportErrorLine>,
}

#[derive(Debug, Serialize)]
pub struct ImportErrorLine {
    pub line: usize,
    pub message: String,
}

pub async fn import(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    viewer: Viewer,
    Query(query): Query<CommuneQuery>,
    body: Bytes,
) -> Result<Response, AppError> {
    let commune = match query.commune.as_deref() {
        Some(c) => Some(parse_commune(lang, c)?),
        None => viewer.commune_scope().cloned(),
    };
    match &commune {
        Some(c) if !viewer.may_edit(c) => return Err(forbidden(lang, &viewer, c, true)),
        None if !viewer.is_province_admin() => {
            return Err(invalid(
                lang,
                "commune",
                "Hãy chọn xã khi nhập (?commune=MÃ).".into(),
                "Give the commune to import into (?commune=CODE).".into(),
            ));
        }
        _ => {}
    }
    let target = commune
        .as_ref()
        .map_or_else(|| "*".to_owned(), ToString::to_string);
    match import_file(&state, &body, commune).await? {
        Ok(summary) => {
            audit(
                &state,
                &viewer,
                "manual_asset.import",
                &target,
                None::<&()>,
                Some(&summary),
            )
            .await;
            Ok(Json(summary).into_response())
        }
        Err(errors) => Ok(refused(lang, errors).into_response()),
    }
}

/// Outcome of an import: what changed, or every error.
pub type ImportOutcome = Result<ImportSummary, Vec<import_assets::RowError>>;

/// Reads, checks and stores a file (shared with the CLI's `asset import`
/// through [`import_blocking`]).
async fn import_file(
    state: &AppState,
    body: &Bytes,
    commune: Option<CommuneCode>,
) -> Result<ImportOutcome, AppError> {
    let bytes = body.clone();
    state
        .store
        .blocking(move |store| import_blocking(store, &bytes, commune.as_ref()))
        .await
        .in_lang(Lang::Vi)
}

/// [`import_file`] on the calling thread.
pub fn import_blocking(
    store: &crate::store::Store,
    bytes: &[u8],
    commune: Option<&CommuneCode>,
) -> Result<ImportOutcome, crate::store::StoreError> {
    let table = match table::read(bytes, table::Format::sniff(bytes)) {
        Ok(t) => t,
        Err(e) => {
            let line = match &e {
                table::TableError::CellTooLong { line, .. }
                | table::TableError::Csv { line, .. } => *line,
                _ => 0,
            };
            return Ok(Err(vec![import_assets::RowError {
                line,
                vi: e.message(Lang::Vi),
                en: e.message(Lang::En),
            }]));
        }
    };
    let lookup_error = std::cell::RefCell::new(None);
    let known = |site: &SiteRef| match store.site(site) {
        Ok(found) => found.is_some(),
        Err(e) => {
            lookup_error.borrow_mut().get_or_insert(e);
            false
        }
    };
    let parsed = import_assets::parse(&table, commune, &known, crate::policy::today());
    if let Some(e) = lookup_error.into_inner() {
        return Err(e);
    }
    match parsed {
        Ok(assets) => store.import_manual_assets(&assets, Utc::now()).map(Ok),
        Err(errors) => Ok(Err(errors)),
    }
}

fn refused(lang: Lang, errors: Vec<import_assets::RowError>) -> (StatusCode, Json<ImportRefused>) {
    let message = match lang {
        Lang::Vi => format!(
            "Không nhập tài sản nào: tệp có {} lỗi. Hãy sửa rồi nhập lại cả tệp.",
            errors.len()
        ),
        Lang::En => format!(
            "Nothing was imported: the file has {} error(s). Fix them and import the whole file again.",
            errors.len()
        ),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(ImportRefused {
            error: kiemke_shared::api::ErrorCode::InvalidField,
            message,
            errors: errors
                .iter()
                .map(|e| ImportErrorLine {
                    line: e.line,
                    message: e.message(lang),
                })
                .collect(),
        }),
    )
}
