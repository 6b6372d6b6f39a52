//! The real server, as a child process.
//!
//! Reports need an enrolled agent. The harness enrolls the way a province
//! does: it starts the server with an admin token, creates an enrollment
//! token through the admin API, and exchanges it at `POST /api/v1/enroll`
//! (for a raw agent id) or through the agent library's `enroll` (for a
//! [`TestAgent`]'s data directory). [`ServerProcess::post_raw`] sends as the
//! agent its body names, enrolled on first use; [`ServerProcess::post_with`]
//! sends exactly the headers given.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use anyhow::{Context, bail};
use flate2::read::GzDecoder;
use kiemke_agent::enrollment::{self, EnrollOptions, Enrollment};
use kiemke_agent::tls::ServerTrust;
use kiemke_shared::api::{DeviceDetail, DeviceList};
use kiemke_shared::auth::{EnrollResponse, EnrollmentToken};
use kiemke_shared::{AgentId, DeviceId, Lang, protocol};

use crate::agent::TestAgent;

/// The admin token every test server runs with.
pub const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789abcdef";

/// The commune the harness enrolls its agents in.
pub const COMMUNE: &str = "24118";

/// A running `kiemke-server serve` on `127.0.0.1:0`.
pub struct ServerProcess {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234/` (`https://` with TLS).
    pub url: String,
    pub data_dir: PathBuf,
    /// The own CA's fingerprint as the server printed it (with TLS).
    pub ca_fingerprint: Option<String>,
    /// The first start's `admin` password, when this start created it.
    pub first_admin_password: Option<String>,
    http: reqwest::Client,
    /// The harness's enrollment token, created on first need.
    token: Mutex<Option<EnrollmentToken>>,
    /// `Authorization` values of the agents enrolled through this process.
    credentials: Mutex<HashMap<AgentId, String>>,
}

impl ServerProcess {
    /// Starts the server on a free port with its store in `data_dir`, and
    /// waits until it announces its address (it binds before announcing).
    pub fn start(binary: &Path, data_dir: &Path) -> anyhow::Result<ServerProcess> {
        Self::start_on(binary, data_dir, "127.0.0.1:0")
    }

    /// Like [`ServerProcess::start`] on a chosen address (to come back on the
    /// port agents already know).
    pub fn start_on(binary: &Path, data_dir: &Path, listen: &str) -> anyhow::Result<ServerProcess> {
        Self::start_with(binary, data_dir, listen, &[])
    }

    /// Like [`ServerProcess::start_on`] with more `serve` flags (e.g.
    /// `--tls-self-signed`, `--policy FILE`, `--evaluation-date 2026-06-30`).
    pub fn start_with(
        binary: &Path,
        data_dir: &Path,
        listen: &str,
        extra: &[&str],
    ) -> anyhow::Result<ServerProcess> {
        Self::spawn(Command::new(binary), data_dir, listen, extra)
    }

    /// Like [`ServerProcess::start_on`] with a prepared command whose
    /// program is the server binary, e.g. `ip netns exec NS <binary>` from
    /// [`crate::netns::ShapedLink::command_in`]. (The [`ServerProcess::http`]
    /// client runs in this process's namespace: it may not reach a server in
    /// another one.)
    pub fn start_command(
        command: Command,
        data_dir: &Path,
        listen: &str,
    ) -> anyhow::Result<ServerProcess> {
        Self::spawn(command, data_dir, listen, &[])
    }

    fn spawn(
        mut command: Command,
        data_dir: &Path,
        listen: &str,
        extra: &[&str],
    ) -> anyhow::Result<ServerProcess> {
        let log = std::env::var_os("TEST_LOG").is_some();
        let mut child = command
            .args(["serve", "--listen", listen, "--data"])
            .arg(data_dir)
            .args(extra)
            .env("KIEMKE_SERVER_ADMIN_TOKEN", ADMIN_TOKEN)
            .stdout(Stdio::piped())
            .stderr(if log { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .with_context(|| format!("Failed to start {command:?}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading so the server never blocks on a full pipe.
            let mut fingerprint = None;
            let mut password = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some((_, fp)) = line.split_once("(SHA-256): ") {
                    fingerprint = Some(fp.trim().to_owned());
                }
                if let Some(p) = crate::web::first_admin_password(&line) {
                    password = Some(p);
                    continue;
                }
                if let Some(start) = line.find("http://").or_else(|| line.find("https://")) {
                    let url: String = line[start..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let _ = tx.send((url, fingerprint.clone(), password.clone()));
                }
            }
        });
        let (url, ca_fingerprint, first_admin_password) =
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(found) => found,
                Err(_) => {
                    let _ = child.kill();
                    bail!("server did not announce its address within 30 s");
                }
            };
        let trust = trust_for(ca_fingerprint.as_deref())?;
        // A server announcing http:// off loopback was told so explicitly
        // (--insecure-http, e.g. on a test link): the harness follows it.
        let http = kiemke_agent::deliver::http_client(
            &kiemke_agent::deliver::parse_server_url(&url)?,
            &trust,
            url.starts_with("http://"),
            Duration::from_secs(30),
        )?;
        Ok(ServerProcess {
            child,
            url,
            data_dir: data_dir.to_owned(),
            ca_fingerprint,
            first_admin_password,
            http,
            token: Mutex::new(None),
            credentials: Mutex::new(HashMap::new()),
        })
    }

    /// How an agent trusts this server: its own CA's pin, if it has one.
    pub fn trust(&self) -> anyhow::Result<ServerTrust> {
        trust_for(self.ca_fingerprint.as_deref())
    }

    /// Calls the admin API (`POST` with a JSON body, or `GET` without).
    pub async fn admin(
        &self,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let url = self.endpoint(&format!("{}{path}", protocol::ADMIN_PATH));
        let request = match body {
            Some(body) => self.http.post(url).json(&body),
            None => self.http.get(url),
        };
        let response = request.bearer_auth(ADMIN_TOKEN).send().await?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or_default()))
    }

    /// Creates an enrollment token through the admin API.
    pub async fn create_token(&self, body: serde_json::Value) -> anyhow::Result<EnrollmentToken> {
        let (status, answer) = self.admin("/tokens", Some(body)).await?;
        anyhow::ensure!(status == 201, "create token: {status} {answer}");
        Ok(EnrollmentToken::parse(
            answer["token"].as_str().unwrap_or_default(),
        )?)
    }

    /// The harness's token (many uses), created on first need.
    pub async fn harness_token(&self) -> anyhow::Result<EnrollmentToken> {
        if let Some(token) = self.token.lock().expect("lock").clone() {
            return Ok(token);
        }
        let token = self
            .create_token(serde_json::json!({"commune": COMMUNE, "uses": 10_000, "expires": "1d"}))
            .await?;
        *self.token.lock().expect("lock") = Some(token.clone());
        Ok(token)
    }

    /// Enrolls `agent` with `token` at `POST /api/v1/enroll`; its
    /// `Authorization` header value.
    pub async fn enroll(&self, token: &EnrollmentToken, agent: AgentId) -> anyhow::Result<String> {
        let response = self
            .http
            .post(self.endpoint(protocol::ENROLL_PATH))
            .json(&serde_json::json!({"token": token, "agent_id": agent}))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "enroll: {}",
            response.status()
        );
        let enrolled: EnrollResponse = response.json().await?;
        Ok(enrolled.credential.authorization())
    }

    /// Enrolls `agent` at `POST /api/v1/enroll` (once per agent and server
    /// process); its `Authorization` header value.
    pub async fn credential(&self, agent: AgentId) -> anyhow::Result<String> {
        if let Some(known) = self.credentials.lock().expect("lock").get(&agent) {
            return Ok(known.clone());
        }
        let token = self.harness_token().await?;
        let header = self.enroll(&token, agent).await?;
        self.credentials
            .lock()
            .expect("lock")
            .insert(agent, header.clone());
        Ok(header)
    }

    /// Enrolls the agent whose data directory is `dir`, through the agent
    /// library's `enroll` (what `kiemke-agent enroll` does).
    pub async fn enroll_dir(&self, dir: &Path) -> anyhow::Result<Enrollment> {
        let options = EnrollOptions {
            server: kiemke_agent::deliver::parse_server_url(&self.url)?,
            token: self.harness_token().await?,
            trust: self.trust()?,
            insecure_http: false,
            lang: Lang::Vi,
            timeout: Duration::from_secs(30),
        };
        let enrolled = enrollment::enroll(dir, options).await?;
        self.credentials
            .lock()
            .expect("lock")
            .insert(enrolled.agent_id(), enrolled.credential.authorization());
        Ok(enrolled)
    }

    /// A new agent installation in `dir`, enrolled with this server.
    pub async fn install_agent(&self, dir: &Path) -> anyhow::Result<TestAgent> {
        self.enroll_dir(dir).await?;
        TestAgent::install(dir)
    }

    /// `kill -9`: no graceful shutdown, no chance to flush anything.
    pub fn kill9(mut self) -> anyhow::Result<()> {
        self.child.kill().context("Failed to kill the server")?;
        self.child.wait().context("Failed to reap the server")?;
        Ok(())
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.url.trim_end_matches('/'), path)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn devices(&self) -> anyhow::Result<DeviceList> {
        let response = self
            .http
            .get(self.endpoint(protocol::DEVICES_PATH))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "GET devices: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    pub async fn device(&self, id: DeviceId) -> anyhow::Result<DeviceDetail> {
        let response = self
            .http
            .get(self.endpoint(&format!("{}/{id}", protocol::DEVICES_PATH)))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "GET device: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    /// Polls until `done` holds for the device list, or fails after
    /// `deadline` (a condition with a deadline, not a fixed sleep).
    pub async fn wait_for(
        &self,
        deadline: Duration,
        done: impl Fn(&DeviceList) -> bool,
    ) -> anyhow::Result<DeviceList> {
        let until = std::time::Instant::now() + deadline;
        loop {
            let list = self.devices().await?;
            if done(&list) {
                return Ok(list);
            }
            if std::time::Instant::now() > until {
                bail!("condition not reached within {deadline:?}: {list:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Total reports stored, summed over devices: what "changes nothing"
    /// is checked against.
    pub async fn stored_reports(&self) -> anyhow::Result<u64> {
        Ok(self
            .devices()
            .await?
            .devices
            .iter()
            .map(|d| d.report_count)
            .sum())
    }

    /// Posts a raw body with the given headers, as the agent the body names
    /// (a default agent for bodies that name none), enrolled on first use.
    pub async fn post_raw(
        &self,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let agent = agent_in(&body).unwrap_or_else(default_agent);
        let auth = self.credential(agent).await?;
        let mut headers = headers.to_vec();
        headers.push(("authorization", &auth));
        self.post_with(body, &headers).await
    }

    /// Posts a raw body with exactly the given headers (no credential added).
    pub async fn post_with(
        &self,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let mut request = self
            .http
            .post(self.endpoint(protocol::REPORTS_PATH))
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Ok((status, json))
    }
}

fn trust_for(fingerprint: Option<&str>) -> anyhow::Result<ServerTrust> {
    Ok(match fingerprint {
        Some(fp) => ServerTrust::Fingerprint {
            sha256: kiemke_agent::tls::parse_fingerprint(fp)?,
        },
        None => ServerTrust::System,
    })
}

/// The agent that sends bodies naming none (malformed ones): one per test
/// process is enough.
fn default_agent() -> AgentId {
    static AGENT: std::sync::OnceLock<AgentId> = std::sync::OnceLock::new();
    *AGENT.get_or_init(AgentId::generate)
}

/// The `agent_id` a (possibly gzipped) report body names, if it is readable.
fn agent_in(body: &[u8]) -> Option<AgentId> {
    let mut text = Vec::new();
    if body.starts_with(&[0x1f, 0x8b]) {
        GzDecoder::new(body)
            .take(1 << 20)
            .read_to_end(&mut text)
            .ok()?;
    } else {
        text = body.to_vec();
    }
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    value.get("agent_id")?.as_str()?.parse().ok()
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
