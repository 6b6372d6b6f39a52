//! From request headers and body bytes to a validated [`Report`]: media type,
//! content encoding, size limits, gzip, the protocol version, the typed
//! decode and the limits of `kiemke_shared::validate`. No I/O here, so each
//! refusal is unit-tested; each refusal is a [`DecodeError`] whose message
//! tells the sender what to fix, in their language.

use std::io::Read;

use axum::http::{HeaderMap, StatusCode, header};
use flate2::read::GzDecoder;
use kiemke_shared::api::ErrorCode;
use kiemke_shared::protocol::{self, SUPPORTED_VERSIONS, VersionError};
use kiemke_shared::validate::{self, ValidationError};
use kiemke_shared::{Lang, Report};
use serde::Deserialize;

/// How deep objects and arrays may nest in a report. A real report nests
/// about 4 levels; serde_json skips unknown fields without a depth limit, so
/// without this a report could carry a deeply nested unknown field.
pub const MAX_JSON_DEPTH: usize = 32;

/// The size limits of one request (from the server configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body: usize,
    pub max_decompressed: usize,
}

/// How the body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

/// Why a request is not an acceptable report.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("Content-Type {0:?} is not application/json")]
    MediaType(Option<String>),
    #[error("Content-Encoding {0:?} is not supported")]
    Encoding(String),
    #[error("body over {limit} bytes")]
    TooLarge { limit: usize },
    #[error("body over {limit} bytes once decompressed")]
    DecompressedTooLarge { limit: usize },
    #[error("body is not valid gzip: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("cannot read the request body: {0}")]
    Read(String),
    #[error("malformed JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("the body is not a JSON object")]
    NotObject,
    #[error("JSON nested deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("no protocol_version")]
    MissingVersion,
    #[error("protocol version {0} is not supported")]
    UnsupportedVersion(u64),
    #[error("field {field}: {detail}")]
    Field { field: String, detail: String },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// Requires `Content-Type: application/json` (parameters such as a charset
/// are allowed).
pub fn check_media_type(headers: &HeaderMap) -> Result<(), DecodeError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(DecodeError::MediaType(None));
    };
    let text = value.to_str().unwrap_or("?");
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(protocol::JSON_CONTENT_TYPE) {
        Ok(())
    } else {
        Err(DecodeError::MediaType(Some(
            text.chars().take(100).collect(),
        )))
    }
}

/// Reads `Content-Encoding`: none or `identity`, or `gzip` (`x-gzip` is its
/// old name). Anything else, including a list of encodings, is refused.
pub fn content_encoding(headers: &HeaderMap) -> Result<Encoding, DecodeError> {
    let values: Vec<&str> = (headers.get_all(header::CONTENT_ENCODING).iter())
        .map(|v| v.to_str().unwrap_or("?"))
        .collect();
    let value = match values.as_slice() {
        [] => return Ok(Encoding::Identity),
        [one] => *one,
        several => return Err(DecodeError::Encoding(several.join(", "))),
    };
    let text = value.trim();
    match text.to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        _ => Err(DecodeError::Encoding(text.chars().take(50).collect())),
    }
}

/// Decompresses, checks the protocol version on the raw JSON (so a newer
/// agent's report is refused as "unsupported version", not as a confusing
/// decode error), decodes and validates.
pub fn decode(body: &[u8], encoding: Encoding, limits: Limits) -> Result<Report, DecodeError> {
    let inflated;
    let json = match encoding {
        Encoding::Identity if body.len() > limits.max_decompressed => {
            return Err(DecodeError::DecompressedTooLarge {
                limit: limits.max_decompressed,
            });
        }
        Encoding::Identity => body,
        Encoding::Gzip => {
            inflated = gunzip(body, limits.max_decompressed)?;
            &inflated[..]
        }
    };
    // A byte-order mark is not JSON, but some Windows tools write one.
    let json = json.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(json);
    if json
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b != b'{')
    {
        return Err(DecodeError::NotObject);
    }
    if nesting_exceeds(json, MAX_JSON_DEPTH) {
        return Err(DecodeError::TooDeep {
            max: MAX_JSON_DEPTH,
        });
    }
    protocol::check_version(json).map_err(|e| match e {
        VersionError::Malformed(e) => DecodeError::Json(e),
        VersionError::Missing => DecodeError::MissingVersion,
        VersionError::Unsupported { got, .. } => DecodeError::UnsupportedVersion(got),
    })?;
    // Tracking the path to a bad field costs on every report: it is worked
    // out only for a report that fails.
    let plain = Report::deserialize(&mut serde_json::Deserializer::from_slice(json));
    let report = match plain {
        Ok(report) => report,
        Err(plain) => {
            return Err(serde_path_to_error::deserialize::<_, Report>(
                &mut serde_json::Deserializer::from_slice(json),
            )
            .map_or_else(field_error, |_| DecodeError::Json(plain)));
        }
    };
    validate::validate_report(&report)?;
    Ok(report)
}

/// Whether `[` / `{` nest deeper than `max` anywhere outside strings. One
/// pass over the bytes, no allocation; malformed JSON is left to the parser.
fn nesting_exceeds(json: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Inflates at most `limit + 1` bytes: one byte over the limit is enough to
/// refuse, however far a gzip bomb would expand.
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    GzDecoder::new(body)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(DecodeError::Gzip)?;
    if out.len() > limit {
        return Err(DecodeError::DecompressedTooLarge { limit });
    }
    Ok(out)
}

/// A decode error with the JSON path of the offending field, e.g.
/// `inventory.nics[0].link_mbps`; for a missing field, the field itself.
fn field_error(err: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    let path = err.path().to_string();
    let detail = without_position(err.inner());
    let missing = (detail.strip_prefix("missing field `")).and_then(|rest| rest.split('`').next());
    let field = match (path.as_str(), missing) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "(báo cáo / report)".to_owned(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_owned(),
    };
    DecodeError::Field { field, detail }
}

/// serde_json's message without its " at line L column C" suffix.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// "4 MiB", "512 KiB" or "1000 byte": limits as a person reads them.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} byte"),
    }
}

fn supported_versions(lang: Lang) -> String {
    let (min, max) = (SUPPORTED_VERSIONS.start(), SUPPORTED_VERSIONS.end());
    if min == max {
        min.to_string()
    } else {
        format!("{min} {} {max}", lang.pick("đến", "to"))
    }
}

impl DecodeError {
    pub fn status(&self) -> StatusCode {
        use DecodeError::*;
        match self {
            MediaType(_) | Encoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            TooLarge { .. } | DecompressedTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Gzip(_)
            | Read(_)
            | Json(_)
            | NotObject
            | TooDeep { .. }
            | MissingVersion
            | UnsupportedVersion(_) => StatusCode::BAD_REQUEST,
            Field { .. } | Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub fn code(&self) -> ErrorCode {
        use DecodeError::*;
        match self {
            MediaType(_) => ErrorCode::UnsupportedMediaType,
            Encoding(_) => ErrorCode::UnsupportedEncoding,
            TooLarge { .. } | DecompressedTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Gzip(_) | Read(_) | Json(_) | NotObject | TooDeep { .. } => ErrorCode::MalformedJson,
            MissingVersion | UnsupportedVersion(_) => ErrorCode::UnsupportedProtocol,
            Field { .. } | Invalid(_) => ErrorCode::InvalidField,
        }
    }

    pub fn field(&self) -> Option<String> {
        match self {
            DecodeError::Field { field, .. } => Some(field.clone()),
            DecodeError::Invalid(e) => Some(e.field.clone()),
            DecodeError::MissingVersion | DecodeError::UnsupportedVersion(_) => {
                Some("protocol_version".into())
            }
            _ => None,
        }
    }

    /// What the sender reads. English messages stay ASCII.
    pub fn message(&self, lang: Lang) -> String {
        use DecodeError::*;
        let vi = lang == Lang::Vi;
        match self {
            MediaType(got) => {
                let got = match (got, vi) {
                    (Some(got), true) => format!("nhận được: {got}"),
                    (Some(got), false) => format!("got: {got}"),
                    (None, true) => "yêu cầu không có Content-Type".into(),
                    (None, false) => "the request has no Content-Type".into(),
                };
                if vi {
                    format!("Báo cáo phải được gửi với Content-Type: application/json ({got}).")
                } else {
                    format!("Reports must be sent with Content-Type: application/json ({got}).")
                }
            }
            Encoding(got) if vi => format!(
                "Content-Encoding \"{got}\" không được hỗ trợ: hãy gửi báo cáo nén gzip hoặc không nén."
            ),
            Encoding(got) => format!(
                "Content-Encoding \"{got}\" is not supported: send the report gzip-compressed or uncompressed."
            ),
            TooLarge { limit } if vi => {
                format!(
                    "Báo cáo quá lớn: vượt giới hạn {} của máy chủ.",
                    size(*limit)
                )
            }
            TooLarge { limit } => {
                format!(
                    "The report is too large: over the server's limit of {}.",
                    size(*limit)
                )
            }
            DecompressedTooLarge { limit } if vi => format!(
                "Báo cáo sau khi giải nén vượt giới hạn {} của máy chủ.",
                size(*limit)
            ),
            DecompressedTooLarge { limit } => format!(
                "The report is over the server's limit of {} once decompressed.",
                size(*limit)
            ),
            Gzip(e) if vi => format!("Nội dung không phải dữ liệu gzip hợp lệ: {e}."),
            Gzip(e) => format!("The body is not valid gzip data: {e}."),
            Read(e) if vi => format!("Không đọc được nội dung yêu cầu: {e}."),
            Read(e) => format!("Cannot read the request body: {e}."),
            NotObject => lang
                .pick(
                    "JSON không hợp lệ: báo cáo phải là một đối tượng JSON.",
                    "Invalid JSON: a report must be a JSON object.",
                )
                .to_owned(),
            TooDeep { max } if vi => {
                format!("JSON không hợp lệ: lồng nhau quá {max} cấp.")
            }
            TooDeep { max } => format!("Invalid JSON: nested deeper than {max} levels."),
            Json(e) if vi => format!(
                "JSON không hợp lệ ở dòng {}, cột {}: {}.",
                e.line(),
                e.column(),
                without_position(e)
            ),
            Json(e) => format!(
                "Malformed JSON at line {}, column {}: {}.",
                e.line(),
                e.column(),
                without_position(e)
            ),
            MissingVersion if vi => format!(
                "Báo cáo thiếu trường protocol_version (phiên bản giao thức, một số nguyên). \
                 Máy chủ này hỗ trợ phiên bản {}.",
                supported_versions(lang)
            ),
            MissingVersion => format!(
                "The report has no protocol_version (an integer). This server supports version {}.",
                supported_versions(lang)
            ),
            UnsupportedVersion(got) => {
                let newer = *got > u64::from(*SUPPORTED_VERSIONS.end());
                let (hint_vi, hint_en) = if newer {
                    (
                        "Hãy cập nhật máy chủ Kiểm kê.",
                        "Update the Kiem ke server.",
                    )
                } else {
                    (
                        "Hãy cập nhật agent Kiểm kê trên máy này.",
                        "Update the agent on this PC.",
                    )
                };
                if vi {
                    format!(
                        "Phiên bản giao thức {got} không được hỗ trợ; máy chủ này hỗ trợ phiên bản {}. {hint_vi}",
                        supported_versions(lang)
                    )
                } else {
                    format!(
                        "Protocol version {got} is not supported; this server supports version {}. {}",
                        supported_versions(lang),
                        hint_en
                    )
                }
            }
            Field { field, detail } if vi => format!("Trường {field} không hợp lệ: {detail}."),
            Field { field, detail } => format!("Field {field} is invalid: {detail}."),
            Invalid(e) => e.message(lang),
        }
    }
}

#[cfg(test)]
mod tests;
