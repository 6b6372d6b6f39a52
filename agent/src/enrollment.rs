//! Enrollment: `kiemke-agent enroll --server URL --token TOKEN` exchanges a
//! one-time enrollment token for this installation's own credential, and
//! keeps it, with the server's address and how to trust its certificate, in
//! `enrollment.json` in the data directory.
//!
//! The file is written atomically and owner-only on Unix (0600, in a 0700
//! directory). On Windows the data directory is under `%ProgramData%`, whose
//! default ACL lets local users read it: the installer (issue 9) restricts it
//! to SYSTEM and Administrators.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use kiemke_shared::api::ApiError;
use kiemke_shared::auth::{AgentCredential, EnrollRequest, EnrollResponse, EnrollmentToken};
use kiemke_shared::protocol::ENROLL_PATH;
use kiemke_shared::{AgentId, CommuneCode, Lang, SiteCode};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::deliver::{ClientError, http_client};
use crate::state::{self, StateError};
use crate::tls::ServerTrust;

pub const ENROLLMENT_FILE: &str = "enrollment.json";

/// What enrollment left in the data directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The server the agent enrolled with (used when no `--server` is given).
    #[serde(with = "url_text")]
    pub server: Url,
    /// Sent with every report.
    pub credential: AgentCredential,
    /// Where the server files this agent's reports.
    pub commune: CommuneCode,
    #[serde(default)]
    pub site: Option<SiteCode>,
    #[serde(default)]
    pub site_name: Option<String>,
    /// How the server's certificate is checked.
    pub trust: ServerTrust,
    /// Plain HTTP to a non-loopback server was explicitly allowed.
    #[serde(default)]
    pub insecure_http: bool,
    pub enrolled_at: DateTime<Utc>,
}

impl Enrollment {
    pub fn agent_id(&self) -> AgentId {
        self.credential.agent_id
    }
}

/// Why enrollment failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    Network(String),
    /// The server said no; its message says why, in the agent's language.
    #[error("{}", .0.message)]
    Refused(ApiError),
    #[error("{0}")]
    Protocol(String),
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(ENROLLMENT_FILE)
}

/// The enrollment in `dir`, if the agent is enrolled.
pub fn load(dir: &Path) -> Result<Option<Enrollment>, StateError> {
    let path = path(dir);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| StateError::Corrupt { path }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Io { path, source }),
    }
}

/// Writes the enrollment atomically, readable by its owner only (Unix).
pub fn save(dir: &Path, enrollment: &Enrollment) -> Result<(), StateError> {
    state::ensure_data_dir(dir)?;
    let path = path(dir);
    let tmp = dir.join(format!("{ENROLLMENT_FILE}.tmp"));
    let io = |source| StateError::Io {
        path: tmp.clone(),
        source,
    };
    let json = serde_json::to_string_pretty(enrollment).map_err(|e| StateError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(json.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, &path).map_err(|source| StateError::Io {
        path: path.clone(),
        source,
    })
}

/// What `enroll` needs.
#[derive(Debug, Clone)]
pub struct EnrollOptions {
    pub server: Url,
    pub token: EnrollmentToken,
    pub trust: ServerTrust,
    pub insecure_http: bool,
    pub lang: Lang,
    pub timeout: Duration,
}

/// Exchanges the token for a credential and saves the enrollment in `dir`.
pub async fn enroll(dir: &Path, options: EnrollOptions) -> Result<Enrollment, EnrollError> {
    let agent_id = state::load_or_create_agent_id(dir)?;
    let http = http_client(
        &options.server,
        &options.trust,
        options.insecure_http,
        options.timeout,
    )?;
    let mut url = options.server.clone();
    url.set_path(ENROLL_PATH);
    let request = EnrollRequest {
        token: options.token.clone(),
        agent_id,
        hostname: sysinfo::System::host_name(),
        agent_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
    };
    let lang = options.lang;
    let response = http
        .post(url)
        .header(reqwest::header::ACCEPT_LANGUAGE, lang.tag())
        .json(&request)
        .send()
        .await
        .map_err(|e| EnrollError::Network(crate::deliver::network_message(&e, lang)))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| EnrollError::Network(crate::deliver::network_message(&e, lang)))?;
    if !status.is_success() {
        return Err(match serde_json::from_str::<ApiError>(&text) {
            Ok(error) => EnrollError::Refused(error),
            Err(_) => EnrollError::Protocol(format!(
                "{status}: {}",
                lang.pick(
                    "máy chủ trả lời bất thường (sai địa chỉ máy chủ?)",
                    "unexpected answer (wrong server address?)"
                )
            )),
        });
    }
    let answer: EnrollResponse = serde_json::from_str(&text).map_err(|_| {
        EnrollError::Protocol(
            lang.pick(
                "máy chủ trả lời không đúng giao thức đăng ký",
                "the server's answer is not a Kiểm kê enrollment",
            )
            .to_owned(),
        )
    })?;
    if answer.credential.agent_id != agent_id {
        return Err(EnrollError::Protocol(
            lang.pick(
                "máy chủ cấp thông tin xác thực cho tác tử khác",
                "the server issued a credential for another agent",
            )
            .to_owned(),
        ));
    }
    let enrollment = Enrollment {
        server: options.server,
        credential: answer.credential,
        commune: answer.commune,
        site: answer.site,
        site_name: answer.site_name,
        trust: options.trust,
        insecure_http: options.insecure_http,
        enrolled_at: Utc::now(),
    };
    save(dir, &enrollment)?;
    Ok(enrollment)
}

/// A URL as its text in the file.
mod url_text {
    use reqwest::Url;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(url: &Url, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(url.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
        let text = String::deserialize(d)?;
        crate::deliver::parse_server_url(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use kiemke_shared::auth::{SECRET_BYTES, Secret};

    use super::*;

    #[test]
    fn the_enrollment_file_round_trips_and_is_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("agent");
        assert_eq!(load(&data).expect("absent"), None);
        let enrollment = Enrollment {
            server: "https://kiemke.example.gov.vn/".parse().expect("url"),
            credential: AgentCredential {
                agent_id: AgentId::generate(),
                secret: Secret::from_bytes(&[7; SECRET_BYTES]),
            },
            commune: CommuneCode::parse("24118").expect("code"),
            site: Some(SiteCode::parse("ttpvhcc").expect("site")),
            site_name: None,
            trust: ServerTrust::Fingerprint {
                sha256: "ab".repeat(32),
            },
            insecure_http: false,
            enrolled_at: Utc::now(),
        };
        save(&data, &enrollment).expect("save");
        assert_eq!(load(&data).expect("read"), Some(enrollment));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path(&data))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(path(&data), "{").expect("write");
        assert!(matches!(load(&data), Err(StateError::Corrupt { .. })));
    }
}
