//! `kiemke-server flags [--commune CODE] [--status S] [--json] [--data DIR]`:
//! prints the flagged devices with their reasons, as the server last
//! computed them, from the store. sled lets one process hold the store: while
//! the server runs, this says so and points at the HTTP API instead.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::anyhow;
use kiemke_shared::Lang;
use serde::Serialize;

use crate::config::{ConfigFile, defaults};
use crate::policy::{DeviceFlags, Status};
use crate::store::{DeviceRecord, Store, StoreError};

/// `flags` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FlagsArgs {
    /// Chỉ xã/phường này (commune code)
    #[arg(long, value_name = "CODE")]
    pub commune: Option<String>,
    /// Chỉ trạng thái này: ok, watch, replace; mặc định watch và replace
    /// (only this status; default: watch and replace)
    #[arg(long, value_name = "STATUS")]
    pub status: Option<Status>,
    /// In JSON (print JSON)
    #[arg(long)]
    pub json: bool,
    /// Thư mục dữ liệu của máy chủ (the server's data directory)
    #[arg(long = "data", env = "KIEMKE_SERVER_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Tệp cấu hình TOML, để lấy data-dir (configuration file)
    #[arg(long, env = "KIEMKE_SERVER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ngôn ngữ: vi hoặc en (language)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
}

/// One device in `--json` output.
#[derive(Debug, Serialize)]
pub struct FlaggedEntry {
    pub hostname: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    #[serde(flatten)]
    pub flags: DeviceFlags,
}

/// Reads the store and returns what to print.
pub fn run(args: &FlagsArgs) -> anyhow::Result<String> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let lang = args.lang.or(file.lang).unwrap_or_default();
    let data_dir = (args.data_dir.clone())
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from(defaults::DATA_DIR));
    let store = Store::open(&data_dir).map_err(|e| match e {
        StoreError::Locked { .. } => anyhow!(locked_message(&data_dir, lang)),
        e => anyhow!(e.message(lang)),
    })?;
    let devices = store
        .flagged_devices()
        .map_err(|e| anyhow!(e.message(lang)))?;
    Ok(render(devices, args, lang))
}

fn locked_message(dir: &std::path::Path, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!(
            "Máy chủ Kiểm kê đang chạy và giữ thư mục dữ liệu {}. Khi máy chủ chạy, hãy xem \
             qua API: GET http://ĐỊA-CHỈ-MÁY-CHỦ/api/v1/devices?status=replace&commune=MÃ-XÃ \
             (và /api/v1/flags/summary), hoặc dừng máy chủ rồi chạy lại lệnh này.",
            dir.display()
        ),
        Lang::En => format!(
            "A Kiểm kê server is running and holds the data directory {}. While it runs, use \
             the API: GET http://SERVER/api/v1/devices?status=replace&commune=CODE (and \
             /api/v1/flags/summary), or stop the server and run this command again.",
            dir.display()
        ),
    }
}

/// Formats the selected devices (replace first, then watch, then ok).
pub fn render(
    devices: Vec<(DeviceRecord, Option<DeviceFlags>)>,
    args: &FlagsArgs,
    lang: Lang,
) -> String {
    let unevaluated = devices.iter().filter(|(_, f)| f.is_none()).count();
    let mut selected: Vec<(DeviceRecord, DeviceFlags)> = devices
        .into_iter()
        .filter_map(|(r, f)| f.map(|f| (r, f)))
        .filter(|(_, f)| match args.status {
            Some(s) => f.status == s,
            None => f.status != Status::Ok,
        })
        .filter(|(_, f)| {
            (args.commune.as_deref())
                .is_none_or(|c| f.commune.as_ref().is_some_and(|fc| fc.as_str() == c))
        })
        .collect();
    selected.sort_by(|a, b| {
        b.1.status
            .cmp(&a.1.status)
            .then(a.0.facts.hostname.cmp(&b.0.facts.hostname))
    });
    if args.json {
        let entries: Vec<FlaggedEntry> = (selected.into_iter())
            .map(|(r, flags)| FlaggedEntry {
                hostname: r.facts.hostname,
                vendor: r.facts.vendor,
                model: r.facts.model,
                flags,
            })
            .collect();
        return serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    for (r, f) in &selected {
        let name = r.facts.hostname.clone().unwrap_or_else(|| r.id.to_string());
        let machine = [r.facts.vendor.as_deref(), r.facts.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let place = match (&f.commune, &f.site) {
            (Some(c), Some(s)) => format!(" · {} {c}/{s}", lang.pick("xã", "commune")),
            (Some(c), None) => format!(" · {} {c}", lang.pick("xã", "commune")),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "[{}] {name} ({machine}){place} · {}",
            f.status.label(lang).to_uppercase(),
            r.id
        );
        for reason in &f.reasons {
            let _ = writeln!(out, "  - {}: {}", reason.rule, reason.text(lang));
        }
    }
    let count = |s: Status| selected.iter().filter(|(_, f)| f.status == s).count();
    let _ = writeln!(
        out,
        "{}: {} {}, {} {}{}",
        lang.pick("Tổng", "Total"),
        count(Status::Replace),
        lang.pick("đề xuất thay thế", "to replace"),
        count(Status::Watch),
        lang.pick("cần theo dõi", "to watch"),
        match (unevaluated, lang) {
            (0, _) => String::new(),
            (n, Lang::Vi) => format!("; {n} thiết bị chưa được đánh giá (chưa gửi kiểm kê)"),
            (n, Lang::En) => format!("; {n} devices not evaluated yet (no inventory)"),
        }
    );
    if let Some((_, f)) = selected.first() {
        let _ = writeln!(
            out,
            "{} {}, {} {}",
            lang.pick("Chính sách:", "Policy:"),
            f.policy,
            lang.pick("đánh giá ngày", "evaluated on"),
            f.evaluated_on.format("%d/%m/%Y")
        );
    }
    out
}
