//! `kiemke-server backup` and `kiemke-server restore`: the commands around
//! [`crate::store::backup`].
//!
//! - `backup -o FILE --data DIR`: a stopped server's store (the store is
//!   locked while a server runs on it, and we say so).
//! - `backup -o FILE --server URL --admin-token TOKEN`: a running server's,
//!   through `POST /api/v1/admin/backup`; the download is verified before it
//!   takes its final name.
//! - `restore FILE --data DIR [--force]`: verified first, then atomic.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use kiemke_shared::Lang;
use kiemke_shared::api::ApiError;
use reqwest::Url;

use crate::config::defaults;
use crate::routes::backup as online;
use crate::store::backup::{self, BackupError, Manifest};
use crate::store::{Store, StoreError};

/// The flags of `kiemke-server backup`.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// Tệp sao lưu sẽ ghi (the backup file to write)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Thư mục dữ liệu của máy chủ đã dừng; bỏ qua khi có --server (a stopped
    /// server's data directory; ignored with --server)
    #[arg(long = "data", env = "KIEMKE_SERVER_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Địa chỉ của máy chủ đang chạy, ví dụ http://127.0.0.1:8080/ (a running server)
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Mã quản trị của máy chủ đang chạy (the running server's admin token)
    #[arg(
        long,
        env = "KIEMKE_SERVER_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Ngôn ngữ: vi hoặc en (language)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
}

/// The flags of `kiemke-server restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// Tệp sao lưu (the backup file)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Thư mục dữ liệu sẽ tạo; phải trống (the data directory to create; must be empty)
    #[arg(long = "data", env = "KIEMKE_SERVER_DATA", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Thay thế thư mục không trống; dữ liệu cũ được chuyển sang bên cạnh
    /// (replace a non-empty directory; its contents are moved aside)
    #[arg(long)]
    pub force: bool,
    /// Ngôn ngữ: vi hoặc en (language)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
}

/// "123 bản ghi (45 báo cáo, 6 thiết bị)".
fn describe(manifest: &Manifest, lang: Lang) -> String {
    let count = |tree: &str| manifest.totals.trees.get(tree).copied().unwrap_or(0);
    match lang {
        Lang::Vi => format!(
            "{} bản ghi ({} báo cáo, {} thiết bị)",
            manifest.totals.entries,
            count("reports"),
            count("devices")
        ),
        Lang::En => format!(
            "{} entries ({} reports, {} devices)",
            manifest.totals.entries,
            count("reports"),
            count("devices")
        ),
    }
}

pub async fn backup_command(args: BackupArgs) -> anyhow::Result<()> {
    let lang = args.lang.unwrap_or_default();
    let manifest = match &args.server {
        Some(url) => backup_online(url, args.admin_token.as_deref(), &args.output, lang).await?,
        None => {
            let data_dir = (args.data_dir.clone()).unwrap_or_else(|| defaults::DATA_DIR.into());
            let output = args.output.clone();
            tokio::task::spawn_blocking(move || backup_offline(&data_dir, &output, lang))
                .await
                .context("the backup task failed")??
        }
    };
    println!(
        "{} {} {} {}. SHA-256: {}",
        lang.pick("Đã sao lưu", "Backed up"),
        describe(&manifest, lang),
        lang.pick("vào", "to"),
        args.output.display(),
        manifest.totals.sha256
    );
    Ok(())
}

fn backup_offline(data_dir: &Path, output: &Path, lang: Lang) -> anyhow::Result<Manifest> {
    let store = match Store::open(data_dir) {
        Ok(store) => store,
        Err(StoreError::Locked { .. }) => bail!(
            "{}",
            match lang {
                Lang::Vi => format!(
                    "Máy chủ Kiểm kê đang chạy trên thư mục dữ liệu {}. Hãy sao lưu qua \
                     máy chủ: kiemke-server backup -o {} --server URL --admin-token TOKEN.",
                    data_dir.display(),
                    output.display()
                ),
                Lang::En => format!(
                    "A Kiem ke server is running on {}. Back it up through the server: \
                     kiemke-server backup -o {} --server URL --admin-token TOKEN.",
                    data_dir.display(),
                    output.display()
                ),
            }
        ),
        Err(e) => bail!("{}", e.message(lang)),
    };
    backup::backup_to_file(&store, output).map_err(|e| anyhow!(e.message(lang)))
}

async fn backup_online(
    server: &str,
    token: Option<&str>,
    output: &Path,
    lang: Lang,
) -> anyhow::Result<Manifest> {
    let Some(token) = token else {
        bail!(
            "{}",
            lang.pick(
                "Cần mã quản trị của máy chủ: --admin-token TOKEN (hoặc biến KIEMKE_SERVER_ADMIN_TOKEN).",
                "The server's admin token is needed: --admin-token TOKEN (or KIEMKE_SERVER_ADMIN_TOKEN)."
            )
        );
    };
    let mut url: Url = server.trim().parse().map_err(|e| {
        anyhow!(
            "{} {server}: {e}",
            lang.pick("Địa chỉ không hợp lệ", "Invalid URL")
        )
    })?;
    url.set_path(online::BACKUP_PATH);
    let mut response = reqwest::Client::new()
        .post(url.clone())
        .bearer_auth(token.trim())
        .header(reqwest::header::ACCEPT_LANGUAGE, lang.tag())
        .send()
        .await
        .with_context(|| {
            format!(
                "{} {url}",
                lang.pick("Không kết nối được tới", "Cannot connect to")
            )
        })?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ApiError>(&text).map_or(text, |e| e.message);
        bail!("{status}: {message}");
    }
    let partial = partial_path(output);
    let io = |source| {
        anyhow!(
            BackupError::Io {
                path: partial.clone(),
                source
            }
            .message(lang)
        )
    };
    // A partial file left by an interrupted earlier run is ours to replace.
    let _ = std::fs::remove_file(&partial);
    let mut file = backup::create_private(&partial).map_err(io)?;
    let downloaded = async {
        while let Some(chunk) = response.chunk().await.context("download interrupted")? {
            file.write_all(&chunk).map_err(io)?;
        }
        file.sync_all().map_err(io)?;
        let manifest = backup::verify(&partial).map_err(|e| anyhow!(e.message(lang)))?;
        std::fs::rename(&partial, output).map_err(io)?;
        anyhow::Ok(manifest)
    }
    .await;
    if downloaded.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    downloaded
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    output.with_file_name(name)
}

pub fn restore_command(args: RestoreArgs) -> anyhow::Result<()> {
    let lang = args.lang.unwrap_or_default();
    let restored = backup::restore(&args.file, &args.data_dir, args.force)
        .map_err(|e| anyhow!(e.message(lang)))?;
    println!(
        "{} {} {} {}.",
        lang.pick("Đã khôi phục", "Restored"),
        describe(&restored.manifest, lang),
        lang.pick("vào", "into"),
        args.data_dir.display()
    );
    if let Some(previous) = restored.previous {
        println!(
            "{} {}",
            lang.pick("Dữ liệu cũ được giữ ở", "The previous data is kept in"),
            previous.display()
        );
    }
    Ok(())
}
