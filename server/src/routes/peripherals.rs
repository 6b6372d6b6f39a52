//! `GET /api/v1/peripherals` (every printer, scanner and network device the
//! PCs reported, deduplicated) and `GET /api/v1/peripherals/{id}` (one, with
//! its page-counter history).

use axum::Json;
use axum::extract::{Path, State};
use kiemke_shared::DeviceId;

use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::peripherals::{PeripheralDetail, PeripheralRecord};

/// Where the peripherals are listed.
pub const PERIPHERALS_PATH: &str = "/api/v1/peripherals";

pub async fn list(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
) -> Result<Json<Vec<PeripheralRecord>>, AppError> {
    let list = state
        .store
        .blocking(|store| store.list_peripherals())
        .await
        .in_lang(lang)?;
    Ok(Json(list))
}

pub async fn detail(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Json<PeripheralDetail>, AppError> {
    let id: DeviceId = id
        .parse()
        .map_err(|e| AppError::new(lang, Failure::InvalidDeviceId(e)))?;
    let detail = state
        .store
        .blocking(move |store| store.peripheral(&id))
        .await
        .in_lang(lang)?;
    detail
        .map(Json)
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))
}
