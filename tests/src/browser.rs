//! A real Chromium, driven over WebDriver (`chromium-driver` from Debian,
//! `fantoccini` as the client): headless, a fresh profile per browser, and
//! downloads into a directory of the test's. Without Chromium or its driver
//! the browser tests fail and say what to install; they never skip.
//!
//! `KIEMKE_CHROMIUM` and `KIEMKE_CHROMEDRIVER` override the binaries'
//! paths. Screenshots go to `<target dir>/screenshots/` (the target dir of
//! the running test binary, so `CARGO_TARGET_DIR` is honoured).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tempfile::TempDir;

/// How long to wait for the driver to start or a page element to appear.
const WAIT: Duration = Duration::from_secs(30);

/// Flags that work in containers and CI: no sandbox (root), no GPU, no
/// background traffic to the internet.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
];

fn find(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A headless Chromium with its driver; both end when it is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
    downloads: TempDir,
}

impl Browser {
    pub async fn start() -> anyhow::Result<Browser> {
        let missing = "Chromium và chromium-driver chưa được cài: apt-get install chromium \
                       chromium-driver (.ci/run cài sẵn). / Chromium or its WebDriver is not \
                       installed: apt-get install chromium chromium-driver";
        let chromium =
            find("KIEMKE_CHROMIUM", &["chromium", "chromium-browser"]).context(missing)?;
        let chromedriver = find("KIEMKE_CHROMEDRIVER", &["chromedriver"]).context(missing)?;
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("Failed to start {}", chromedriver.display()))?;
        let stdout = driver.stdout.take().context("no driver stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port);
                }
            }
        });
        let port = match rx.recv_timeout(WAIT) {
            Ok(port) => port,
            Err(_) => {
                let _ = driver.kill();
                bail!("{} did not report its port", chromedriver.display());
            }
        };
        let profile = tempfile::tempdir()?;
        let downloads = tempfile::tempdir()?;
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.kill();
                return Err(e).context("Failed to start a Chromium session");
            }
        };
        Ok(Browser {
            client,
            driver,
            _profile: profile,
            downloads,
        })
    }

    /// Opens `url` and returns the page's visible text.
    pub async fn open(&self, url: &str) -> anyhow::Result<String> {
        self.client.goto(url).await?;
        self.text().await
    }

    pub async fn text(&self) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// Logs in through the log-in form and waits for the page it leads to.
    pub async fn log_in(
        &self,
        base: &str,
        user: &str,
        password: &str,
        next: &str,
    ) -> anyhow::Result<()> {
        self.client
            .goto(&format!("{base}login?next={}", encode(next)))
            .await?;
        let form = self
            .client
            .form(Locator::Css("form[action^='/login']"))
            .await?;
        form.set_by_name("username", user).await?;
        form.set_by_name("password", password).await?;
        form.submit().await?;
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.client.current_url().await?;
            if !url.path().starts_with("/login") {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("still on the log-in page: {}", self.text().await?);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the current page as `<target>/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = screenshot_dir()?;
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)?;
        Ok(path)
    }

    /// Waits for a finished download whose name ends with `suffix` (Chromium
    /// writes `.crdownload` until it is complete).
    pub async fn downloaded(&self, suffix: &str) -> anyhow::Result<PathBuf> {
        let deadline = Instant::now() + WAIT;
        loop {
            for entry in std::fs::read_dir(self.downloads.path())? {
                let path = entry?.path();
                if path.to_string_lossy().ends_with(suffix) {
                    return Ok(path);
                }
            }
            if Instant::now() > deadline {
                bail!("no {suffix} download within {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `<target dir>/screenshots`, from where this test binary was built
/// (`<target>/<profile>/deps/<binary>`).
pub fn screenshot_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let target = exe
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "deps"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .context("the test binary is not under a cargo target directory")?;
    Ok(target.join("screenshots"))
}
