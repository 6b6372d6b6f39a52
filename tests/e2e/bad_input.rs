//! Bad input: each gets a 4xx whose body names the problem in Vietnamese, and
//! the store is left exactly as it was.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use kiemke_agent::report;
use kiemke_shared::AgentId;
use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::ServerProcess;

use crate::server_bin;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(bytes).expect("in-memory write");
    gz.finish().expect("in-memory gzip")
}

/// A valid report as JSON, with a change applied to it.
fn report_json(change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let pc = Pc {
        hostname: "PC-1",
        serial: Some("SERIAL-BAD-1"),
        mac: Some("3c:52:82:99:88:77"),
        ip: "10.1.1.1",
        ..Pc::default()
    };
    let mut value =
        serde_json::to_value(report::build(AgentId::generate(), fixtures::inventory(&pc)))
            .expect("serialise");
    change(&mut value);
    serde_json::to_vec(&value).expect("serialise")
}

struct Case {
    name: &'static str,
    body: Vec<u8>,
    headers: Vec<(&'static str, &'static str)>,
    status: u16,
    code: &'static str,
    /// A word the message must contain (the field, or what is wrong).
    mentions: &'static str,
}

fn json() -> Vec<(&'static str, &'static str)> {
    vec![("content-type", "application/json")]
}

fn cases() -> Vec<Case> {
    let incompressible: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let bomb = gzip(&vec![b' '; 40 * 1024 * 1024]);
    vec![
        Case {
            name: "malformed JSON",
            body: b"{\"protocol_version\": 1, ".to_vec(),
            headers: json(),
            status: 400,
            code: "malformed_json",
            mentions: "JSON",
        },
        Case {
            name: "wrong content type",
            body: report_json(|_| {}),
            headers: vec![("content-type", "text/plain")],
            status: 415,
            code: "unsupported_media_type",
            mentions: "application/json",
        },
        Case {
            name: "no content type",
            body: report_json(|_| {}),
            headers: vec![],
            status: 415,
            code: "unsupported_media_type",
            mentions: "application/json",
        },
        Case {
            name: "unknown encoding",
            body: report_json(|_| {}),
            headers: vec![
                ("content-type", "application/json"),
                ("content-encoding", "br"),
            ],
            status: 415,
            code: "unsupported_encoding",
            mentions: "gzip",
        },
        Case {
            name: "oversized body",
            body: incompressible,
            headers: json(),
            status: 413,
            code: "payload_too_large",
            mentions: "MiB",
        },
        Case {
            name: "gzip bomb",
            body: bomb,
            headers: vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            status: 413,
            code: "payload_too_large",
            mentions: "MiB",
        },
        Case {
            name: "not gzip",
            body: report_json(|_| {}),
            headers: vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            status: 400,
            code: "malformed_json",
            mentions: "gzip",
        },
        Case {
            name: "unsupported protocol",
            body: report_json(|v| v["protocol_version"] = 99.into()),
            headers: json(),
            status: 400,
            code: "unsupported_protocol",
            mentions: "99",
        },
        Case {
            name: "bad report id",
            body: report_json(|v| v["report_id"] = "xyz".into()),
            headers: json(),
            status: 422,
            code: "invalid_field",
            mentions: "report_id",
        },
        Case {
            name: "absurd memory",
            body: report_json(|v| {
                v["inventory"]["memory"]["total_bytes"] = 1_000_000_000_000_000_000u64.into()
            }),
            headers: json(),
            status: 422,
            code: "invalid_field",
            mentions: "inventory.memory.total_bytes",
        },
        Case {
            name: "negative link speed",
            body: report_json(|v| v["inventory"]["nics"][0]["link_mbps"] = (-100).into()),
            headers: json(),
            status: 422,
            code: "invalid_field",
            mentions: "link_mbps",
        },
    ]
}

#[tokio::test]
async fn each_bad_input_gets_a_4xx_with_a_message_and_changes_nothing() -> anyhow::Result<()> {
    // Arrange: one good report stored, so "unchanged" means something.
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), dir.path())?;
    let (status, _) = server.post_raw(report_json(|_| {}), &json()).await?;
    assert_eq!(status, 200);
    let devices_before = server.devices().await?;

    for case in cases() {
        // Act
        let (status, body) = server.post_raw(case.body, &case.headers).await?;

        // Assert
        assert_eq!(status.as_u16(), case.status, "{}: {body}", case.name);
        assert_eq!(body["error"], case.code, "{}: {body}", case.name);
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(case.mentions),
            "{}: message {message:?} should mention {:?}",
            case.name,
            case.mentions
        );
        let vietnamese = message.chars().any(|c| {
            "ạảãáàâầấậẩẫăằắặẳẵêềếệểễôồốộổỗơờớợởỡưừứựửữđịỉĩíìọỏõóòụủũúùỳýỵỷỹẹẻẽéè".contains(c)
        });
        assert!(
            vietnamese,
            "{}: message is not Vietnamese: {message:?}",
            case.name
        );
        assert_eq!(
            server.devices().await?,
            devices_before,
            "{} changed the store",
            case.name
        );
    }
    Ok(())
}

#[tokio::test]
async fn errors_are_in_english_when_asked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), dir.path())?;
    let (status, body) = server
        .post_raw(
            b"{".to_vec(),
            &[
                ("content-type", "application/json"),
                ("accept-language", "en-US,en;q=0.9"),
            ],
        )
        .await?;
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.is_ascii() && message.contains("JSON"),
        "{message:?}"
    );
    Ok(())
}
