//! Delivery: sends spooled reports to the server, oldest first, and decides
//! per answer whether a report is done (acknowledged), refused for good (set
//! aside), or must wait for a retry with exponential backoff and jitter.
//!
//! A report is only removed from the spool after the server's
//! acknowledgement, which the server sends only once the report is on disk:
//! delivery is at-least-once, and the server stores each report id once.
//!
//! Every report carries the agent's credential (`Authorization: Bearer`).
//! A 401 (`unauthorized`, `agent_revoked`) is not a report problem: the pass
//! stops, every report stays queued, and the log says clearly that the agent
//! is not enrolled or was revoked. Plain `http://` goes only to a loopback
//! server unless explicitly allowed, and HTTPS is verified as enrollment
//! decided (see [`crate::tls`]).

use std::time::Duration;

use kiemke_shared::api::{ApiError, ErrorCode, ReportAck};
use kiemke_shared::auth::AgentCredential;
use kiemke_shared::protocol::{JSON_CONTENT_TYPE, PROTOCOL_HEADER, PROTOCOL_VERSION, REPORTS_PATH};
use kiemke_shared::{Lang, ReportId};
use rand::Rng;
use reqwest::{StatusCode, Url, header};

use crate::spool::{Spool, SpoolError};
use crate::tls::{self, ServerTrust};

/// Why a server address is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ServerUrlError {
    #[error("not a URL: {0}")]
    Parse(String),
    #[error("the server address must start with http:// or https://")]
    Scheme,
}

/// Parses the server's base URL, e.g. `https://kiemke.gialai.gov.vn/`.
pub fn parse_server_url(s: &str) -> Result<Url, ServerUrlError> {
    let url: Url = s
        .trim()
        .parse()
        .map_err(|e| ServerUrlError::Parse(format!("{e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        _ => Err(ServerUrlError::Scheme),
    }
}

/// Why the agent will not talk to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "refusing unencrypted http:// to {0}, which is not this machine: use https://, or allow it explicitly with --insecure-http"
    )]
    InsecureHttp(String),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

impl ClientError {
    /// The message a person reads.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ClientError::InsecureHttp(host), Lang::Vi) => format!(
                "Từ chối gửi qua http:// không mã hóa tới {host} (không phải máy này): hãy dùng \
                 https://, hoặc cho phép rõ ràng bằng --insecure-http (không an toàn)."
            ),
            (other, _) => other.to_string(),
        }
    }
}

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses plain HTTP to anything but this machine unless allowed.
pub fn check_transport(url: &Url, allow_insecure_http: bool) -> Result<(), ClientError> {
    if url.scheme() == "http" && !allow_insecure_http && !is_loopback(url) {
        return Err(ClientError::InsecureHttp(
            url.host_str().unwrap_or_default().to_owned(),
        ));
    }
    Ok(())
}

/// An HTTP client for `server` that trusts its certificate as `trust` says
/// and refuses plain HTTP off this machine unless allowed.
pub fn http_client(
    server: &Url,
    trust: &ServerTrust,
    allow_insecure_http: bool,
    timeout: Duration,
) -> Result<reqwest::Client, ClientError> {
    check_transport(server, allow_insecure_http)?;
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("kiemke-agent/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout));
    if let Some(config) = tls::client_config(trust)? {
        builder = builder.use_preconfigured_tls(config);
    }
    Ok(builder.build()?)
}

/// The answer to one delivery attempt.
#[derive(Debug)]
pub enum Attempt {
    /// Stored on the server (now or earlier): drop it from the spool.
    Acked(ReportAck),
    /// Refused for a reason a retry cannot fix (invalid, unsupported).
    Refused(ApiError),
    /// The agent is not enrolled or was revoked: keep the report, stop, say so.
    Unauthorized(ApiError),
    /// Not delivered this time (network down, server busy or failing).
    Retry(String),
}

/// How to reach the server and prove who this agent is.
#[derive(Debug, Clone)]
pub struct Connection {
    pub server: Url,
    pub trust: ServerTrust,
    /// `None`: not enrolled; nothing is sent.
    pub credential: Option<AgentCredential>,
    pub allow_insecure_http: bool,
}

/// An HTTP client for one server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    reports_url: Url,
    credential: Option<AgentCredential>,
    lang: Lang,
}

impl Client {
    /// A client without a credential that trusts the public CAs (its
    /// reports get 401: for tests and tools, not for delivery).
    pub fn new(server: &Url, lang: Lang, timeout: Duration) -> Result<Client, ClientError> {
        Client::connect(
            Connection {
                server: server.clone(),
                trust: ServerTrust::System,
                credential: None,
                allow_insecure_http: false,
            },
            lang,
            timeout,
        )
    }

    pub fn connect(
        connection: Connection,
        lang: Lang,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let http = http_client(
            &connection.server,
            &connection.trust,
            connection.allow_insecure_http,
            timeout,
        )?;
        let mut reports_url = connection.server;
        reports_url.set_path(REPORTS_PATH);
        Ok(Client {
            http,
            reports_url,
            credential: connection.credential,
            lang,
        })
    }

    /// Sends one spooled (gzip JSON) report body.
    pub async fn send(&self, id: ReportId, body: Vec<u8>) -> Attempt {
        let Some(credential) = &self.credential else {
            return Attempt::Unauthorized(not_enrolled(self.lang));
        };
        let response = self
            .http
            .post(self.reports_url.clone())
            .header(header::AUTHORIZATION, credential.authorization())
            .header(header::CONTENT_TYPE, JSON_CONTENT_TYPE)
            .header(header::CONTENT_ENCODING, "gzip")
            .header(header::ACCEPT_LANGUAGE, self.lang.tag())
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(network_message(&e, self.lang)),
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        classify(id, status, &text, self.lang)
    }
}

/// Decides what an HTTP answer means for the report.
fn classify(id: ReportId, status: StatusCode, body: &str, lang: Lang) -> Attempt {
    if status.is_success() {
        return match serde_json::from_str::<ReportAck>(body) {
            Ok(ack) if ack.report_id == id => Attempt::Acked(ack),
            _ => Attempt::Retry(format!(
                "{} ({status})",
                lang.pick(
                    "máy chủ trả lời không đúng giao thức",
                    "the server's answer is not a Kiểm kê acknowledgement"
                )
            )),
        };
    }
    match serde_json::from_str::<ApiError>(body) {
        Ok(err) if err.error.is_credential_failure() => Attempt::Unauthorized(err),
        Ok(err) if !err.error.is_retryable() && status.is_client_error() => Attempt::Refused(err),
        Ok(err) => Attempt::Retry(format!("{status}: {}", err.message)),
        // A 4xx without our error body comes from something else (a proxy, a
        // wrong URL): keep the report and retry rather than lose it.
        Err(_) => Attempt::Retry(format!(
            "{status}: {}",
            lang.pick(
                "máy chủ trả lời bất thường (sai địa chỉ máy chủ?)",
                "unexpected answer (wrong server address?)"
            )
        )),
    }
}

/// Whether `e` is (or wraps) rustls' "invalid peer certificate". rustls'
/// error arrives inside nested `io::Error`s, whose `source()` skips it.
fn is_certificate_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(e) = current {
        if let Some(rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
            return true;
        }
        current = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
    }
    false
}

/// What an agent that was never enrolled is told (nothing is sent).
fn not_enrolled(lang: Lang) -> ApiError {
    ApiError {
        error: ErrorCode::Unauthorized,
        message: lang
            .pick(
                "Tác tử chưa đăng ký với máy chủ nên chưa gửi báo cáo. Hãy chạy: \
                 kiemke-agent enroll --server URL --token MÃ (mã đăng ký do Sở KH&CN cấp).",
                "The agent is not enrolled with a server, so nothing was sent. Run: \
                 kiemke-agent enroll --server URL --token TOKEN (a token from the province).",
            )
            .to_owned(),
        field: None,
    }
}

/// A network failure as a person can act on it.
pub fn network_message(e: &reqwest::Error, lang: Lang) -> String {
    // reqwest's own text ("error sending request") hides the cause a person
    // can act on (connection refused, DNS, certificate): name the innermost.
    let mut cause: &dyn std::error::Error = e;
    let mut certificate = false;
    while let Some(source) = cause.source() {
        cause = source;
        certificate |= is_certificate_error(cause);
    }
    let what = if certificate {
        lang.pick(
            "chứng chỉ của máy chủ không được tin cậy (không thuộc CA đã ghim, sai tên, hoặc hết hạn); \
             kiểm tra --ca / --ca-fingerprint và địa chỉ máy chủ",
            "the server's certificate is not trusted (not from the pinned CA, wrong name, or \
             expired); check --ca / --ca-fingerprint and the server address",
        )
    } else if e.is_timeout() {
        lang.pick(
            "hết thời gian chờ máy chủ",
            "the server did not answer in time",
        )
    } else if e.is_connect() {
        lang.pick(
            "không kết nối được tới máy chủ",
            "cannot connect to the server",
        )
    } else {
        lang.pick("lỗi mạng", "network error")
    };
    format!("{what} ({cause})")
}

/// The result of one pass over the spool.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DrainSummary {
    pub delivered: usize,
    pub refused: usize,
    pub remaining: usize,
    /// The device the server attributed the last delivered report to.
    pub last_device: Option<kiemke_shared::DeviceId>,
    /// Why the pass stopped early, if it did.
    pub last_error: Option<String>,
    /// The server does not (or no longer) accept this agent.
    pub unauthorized: bool,
    /// An acknowledgement asked for a throughput test now.
    pub speed_test_requested: bool,
}

/// Sends every queued report, oldest first. Stops at the first retryable
/// failure (when the server is down, trying the rest is pointless); the
/// reports stay queued for the next pass.
pub async fn drain(spool: &Spool, client: &Client) -> Result<DrainSummary, SpoolError> {
    let mut summary = DrainSummary::default();
    let mut attempted = false;
    // Every arm below either removes the report from the spool or stops.
    while let Some(item) = spool.oldest()? {
        attempted = true;
        match client.send(item.id, item.body).await {
            Attempt::Acked(ack) => {
                spool.ack(item.id).await?;
                tracing::info!(report_id = %item.id, device_id = %ack.device_id, status = ?ack.status, "đã gửi báo cáo / report delivered");
                summary.delivered += 1;
                summary.last_device = Some(ack.device_id);
                summary.speed_test_requested |= ack.run_speed_test;
            }
            Attempt::Refused(err) => {
                tracing::error!(report_id = %item.id, code = ?err.error, message = %err.message, "máy chủ từ chối báo cáo / server refused the report");
                spool.reject(item.id, &err.message).await?;
                summary.refused += 1;
            }
            Attempt::Unauthorized(err) => {
                tracing::error!(
                    report_id = %item.id, code = ?err.error, message = %err.message,
                    "máy chủ không chấp nhận tác tử này (tác tử đã bị thu hồi hoặc chưa đăng ký); \
                     báo cáo vẫn được giữ trong hàng đợi / the server does not accept this agent \
                     (revoked or not enrolled); reports stay queued"
                );
                summary.last_error = Some(err.message);
                summary.unauthorized = true;
                break;
            }
            Attempt::Retry(reason) => {
                tracing::warn!(report_id = %item.id, %reason, "chưa gửi được, sẽ thử lại / not delivered, will retry");
                summary.last_error = Some(reason);
                break;
            }
        }
    }
    summary.remaining = spool.usage()?.0;
    if attempted {
        crate::activity::record(spool.data_dir(), &summary);
    }
    Ok(summary)
}

/// Exponential backoff with jitter between delivery passes: doubles from
/// `initial` up to `max`, each wait drawn uniformly from its upper half so
/// thousands of agents coming back after an outage spread out.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            next: initial,
        }
    }

    /// The wait before the next attempt; grows the one after.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = (self.next * 2).min(self.max);
        let low = ceiling / 2;
        rand::rng().random_range(low..=ceiling)
    }

    /// After a success, start again from the shortest wait.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiemke_shared::api::ErrorCode;

    #[test]
    fn backoff_grows_to_its_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(60));
        let waits: Vec<Duration> = (0..6).map(|_| b.next_delay()).collect();
        let ceilings = [10, 20, 40, 60, 60, 60];
        for (wait, ceiling) in waits.iter().zip(ceilings) {
            let ceiling = Duration::from_secs(ceiling);
            assert!(
                *wait <= ceiling && *wait >= ceiling / 2,
                "{wait:?} vs {ceiling:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(10));
    }

    #[test]
    fn answers_are_classified() {
        let id = ReportId::generate();
        let refused =
            serde_json::json!({"error": "invalid_field", "message": "x", "field": "a"}).to_string();
        assert!(
            matches!(classify(id, StatusCode::UNPROCESSABLE_ENTITY, &refused, Lang::Vi), Attempt::Refused(e) if e.error == ErrorCode::InvalidField)
        );
        let busy = serde_json::json!({"error": "unavailable", "message": "busy"}).to_string();
        assert!(matches!(
            classify(id, StatusCode::SERVICE_UNAVAILABLE, &busy, Lang::Vi),
            Attempt::Retry(_)
        ));
        assert!(matches!(
            classify(id, StatusCode::NOT_FOUND, "<html>nginx</html>", Lang::Vi),
            Attempt::Retry(_)
        ));
        assert!(matches!(
            classify(id, StatusCode::BAD_GATEWAY, "", Lang::Vi),
            Attempt::Retry(_)
        ));
        // A success that is not an acknowledgement of *this* report is not one.
        let other = serde_json::json!({
            "report_id": ReportId::generate(), "device_id": "0192f0c1-0000-7000-8000-000000000001",
            "status": "stored", "received_at": "2026-01-01T00:00:00Z"
        })
        .to_string();
        assert!(matches!(
            classify(id, StatusCode::OK, &other, Lang::Vi),
            Attempt::Retry(_)
        ));
    }

    #[test]
    fn certificate_errors_are_found_inside_nested_io_errors() {
        let rustls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls);
        let outer = std::io::Error::other(inner);
        assert!(is_certificate_error(&outer));
        assert!(!is_certificate_error(&std::io::Error::other("refused")));
    }

    #[test]
    fn plain_http_is_for_this_machine_only() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost/",
            "http://[::1]:80",
            "https://198.51.100.7",
        ] {
            let url = parse_server_url(ok).expect("url");
            assert!(check_transport(&url, false).is_ok(), "{ok}");
        }
        for refused in [
            "http://198.51.100.7:8080",
            "http://kiemke.gialai.gov.vn",
            "http://0.0.0.0:8080",
        ] {
            let url = parse_server_url(refused).expect("url");
            assert!(
                matches!(
                    check_transport(&url, false),
                    Err(ClientError::InsecureHttp(_))
                ),
                "{refused}"
            );
            assert!(
                check_transport(&url, true).is_ok(),
                "explicitly allowed: {refused}"
            );
        }
    }

    #[test]
    fn server_urls() {
        assert!(parse_server_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_server_url("https://kiemke.gialai.gov.vn/").is_ok());
        assert!(matches!(
            parse_server_url("ftp://x"),
            Err(ServerUrlError::Scheme)
        ));
        assert!(parse_server_url("not a url").is_err());
    }
}
