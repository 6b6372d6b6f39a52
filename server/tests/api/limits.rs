//! Every limit on what enters the server, each violated once: report fields
//! (lengths, counts, ranges, dates), JSON nesting, query parameters and ids,
//! and the concurrency limit. Each gets a 4xx (503 for load) whose message
//! names the field or the limit, and stores nothing. Transport refusals
//! (media type, encoding, body size, gzip bomb) are in `ingest`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kiemke_shared::AgentId;
use kiemke_shared::validate::{
    MAX_ADDRESSES_PER_NIC, MAX_DISKS, MAX_MONITORS, MAX_NICS, MAX_NOTES, MAX_TEXT,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, is_vietnamese, office_pc, report};

const JSON: (&str, &str) = ("content-type", "application/json");

fn valid() -> Value {
    let mut v = serde_json::to_value(report(AgentId::generate(), &office_pc())).expect("json");
    v["inventory"]["disks"] = json!([{
        "name": "sda", "model": "WDC WD5000AAKX", "serial": "WCC2E1234567",
        "size_bytes": 500_107_862_016u64, "kind": "hdd", "bus": "sata",
        "system": true, "removable": false
    }]);
    v["inventory"]["monitors"] = json!([{"manufacturer": "DEL", "model": "DELL E2016H",
        "product_code": 1, "serial": "CN0XV9", "year": 2016, "connector": "VGA"}]);
    v["inventory"]["notes"] = json!([{"field": "system.serial", "reason": "needs_privilege"}]);
    v
}

/// `n` copies of the first element of the array at `pointer`.
fn repeat(v: &mut Value, pointer: &str, n: usize) {
    let first = v.pointer(pointer).and_then(|a| a.get(0)).cloned();
    if let (Some(first), Some(Value::Array(items))) = (first, v.pointer_mut(pointer)) {
        *items = vec![first; n];
    }
}

type Breaker = fn(&mut Value);

/// (what, change, field the answer must name)
fn field_limits() -> Vec<(&'static str, Breaker, &'static str)> {
    vec![
        (
            "text too long",
            |v| v["inventory"]["hostname"] = "x".repeat(MAX_TEXT + 1).into(),
            "inventory.hostname",
        ),
        (
            "control characters",
            |v| v["inventory"]["cpu"]["brand"] = "Intel\u{7}".into(),
            "inventory.cpu.brand",
        ),
        (
            "required text empty",
            |v| v["agent"]["version"] = " ".into(),
            "agent.version",
        ),
        (
            "10^18 bytes of RAM",
            |v| v["inventory"]["memory"]["total_bytes"] = 1_000_000_000_000_000_000u64.into(),
            "inventory.memory.total_bytes",
        ),
        (
            "negative RAM",
            |v| v["inventory"]["memory"]["total_bytes"] = (-1).into(),
            "inventory.memory.total_bytes",
        ),
        (
            "too many cores",
            |v| v["inventory"]["cpu"]["cores_physical"] = 100_000.into(),
            "inventory.cpu.cores_physical",
        ),
        (
            "absurd CPU clock",
            |v| v["inventory"]["cpu"]["base_mhz"] = 1_000_000.into(),
            "inventory.cpu.base_mhz",
        ),
        (
            "absurd disk size",
            |v| v["inventory"]["disks"][0]["size_bytes"] = u64::MAX.into(),
            "inventory.disks[0].size_bytes",
        ),
        (
            "too many disks",
            |v| repeat(v, "/inventory/disks", MAX_DISKS + 1),
            "inventory.disks",
        ),
        (
            "too many NICs",
            |v| repeat(v, "/inventory/nics", MAX_NICS + 1),
            "inventory.nics",
        ),
        (
            "too many addresses on a NIC",
            |v| repeat(v, "/inventory/nics/0/addresses", MAX_ADDRESSES_PER_NIC + 1),
            "inventory.nics[0].addresses",
        ),
        (
            "too many monitors",
            |v| repeat(v, "/inventory/monitors", MAX_MONITORS + 1),
            "inventory.monitors",
        ),
        (
            "too many notes",
            |v| repeat(v, "/inventory/notes", MAX_NOTES + 1),
            "inventory.notes",
        ),
        (
            "negative Mbps",
            |v| v["inventory"]["nics"][0]["link_mbps"] = (-100).into(),
            "inventory.nics[0].link_mbps",
        ),
        (
            "absurd Mbps",
            |v| v["inventory"]["nics"][0]["link_mbps"] = 4_000_000.into(),
            "inventory.nics[0].link_mbps",
        ),
        (
            "malformed MAC",
            |v| v["inventory"]["nics"][0]["mac"] = "3C-52-82-0A-1B-2C".into(),
            "inventory.nics[0].mac",
        ),
        (
            "malformed address",
            |v| v["inventory"]["nics"][0]["addresses"][0] = "10.0.0.1/33".into(),
            "inventory.nics[0].addresses[0]",
        ),
        (
            "taken before 1980",
            |v| v["taken_at"] = "1970-01-01T00:00:00Z".into(),
            "taken_at",
        ),
        (
            "taken after 2100",
            |v| v["taken_at"] = "2150-01-01T00:00:00Z".into(),
            "taken_at",
        ),
        (
            "not a time",
            |v| v["taken_at"] = "hôm qua".into(),
            "taken_at",
        ),
        (
            "BIOS before 1980",
            |v| v["inventory"]["bios"]["date"] = "1979-12-31".into(),
            "inventory.bios.date",
        ),
        (
            "boot time out of range",
            |v| v["inventory"]["os"]["boot_time"] = "2200-01-01T00:00:00Z".into(),
            "inventory.os.boot_time",
        ),
        (
            "monitor year out of range",
            |v| v["inventory"]["monitors"][0]["year"] = 1900.into(),
            "inventory.monitors[0].year",
        ),
        (
            "monitor year beyond u16",
            |v| v["inventory"]["monitors"][0]["year"] = 70_000.into(),
            "inventory.monitors[0].year",
        ),
    ]
}

#[tokio::test]
async fn each_field_limit_is_a_4xx_naming_the_field() {
    let app = TestApp::new();
    let (status, body) = app
        .post_raw(serde_json::to_vec(&valid()).expect("json"), &[JSON])
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the unbroken report is valid: {body}"
    );

    for (what, breaker, field) in field_limits() {
        let mut v = valid();
        breaker(&mut v);

        let (status, body) = app
            .post_raw(serde_json::to_vec(&v).expect("json"), &[JSON])
            .await;

        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert_eq!(body["error"], "invalid_field", "{what}: {body}");
        assert_eq!(body["field"], field, "{what}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{what}: {message}");
        assert!(is_vietnamese(message), "{what}: {message}");
    }
    assert_eq!(app.store.report_count(), 1, "nothing refused was stored");
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_recursing_forever() {
    let app = TestApp::new();
    let depth = 10_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let text = serde_json::to_string(&valid()).expect("json");
    // An unknown field (ignored when shallow) nested 10 000 deep.
    let body = format!("{},\"extra\":{nested}}}", &text[..text.len() - 1]);

    let (status, answer) = app.post_raw(body.into_bytes(), &[JSON]).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "malformed_json");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("JSON"),
        "{answer}"
    );
    assert_eq!(app.store.report_count(), 0);
}

#[tokio::test]
async fn query_parameters_and_ids_are_checked() {
    let app = TestApp::new();
    let long_id = "a".repeat(5000);
    let cases = [
        ("/api/v1/devices?limit=-1", StatusCode::BAD_REQUEST),
        ("/api/v1/devices?offset=1e3", StatusCode::BAD_REQUEST),
        (
            "/api/v1/devices?limit=99999999999999999999999",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/devices?limit=1000000&offset=18446744073709551615",
            StatusCode::OK,
        ),
        ("/api/v1/devices/not-a-uuid", StatusCode::BAD_REQUEST),
        (
            "/api/v1/devices/00000000-0000-0000-0000-000000000000",
            StatusCode::BAD_REQUEST,
        ),
        (
            &format!("/api/v1/devices/{long_id}"),
            StatusCode::BAD_REQUEST,
        ),
        ("/?offset=-5", StatusCode::BAD_REQUEST),
    ];
    for (path, expected) in cases {
        let (status, _, bytes) = app.get(path, &[]).await;
        let body = String::from_utf8_lossy(&bytes);
        assert_eq!(status, expected, "{}: {body}", &path[..path.len().min(80)]);
        if status.is_client_error() {
            assert!(body.len() < 2000, "the answer does not echo the input");
        }
    }
}

#[tokio::test]
async fn requests_over_the_concurrency_limit_get_503_with_retry_after() {
    let app = TestApp::with_config(|c| c.max_concurrent_requests = 1);
    // A report whose body never ends holds the only slot.
    let (writer, reader) = tokio::io::duplex(64);
    // As an enrolled agent: an anonymous upload is refused before its body.
    let credential = app.credential(kiemke_shared::AgentId::generate());
    let stalled = Request::post(kiemke_shared::protocol::REPORTS_PATH)
        .header(JSON.0, JSON.1)
        .header("authorization", credential)
        .body(Body::from_stream(tokio_util::io::ReaderStream::new(reader)))
        .expect("request");
    let router = app.router.clone();
    let holder = tokio::spawn(tower::ServiceExt::oneshot(router, stalled));

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (status, headers, body) = loop {
        let answer = app.get("/api/v1/health", &[]).await;
        if answer.0 == StatusCode::SERVICE_UNAVAILABLE {
            break answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never shed: {:?}",
            answer.0
        );
        tokio::task::yield_now().await;
    };

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("30")
    );
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(body["error"], "unavailable", "retryable for the agent");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("quá tải"),
        "{body}"
    );
    // The slot comes back when the stalled request ends.
    drop(writer);
    let _ = holder.await.expect("joins");
    let (status, _, _) = app.get("/api/v1/health", &[]).await;
    assert_eq!(status, StatusCode::OK);
}
