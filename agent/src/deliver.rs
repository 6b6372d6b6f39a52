//! Delivery: sends spooled reports to the server, oldest first, and decides
//! per answer whether a report is done (acknowledged), refused for good (set
//! aside), or must wait for a retry with exponential backoff and jitter.
//!
//! A report is only removed from the spool after the server's
//! acknowledgement, which the server sends only once the report is on disk:
//! delivery is at-least-once, and the server stores each report id once.

use std::time::Duration;

use kiemke_shared::api::{ApiError, ReportAck};
use kiemke_shared::protocol::{JSON_CONTENT_TYPE, PROTOCOL_HEADER, PROTOCOL_VERSION, REPORTS_PATH};
use kiemke_shared::{Lang, ReportId};
use rand::Rng;
use reqwest::{StatusCode, Url, header};

use crate::spool::{Spool, SpoolError};

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

/// The answer to one delivery attempt.
#[derive(Debug)]
pub enum Attempt {
    /// Stored on the server (now or earlier): drop it from the spool.
    Acked(ReportAck),
    /// Refused for a reason a retry cannot fix (invalid, unsupported).
    Refused(ApiError),
    /// Not delivered this time (network down, server busy or failing).
    Retry(String),
}

/// An HTTP client for one server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    reports_url: Url,
    lang: Lang,
}

impl Client {
    pub fn new(server: &Url, lang: Lang, timeout: Duration) -> Result<Client, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("kiemke-agent/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .build()?;
        let mut reports_url = server.clone();
        reports_url.set_path(REPORTS_PATH);
        Ok(Client {
            http,
            reports_url,
            lang,
        })
    }

    /// Sends one spooled (gzip JSON) report body.
    pub async fn send(&self, id: ReportId, body: Vec<u8>) -> Attempt {
        let response = self
            .http
            .post(self.reports_url.clone())
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

fn network_message(e: &reqwest::Error, lang: Lang) -> String {
    let what = if e.is_timeout() {
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
    // reqwest's own text ("error sending request") hides the cause a person
    // can act on (connection refused, DNS, certificate): name the innermost.
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
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
    /// An acknowledgement asked for a throughput test now.
    pub speed_test_requested: bool,
}

/// Sends every queued report, oldest first. Stops at the first retryable
/// failure (when the server is down, trying the rest is pointless); the
/// reports stay queued for the next pass.
pub async fn drain(spool: &Spool, client: &Client) -> Result<DrainSummary, SpoolError> {
    let mut summary = DrainSummary::default();
    // Every arm below either removes the report from the spool or stops.
    while let Some(item) = spool.oldest()? {
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
            Attempt::Retry(reason) => {
                tracing::warn!(report_id = %item.id, %reason, "chưa gửi được, sẽ thử lại / not delivered, will retry");
                summary.last_error = Some(reason);
                break;
            }
        }
    }
    summary.remaining = spool.usage()?.0;
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
