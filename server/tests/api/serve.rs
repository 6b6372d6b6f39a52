//! The real server on a real socket (port 0): it answers, times out stalled
//! requests with a JSON 503, cuts off slow and idle clients without letting
//! them hold the server, and stops cleanly when told.

use std::time::Duration;

use kiemke_server::serve::{bind, ready_line, serve};
use kiemke_server::{ServerConfig, Store};
use kiemke_shared::Lang;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

type Running = tokio::task::JoinHandle<anyhow::Result<()>>;

/// Starts the real server on port 0; it runs until `stop` is sent.
async fn start(config: ServerConfig) -> (std::net::SocketAddr, oneshot::Sender<()>, Running) {
    let listener = bind("127.0.0.1:0".parse().expect("addr"), Lang::Vi)
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(config, listener, async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// Enrolls an agent in the store in `dir` (before the server opens it); its
/// `Authorization` header value.
fn enrolled_agent(dir: &std::path::Path) -> String {
    use kiemke_server::auth::{secret, tokens};
    let store = Store::open(dir).expect("store");
    let new = tokens::NewToken {
        commune: kiemke_shared::CommuneCode::parse("24118").expect("code"),
        site: None,
        lifetime: Duration::from_secs(3600),
        max_uses: 1,
    };
    let (token, _) = tokens::issue(&store, &new, chrono::Utc::now()).expect("token");
    let enrollment = kiemke_server::store::trust::Enrollment {
        agent_id: kiemke_shared::AgentId::generate(),
        hostname: None,
        credential: secret::generate(),
    };
    store
        .enroll(&token, &enrollment, chrono::Utc::now())
        .expect("store")
        .expect("enrolled");
    kiemke_shared::auth::AgentCredential {
        agent_id: enrollment.agent_id,
        secret: enrollment.credential,
    }
    .authorization()
}

/// Sends raw HTTP/1.1 and reads until the server closes the connection.
async fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut response))
        .await
        .expect("the server answers in time")
        .expect("reads");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn serves_on_port_0_and_stops_when_told() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        data_dir: dir.path().to_owned(),
        ..ServerConfig::default()
    };
    let (addr, stop, server) = start(config).await;

    let response = exchange(
        addr,
        "GET /api/v1/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"protocol_versions\":[1]"), "{response}");

    stop.send(()).expect("server still running");
    server.await.expect("joins").expect("stops cleanly");
    Store::open(dir.path()).expect("the store is released after shutdown");
}

#[tokio::test]
async fn a_stalled_upload_times_out_with_a_json_503() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        data_dir: dir.path().to_owned(),
        request_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let auth = enrolled_agent(dir.path());
    let (addr, stop, server) = start(config).await;

    // Promise 100 bytes, send one, then wait (as an enrolled agent: an
    // unauthenticated request is refused before its body is read).
    let response = exchange(
        addr,
        &format!(
            "POST /api/v1/reports HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Authorization: {auth}\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{"
        ),
    )
    .await;

    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(response.contains("\"error\":\"unavailable\""), "{response}");
    assert!(response.contains("Hãy thử lại sau"), "{response}");
    stop.send(()).expect("server still running");
    server.await.expect("joins").expect("stops cleanly");
}

/// A health check, timed.
async fn health_takes(addr: std::net::SocketAddr) -> Duration {
    let started = std::time::Instant::now();
    let response = exchange(
        addr,
        "GET /api/v1/health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    started.elapsed()
}

/// Reads until the server closes the connection; how long that took.
async fn closed_after(mut reader: impl AsyncReadExt + Unpin) -> (Duration, String) {
    let started = std::time::Instant::now();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut response))
        .await
        .expect("the server closes the connection in time");
    (
        started.elapsed(),
        String::from_utf8_lossy(&response).into_owned(),
    )
}

#[tokio::test]
async fn a_client_trickling_its_body_times_out_while_others_are_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        data_dir: dir.path().to_owned(),
        request_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    // As an enrolled agent: an anonymous upload is refused before its body.
    let auth = enrolled_agent(dir.path());
    let (addr, stop, server) = start(config).await;
    let stream = TcpStream::connect(addr).await.expect("connects");
    let (reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Authorization: {auth}\r\nContent-Length: 100000\r\n\r\n{{"
    );
    writer.write_all(head.as_bytes()).await.expect("writes");
    // One byte every 100 ms: it would take almost 3 hours to finish.
    let trickle = tokio::spawn(async move {
        while writer.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let slow = tokio::spawn(closed_after(reader));

    // Others are served at once meanwhile.
    for _ in 0..5 {
        let took = health_takes(addr).await;
        assert!(took < Duration::from_secs(1), "health took {took:?}");
    }
    assert!(!slow.is_finished(), "the trickler is still being read");

    let (took, response) = slow.await.expect("joins");
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("retry-after: 30"),
        "{response}"
    );
    assert!(took < Duration::from_secs(10), "cut off after {took:?}");
    trickle.abort();
    stop.send(()).expect("server still running");
    server.await.expect("joins").expect("stops cleanly");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        data_dir: dir.path().to_owned(),
        header_read_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let (addr, stop, server) = start(config).await;
    let stream = TcpStream::connect(addr).await.expect("connects");
    let (reader, mut writer) = stream.into_split();
    let slowloris = tokio::spawn(async move {
        let _ = writer.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n").await;
        for i in 0..200 {
            let header = format!("X-Slow-{i}: a\r\n");
            if writer.write_all(header.as_bytes()).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    let took = health_takes(addr).await;
    let (cut_after, response) = closed_after(reader).await;

    assert!(took < Duration::from_secs(1), "health took {took:?}");
    assert!(!response.contains("200 OK"), "{response}");
    assert!(
        cut_after < Duration::from_secs(5),
        "cut off after {cut_after:?}"
    );
    slowloris.abort();
    stop.send(()).expect("server still running");
    server.await.expect("joins").expect("stops cleanly");
}

#[tokio::test]
async fn idle_connections_cannot_hold_every_slot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        data_dir: dir.path().to_owned(),
        header_read_timeout: Duration::from_secs(1),
        max_connections: 2,
        ..ServerConfig::default()
    };
    let (addr, stop, server) = start(config).await;
    // Two connections that say nothing take both slots...
    let idle = [
        TcpStream::connect(addr).await.expect("connects"),
        TcpStream::connect(addr).await.expect("connects"),
    ];

    // ...until the header timeout frees them for the next client.
    let took = health_takes(addr).await;

    assert!(took < Duration::from_secs(5), "served after {took:?}");
    for stream in idle {
        let (after, _) = closed_after(stream).await;
        assert!(after < Duration::from_secs(5));
    }
    stop.send(()).expect("server still running");
    server.await.expect("joins").expect("stops cleanly");
}

#[test]
fn the_ready_line_ends_with_the_url() {
    let addr = "127.0.0.1:41234".parse().expect("addr");
    assert_eq!(
        ready_line(addr, Lang::Vi),
        "Kiểm kê đang chạy tại http://127.0.0.1:41234/"
    );
    assert!(ready_line(addr, Lang::En).ends_with(" http://127.0.0.1:41234/"));
}
