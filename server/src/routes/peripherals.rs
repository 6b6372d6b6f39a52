//! `GET /api/v1/peripherals[?commune=CODE]` (every printer, scanner and
//! network device the PCs reported, deduplicated per commune; one commune's
//! with `commune`) and `GET /api/v1/peripherals/{id}` (one, with
//! its page-counter history).

use axum::Json;
use axum::extract::{Path, Query, State};
use kiemke_shared::{CommuneCode, DeviceId};
use serde::Deserialize;

use crate::auth::Viewer;
use crate::auth::access::AccessError;
use crate::error::{AppError, Failure, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::peripherals::{PeripheralDetail, PeripheralRecord};

/// Where the peripherals are listed.
pub const PERIPHERALS_PATH: &str = "/api/v1/peripherals";

/// `GET /api/v1/peripherals` query.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub commune: Option<String>,
}

pub async fn list(
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<PeripheralRecord>>, AppError> {
    let commune = match query.commune.as_deref() {
        Some(c) => Some(CommuneCode::parse(c).map_err(|_| {
            AppError::new(
                lang,
                Failure::InvalidValue {
                    field: "commune".into(),
                    vi: "Mã xã không hợp lệ: mã đơn vị hành chính gồm 5 chữ số, ví dụ 24118."
                        .into(),
                    en: "Invalid commune code: five digits, e.g. 24118.".into(),
                },
            )
        })?),
        None => None,
    };
    // An officer lists their own commune, and asking for another is refused.
    let commune = match (viewer.commune_scope(), commune) {
        (Some(own), Some(asked)) if &asked != own => {
            return Err(AppError::new(lang, AccessError::OtherCommune(asked)));
        }
        (Some(own), _) => Some(own.clone()),
        (None, asked) => asked,
    };
    let list = state
        .store
        .blocking(move |store| store.list_peripherals_in(commune.as_ref()))
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
