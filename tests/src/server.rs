//! The real server, as a child process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};
use kiemke_shared::api::{DeviceDetail, DeviceList};
use kiemke_shared::{DeviceId, protocol};

/// A running `kiemke-server serve` on `127.0.0.1:0`.
pub struct ServerProcess {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234/`.
    pub url: String,
    pub data_dir: PathBuf,
    http: reqwest::Client,
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
        Self::start_with_args(binary, data_dir, listen, &[])
    }

    /// Like [`ServerProcess::start_on`] with more `serve` flags (e.g. the
    /// throughput test limits).
    pub fn start_with_args(
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
    pub fn start_with(
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
            .stdout(Stdio::piped())
            .stderr(if log { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .with_context(|| format!("Failed to start {command:?}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading so the server never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(start) = line.find("http://") {
                    let url: String = line[start..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                bail!("server did not announce its address within 30 s");
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(ServerProcess {
            child,
            url,
            data_dir: data_dir.to_owned(),
            http,
        })
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

    /// Posts a raw body with the given headers.
    pub async fn post_raw(
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

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
