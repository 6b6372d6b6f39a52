//! `POST /api/v1/reports`: good reports are stored once; every kind of bad
//! input gets a 4xx with a Vietnamese message naming the problem and leaves
//! the store as it was.

use axum::http::StatusCode;
use kiemke_shared::AgentId;
use kiemke_shared::api::{AckStatus, ReportAck};
use serde_json::Value;

use crate::helpers::{TestApp, gzip, is_vietnamese, office_pc, report};

const JSON: (&str, &str) = ("content-type", "application/json");
const GZIP: (&str, &str) = ("content-encoding", "gzip");

fn ack(body: Value) -> ReportAck {
    serde_json::from_value(body).expect("a ReportAck")
}

#[tokio::test]
async fn a_report_is_stored_and_acknowledged() {
    let app = TestApp::new();
    let r = report(AgentId::generate(), &office_pc());

    let (status, body) = app.post_report(&r).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let ack = ack(body);
    assert_eq!(ack.status, AckStatus::Stored);
    assert_eq!(ack.report_id, r.report_id);
    assert_eq!(app.store.report_count(), 1);
    let stored = app
        .store
        .report(&r.report_id)
        .expect("read")
        .expect("stored");
    assert_eq!(stored.report, r);
    assert_eq!(stored.device_id, ack.device_id);
}

#[tokio::test]
async fn a_gzipped_report_is_stored() {
    let app = TestApp::new();
    let r = report(AgentId::generate(), &office_pc());
    let body = gzip(&serde_json::to_vec(&r).expect("serialises"));

    let (status, body) = app.post_raw(body, &[JSON, GZIP]).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ack(body).status, AckStatus::Stored);
    assert_eq!(app.store.report_count(), 1);
}

#[tokio::test]
async fn a_retried_report_is_stored_once() {
    let app = TestApp::new();
    let r = report(AgentId::generate(), &office_pc());
    let (_, first) = app.post_report(&r).await;
    let first = ack(first);

    // The retry arrives gzipped this time: same content, same answer.
    let retry = gzip(&serde_json::to_vec(&r).expect("serialises"));
    let (status, again) = app.post_raw(retry, &[JSON, GZIP]).await;

    assert_eq!(status, StatusCode::OK);
    let again = ack(again);
    assert_eq!(again.status, AckStatus::Duplicate);
    assert_eq!(again.device_id, first.device_id);
    assert_eq!(again.received_at, first.received_at);
    assert_eq!(app.store.report_count(), 1);
    let device = app
        .store
        .device_record(&first.device_id)
        .expect("read")
        .expect("exists");
    assert_eq!(device.report_count, 1);
}

#[tokio::test]
async fn a_reused_report_id_with_other_content_is_a_conflict() {
    let app = TestApp::new();
    let r = report(AgentId::generate(), &office_pc());
    app.post_report(&r).await;
    let mut other = r.clone();
    if let Some(inv) = other.inventory.as_mut() {
        inv.hostname = Some("KHAC".into());
    }

    let (status, body) = app.post_report(&other).await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "conflict");
    assert!(
        is_vietnamese(body["message"].as_str().unwrap_or_default()),
        "{body}"
    );
    assert_eq!(app.store.report_count(), 1);
}

/// A valid report as JSON, changed.
fn report_json(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value =
        serde_json::to_value(report(AgentId::generate(), &office_pc())).expect("serialises");
    change(&mut value);
    serde_json::to_vec(&value).expect("serialises")
}

struct Case {
    name: &'static str,
    body: Vec<u8>,
    headers: Vec<(&'static str, &'static str)>,
    status: StatusCode,
    code: &'static str,
    field: Option<&'static str>,
    /// What the message must mention.
    mentions: &'static str,
}

fn bad_inputs() -> Vec<Case> {
    let json = || vec![JSON];
    let incompressible: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        Case {
            name: "malformed JSON",
            body: b"{\"protocol_version\": 1, \"report_id\": ".to_vec(),
            headers: json(),
            status: StatusCode::BAD_REQUEST,
            code: "malformed_json",
            field: None,
            mentions: "dòng 1, cột",
        },
        Case {
            name: "wrong content type",
            body: report_json(|_| {}),
            headers: vec![("content-type", "text/plain")],
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            field: None,
            mentions: "application/json",
        },
        Case {
            name: "no content type",
            body: report_json(|_| {}),
            headers: vec![],
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            field: None,
            mentions: "application/json",
        },
        Case {
            name: "unknown encoding",
            body: report_json(|_| {}),
            headers: vec![JSON, ("content-encoding", "br")],
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_encoding",
            field: None,
            mentions: "gzip",
        },
        Case {
            name: "body over the compressed limit",
            body: incompressible,
            headers: json(),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            field: None,
            mentions: "64 KiB",
        },
        Case {
            name: "gzip bomb",
            body: gzip(&vec![b' '; 1 << 20]),
            headers: vec![JSON, GZIP],
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            field: None,
            mentions: "256 KiB",
        },
        Case {
            name: "not gzip",
            body: report_json(|_| {}),
            headers: vec![JSON, GZIP],
            status: StatusCode::BAD_REQUEST,
            code: "malformed_json",
            field: None,
            mentions: "gzip",
        },
        Case {
            name: "no protocol version",
            body: report_json(|v| {
                v.as_object_mut().map(|o| o.remove("protocol_version"));
            }),
            headers: json(),
            status: StatusCode::BAD_REQUEST,
            code: "unsupported_protocol",
            field: Some("protocol_version"),
            mentions: "protocol_version",
        },
        Case {
            name: "unsupported protocol version",
            body: report_json(|v| v["protocol_version"] = 99.into()),
            headers: json(),
            status: StatusCode::BAD_REQUEST,
            code: "unsupported_protocol",
            field: Some("protocol_version"),
            mentions: "hỗ trợ phiên bản 1",
        },
        Case {
            name: "bad report id",
            body: report_json(|v| v["report_id"] = "xyz".into()),
            headers: json(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_field",
            field: Some("report_id"),
            mentions: "report_id",
        },
        Case {
            name: "negative link speed",
            body: report_json(|v| v["inventory"]["nics"][0]["link_mbps"] = (-100).into()),
            headers: json(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_field",
            field: Some("inventory.nics[0].link_mbps"),
            mentions: "inventory.nics[0].link_mbps",
        },
        Case {
            name: "absurd memory",
            body: report_json(|v| {
                v["inventory"]["memory"]["total_bytes"] = 1_000_000_000_000_000_000u64.into()
            }),
            headers: json(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_field",
            field: Some("inventory.memory.total_bytes"),
            mentions: "inventory.memory.total_bytes",
        },
        Case {
            name: "control characters in the host name",
            body: report_json(|v| v["inventory"]["hostname"] = "PC\u{7}01".into()),
            headers: json(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_field",
            field: Some("inventory.hostname"),
            mentions: "ký tự điều khiển",
        },
    ]
}

#[tokio::test]
async fn each_bad_input_is_refused_in_vietnamese_and_changes_nothing() {
    let app = TestApp::with_config(|c| {
        c.max_body_bytes = 64 << 10;
        c.max_decompressed_bytes = 256 << 10;
    });
    let (status, _) = app
        .post_report(&report(AgentId::generate(), &office_pc()))
        .await;
    assert_eq!(status, StatusCode::OK);

    for case in bad_inputs() {
        let (status, body) = app.post_raw(case.body, &case.headers).await;

        assert_eq!(status, case.status, "{}: {body}", case.name);
        assert_eq!(body["error"], case.code, "{}: {body}", case.name);
        assert_eq!(body["field"].as_str(), case.field, "{}: {body}", case.name);
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(case.mentions),
            "{}: {message:?} should mention {:?}",
            case.name,
            case.mentions
        );
        assert!(
            is_vietnamese(message),
            "{}: not Vietnamese: {message:?}",
            case.name
        );
        assert_eq!(
            app.store.report_count(),
            1,
            "{} changed the store",
            case.name
        );
        assert_eq!(
            app.store.device_count(),
            1,
            "{} changed the store",
            case.name
        );
    }
}

#[tokio::test]
async fn errors_are_in_english_when_the_client_asks() {
    let app = TestApp::new();

    let (status, body) = app
        .post_raw(
            b"{".to_vec(),
            &[JSON, ("accept-language", "en-US,en;q=0.9")],
        )
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.is_ascii() && message.contains("JSON"),
        "{message:?}"
    );
}
