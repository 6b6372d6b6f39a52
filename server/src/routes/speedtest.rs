//! Throughput test endpoints, compatible with LibreSpeed so that our agent
//! can measure against any LibreSpeed server and LibreSpeed clients (the
//! browser page an ISP technician opens) can measure against ours:
//!
//! | path | LibreSpeed alias | what it does |
//! |---|---|---|
//! | `GET /api/v1/speedtest/garbage?ckSize=N` | `/garbage`, `/backend/garbage.php` | N MiB of random data (default 4, at most 1024) |
//! | `GET, POST /api/v1/speedtest/empty` | `/empty`, `/backend/empty.php` | `200`, empty; a POST body is read and discarded |
//! | `GET /api/v1/speedtest/ip[?isp=true]` | `/getIP`, `/backend/getIP.php` | the client's IP, or LibreSpeed's JSON with `isp=true` |
//!
//! Downloads stream 64 KiB slices of one pre-generated random MiB, never a
//! buffered response; uploads are read frame by frame and dropped. These
//! routes have their own layers: no compression (random data does not
//! compress, and a compressed test would measure the CPU), no request
//! timeout (a test on a slow line takes long; each test is bounded by
//! [`limit`] instead), and never the shared concurrency slots that ingest
//! needs. Every response says `Cache-Control: no-store` and allows any
//! origin (LibreSpeed pages are often served from another host).

pub mod limit;

use std::convert::Infallible;
use std::future::poll_fn;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, options, post};
use http_body::{Frame, SizeHint};
use kiemke_shared::protocol::{SPEEDTEST_PATH, TEST_HEADER};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use self::limit::{ClientKey, Limiter, Limits, Refusal, Session};
use crate::auth::AuthenticatedAgent;
use crate::error::{AppError, Failure};
use crate::routes::lang::RequestLang;
use crate::state::AppState;

/// 1 MiB: LibreSpeed's `ckSize` unit, and our random buffer.
pub const CHUNK: usize = 1 << 20;
/// LibreSpeed's default and largest `ckSize`.
pub const DEFAULT_CK_SIZE: u64 = 4;
pub const MAX_CK_SIZE: u64 = 1024;
/// Frames of the download body.
const FRAME: usize = 64 << 10;

/// What the test endpoints share: the limiter and the random buffer.
pub struct SpeedTest {
    pub limiter: Limiter,
    garbage: Bytes,
}

impl SpeedTest {
    pub fn new(limits: Limits) -> SpeedTest {
        use rand::RngCore;
        let mut buf = vec![0u8; CHUNK];
        rand::rng().fill_bytes(&mut buf);
        SpeedTest {
            limiter: Limiter::new(limits),
            garbage: Bytes::from(buf),
        }
    }
}

/// The test routes (path, method, handler), listed in `routes::catalog`.
pub fn entries() -> Vec<(String, Method, MethodRouter<AppState>)> {
    let ours = |p: &str| format!("{SPEEDTEST_PATH}/{p}");
    let mut entries = Vec::new();
    for path in [
        ours("garbage"),
        "/garbage".into(),
        "/backend/garbage.php".into(),
    ] {
        entries.push((path.clone(), Method::GET, get(garbage)));
        entries.push((path, Method::OPTIONS, options(preflight)));
    }
    for path in [ours("empty"), "/empty".into(), "/backend/empty.php".into()] {
        entries.push((path.clone(), Method::GET, get(empty_get)));
        entries.push((path.clone(), Method::POST, post(empty_post)));
        entries.push((path, Method::OPTIONS, options(preflight)));
    }
    for path in [ours("ip"), "/getIP".into(), "/backend/getIP.php".into()] {
        entries.push((path.clone(), Method::GET, get(get_ip)));
        entries.push((path, Method::OPTIONS, options(preflight)));
    }
    entries
}

/// The test routes' own layers (see the module docs).
pub fn layered(routes: Router<AppState>) -> Router<AppState> {
    let layers = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(CatchPanicLayer::custom(super::panic_response));
    routes
        .method_not_allowed_fallback(super::method_not_allowed)
        .layer(layers)
}

/// Who is testing: an agent that presents its credential (the same
/// `Authorization` as its reports) is counted by its agent id; anyone else
/// (a LibreSpeed page, a script) by its IP address. Nothing else the client
/// sends can change the key: a header naming an agent is ignored, so a
/// client cannot escape its limit by naming a new agent on each test. A
/// credential that does not check out is refused like on ingest (401).
pub struct TestClient {
    pub key: ClientKey,
    pub ip: Option<IpAddr>,
    /// Which of its tests this request belongs to, when it says.
    pub test: Option<uuid::Uuid>,
}

impl FromRequestParts<AppState> for TestClient {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_canonical());
        let key = if parts.headers.contains_key(header::AUTHORIZATION) {
            match AuthenticatedAgent::from_request_parts(parts, state).await {
                Ok(agent) => ClientKey::Agent(agent.agent_id),
                Err(refusal) => {
                    let mut response = refusal.into_response();
                    test_headers(response.headers_mut());
                    return Err(response);
                }
            }
        } else {
            match ip {
                Some(ip) => ClientKey::Ip(ip),
                None => ClientKey::Unknown,
            }
        };
        let test = parts
            .headers
            .get(TEST_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Ok(TestClient { key, ip, test })
    }
}

/// LibreSpeed's headers: never cached, any origin, a download is a file.
fn test_headers(headers: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, name, value: &'static str| {
        h.append(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CACHE_CONTROL,
        "no-store, no-cache, must-revalidate, max-age=0, s-maxage=0",
    );
    set(headers, header::CACHE_CONTROL, "post-check=0, pre-check=0");
    set(headers, header::PRAGMA, "no-cache");
    set(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(headers, header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST");
    set(
        headers,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        "Content-Encoding, Content-Type",
    );
}

fn respond(status: StatusCode, body: Body) -> Response {
    let mut response = (status, body).into_response();
    test_headers(response.headers_mut());
    response
}

fn refused(lang: kiemke_shared::Lang, refusal: Refusal) -> Response {
    tracing::info!(?refusal, "từ chối phép đo tốc độ / throughput test refused");
    let mut response = AppError::new(lang, Failure::SpeedTestRefused(refusal)).into_response();
    let secs = refusal.retry_after().as_secs().max(1);
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    test_headers(response.headers_mut());
    response
}

/// `ckSize` as LibreSpeed reads it: a positive integer, else 4; at most 1024.
pub fn ck_size(query: Option<&str>) -> u64 {
    let value = query.and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("ckSize="))
            .and_then(|v| v.parse::<u64>().ok())
    });
    match value {
        Some(n) if n > 0 => n.min(MAX_CK_SIZE),
        _ => DEFAULT_CK_SIZE,
    }
}

async fn garbage(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    client: TestClient,
    uri: Uri,
) -> Response {
    let session = match state
        .speedtest
        .limiter
        .admit(client.key, client.test, Instant::now())
    {
        Ok(s) => s,
        Err(r) => return refused(lang, r),
    };
    let body = GarbageBody {
        chunk: state.speedtest.garbage.clone(),
        offset: 0,
        left: ck_size(uri.query()) * CHUNK as u64,
        session,
    };
    let mut response = respond(StatusCode::OK, Body::new(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        "content-description",
        HeaderValue::from_static("File Transfer"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=random.dat"),
    );
    h.insert(
        "content-transfer-encoding",
        HeaderValue::from_static("binary"),
    );
    response
}

/// `left` bytes of the random MiB, repeated, in 64 KiB frames; ends early
/// when the session reaches its byte cap or its time.
struct GarbageBody {
    chunk: Bytes,
    offset: usize,
    left: u64,
    session: Arc<Session>,
}

impl HttpBody for GarbageBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let len = (FRAME as u64).min(self.left) as usize;
        let end = (self.offset + len).min(self.chunk.len());
        let frame = self.chunk.slice(self.offset..end);
        if !self.session.spend(frame.len() as u64, Instant::now()) {
            self.left = 0;
            return Poll::Ready(None);
        }
        self.offset = if end == self.chunk.len() { 0 } else { end };
        self.left -= frame.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        // Not exact: the session's caps may end the body early.
        SizeHint::default()
    }
}

async fn empty_get(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    client: TestClient,
) -> Response {
    match state
        .speedtest
        .limiter
        .admit(client.key, client.test, Instant::now())
    {
        Ok(_) => respond(StatusCode::OK, Body::empty()),
        Err(r) => refused(lang, r),
    }
}

/// Reads the upload frame by frame, counting and dropping it.
async fn empty_post(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    client: TestClient,
    mut body: Body,
) -> Response {
    let session = match state
        .speedtest
        .limiter
        .admit(client.key, client.test, Instant::now())
    {
        Ok(s) => s,
        Err(r) => return refused(lang, r),
    };
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else {
            // The client went away mid-upload: nobody reads the answer.
            return respond(StatusCode::BAD_REQUEST, Body::empty());
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if !session.spend(data.len() as u64, Instant::now()) {
            let now = Instant::now();
            let refusal = match state.speedtest.limiter.admit(client.key, client.test, now) {
                Err(r) => r,
                // The session just ended by time and a new one could start:
                // still, this request belonged to the one that ended.
                Ok(_) => Refusal::TestCapReached {
                    retry_after: std::time::Duration::from_secs(1),
                },
            };
            return refused(lang, refusal);
        }
    }
    respond(StatusCode::OK, Body::empty())
}

/// LibreSpeed's getIP: the plain address, or with `isp=true` its JSON
/// (`processedString`, `rawIspInfo`; we do no ISP lookup).
async fn get_ip(client: TestClient, uri: Uri) -> Response {
    let ip = client.ip.map(|ip| ip.to_string()).unwrap_or_default();
    let isp = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "isp=true" || p == "isp"));
    let (content_type, body) = if isp {
        let json = serde_json::json!({ "processedString": ip, "rawIspInfo": "" });
        ("application/json; charset=utf-8", json.to_string())
    } else {
        ("text/plain; charset=utf-8", ip)
    };
    let mut response = respond(StatusCode::OK, Body::from(body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// CORS preflight of a LibreSpeed page on another origin.
async fn preflight() -> Response {
    respond(StatusCode::OK, Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ck_size_follows_librespeed() {
        let cases = [
            (None, 4),
            (Some("ckSize=100"), 100),
            (Some("r=0.5&ckSize=20"), 20),
            (Some("ckSize=5000"), 1024),
            (Some("ckSize=0"), 4),
            (Some("ckSize=-3"), 4),
            (Some("ckSize=abc"), 4),
        ];
        for (query, want) in cases {
            assert_eq!(ck_size(query), want, "{query:?}");
        }
    }
}
