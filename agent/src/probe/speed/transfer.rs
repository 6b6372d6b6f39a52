//! The streams of a throughput test, and the server paths they use.
//!
//! Each stream has its own HTTP/1.1 client, so each is its own TCP
//! connection (HTTP/2 would multiplex all streams onto one, and one TCP
//! connection is exactly what a multi-stream test must avoid). Responses
//! are read chunk by chunk as they arrive and counted in the [`Meter`]; no
//! body is ever collected in memory. Uploads stream slices of one random
//! (incompressible) buffer, in requests of a few seconds; a request's bytes
//! are counted when the server's answer shows it received them all, spread
//! over the time the request took ([`Meter::add_spread`]), and the upload's
//! window ends with the last answer ([`super::meter::Window::until_acknowledged`]).
//! Counting bytes when handed to the connection would count what still sits
//! in the PC's socket buffer and the modem's queue at the deadline: on a
//! deep queue that read 10 % above what the line carried.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use kiemke_shared::auth::AgentCredential;
use kiemke_shared::probes::SpeedApi;
use kiemke_shared::protocol::{SPEEDTEST_PATH, TEST_HEADER};
use reqwest::{StatusCode, Url, header};
use tokio::time::{Instant, sleep_until, timeout_at};

use super::meter::Meter;
use crate::probe::ProbeError;

/// 1 MiB: LibreSpeed's `ckSize` unit.
pub const CHUNK: u64 = 1 << 20;
/// `ckSize` asked for per download request: LibreSpeed's maximum. A stream
/// asks again if a response ends before the test does.
pub const CK_SIZE: u64 = 1024;
/// Upload frames handed to the connection: small enough for fine-grained
/// counting, large enough to cost nothing per byte.
const FRAME: usize = 64 << 10;
/// One upload request lasts at most this long (servers time requests out,
/// and its bytes are only counted when it is answered), then the stream
/// sends the next on the same connection.
const MAX_POST_TIME: Duration = Duration::from_secs(2);
/// LibreSpeed servers often cap request bodies; its own client posts 20 MB.
const LIBRESPEED_MAX_POST: u64 = 20 << 20;
/// How long past the end of the test an upload's answer is awaited: what
/// is still queued at the deadline must drain first (a bufferbloated modem
/// holds seconds of it). An unanswered request's bytes are not counted.
const ANSWER_GRACE: Duration = Duration::from_secs(10);

/// Where a server's test endpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub api: SpeedApi,
    pub download: Url,
    pub upload: Url,
}

impl Endpoints {
    /// The paths under `base` for `api`. A LibreSpeed PHP backend (a base
    /// ending in `backend/`) has `garbage.php` and `empty.php`.
    pub fn new(base: &Url, api: SpeedApi) -> Result<Endpoints, ProbeError> {
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let (down, up) = match api {
            SpeedApi::Kiemke => {
                let prefix = SPEEDTEST_PATH.trim_start_matches('/');
                (format!("{prefix}/garbage"), format!("{prefix}/empty"))
            }
            SpeedApi::Librespeed if base.path().ends_with("backend/") => {
                ("garbage.php".to_owned(), "empty.php".to_owned())
            }
            SpeedApi::Librespeed => ("garbage".to_owned(), "empty".to_owned()),
        };
        let join = |p: &str| {
            base.join(p)
                .map_err(|e| ProbeError::BadTarget(format!("{base}{p}: {e}")))
        };
        Ok(Endpoints {
            api,
            download: join(&down)?,
            upload: join(&up)?,
        })
    }
}

/// A client for one stream: HTTP/1.1 only, its own connection pool (so its
/// own connection), no compression; the server's certificate checked as
/// `trust` says.
pub fn stream_client(trust: &crate::tls::ServerTrust) -> Result<reqwest::Client, ProbeError> {
    let tls = crate::tls::client_config(trust).map_err(|e| ProbeError::Network(e.to_string()))?;
    let builder = match tls {
        Some(mut config) => {
            // HTTP/1.1 only: one connection per stream.
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            reqwest::Client::builder().use_preconfigured_tls(config)
        }
        None => reqwest::Client::builder(),
    };
    builder
        .user_agent(concat!("kiemke-agent/", env!("CARGO_PKG_VERSION")))
        .http1_only()
        .no_gzip()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ProbeError::Network(e.to_string()))
}

/// Who is testing, for the server's limits: the agent's credential (only
/// for the server it enrolled with) and this test's id.
#[derive(Debug, Clone)]
pub struct Tester {
    pub credential: Option<AgentCredential>,
    pub test: uuid::Uuid,
}

fn common_headers(request: reqwest::RequestBuilder, tester: &Tester) -> reqwest::RequestBuilder {
    let request = request
        .header(header::ACCEPT_ENCODING, "identity")
        .header(header::CACHE_CONTROL, "no-store")
        .header(TEST_HEADER, tester.test.to_string());
    match &tester.credential {
        Some(credential) => request.header(header::AUTHORIZATION, credential.authorization()),
        None => request,
    }
}

/// Records a refusal: the server's own words when it sent an `ApiError`.
async fn refused(meter: &Meter, response: reqwest::Response) {
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        meter.mark_server_limited();
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<kiemke_shared::api::ApiError>(&text)
        .map(|e| e.message)
        .unwrap_or_else(|_| text.chars().take(200).collect());
    meter.note_error(format!("{status}: {message}"));
}

/// One download stream: requests `ckSize` MiB at a time until `deadline`.
pub async fn download(
    client: reqwest::Client,
    url: Url,
    agent: Tester,
    meter: Arc<Meter>,
    start_at: Instant,
    deadline: Instant,
) {
    sleep_until(start_at).await;
    while Instant::now() < deadline {
        let mut url = url.clone();
        url.query_pairs_mut()
            .append_pair("r", &rand::random::<u32>().to_string())
            .append_pair("ckSize", &CK_SIZE.to_string());
        let request = common_headers(client.get(url), &agent).send();
        let mut response = match timeout_at(deadline, request).await {
            Err(_) => return,
            Ok(Err(e)) => return meter.note_error(e.to_string()),
            Ok(Ok(r)) if !r.status().is_success() => return refused(&meter, r).await,
            Ok(Ok(r)) => r,
        };
        let mut got = 0u64;
        loop {
            match timeout_at(deadline, response.chunk()).await {
                Err(_) => return,
                Ok(Ok(Some(bytes))) => {
                    meter.add(bytes.len());
                    got += bytes.len() as u64;
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => return meter.note_error(e.to_string()),
            }
        }
        if got < CK_SIZE * CHUNK {
            // The server ended the response before what was asked: its cap.
            meter.mark_server_limited();
        }
    }
}

/// One upload stream: posts random data until `deadline`, in requests of
/// at most [`MAX_POST_TIME`] (and 20 MB for LibreSpeed servers).
#[allow(clippy::too_many_arguments)]
pub async fn upload(
    client: reqwest::Client,
    url: Url,
    api: SpeedApi,
    agent: Tester,
    meter: Arc<Meter>,
    data: Bytes,
    start_at: Instant,
    deadline: Instant,
) {
    sleep_until(start_at).await;
    let max_bytes = match api {
        SpeedApi::Librespeed => LIBRESPEED_MAX_POST,
        SpeedApi::Kiemke => u64::MAX,
    };
    let frames = (data.len() / FRAME).max(1);
    let mut offset = (rand::random::<u32>() as usize % frames) * FRAME;
    while Instant::now() < deadline {
        let sent_at = Instant::now();
        let until = deadline.min(sent_at + MAX_POST_TIME);
        let handed = Arc::new(AtomicU64::new(0));
        let body = UploadBody {
            data: data.clone(),
            offset,
            left: max_bytes,
            handed: handed.clone(),
            until: until.into_std(),
        };
        offset = (offset + FRAME * 7) % (frames * FRAME);
        let mut url = url.clone();
        url.query_pairs_mut()
            .append_pair("r", &rand::random::<u32>().to_string());
        let request = common_headers(client.post(url), &agent)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap(body))
            .send();
        match timeout_at(until + ANSWER_GRACE, request).await {
            Err(_) => return,
            Ok(Err(e)) => return meter.note_error(e.to_string()),
            Ok(Ok(r)) if !r.status().is_success() => return refused(&meter, r).await,
            Ok(Ok(r)) => {
                // The answer comes once the server has read the whole body.
                let answered = Instant::now();
                let _ = timeout_at(until + ANSWER_GRACE, r.bytes()).await;
                meter.add_spread(
                    sent_at.into_std(),
                    answered.into_std(),
                    handed.load(Ordering::Relaxed),
                );
            }
        }
    }
}

/// A request body of slices of one random buffer, ending at `until` (or
/// after `left` bytes), counting what it hands out (counted in the meter
/// only once the server answers).
struct UploadBody {
    data: Bytes,
    offset: usize,
    left: u64,
    handed: Arc<AtomicU64>,
    until: std::time::Instant,
}

impl Body for UploadBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 || std::time::Instant::now() >= self.until {
            return Poll::Ready(None);
        }
        let len = self.data.len();
        let end = (self.offset + FRAME).min(len);
        let mut chunk = self.data.slice(self.offset..end);
        if chunk.len() as u64 > self.left {
            chunk.truncate(usize::try_from(self.left).unwrap_or(usize::MAX));
        }
        self.offset = if end >= len { 0 } else { end };
        self.left -= chunk.len() as u64;
        self.handed.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// `bytes` of random data: the upload payload, incompressible.
pub fn random_payload(bytes: usize) -> Bytes {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    Bytes::from(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_per_api() {
        let base: Url = "http://10.0.0.5:8080".parse().expect("url");
        let e = Endpoints::new(&base, SpeedApi::Kiemke).expect("paths");
        assert_eq!(
            e.download.as_str(),
            "http://10.0.0.5:8080/api/v1/speedtest/garbage"
        );
        assert_eq!(
            e.upload.as_str(),
            "http://10.0.0.5:8080/api/v1/speedtest/empty"
        );
        let e = Endpoints::new(&base, SpeedApi::Librespeed).expect("paths");
        assert_eq!(e.download.as_str(), "http://10.0.0.5:8080/garbage");
        let php: Url = "https://speed.example.vn/backend".parse().expect("url");
        let e = Endpoints::new(&php, SpeedApi::Librespeed).expect("paths");
        assert_eq!(
            e.upload.as_str(),
            "https://speed.example.vn/backend/empty.php"
        );
        let proxied: Url = "https://tinh.example.vn/kiemke/".parse().expect("url");
        let e = Endpoints::new(&proxied, SpeedApi::Kiemke).expect("paths");
        assert_eq!(
            e.download.as_str(),
            "https://tinh.example.vn/kiemke/api/v1/speedtest/garbage"
        );
    }

    /// A bare HTTP/1.1 server that records each connection's peer and
    /// request head, and streams zeros until the client hangs up.
    async fn recording_server() -> (
        Url,
        Arc<std::sync::Mutex<Vec<(std::net::SocketAddr, String)>>>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url: Url = format!("http://{}/garbage", listener.local_addr().expect("addr"))
            .parse()
            .expect("url");
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, peer)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    if let Ok(mut r) = record.lock() {
                        r.push((peer, String::from_utf8_lossy(&head).into_owned()));
                    }
                    let header = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n";
                    if stream.write_all(header.as_bytes()).await.is_err() {
                        return;
                    }
                    let zeros = vec![0u8; 64 << 10];
                    while stream.write_all(&zeros).await.is_ok() {}
                });
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn each_stream_is_its_own_http1_connection() {
        let (url, seen) = recording_server().await;
        let start = Instant::now();
        let deadline = start + Duration::from_millis(500);
        let meter = Arc::new(Meter::new(start.into_std(), Duration::from_millis(500)));
        let tester = Tester {
            credential: None,
            test: uuid::Uuid::new_v4(),
        };
        let mut streams = tokio::task::JoinSet::new();
        for _ in 0..3 {
            let client = stream_client(&crate::tls::ServerTrust::System).expect("client");
            streams.spawn(download(
                client,
                url.clone(),
                tester.clone(),
                meter.clone(),
                start,
                deadline,
            ));
        }
        while streams.join_next().await.is_some() {}

        let seen = seen.lock().expect("lock").clone();
        let ports: std::collections::BTreeSet<u16> = seen.iter().map(|(p, _)| p.port()).collect();
        assert_eq!(seen.len(), 3, "one connection per stream: {seen:?}");
        assert_eq!(ports.len(), 3);
        for (_, head) in &seen {
            let lower = head.to_ascii_lowercase();
            assert!(lower.starts_with("get /garbage?r="), "{head}");
            assert!(
                lower.contains("ckSize=1024 http/1.1".to_ascii_lowercase().as_str()),
                "{head}"
            );
            assert!(lower.contains("accept-encoding: identity"), "{head}");
            assert!(lower.contains("x-kiemke-test: "), "{head}");
        }
        assert!(meter.total() > 0);
    }

    #[test]
    fn the_payload_is_random() {
        let a = random_payload(1 << 16);
        let b = random_payload(1 << 16);
        assert_ne!(a, b);
        // Roughly uniform bytes: no value takes more than 1 % of a 64 KiB sample.
        let mut counts = [0u32; 256];
        a.iter().for_each(|x| counts[*x as usize] += 1);
        assert!(counts.iter().all(|c| *c < 655), "{:?}", counts.iter().max());
    }
}
