//! `GET /api/v1/devices` (a page of the device list, most recently seen
//! first; served by `routes::flags::list`, which adds the policy's filters)
//! and `GET /api/v1/devices/{id}` (one device with its latest inventory and
//! report history).

use axum::Json;
use axum::extract::{Path, State};
use kiemke_shared::DeviceId;
use kiemke_shared::api::DeviceDetail;
use serde::Deserialize;

use crate::auth::Viewer;
use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;

/// Devices per page when the request does not say.
pub const DEFAULT_LIMIT: usize = 100;
/// The most devices one request may ask for.
pub const MAX_LIMIT: usize = 1000;
/// Reports listed in a device's history.
pub const HISTORY_LIMIT: usize = 50;

/// `?limit=&offset=`.
#[derive(Debug, Default, Deserialize)]
pub struct Page {
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

impl Page {
    /// The limit, capped at [`MAX_LIMIT`], and the offset.
    pub fn bounds(&self) -> (usize, usize) {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        (limit, self.offset.unwrap_or(0))
    }
}

/// Checks that `viewer` may read device `id` (`403` for another commune's,
/// `404` when there is none), before anything of it is read.
pub async fn check_read_device(
    state: &AppState,
    viewer: &Viewer,
    lang: kiemke_shared::Lang,
    id: DeviceId,
) -> Result<(), AppError> {
    let commune = state
        .store
        .blocking(move |store| store.device_commune(&id))
        .await
        .in_lang(lang)?
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))?;
    viewer.check_read(commune.as_ref()).in_lang(lang)
}

pub async fn detail(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Json<DeviceDetail>, AppError> {
    let id: DeviceId = id
        .parse()
        .map_err(|e| AppError::new(lang, Failure::InvalidDeviceId(e)))?;
    check_read_device(&state, &viewer, lang, id).await?;
    let detail = state
        .store
        .blocking(move |store| store.device(&id, HISTORY_LIMIT))
        .await
        .in_lang(lang)?;
    detail
        .map(Json)
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))
}
