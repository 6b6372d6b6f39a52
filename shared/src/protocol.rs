//! The protocol: its version, endpoint paths and headers, and the version
//! check applied to a report before it is decoded.
//!
//! The version check reads only `protocol_version` from the raw JSON, so a
//! report from a newer agent whose sections changed shape is refused with
//! "unsupported protocol version" rather than a confusing decode error.

use std::ops::RangeInclusive;

use serde::Deserialize;

/// The protocol version this build of the agent writes.
pub const PROTOCOL_VERSION: u32 = 1;

/// The protocol versions this build of the server reads.
pub const SUPPORTED_VERSIONS: RangeInclusive<u32> = 1..=1;

/// `POST`: submit one report (JSON, optionally gzip-compressed).
pub const REPORTS_PATH: &str = "/api/v1/reports";
/// `GET`: the device list; `GET {DEVICES_PATH}/{id}`: one device.
pub const DEVICES_PATH: &str = "/api/v1/devices";
/// `POST`: exchange an enrollment token for an agent credential
/// ([`crate::auth::EnrollRequest`] → [`crate::auth::EnrollResponse`]).
pub const ENROLL_PATH: &str = "/api/v1/enroll";
/// Prefix of the province's administration API (enrollment tokens, agents,
/// sites), guarded by the server's admin token.
pub const ADMIN_PATH: &str = "/api/v1/admin";
/// `GET`: liveness and version of the server.
pub const HEALTH_PATH: &str = "/api/v1/health";

/// The throughput test endpoints: `{SPEEDTEST_PATH}/garbage?ckSize=N`
/// (download), `{SPEEDTEST_PATH}/empty` (upload), `{SPEEDTEST_PATH}/ip`. The
/// server also answers LibreSpeed's own paths (`/garbage`, `/empty`,
/// `/getIP`), so LibreSpeed clients can test against it.
pub const SPEEDTEST_PATH: &str = "/api/v1/speedtest";

/// Request header naming one throughput test (a fresh UUID per test): the
/// server counts a new id from the same client as a new test. Who the
/// client is comes from its credential (`Authorization`, as on reports),
/// never from a header it could change.
pub const TEST_HEADER: &str = "x-kiemke-test";

/// Request header carrying the protocol version the agent speaks; the body's
/// `protocol_version` is authoritative, the header lets proxies and logs see it.
pub const PROTOCOL_HEADER: &str = "x-kiemke-protocol";

/// The JSON media type reports must be sent as.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Why a report's protocol version is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error("body is not valid JSON: {0}")]
    Malformed(#[source] serde_json::Error),
    #[error("report has no protocol_version")]
    Missing,
    #[error("protocol version {got} is not supported (supported: {min}..={max})")]
    Unsupported { got: u64, min: u32, max: u32 },
}

/// Reads `protocol_version` from a raw report and checks it is supported.
pub fn check_version(raw_json: &[u8]) -> Result<u32, VersionError> {
    #[derive(Deserialize)]
    struct Envelope {
        protocol_version: Option<serde_json::Value>,
    }
    let envelope: Envelope = serde_json::from_slice(raw_json).map_err(VersionError::Malformed)?;
    let value = envelope.protocol_version.ok_or(VersionError::Missing)?;
    let got = value.as_u64().ok_or(VersionError::Missing)?;
    match u32::try_from(got) {
        Ok(v) if SUPPORTED_VERSIONS.contains(&v) => Ok(v),
        _ => Err(VersionError::Unsupported {
            got,
            min: *SUPPORTED_VERSIONS.start(),
            max: *SUPPORTED_VERSIONS.end(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_check() {
        assert_eq!(
            check_version(br#"{"protocol_version":1,"x":{}}"#).ok(),
            Some(1)
        );
        assert!(matches!(
            check_version(br#"{"protocol_version":2,"inventory":"changed shape"}"#),
            Err(VersionError::Unsupported { got: 2, .. })
        ));
        assert!(matches!(
            check_version(br#"{"report_id":"x"}"#),
            Err(VersionError::Missing)
        ));
        assert!(matches!(
            check_version(br#"{"protocol_version":"1"}"#),
            Err(VersionError::Missing)
        ));
        assert!(matches!(
            check_version(b"{not json"),
            Err(VersionError::Malformed(_))
        ));
    }
}
