//! The HTTP interface: [`router`] builds it (tests drive it with
//! `tower::ServiceExt::oneshot`, no socket needed) and [`run`] serves it on a
//! listener until a shutdown future completes.
//!
//! Every route runs inside the same layers, outermost first: tracing, a
//! request timeout (503 `unavailable` with a JSON body and `Retry-After`), load
//! shedding over a concurrency limit shared by all routes (a request over the
//! limit gets the same 503 at once instead of queueing), response
//! compression, and catch-panic as a last resort (500 with a JSON body).
//! Before any of that, `connections` limits open connections and the time to
//! send a request's head.
//! The online backup (`backup`, part of the admin API) runs outside the timeout and the
//! concurrency limit: a large backup takes longer than any report.
//! The throughput test routes ([`speedtest`]) are the exception: see there.

pub mod access_labels;
pub mod admin;
pub mod backup;
pub mod connections;
pub mod devices;
pub mod enroll;
pub mod flags;
pub mod health;
pub mod home;
pub mod ingest;
pub mod lang;
pub mod login;
pub mod peripherals;
pub mod speedtest;
pub mod survey;

use std::any::Any;
use std::future::Future;

use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use kiemke_shared::{Lang, protocol};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::load_shed::error::Overloaded;
use tower::timeout::TimeoutLayer;
use tower::timeout::error::Elapsed;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::{AppError, Failure};
use crate::state::AppState;

/// Devices per commune and status (the lifecycle policy's summary).
pub const FLAGS_SUMMARY_PATH: &str = "/api/v1/flags/summary";

/// The application: every route, its layers and its state.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let default_lang = state.config.lang;
    let max_concurrent = state.config.max_concurrent_requests;
    let layers = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(HandleErrorLayer::new(
            move |uri: Uri, headers: HeaderMap, err: BoxError| async move {
                let lang = lang::pick(uri.query(), &headers, default_lang);
                let failure = if err.is::<Elapsed>() {
                    Failure::Timeout(timeout)
                } else if err.is::<Overloaded>() {
                    Failure::Overloaded(max_concurrent)
                } else {
                    Failure::Internal(anyhow::anyhow!("middleware error: {err}"))
                };
                AppError::new(lang, failure)
            },
        ))
        .layer(TimeoutLayer::new(timeout))
        .layer(LoadShedLayer::new())
        .layer(GlobalConcurrencyLimitLayer::new(
            state.config.max_concurrent_requests,
        ))
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(panic_response));

    let admin = Router::new()
        .route(backup::BACKUP_PATH, post(backup::backup))
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(CatchPanicLayer::custom(panic_response)),
        );

    Router::new()
        .route("/", get(home::index))
        .route("/devices/{id}", get(home::device))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", get(login::logout_page).post(login::logout))
        .route(
            "/account/password",
            get(login::password_page).post(login::change_password),
        )
        .route(protocol::REPORTS_PATH, post(ingest::ingest))
        .route(protocol::ENROLL_PATH, post(enroll::enroll))
        .nest(protocol::ADMIN_PATH, admin::routes())
        .route(protocol::DEVICES_PATH, get(flags::list))
        .route(
            &format!("{}/{{id}}", protocol::DEVICES_PATH),
            get(devices::detail),
        )
        .route(
            &format!("{}/{{id}}/flags", protocol::DEVICES_PATH),
            get(flags::device_flags),
        )
        .route(
            &format!("{}/{{id}}/asset", protocol::DEVICES_PATH),
            get(flags::get_asset).put(flags::put_asset),
        )
        .route(FLAGS_SUMMARY_PATH, get(flags::summary))
        .route(protocol::HEALTH_PATH, get(health::health))
        .merge(survey::routes())
        .route(peripherals::PERIPHERALS_PATH, get(peripherals::list))
        .route(
            &format!("{}/{{id}}", peripherals::PERIPHERALS_PATH),
            get(peripherals::detail),
        )
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(layers)
        .merge(admin)
        // Throughput tests bring their own layers: no timeout, no
        // compression, no shared concurrency slots (see `speedtest`).
        .merge(speedtest::routes())
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes, then
/// lets requests in flight finish.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with_tls(listener, state, None, shutdown).await
}

/// [`run`], over TLS when `tls` is given (see [`crate::tls`]).
pub async fn run_with_tls(
    listener: TcpListener,
    state: AppState,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits = connections::ConnectionLimits {
        header_read_timeout: state.config.header_read_timeout,
        max_connections: state.config.max_connections,
    };
    connections::serve(listener, router(state), limits, tls, shutdown).await;
    Ok(())
}

async fn no_route(lang::RequestLang(lang): lang::RequestLang, uri: Uri) -> AppError {
    let path: String = uri.path().chars().take(200).collect();
    AppError::new(lang, Failure::NoRoute(path))
}

pub(crate) async fn method_not_allowed(
    lang::RequestLang(lang): lang::RequestLang,
    method: Method,
    uri: Uri,
) -> AppError {
    let path: String = uri.path().chars().take(200).collect();
    AppError::new(
        lang,
        Failure::MethodNotAllowed {
            method: method.to_string(),
            path,
        },
    )
}

/// A handler panicked: a bug. The request gets a generic 500 (in the default
/// language: the request is gone), the panic message goes to the log.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    AppError::new(
        Lang::default(),
        Failure::Internal(anyhow::anyhow!("handler panicked: {message}")),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_generic_json_500() {
        let response = panic_response(Box::new("index out of bounds"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        let error: kiemke_shared::api::ApiError = serde_json::from_slice(&body).expect("json");
        assert_eq!(error.error, kiemke_shared::api::ErrorCode::Internal);
        assert!(!error.message.contains("index out of bounds"));
    }
}
