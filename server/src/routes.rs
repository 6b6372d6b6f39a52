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
//!
//! # The route catalog
//! [`catalog`] is the one list of every route: method, path, who may call
//! it ([`Access`]) and its handler; [`router`] is built from it and nothing
//! else, so a route cannot exist without its entry, and the authorization
//! matrix test (`server/tests/api/access.rs`) checks every entry against
//! every role. Adding a route is one line in [`catalog`]:
//!
//! ```text
//! route(GET, "/communes/{code}", Read, communes::page),
//! ```
//!
//! - `Agent`: agents and the unauthenticated agent protocol (their own
//!   credentials or none); user sessions change nothing there.
//! - `Public`: anyone (the log-in page).
//! - `User`: any logged-in user (log-out, own password).
//! - `Read`: any logged-in user; a commune officer only their commune's
//!   data (the handler checks `Viewer::check_read`; another commune's object
//!   is `403`, lists are filtered).
//! - `Write`: province admins and the commune's officers
//!   (`Viewer::check_edit`); province viewers get `403`.
//! - `Admin`: province admins only (`Admin` or `Viewer::check_admin`).
//!
//! For the matrix test, a path parameter named `{id}` under `/devices` or
//! `/api/v1/devices` must be a device id; other parameters are listed in
//! that test's `sample_path`.

pub mod access_labels;
pub mod admin;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod connections;
pub mod devices;
pub mod enroll;
pub mod flags;
pub mod health;
pub mod home;
pub mod ingest;
pub mod lang;
pub mod lines;
pub mod login;
pub mod manual_assets;
pub mod peripherals;
pub mod proposals;
pub mod speedtest;
pub mod survey;
pub mod users;

use std::any::Any;
use std::future::Future;

use axum::error_handling::HandleErrorLayer;
use axum::handler::Handler;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
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

    let mut main = Router::new();
    let mut outside = Router::new();
    let mut speed = Router::new();
    for r in catalog() {
        match r.group {
            Group::Main => main = main.route(&r.path, r.handler),
            Group::Backup => outside = outside.route(&r.path, r.handler),
            Group::SpeedTest => speed = speed.route(&r.path, r.handler),
        }
    }
    let outside = outside.layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(CatchPanicLayer::custom(panic_response)),
    );

    main.fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(layers)
        .merge(outside)
        // Throughput tests bring their own layers: no timeout, no
        // compression, no shared concurrency slots (see `speedtest`).
        .merge(speedtest::layered(speed))
        .with_state(state)
}

/// Who may call a route (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Agent,
    Public,
    User,
    Read,
    Write,
    Admin,
}

/// Which layers a route runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Timeout, load shedding, compression (see the module docs).
    Main,
    /// Outside the timeout and the concurrency limit (the online backup).
    Backup,
    /// The throughput tests' own layers.
    SpeedTest,
}

/// One entry of the [`catalog`].
pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub group: Group,
    pub handler: MethodRouter<AppState>,
}

/// A [`Group::Main`] entry.
pub(crate) fn route<H, T>(
    method: Method,
    path: impl Into<String>,
    access: Access,
    handler: H,
) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    Route {
        method,
        path: path.into(),
        access,
        group: Group::Main,
        handler: on(filter, handler),
    }
}

/// Every route of the server (see the module docs): [`router`] is built
/// from this list.
pub fn catalog() -> Vec<Route> {
    use Access::*;
    use Method as M;
    let devices = protocol::DEVICES_PATH;
    let peripherals = peripherals::PERIPHERALS_PATH;
    let mut routes = vec![
        // Pages.
        route(M::GET, "/", Read, home::index),
        route(M::GET, "/devices/{id}", Read, home::device),
        route(M::GET, "/login", Public, login::login_page),
        route(M::POST, "/login", Public, login::login),
        route(M::GET, "/logout", User, login::logout_page),
        route(M::POST, "/logout", User, login::logout),
        route(M::GET, "/account/password", User, login::password_page),
        route(M::POST, "/account/password", User, login::change_password),
        route(M::GET, "/users", Admin, users::list),
        route(M::POST, "/users", Admin, users::add),
        route(M::POST, "/users/{name}/disable", Admin, users::disable),
        route(
            M::POST,
            "/users/{name}/password",
            Admin,
            users::reset_password,
        ),
        route(M::GET, "/audit", Admin, audit::page),
        // The agent protocol.
        route(M::POST, protocol::REPORTS_PATH, Agent, ingest::ingest),
        route(M::POST, protocol::ENROLL_PATH, Agent, enroll::enroll),
        route(M::GET, protocol::HEALTH_PATH, Agent, health::health),
        route(M::POST, bench::FLOOR_PATH, Agent, bench::floor),
        // The read API and its writes.
        route(M::GET, devices, Read, flags::list),
        route(M::GET, format!("{devices}/{{id}}"), Read, devices::detail),
        route(
            M::GET,
            format!("{devices}/{{id}}/flags"),
            Read,
            flags::device_flags,
        ),
        route(
            M::GET,
            format!("{devices}/{{id}}/asset"),
            Read,
            flags::get_asset,
        ),
        route(
            M::PUT,
            format!("{devices}/{{id}}/asset"),
            Write,
            flags::put_asset,
        ),
        route(M::GET, FLAGS_SUMMARY_PATH, Read, flags::summary),
        route(M::GET, peripherals, Read, peripherals::list),
        route(
            M::GET,
            format!("{peripherals}/{{id}}"),
            Read,
            peripherals::detail,
        ),
        route(M::GET, audit::AUDIT_API_PATH, Admin, audit::api),
        // Equipment-upgrade proposals: officers for their commune, the
        // province's consolidation for province admins (checked inside).
        route(M::GET, "/proposals/{id}", Read, proposals::pages::print),
        route(M::GET, "/proposals", Read, proposals::pages::list),
        route(
            M::GET,
            "/proposals/new",
            Admin,
            proposals::forms::new_consolidation,
        ),
        route(
            M::POST,
            "/proposals",
            Admin,
            proposals::forms::create_consolidation,
        ),
        route(
            M::POST,
            "/proposals/{id}/transition",
            Write,
            proposals::forms::transition,
        ),
        route(
            M::GET,
            "/communes/{code}/proposals/new",
            Write,
            proposals::forms::new_for_commune,
        ),
        route(
            M::POST,
            "/communes/{code}/proposals",
            Write,
            proposals::forms::create_for_commune,
        ),
        // The language switch of a form shown again after a refusal asks
        // for its POST path with GET: the form, the print view.
        route(
            M::GET,
            "/communes/{code}/proposals",
            Write,
            proposals::forms::new_for_commune,
        ),
        route(
            M::GET,
            "/proposals/{id}/transition",
            Read,
            proposals::pages::print,
        ),
        route(M::GET, proposals::PROPOSALS_PATH, Read, proposals::list),
        route(M::POST, proposals::PROPOSALS_PATH, Write, proposals::create),
        route(
            M::GET,
            format!("{}/{{id}}", proposals::PROPOSALS_PATH),
            Read,
            proposals::detail,
        ),
        route(
            M::POST,
            format!("{}/{{id}}/transition", proposals::PROPOSALS_PATH),
            Write,
            proposals::transition,
        ),
        route(
            M::GET,
            format!("{}/{{id}}/docx", proposals::PROPOSALS_PATH),
            Read,
            proposals::docx,
        ),
        route(
            M::GET,
            format!("{}/{{id}}/xlsx", proposals::PROPOSALS_PATH),
            Read,
            proposals::xlsx,
        ),
        // Line status per site, speed tests on request.
        route(
            M::GET,
            format!("{}/{{commune}}/{{site}}/lines", lines::SITES_PATH),
            Read,
            lines::status,
        ),
        route(
            M::POST,
            format!("{}/{{commune}}/{{site}}/speedtest", lines::SITES_PATH),
            Write,
            lines::request_speed_test,
        ),
        // Assets entered by hand or imported from the commune's list.
        route(
            M::GET,
            manual_assets::MANUAL_ASSETS_PATH,
            Read,
            manual_assets::list,
        ),
        route(
            M::POST,
            manual_assets::MANUAL_ASSETS_PATH,
            Write,
            manual_assets::create,
        ),
        route(
            M::POST,
            format!("{}/import", manual_assets::MANUAL_ASSETS_PATH),
            Write,
            manual_assets::import,
        ),
        route(
            M::PUT,
            format!("{}/{{id}}", manual_assets::MANUAL_ASSETS_PATH),
            Write,
            manual_assets::update,
        ),
        route(
            M::DELETE,
            format!("{}/{{id}}", manual_assets::MANUAL_ASSETS_PATH),
            Write,
            manual_assets::delete,
        ),
    ];
    routes.extend(survey::entries());
    // The admin API.
    for (path, method, handler) in admin::entries() {
        routes.push(Route {
            method,
            path: format!("{}{path}", protocol::ADMIN_PATH),
            access: Admin,
            group: Group::Main,
            handler,
        });
    }
    routes.push(Route {
        group: Group::Backup,
        ..route(M::POST, backup::BACKUP_PATH, Admin, backup::backup)
    });
    for (path, method, handler) in speedtest::entries() {
        routes.push(Route {
            method,
            path,
            access: Agent,
            group: Group::SpeedTest,
            handler,
        });
    }
    routes
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
