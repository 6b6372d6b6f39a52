//! `GET /api/v1/health`: the server is up, its version, and the protocol
//! versions it reads (for monitoring and for agents checking compatibility).

use axum::Json;
use kiemke_shared::api::Health;
use kiemke_shared::protocol::SUPPORTED_VERSIONS;

pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol_versions: SUPPORTED_VERSIONS.collect(),
    })
}
