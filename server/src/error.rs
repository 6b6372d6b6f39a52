//! Errors as HTTP responses. Every error response carries an
//! [`ApiError`] body in the request's language: a 4xx says what to fix; a 5xx
//! says only that it failed on our side, and the cause goes to the log.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemke_shared::api::{ApiError, ErrorCode};
use kiemke_shared::{DeviceId, IdError, Lang};

use crate::auth::TrustError;
use crate::config::defaults::RETRY_AFTER;
use crate::routes::ingest::decode::DecodeError;
use crate::store::StoreError;

/// What went wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(transparent)]
    Access(#[from] crate::auth::access::AccessError),
    #[error(transparent)]
    Account(#[from] crate::auth::accounts::AccountError),
    #[error("invalid device id: {0}")]
    InvalidDeviceId(#[source] IdError),
    #[error("invalid query string: {0}")]
    InvalidQuery(String),
    #[error("device {0} not found")]
    DeviceNotFound(DeviceId),
    /// A value the user sent is not valid; the message says how to fix it.
    #[error("invalid {field}: {en}")]
    InvalidValue {
        field: String,
        vi: String,
        en: String,
    },
    #[error("no route for {0}")]
    NoRoute(String),
    #[error("method {method} not allowed for {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("throughput test refused: {0:?}")]
    SpeedTestRefused(crate::routes::speedtest::limit::Refusal),
    #[error("request not finished within {0:?} (overloaded or slow client)")]
    Timeout(Duration),
    #[error("over {0} requests at once: shed")]
    Overloaded(usize),
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

/// A [`Failure`] and the language to tell it in: what handlers return.
#[derive(Debug, thiserror::Error)]
#[error("{failure}")]
pub struct AppError {
    pub lang: Lang,
    pub failure: Failure,
}

impl AppError {
    pub fn new(lang: Lang, failure: impl Into<Failure>) -> AppError {
        AppError {
            lang,
            failure: failure.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match &self.failure {
            Failure::Decode(e) => e.status(),
            Failure::Trust(e) => e.status(),
            Failure::Access(e) => e.status(),
            Failure::Account(e) => account_status(e),
            Failure::Store(StoreError::Conflict { .. }) => StatusCode::CONFLICT,
            Failure::Store(_) | Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Failure::InvalidDeviceId(_)
            | Failure::InvalidQuery(_)
            | Failure::InvalidValue { .. } => StatusCode::BAD_REQUEST,
            Failure::DeviceNotFound(_) | Failure::NoRoute(_) => StatusCode::NOT_FOUND,
            Failure::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Failure::Timeout(_) | Failure::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::SpeedTestRefused(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The response body (its message in `self.lang`).
    pub fn body(&self) -> ApiError {
        let lang = self.lang;
        let vi = lang == Lang::Vi;
        let (error, message, field) = match &self.failure {
            Failure::Decode(e) => (e.code(), e.message(lang), e.field()),
            Failure::Trust(e) => (e.code(), e.message(lang), e.field()),
            Failure::Access(e) => (e.code(), e.message(lang), None),
            Failure::Account(e) => (account_code(e), e.message(lang), None),
            Failure::Store(StoreError::Conflict { report_id }) => (
                ErrorCode::Conflict,
                if vi {
                    format!(
                        "Mã báo cáo {report_id} đã được lưu với nội dung khác. \
                         Mỗi báo cáo phải có mã riêng."
                    )
                } else {
                    format!(
                        "Report id {report_id} is already stored with different content. \
                         Each report needs its own id."
                    )
                },
                Some("report_id".to_owned()),
            ),
            Failure::Store(_) | Failure::Internal(_) => (
                ErrorCode::Internal,
                lang.pick(
                    "Máy chủ gặp lỗi khi xử lý yêu cầu. Hãy thử lại sau; nếu lỗi lặp lại, \
                     báo cho người quản trị máy chủ.",
                    "The server failed to handle the request. Try again later; if it keeps \
                     failing, tell the server's administrator.",
                )
                .to_owned(),
                None,
            ),
            Failure::InvalidDeviceId(_) => (
                ErrorCode::InvalidField,
                lang.pick(
                    "Mã thiết bị không hợp lệ: phải là một UUID, ví dụ \
                     0190f5a4-8c1e-7b2a-9d3f-1a2b3c4d5e6f.",
                    "Invalid device id: it must be a UUID, e.g. \
                     0190f5a4-8c1e-7b2a-9d3f-1a2b3c4d5e6f.",
                )
                .to_owned(),
                Some("id".to_owned()),
            ),
            Failure::InvalidQuery(detail) => (
                ErrorCode::InvalidField,
                if vi {
                    format!(
                        "Tham số truy vấn không hợp lệ (limit và offset phải là số nguyên \
                         không âm): {detail}"
                    )
                } else {
                    format!(
                        "Invalid query parameters (limit and offset must be non-negative \
                         integers): {detail}"
                    )
                },
                None,
            ),
            Failure::InvalidValue {
                field,
                vi: m_vi,
                en: m_en,
            } => (
                ErrorCode::InvalidField,
                lang.pick(m_vi, m_en).to_owned(),
                Some(field.clone()),
            ),
            Failure::DeviceNotFound(id) => (
                ErrorCode::NotFound,
                if vi {
                    format!("Không có thiết bị nào có mã {id}.")
                } else {
                    format!("There is no device with id {id}.")
                },
                None,
            ),
            Failure::NoRoute(path) => (
                ErrorCode::NotFound,
                if vi {
                    format!("Không có trang hay API nào ở địa chỉ {path}.")
                } else {
                    format!("There is no page or API at {path}.")
                },
                None,
            ),
            // The contract has no code of its own for this; "not_found": there
            // is nothing here for this method.
            Failure::MethodNotAllowed { method, path } => (
                ErrorCode::NotFound,
                if vi {
                    format!("Địa chỉ {path} không nhận phương thức {method}.")
                } else {
                    format!("{path} does not accept the {method} method.")
                },
                None,
            ),
            Failure::Timeout(limit) => (
                ErrorCode::Unavailable,
                if vi {
                    format!(
                        "Máy chủ đang bận hoặc yêu cầu kéo dài quá {} giây. Hãy thử lại sau.",
                        limit.as_secs()
                    )
                } else {
                    format!(
                        "The server is busy or the request took longer than {} seconds. \
                         Try again later.",
                        limit.as_secs()
                    )
                },
                None,
            ),
            Failure::Overloaded(limit) => (
                ErrorCode::Unavailable,
                if vi {
                    format!(
                        "Máy chủ đang quá tải (đã có {limit} yêu cầu cùng lúc). Hãy thử lại sau \
                         {} giây.",
                        RETRY_AFTER.as_secs()
                    )
                } else {
                    format!(
                        "The server is overloaded ({limit} requests at once). Try again in {} \
                         seconds.",
                        RETRY_AFTER.as_secs()
                    )
                },
                None,
            ),
            Failure::SpeedTestRefused(refusal) => (
                ErrorCode::RateLimited,
                speedtest_refusal_message(*refusal, lang),
                None,
            ),
        };
        ApiError {
            error,
            message,
            field,
        }
    }
}

fn account_status(e: &crate::auth::accounts::AccountError) -> StatusCode {
    use crate::auth::accounts::AccountError as E;
    match e {
        E::InvalidName | E::Password(_) => StatusCode::UNPROCESSABLE_ENTITY,
        E::Exists(_) | E::LastAdmin => StatusCode::CONFLICT,
        E::NotFound(_) => StatusCode::NOT_FOUND,
        E::LoginRefused | E::WrongCurrentPassword => StatusCode::UNAUTHORIZED,
        E::Store(_) | E::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn account_code(e: &crate::auth::accounts::AccountError) -> ErrorCode {
    use crate::auth::accounts::AccountError as E;
    match e {
        E::InvalidName | E::Password(_) => ErrorCode::InvalidField,
        E::Exists(_) | E::LastAdmin => ErrorCode::Conflict,
        E::NotFound(_) => ErrorCode::NotFound,
        E::LoginRefused | E::WrongCurrentPassword => ErrorCode::Unauthorized,
        E::Store(_) | E::Internal(_) => ErrorCode::Internal,
    }
}

fn speedtest_refusal_message(
    refusal: crate::routes::speedtest::limit::Refusal,
    lang: Lang,
) -> String {
    use crate::routes::speedtest::limit::Refusal;
    let secs = refusal.retry_after().as_secs().max(1);
    match (refusal, lang) {
        (Refusal::TooManyTests { per_hour, .. }, Lang::Vi) => format!(
            "Máy này đã đo tốc độ {per_hour} lần trong một giờ qua, là mức tối đa. \
             Hãy đo lại sau {secs} giây."
        ),
        (Refusal::TooManyTests { per_hour, .. }, Lang::En) => format!(
            "This client already ran {per_hour} throughput tests in the last hour, the \
             maximum. Try again in {secs} seconds."
        ),
        (Refusal::TestCapReached { .. }, Lang::Vi) => format!(
            "Phép đo đã dùng hết dung lượng hoặc thời gian cho phép của một lần đo. \
             Hãy đo lại sau {secs} giây."
        ),
        (Refusal::TestCapReached { .. }, Lang::En) => format!(
            "The test used up the bytes or time one test may take. Try again in {secs} seconds."
        ),
        (Refusal::Busy { .. }, Lang::Vi) => {
            format!("Máy chủ đang phục vụ nhiều phép đo tốc độ khác. Hãy đo lại sau {secs} giây.")
        }
        (Refusal::Busy { .. }, Lang::En) => format!(
            "The server is running as many throughput tests as it allows. Try again in \
             {secs} seconds."
        ),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body();
        if status.is_server_error() {
            let cause = chain(&self.failure);
            if matches!(self.failure, Failure::Timeout(_) | Failure::Overloaded(_)) {
                tracing::warn!(%cause, "yêu cầu quá hạn / request timed out");
            } else {
                tracing::error!(%cause, code = ?body.error, "yêu cầu thất bại / request failed");
            }
        } else {
            tracing::debug!(status = status.as_u16(), code = ?body.error, cause = %self.failure, "request refused");
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Busy, not broken: tell clients when to come back.
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(RETRY_AFTER.as_secs()),
            );
        }
        response
    }
}

/// An error and its sources, joined: "storage error: io error: disk full".
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

/// Tags a fallible result with the request's language, so handlers can use
/// `?`: `store.read(…).await.in_lang(lang)?`.
pub trait InLang<T> {
    fn in_lang(self, lang: Lang) -> Result<T, AppError>;
}

impl<T, E: Into<Failure>> InLang<T> for Result<T, E> {
    fn in_lang(self, lang: Lang) -> Result<T, AppError> {
        self.map_err(|e| AppError::new(lang, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_cause() {
        let err = AppError::new(
            Lang::Vi,
            StoreError::Corrupt {
                tree: "devices",
                detail: "secret detail".into(),
            },
        );
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = err.body();
        assert_eq!(body.error, ErrorCode::Internal);
        assert!(!body.message.contains("secret"));
        assert!(body.message.contains("Máy chủ gặp lỗi"));
    }

    #[test]
    fn a_conflict_is_409_and_names_the_report() {
        let report_id = kiemke_shared::ReportId::generate();
        let err = AppError::new(Lang::En, StoreError::Conflict { report_id });
        assert_eq!(err.status(), StatusCode::CONFLICT);
        let body = err.body();
        assert_eq!(body.error, ErrorCode::Conflict);
        assert!(body.message.contains(&report_id.to_string()));
        assert!(body.message.is_ascii());
    }

    #[test]
    fn chains_join_sources_once() {
        let err = crate::config::ConfigError::Read {
            path: "/etc/kiemke-server.toml".into(),
            source: std::io::Error::other("disk full"),
        };
        assert!(chain(&err).contains("disk full"), "{}", chain(&err));
    }
}
