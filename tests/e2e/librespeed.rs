//! Our server as a LibreSpeed server, over a real socket on loopback: the
//! request sequence of LibreSpeed's `speedtest_worker.js` (getIP with ISP
//! info, ping on `empty`, parallel `garbage` downloads aborted mid-stream,
//! parallel `empty` upload POSTs), on the paths of both LibreSpeed backends
//! (the PHP one's `/backend/*.php`, the Go one's `/garbage`...); then our own
//! agent measuring against those paths in LibreSpeed mode.

use std::time::Duration;

use kiemke_shared::probes::{SpeedApi, SpeedResult};
use kiemke_tests::server::ServerProcess;
use reqwest::header;

use crate::shaped::serial;
use crate::{agent_bin, server_bin};

const MIB: usize = 1 << 20;

/// LibreSpeed's cache-busting parameter.
fn r() -> String {
    format!("r={}", rand_fraction())
}

fn rand_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos) / 1e9
}

/// The headers LibreSpeed relies on: nothing cached, nothing compressed.
fn assert_uncached_identity(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    let cache = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        cache.contains("no-store"),
        "{what}: Cache-Control {cache:?}"
    );
    assert!(
        headers.get(header::CONTENT_ENCODING).is_none(),
        "{what}: compressed"
    );
    assert_eq!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .and_then(|v| v.to_str().ok()),
        Some("*"),
        "{what}: pages on other origins must be allowed"
    );
}

/// One full LibreSpeed client run against `base` with the given paths.
async fn librespeed_client_run(base: &str, get_ip: &str, empty: &str, garbage: &str) {
    // Like a browser: HTTP/1.1, one connection per parallel request.
    let http = reqwest::Client::builder()
        .http1_only()
        .no_gzip()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let url = |path: &str, query: &str| format!("{}{path}?{query}", base.trim_end_matches('/'));

    // getIP with ISP info: LibreSpeed parses JSON, falling back to text.
    let response = http
        .get(url(get_ip, &format!("isp=true&distance=km&{}", r())))
        .send()
        .await
        .expect("getIP");
    assert_eq!(response.status(), 200, "{get_ip}");
    assert_uncached_identity(&response, get_ip);
    let json: serde_json::Value = response.json().await.expect("getIP JSON");
    assert_eq!(json["processedString"], "127.0.0.1", "{json}");
    let plain = http
        .get(url(get_ip, &r()))
        .send()
        .await
        .expect("getIP")
        .text()
        .await
        .expect("text");
    assert_eq!(plain.trim(), "127.0.0.1");

    // Ping: ten GETs on empty, each an empty 200.
    for _ in 0..10 {
        let response = http.get(url(empty, &r())).send().await.expect("ping");
        assert_eq!(response.status(), 200, "{empty}");
        assert_uncached_identity(&response, empty);
        assert!(response.bytes().await.expect("body").is_empty());
    }

    // Download: 6 streams of ckSize=100 (LibreSpeed's default), each
    // aborted after 4 MiB as the worker aborts at the end of its window.
    let mut downloads = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let request = http.get(url(garbage, &format!("{}&ckSize=100", r())));
        downloads.spawn(async move {
            let mut response = request.send().await.expect("garbage");
            assert_eq!(response.status(), 200);
            let mut got = 0;
            while got < 4 * MIB {
                match response.chunk().await.expect("chunk") {
                    Some(chunk) => got += chunk.len(),
                    None => break,
                }
            }
            got
        });
    }
    while let Some(got) = downloads.join_next().await {
        assert!(got.expect("download task") >= 4 * MIB);
    }
    // A whole small one: exactly ckSize MiB, random (does not compress).
    let response = http
        .get(url(garbage, &format!("{}&ckSize=2", r())))
        .send()
        .await
        .expect("garbage");
    assert_uncached_identity(&response, garbage);
    let body = response.bytes().await.expect("body");
    assert_eq!(body.len(), 2 * MIB);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &body).expect("gzip");
    let compressed = gz.finish().expect("gzip").len();
    assert!(
        compressed as f64 > 0.99 * body.len() as f64,
        "garbage compresses to {compressed} of {} bytes: not random",
        body.len()
    );

    // Upload: 3 streams, each POSTing LibreSpeed's 20 MiB blob twice.
    let mut uploads = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let (http, target) = (http.clone(), url(empty, &r()));
        uploads.spawn(async move {
            for _ in 0..2 {
                let response = http
                    .post(&target)
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(vec![0x5a_u8; 20 * MIB])
                    .send()
                    .await
                    .expect("upload");
                assert_eq!(response.status(), 200);
            }
        });
    }
    while let Some(done) = uploads.join_next().await {
        done.expect("upload task");
    }
}

#[tokio::test]
async fn a_librespeed_client_sequence_is_served_on_both_backends_paths() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), dir.path())?;
    // The Go backend's paths, then the PHP backend's, in one test session
    // (the server counts a client's requests within 150 s as one test).
    librespeed_client_run(&server.url, "/getIP", "/empty", "/garbage").await;
    librespeed_client_run(
        &server.url,
        "/backend/getIP.php",
        "/backend/empty.php",
        "/backend/garbage.php",
    )
    .await;
    Ok(())
}

/// Our agent in LibreSpeed mode against our server's LibreSpeed paths (what
/// it does against an ISP's or a province's LibreSpeed server).
#[test]
fn the_agent_measures_against_librespeed_paths() -> anyhow::Result<()> {
    // Loopback throughput takes both cores: not while a shaped test measures.
    let _one_at_a_time = serial();
    let dir = tempfile::tempdir()?;
    // Loopback moves gigabytes a second: past the default 4 GiB per test the
    // server (rightly) refuses the upload, which is not what is tested here.
    let mut command = std::process::Command::new(server_bin());
    command.env(
        "KIEMKE_SERVER_SPEEDTEST_MAX_BYTES",
        (1u64 << 40).to_string(),
    );
    let server = ServerProcess::start_command(command, dir.path(), "127.0.0.1:0")?;
    let output = std::process::Command::new(agent_bin())
        .args(["--lang", "en", "probe", "speed", "--server", &server.url])
        .args([
            "--librespeed",
            "--duration",
            "4",
            "--streams",
            "2",
            "--json",
        ])
        .env("RUST_LOG", "warn")
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "agent failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: SpeedResult = serde_json::from_slice(&output.stdout)?;
    eprintln!(
        "agent in LibreSpeed mode on loopback: down {:.0} Mbit/s, up {:.0} Mbit/s",
        result.download_mbps.get(),
        result.upload_mbps.get()
    );
    assert_eq!(result.api, SpeedApi::Librespeed);
    assert!(result.download_mbps.get() > 10.0, "{result:?}");
    assert!(result.upload_mbps.get() > 10.0, "{result:?}");
    assert!(result.bytes_down > 0 && result.bytes_up > 0);
    Ok(())
}
