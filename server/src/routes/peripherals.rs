//! `GET /api/v1/peripherals` (every printer, scanner and network device the
//! PCs reported, deduplicated) and `GET /api/v1/peripherals/{id}` (one, with
//! its page-counter history).

use axum::Json;
use axum::extract::{Path, State};
use kiemke_shared::DeviceId;

use crate::auth::Viewer;
use crate::auth::access::AccessError;
use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::peripherals::{PeripheralDetail, PeripheralRecord};

/// Where the peripherals are listed.
pub const PERIPHERALS_PATH: &str = "/api/v1/peripherals";

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
) -> Result<Json<Vec<PeripheralRecord>>, AppError> {
    let scope = viewer.commune_scope().cloned();
    let list = state
        .store
        .blocking(move |store| {
            let all = store.list_peripherals()?;
            let Some(own) = scope else {
                return Ok(all);
            };
            let mut mine = Vec::new();
            for p in all {
                if store.communes_of(&p.seen_by)?.contains(&own) {
                    mine.push(p);
                }
            }
            Ok(mine)
        })
        .await
        .in_lang(lang)?;
    Ok(Json(list))
}

pub async fn detail(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Json<PeripheralDetail>, AppError> {
    let id: DeviceId = id
        .parse()
        .map_err(|e| AppError::new(lang, Failure::InvalidDeviceId(e)))?;
    let communes = state
        .store
        .blocking(move |store| store.peripheral_communes(&id))
        .await
        .in_lang(lang)?
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))?;
    if let Some(own) = viewer.commune_scope() {
        let allowed = communes.contains(own);
        if !allowed {
            let other = communes.into_iter().next();
            return Err(match other {
                Some(c) => AppError::new(lang, AccessError::OtherCommune(c)),
                None => AppError::new(lang, AccessError::NoCommune),
            });
        }
    }
    let detail = state
        .store
        .blocking(move |store| store.peripheral(&id))
        .await
        .in_lang(lang)?;
    detail
        .map(Json)
        .ok_or_else(|| AppError::new(lang, Failure::DeviceNotFound(id)))
}
