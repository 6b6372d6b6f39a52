//! Bodies of the HTTP API's responses: the report acknowledgement, the error
//! body every 4xx/5xx carries, and the device views.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, DeviceId, ReportId};
use crate::inventory::Inventory;

/// The server's answer to an accepted report. Only after receiving it may the
/// agent drop the report from its spool: the report is on disk by then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportAck {
    pub report_id: ReportId,
    /// The device this report was attributed to.
    pub device_id: DeviceId,
    pub status: AckStatus,
    pub received_at: DateTime<Utc>,
    /// The server asks the agent to run a throughput test now (on demand),
    /// besides its schedule. Absent (false) from servers that never ask.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub run_speed_test: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Stored now.
    Stored,
    /// Already stored earlier (a retry); nothing changed.
    Duplicate,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable: lets the agent decide whether to retry.
    pub error: ErrorCode,
    /// For the person reading it, in the request's language.
    pub message: String,
    /// The offending field, for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    UnsupportedMediaType,
    UnsupportedEncoding,
    PayloadTooLarge,
    UnsupportedProtocol,
    InvalidField,
    /// The report id is already stored with different content.
    Conflict,
    NotFound,
    /// No valid agent credential (missing, malformed, unknown agent, wrong
    /// secret): the agent is not enrolled with this server.
    Unauthorized,
    /// The agent's credential was revoked by the province.
    AgentRevoked,
    /// Authenticated, but not allowed: e.g. a report whose `agent_id` is not
    /// the authenticated agent's.
    Forbidden,
    /// The enrollment token is unknown or its secret is wrong.
    TokenInvalid,
    /// The enrollment token is past its expiry.
    TokenExpired,
    /// The enrollment token has been used as many times as it allows.
    TokenExhausted,
    /// The enrollment token was revoked.
    TokenRevoked,
    /// The server is overloaded or shutting down: retry later.
    Unavailable,
    /// A limit per client was reached (throughput tests per hour, bytes per
    /// test): retry after the `Retry-After` header's seconds.
    RateLimited,
    Internal,
}

impl ErrorCode {
    /// Whether sending the same request again later can succeed. The agent
    /// keeps retryable reports in its spool and sets the others aside.
    /// Credential failures count as retryable: the report is fine, the agent
    /// is not (yet) trusted, and it keeps its reports until it is.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::Unavailable
                | ErrorCode::Internal
                | ErrorCode::Unauthorized
                | ErrorCode::AgentRevoked
                | ErrorCode::RateLimited
        )
    }

    /// Whether the answer says this agent is not (or no longer) trusted: the
    /// agent stops its delivery pass, keeps every report, and says so
    /// clearly in its log instead of retrying silently.
    pub fn is_credential_failure(self) -> bool {
        matches!(self, ErrorCode::Unauthorized | ErrorCode::AgentRevoked)
    }
}

/// One device in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceSummary {
    pub id: DeviceId,
    pub hostname: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os_name: Option<String>,
    pub cpu_brand: Option<String>,
    pub memory_total_bytes: Option<u64>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub report_count: u64,
    /// Every agent installation that reported for this device.
    pub agent_ids: Vec<AgentId>,
}

/// `GET /api/v1/devices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceSummary>,
    pub total: u64,
}

/// `GET /api/v1/devices/{id}`: the latest inventory and the report history,
/// newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceDetail {
    pub device: DeviceSummary,
    pub inventory: Option<Inventory>,
    pub reports: Vec<ReportSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub report_id: ReportId,
    pub agent_id: AgentId,
    pub taken_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub protocol_versions: Vec<u32>,
}
