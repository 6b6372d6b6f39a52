//! A real server for a benchmark: this same executable run as `serve` on
//! `127.0.0.1:0` (the code path of a production start), its store in a
//! temporary directory, its admin token random. A child process, so its
//! memory is its own and the load generator's is not counted.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};
use kiemke_shared::Lang;

/// A running server started by a benchmark; stopped (killed) on drop, its
/// data directory removed unless the caller named it.
pub struct SpawnedServer {
    child: Child,
    pub url: String,
    pub admin_token: String,
    pub data_dir: PathBuf,
    /// The temporary directory holding `data_dir`, removed on drop; `None`
    /// for a directory the caller chose (kept for the next run).
    _temp: Option<tempfile::TempDir>,
}

impl SpawnedServer {
    /// Starts `kiemke-server serve` on a new temporary data directory, after
    /// `prepare` has run on that (still closed) directory — e.g. to load a
    /// registry through the store module. Waits up to `ready_within` for
    /// the ready line (a large store takes time to open).
    pub fn start(
        lang: Lang,
        ready_within: Duration,
        prepare: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<SpawnedServer> {
        let temp = tempfile::Builder::new()
            .prefix("kiemke-bench-")
            .tempdir()
            .context("temporary data directory")?;
        let data_dir = temp.path().join("data");
        Self::start_in(data_dir, Some(temp), lang, ready_within, prepare)
    }

    /// Like [`SpawnedServer::start`] on `data_dir`, which is kept when
    /// `temp` is `None` (a benchmark reusing a store it loaded before).
    pub fn start_in(
        data_dir: PathBuf,
        temp: Option<tempfile::TempDir>,
        lang: Lang,
        ready_within: Duration,
        prepare: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<SpawnedServer> {
        prepare(&data_dir)?;
        let admin_token = crate::auth::secret::generate().expose().to_owned();
        let (child, url) = start_on(&data_dir, &admin_token, lang, ready_within)?;
        Ok(SpawnedServer {
            child,
            url,
            admin_token,
            data_dir,
            _temp: temp,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server (SIGKILL: a benchmark's store is thrown away) and
    /// waits for it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server and starts it again on the same data directory;
    /// how long until it answered its health check.
    pub fn restart(&mut self, lang: Lang, ready_within: Duration) -> anyhow::Result<Duration> {
        self.stop();
        let started = std::time::Instant::now();
        let (child, url) = start_on(&self.data_dir, &self.admin_token, lang, ready_within)?;
        self.child = child;
        self.url = url;
        Ok(started.elapsed())
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn start_on(
    data_dir: &Path,
    admin_token: &str,
    lang: Lang,
    ready_within: Duration,
) -> anyhow::Result<(Child, String)> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let mut child = Command::new(&exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--lang", lang.tag()])
        .arg("--data")
        .arg(data_dir)
        .env("KIEMKE_SERVER_ADMIN_TOKEN", admin_token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading so the server never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(start) = line.find("http://") {
                let url = line[start..].split_whitespace().next().unwrap_or("");
                let _ = tx.send(url.to_owned());
            }
        }
    });
    match rx.recv_timeout(ready_within) {
        Ok(url) => Ok((child, url)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{} ({ready_within:?})",
                lang.pick(
                    "máy chủ không báo sẵn sàng kịp thời",
                    "the server did not announce itself in time"
                )
            )
        }
    }
}
