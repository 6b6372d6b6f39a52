//! Each refusal of the decoder, table-driven.

use std::io::Write;

use axum::http::HeaderValue;
use chrono::Utc;
use flate2::Compression;
use flate2::write::GzEncoder;
use kiemke_shared::AgentId;
use kiemke_shared::inventory::Inventory;
use serde_json::{Value, json};

use super::*;

const LIMITS: Limits = Limits {
    max_body: 4 << 20,
    max_decompressed: 16 << 20,
};

fn report_value() -> Value {
    let info = serde_json::from_value(json!({
        "version": "0.1.0", "os_family": "linux", "privileged": false
    }))
    .expect("agent info");
    let mut r = Report::new(AgentId::generate(), info, Utc::now());
    r.inventory = Some(Inventory::default());
    serde_json::to_value(r).expect("serialises")
}

fn with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = report_value();
    change(&mut v);
    serde_json::to_vec(&v).expect("serialises")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).expect("in memory");
    gz.finish().expect("in memory")
}

#[test]
fn a_valid_report_decodes_plain_gzipped_and_with_a_bom() {
    let plain = with(|_| {});
    assert!(decode(&plain, Encoding::Identity, LIMITS).is_ok());
    assert!(decode(&gzip(&plain), Encoding::Gzip, LIMITS).is_ok());
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&plain);
    assert!(decode(&bom, Encoding::Identity, LIMITS).is_ok());
}

#[test]
fn each_bad_body_is_refused_with_its_code_field_and_message() {
    struct Case {
        name: &'static str,
        body: Vec<u8>,
        encoding: Encoding,
        status: u16,
        code: ErrorCode,
        field: Option<&'static str>,
        mentions: &'static str,
    }
    let small = Limits {
        max_body: 1 << 20,
        max_decompressed: 1 << 20,
    };
    let cases = [
        Case {
            name: "truncated JSON",
            body: b"{\"protocol_version\": 1, ".to_vec(),
            encoding: Encoding::Identity,
            status: 400,
            code: ErrorCode::MalformedJson,
            field: None,
            mentions: "dòng 1, cột 24",
        },
        Case {
            name: "not an object",
            body: b" [1, 2]".to_vec(),
            encoding: Encoding::Identity,
            status: 400,
            code: ErrorCode::MalformedJson,
            field: None,
            mentions: "đối tượng JSON",
        },
        Case {
            name: "not gzip",
            body: with(|_| {}),
            encoding: Encoding::Gzip,
            status: 400,
            code: ErrorCode::MalformedJson,
            field: None,
            mentions: "gzip",
        },
        Case {
            name: "gzip bomb",
            body: gzip(&vec![b' '; (1 << 20) + 1]),
            encoding: Encoding::Gzip,
            status: 413,
            code: ErrorCode::PayloadTooLarge,
            field: None,
            mentions: "1 MiB",
        },
        Case {
            name: "missing version",
            body: with(|v| {
                v.as_object_mut().map(|o| o.remove("protocol_version"));
            }),
            encoding: Encoding::Identity,
            status: 400,
            code: ErrorCode::UnsupportedProtocol,
            field: Some("protocol_version"),
            mentions: "hỗ trợ phiên bản 1",
        },
        Case {
            name: "version as a string",
            body: with(|v| v["protocol_version"] = "1".into()),
            encoding: Encoding::Identity,
            status: 400,
            code: ErrorCode::UnsupportedProtocol,
            field: Some("protocol_version"),
            mentions: "protocol_version",
        },
        Case {
            name: "newer version with another shape",
            body: with(|v| {
                v["protocol_version"] = 99.into();
                v["inventory"] = "changed shape".into();
            }),
            encoding: Encoding::Identity,
            status: 400,
            code: ErrorCode::UnsupportedProtocol,
            field: Some("protocol_version"),
            mentions: "cập nhật máy chủ",
        },
        Case {
            name: "bad report id",
            body: with(|v| v["report_id"] = "xyz".into()),
            encoding: Encoding::Identity,
            status: 422,
            code: ErrorCode::InvalidField,
            field: Some("report_id"),
            mentions: "report_id",
        },
        Case {
            name: "missing agent id",
            body: with(|v| {
                v.as_object_mut().map(|o| o.remove("agent_id"));
            }),
            encoding: Encoding::Identity,
            status: 422,
            code: ErrorCode::InvalidField,
            field: Some("agent_id"),
            mentions: "agent_id",
        },
        Case {
            name: "missing nested field",
            body: with(|v| {
                v["agent"].as_object_mut().map(|o| o.remove("version"));
            }),
            encoding: Encoding::Identity,
            status: 422,
            code: ErrorCode::InvalidField,
            field: Some("agent.version"),
            mentions: "agent.version",
        },
        Case {
            name: "negative link speed",
            body: with(|v| {
                v["inventory"]["nics"] = json!([{
                    "name": "eth0", "mac": null, "link_mbps": -100,
                    "virtual": false, "loopback": false, "wireless": false, "up": true
                }]);
            }),
            encoding: Encoding::Identity,
            status: 422,
            code: ErrorCode::InvalidField,
            field: Some("inventory.nics[0].link_mbps"),
            mentions: "inventory.nics[0].link_mbps",
        },
        Case {
            name: "absurd memory (validation)",
            body: with(|v| {
                v["inventory"]["memory"]["total_bytes"] = 1_000_000_000_000_000_000u64.into();
            }),
            encoding: Encoding::Identity,
            status: 422,
            code: ErrorCode::InvalidField,
            field: Some("inventory.memory.total_bytes"),
            mentions: "vượt giới hạn",
        },
    ];
    for case in cases {
        let limits = if case.name == "gzip bomb" {
            small
        } else {
            LIMITS
        };
        let err = decode(&case.body, case.encoding, limits).expect_err(case.name);
        assert_eq!(err.status().as_u16(), case.status, "{}: {err}", case.name);
        assert_eq!(err.code(), case.code, "{}", case.name);
        assert_eq!(err.field().as_deref(), case.field, "{}", case.name);
        let message = err.message(Lang::Vi);
        assert!(message.contains(case.mentions), "{}: {message}", case.name);
        assert!(
            err.message(Lang::En).is_ascii(),
            "{}: {}",
            case.name,
            err.message(Lang::En)
        );
    }
}

#[test]
fn headers_media_type_and_encoding() {
    let headers = |pairs: &[(&'static str, &'static str)]| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    };
    assert!(check_media_type(&headers(&[("content-type", "application/json")])).is_ok());
    assert!(
        check_media_type(&headers(&[(
            "content-type",
            "Application/JSON; charset=utf-8"
        )]))
        .is_ok()
    );
    for bad in [
        &[][..],
        &[("content-type", "text/plain")],
        &[("content-type", "application/jsonx")],
    ] {
        let err = check_media_type(&headers(bad)).expect_err("refused");
        assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(err.message(Lang::Vi).contains("application/json"));
    }

    type Pairs = &'static [(&'static str, &'static str)];
    let cases: &[(Pairs, Option<Encoding>)] = &[
        (&[], Some(Encoding::Identity)),
        (
            &[("content-encoding", "identity")],
            Some(Encoding::Identity),
        ),
        (&[("content-encoding", "gzip")], Some(Encoding::Gzip)),
        (&[("content-encoding", "X-GZIP")], Some(Encoding::Gzip)),
        (&[("content-encoding", "br")], None),
        (&[("content-encoding", "gzip, br")], None),
        (
            &[("content-encoding", "gzip"), ("content-encoding", "gzip")],
            None,
        ),
    ];
    for (pairs, want) in cases {
        let got = content_encoding(&headers(pairs));
        match want {
            Some(want) => assert_eq!(got.ok(), Some(*want), "{pairs:?}"),
            None => {
                let err = got.expect_err("refused");
                assert_eq!(err.code(), ErrorCode::UnsupportedEncoding);
                assert!(err.message(Lang::Vi).contains("gzip"));
            }
        }
    }
}

#[test]
fn limits_read_as_people_write_them() {
    assert_eq!(size(4 << 20), "4 MiB");
    assert_eq!(size(512 << 10), "512 KiB");
    assert_eq!(size(1000), "1000 byte");
}

#[test]
fn nesting_depth_is_counted_outside_strings() {
    assert!(!nesting_exceeds(br#"{"a":[{"b":[1]}]}"#, 4));
    assert!(nesting_exceeds(br#"{"a":[{"b":[[1]]}]}"#, 4));
    assert!(!nesting_exceeds(br#"{"a":"[[[[[[{{{{\"[[["}"#, 1));
    let deep = format!(
        "{}{}",
        "[".repeat(MAX_JSON_DEPTH + 1),
        "]".repeat(MAX_JSON_DEPTH + 1)
    );
    let body = format!(r#"{{"protocol_version":1,"x":{deep}}}"#);
    let err = decode(body.as_bytes(), Encoding::Identity, LIMITS).expect_err("too deep");
    assert!(matches!(
        err,
        DecodeError::TooDeep {
            max: MAX_JSON_DEPTH
        }
    ));
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    assert!(err.message(Lang::Vi).contains("lồng nhau"));
}
