//! Throughput test endpoints: a LibreSpeed client's request sequence, our
//! own paths, the headers that keep tests honest (no cache, no compression),
//! and the per-client limits.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use kiemke_shared::AgentId;
use kiemke_shared::api::{ApiError, ErrorCode};
use kiemke_shared::protocol::TEST_HEADER;

use crate::helpers::{TestApp, is_vietnamese};

const MIB: usize = 1 << 20;

/// A request from a LibreSpeed page at `192.168.1.57`.
fn from_pc(method: Method, uri: &str, body: Body) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .body(body)
        .expect("request");
    let peer: SocketAddr = "192.168.1.57:51234".parse().expect("addr");
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

fn assert_test_headers(headers: &HeaderMap, what: &str) {
    let cache: Vec<&str> = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        cache.iter().any(|v| v.contains("no-store")),
        "{what}: {cache:?}"
    );
    assert_eq!(headers[header::PRAGMA], "no-cache", "{what}");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*", "{what}");
    assert!(
        headers.get(header::CONTENT_ENCODING).is_none(),
        "{what}: test data must never be compressed"
    );
}

/// The order a LibreSpeed client runs a test in: getIP, ping (GET empty),
/// download (garbage), upload (POST empty).
async fn librespeed_sequence(app: &TestApp, paths: [&str; 3]) {
    let [ip, empty, garbage] = paths;

    let (status, headers, body) = app.request(from_pc(Method::GET, ip, Body::empty())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"192.168.1.57");
    assert_test_headers(&headers, ip);

    let with_isp = format!("{ip}?isp=true&distance=km");
    let (status, _, body) = app
        .request(from_pc(Method::GET, &with_isp, Body::empty()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("getIP JSON");
    assert_eq!(json["processedString"], "192.168.1.57");
    assert_eq!(json["rawIspInfo"], "");

    for _ in 0..3 {
        let uri = format!("{empty}?r={}", rand_query());
        let (status, headers, body) = app.request(from_pc(Method::GET, &uri, Body::empty())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.is_empty());
        assert_test_headers(&headers, empty);
    }

    let uri = format!("{garbage}?r={}&ckSize=3", rand_query());
    let (status, headers, body) = app.request(from_pc(Method::GET, &uri, Body::empty())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 3 * MIB, "ckSize=3 is 3 MiB");
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_test_headers(&headers, garbage);
    // LibreSpeed repeats one random MiB: random bytes, chunk after chunk.
    assert_eq!(body[..MIB], body[MIB..2 * MIB]);
    let mut seen = [false; 256];
    body[..MIB].iter().for_each(|b| seen[*b as usize] = true);
    assert!(
        seen.iter().all(|s| *s),
        "every byte value occurs in random data"
    );

    let (status, _, body) = app
        .request(from_pc(Method::GET, garbage, Body::empty()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 4 * MIB, "default ckSize is 4");

    let upload = vec![0x5au8; 5 * MIB];
    let uri = format!("{empty}?r={}", rand_query());
    let (status, headers, body) = app
        .request(from_pc(Method::POST, &uri, Body::from(upload)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty(), "the upload is discarded, not echoed");
    assert_test_headers(&headers, "POST empty");
}

fn rand_query() -> f64 {
    0.123_456
}

#[tokio::test]
async fn a_librespeed_client_can_test_against_our_librespeed_paths() {
    let app = TestApp::new();
    librespeed_sequence(&app, ["/getIP", "/empty", "/garbage"]).await;
}

#[tokio::test]
async fn the_php_backend_paths_work_too() {
    let app = TestApp::new();
    librespeed_sequence(
        &app,
        [
            "/backend/getIP.php",
            "/backend/empty.php",
            "/backend/garbage.php",
        ],
    )
    .await;
}

#[tokio::test]
async fn our_own_paths_serve_the_same() {
    let app = TestApp::new();
    librespeed_sequence(
        &app,
        [
            "/api/v1/speedtest/ip",
            "/api/v1/speedtest/empty",
            "/api/v1/speedtest/garbage",
        ],
    )
    .await;
}

#[tokio::test]
async fn ck_size_is_capped_like_librespeed() {
    let app = TestApp::with_config(|c| c.speedtest_max_bytes = 8 * MIB as u64);
    // 5000 would be 5 GB; LibreSpeed caps at 1024. The test's byte cap
    // (8 MiB here) ends it even earlier, at a frame boundary.
    let (status, _, body) = app
        .request(from_pc(Method::GET, "/garbage?ckSize=5000", Body::empty()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 8 * MIB);
}

#[tokio::test]
async fn a_preflight_is_answered_for_pages_on_other_origins() {
    let app = TestApp::new();
    let (status, headers, _) = app
        .request(from_pc(Method::OPTIONS, "/empty", Body::empty()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_METHODS], "GET, POST");
    let (status, _, body) = app
        .request(from_pc(Method::DELETE, "/garbage", Body::empty()))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let error: ApiError = serde_json::from_slice(&body).expect("our error body");
    assert_eq!(error.error, ErrorCode::NotFound);
}

fn refusal(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry >= 1);
    let error: ApiError = serde_json::from_slice(body).expect("ApiError body");
    assert_eq!(error.error, ErrorCode::RateLimited);
    error
}

#[tokio::test]
async fn a_test_over_its_byte_cap_is_cut_and_the_next_request_refused() {
    let app = TestApp::with_config(|c| c.speedtest_max_bytes = 2 * MIB as u64);
    let (status, _, body) = app
        .request(from_pc(Method::GET, "/garbage?ckSize=10", Body::empty()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 2 * MIB, "cut at the cap");

    let (status, headers, body) = app
        .request(from_pc(Method::GET, "/garbage?ckSize=10", Body::empty()))
        .await;
    let error = refusal(status, &headers, &body);
    assert!(is_vietnamese(&error.message), "{}", error.message);

    let upload = from_pc(Method::POST, "/empty", Body::from(vec![0u8; MIB]));
    let (status, headers, body) = app.request(upload).await;
    refusal(status, &headers, &body);
}

#[tokio::test]
async fn a_burst_of_tests_from_many_agents_is_refused_past_the_concurrency_cap() {
    let app = TestApp::with_config(|c| c.speedtest_max_concurrent = 2);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let mut request = from_pc(Method::GET, "/api/v1/speedtest/empty", Body::empty());
        let credential = app.credential(AgentId::generate());
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, credential.parse().expect("header"));
        let (status, headers, body) = app.request(request).await;
        if status != StatusCode::OK {
            refusal(status, &headers, &body);
        }
        statuses.push(status);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 2, "{statuses:?}");
}

#[tokio::test]
async fn a_client_without_tests_left_is_refused_in_english_when_asked() {
    let app = TestApp::with_config(|c| c.speedtest_tests_per_hour = 0);
    let mut request = from_pc(Method::GET, "/garbage", Body::empty());
    request
        .headers_mut()
        .insert(header::ACCEPT_LANGUAGE, "en".parse().expect("header"));
    let (status, headers, body) = app.request(request).await;
    let error = refusal(status, &headers, &body);
    assert!(error.message.contains("last hour"), "{}", error.message);
}

/// A request from the office PC naming a fresh test, with extra headers.
fn new_test(headers: &[(&str, String)]) -> Request<Body> {
    let mut request = from_pc(Method::GET, "/api/v1/speedtest/empty", Body::empty());
    let fresh = uuid::Uuid::new_v4().to_string();
    for (name, value) in [(TEST_HEADER, fresh)].iter().chain(headers) {
        request.headers_mut().insert(
            header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    request
}

#[tokio::test]
async fn tests_are_counted_per_proven_agent_and_a_header_cannot_escape_the_limit() {
    // One test per hour per client.
    let app = TestApp::with_config(|c| c.speedtest_tests_per_hour = 1);
    let (status, _, _) = app.request(new_test(&[])).await;
    assert_eq!(status, StatusCode::OK, "the address's one test");

    // The same address naming another agent (the header older agents
    // sent) is still the same client: refused.
    for named in ["x-kiemke-agent", "x-agent-id"] {
        let header = [(named, AgentId::generate().to_string())];
        let (status, headers, body) = app.request(new_test(&header)).await;
        let error = refusal(status, &headers, &body);
        assert!(is_vietnamese(&error.message), "{}", error.message);
    }

    // An agent that proves who it is has its own quota, even behind the
    // same address, and cannot get a second test by naming another test.
    let proven = [(
        header::AUTHORIZATION.as_str(),
        app.credential(AgentId::generate()),
    )];
    let (status, _, body) = app.request(new_test(&proven)).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let (status, headers, body) = app.request(new_test(&proven)).await;
    refusal(status, &headers, &body);

    // A credential that does not check out is refused like on ingest.
    let forged = [(
        header::AUTHORIZATION.as_str(),
        kiemke_shared::auth::AgentCredential {
            agent_id: AgentId::generate(),
            secret: kiemke_shared::auth::Secret::from_bytes(&[7; 32]),
        }
        .authorization(),
    )];
    let (status, headers, body) = app.request(new_test(&forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:?}");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let error: ApiError = serde_json::from_slice(&body).expect("ApiError body");
    assert!(is_vietnamese(&error.message), "{}", error.message);
}
