//! The real server on a real socket (port 0): it answers, times out stalled
//! requests with a JSON 503, and stops cleanly when told.

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

#[test]
fn the_ready_line_ends_with_the_url() {
    let addr = "127.0.0.1:41234".parse().expect("addr");
    assert_eq!(
        ready_line(addr, Lang::Vi),
        "Kiểm kê đang chạy tại http://127.0.0.1:41234/"
    );
    assert!(ready_line(addr, Lang::En).ends_with(" http://127.0.0.1:41234/"));
}
