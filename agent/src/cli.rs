//! The command line: `inventory`, `report`, `run`, `status`, `discover`, `peripherals`. Messages are in
//! Vietnamese unless `--lang en` (or `KIEMKE_LANG=en`) is given.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kiemke_shared::Lang;

use crate::config::{self, AgentConfig, Overrides};
use crate::daemon::{self, Schedule};
use crate::deliver::{self, Client, DrainSummary};
use crate::spool::Spool;
use crate::{collect, state, summary, telemetry};

/// Kiểm kê: tác tử kiểm kê thiết bị CNTT và đường truyền của máy tính này.
#[derive(Debug, Parser)]
#[command(name = "kiemke-agent", version)]
pub struct Cli {
    /// Ngôn ngữ thông báo: vi (mặc định) hoặc en.
    #[arg(long, global = true, env = "KIEMKE_LANG")]
    pub lang: Option<Lang>,
    /// Thư mục dữ liệu của tác tử (mã tác tử, hàng đợi báo cáo).
    #[arg(
        long = "data",
        global = true,
        env = "KIEMKE_AGENT_DATA",
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,
    /// Tệp cấu hình TOML (xem kiemke-agent.sample.toml).
    #[arg(long, global = true, env = "KIEMKE_AGENT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Kiểm kê phần cứng và hệ điều hành của máy này và in ra.
    Inventory {
        /// In dạng JSON (cho công cụ khác).
        #[arg(long)]
        json: bool,
    },
    /// Kiểm kê một lần và gửi báo cáo tới máy chủ.
    Report {
        /// Địa chỉ máy chủ, ví dụ http://127.0.0.1:8080
        #[arg(long, env = "KIEMKE_SERVER", value_name = "URL")]
        server: Option<String>,
    },
    /// Chạy thường trú: kiểm kê khi khởi động rồi định kỳ, gửi lại báo cáo còn chờ.
    Run {
        /// Địa chỉ máy chủ, ví dụ https://kiemke.gialai.gov.vn
        #[arg(long, env = "KIEMKE_SERVER", value_name = "URL")]
        server: Option<String>,
        /// Chu kỳ kiểm kê, ví dụ 24h, 30m (mặc định 24h).
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        interval: Option<Duration>,
    },
    /// Cho biết mã tác tử và số báo cáo đang chờ gửi.
    Status,
    /// Tìm máy in, máy scan và thiết bị mạng trong mạng LAN (ping rồi SNMP).
    Discover(crate::discover::cli::DiscoverArgs),
    /// Liệt kê máy in, máy scan gắn với máy này (hàng đợi in, USB).
    Peripherals {
        /// In dạng JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Entry point of the `kiemke-agent` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang = cli.lang.unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: {e}", lang.pick("Lỗi khởi tạo", "Cannot start"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}: {err:#}", lang.pick("Lỗi", "Error"));
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut overrides = Overrides {
        config: cli.config,
        data_dir: cli.data_dir,
        lang: cli.lang,
        ..Overrides::default()
    };
    match cli.command {
        Command::Inventory { json } => {
            telemetry::init("error");
            let inventory = collect::collect_inventory();
            if json {
                println!("{}", serde_json::to_string_pretty(&inventory)?);
            } else {
                print!(
                    "{}",
                    summary::render(&inventory, cli.lang.unwrap_or_default())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { server } => {
            telemetry::init("error");
            overrides.server = server;
            let config = config::load(&overrides)?;
            report_command(&config).await
        }
        Command::Run { server, interval } => {
            telemetry::init("info");
            overrides.server = server;
            overrides.interval = interval;
            let config = config::load(&overrides)?;
            run_command(config).await
        }
        Command::Discover(args) => {
            telemetry::init("error");
            crate::discover::cli::run(args, cli.lang.unwrap_or_default()).await
        }
        Command::Peripherals { json } => {
            telemetry::init("error");
            let found = tokio::task::spawn_blocking(crate::peripherals::collect_local).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else {
                let lang = cli.lang.unwrap_or_default();
                if found.is_empty() {
                    println!(
                        "{}",
                        lang.pick(
                            "Không thấy máy in, máy scan nào.",
                            "No printer or scanner found."
                        )
                    );
                }
                print!("{}", crate::discover::render::devices(&found, lang));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            telemetry::init("error");
            let config = config::load(&overrides)?;
            status_command(&config)
        }
    }
}

/// What one `report` did.
#[derive(Debug, Clone)]
pub struct ReportOnce {
    pub report_id: kiemke_shared::ReportId,
    pub summary: DrainSummary,
}

/// Takes one inventory, queues it, and delivers everything queued: the work
/// of `kiemke-agent report`, also used by the server's quickstart.
pub async fn report_once(config: &AgentConfig) -> anyhow::Result<ReportOnce> {
    let lang = config.lang;
    let server = config.server.as_ref().with_context(|| {
        lang.pick(
            "chưa có địa chỉ máy chủ (--server URL)",
            "no server address (--server URL)",
        )
        .to_owned()
    })?;
    let (agent_id, spool) = open_state(config)?;
    let client = Client::new(server, lang, config.request_timeout)?;
    let (report_id, outcome) =
        daemon::take_inventory(&spool, agent_id, collect::collect_inventory).await?;
    if !outcome.dropped.is_empty() {
        eprintln!(
            "{} {}",
            lang.pick(
                "Hàng đợi đầy, đã bỏ các báo cáo cũ nhất:",
                "Queue full, dropped the oldest reports:"
            ),
            outcome.dropped.len()
        );
    }
    let summary = deliver::drain(&spool, &client).await?;
    Ok(ReportOnce { report_id, summary })
}

async fn report_command(config: &AgentConfig) -> anyhow::Result<ExitCode> {
    let lang = config.lang;
    let done = report_once(config).await?;
    let s = &done.summary;
    match (&s.last_error, lang) {
        (None, Lang::Vi) => println!(
            "Đã gửi {} báo cáo (báo cáo mới: {}).",
            s.delivered, done.report_id
        ),
        (None, Lang::En) => println!(
            "Delivered {} report(s) (new report: {}).",
            s.delivered, done.report_id
        ),
        (Some(e), Lang::Vi) => eprintln!(
            "Chưa gửi được: {e}.\nBáo cáo đã được lưu trong hàng đợi ({} báo cáo chờ gửi) và sẽ được gửi lại ở lần chạy sau.",
            s.remaining
        ),
        (Some(e), Lang::En) => eprintln!(
            "Not delivered: {e}.\nThe report is kept in the queue ({} waiting) and will be sent on a later run.",
            s.remaining
        ),
    }
    if s.refused > 0 {
        eprintln!(
            "{} {}",
            s.refused,
            lang.pick(
                "báo cáo bị máy chủ từ chối (xem nhật ký).",
                "report(s) refused by the server (see the log)."
            )
        );
    }
    Ok(if s.last_error.is_none() && s.refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run_command(config: AgentConfig) -> anyhow::Result<ExitCode> {
    let lang = config.lang;
    let Some(server) = config.server.clone() else {
        bail!(
            "{}",
            lang.pick(
                "chưa có địa chỉ máy chủ (--server URL)",
                "no server address (--server URL)"
            )
        );
    };
    let (agent_id, spool) = open_state(&config)?;
    let client = Client::new(&server, lang, config.request_timeout)?;
    let schedule = Schedule {
        interval: config.interval,
        jitter: config.jitter,
        startup_delay_max: config.startup_delay_max,
        retry_initial: config.retry_initial,
        retry_max: config.retry_max,
    };
    tracing::info!(%agent_id, %server, interval = ?config.interval, "tác tử Kiểm kê bắt đầu chạy / agent started");
    daemon::run(
        agent_id,
        spool,
        client,
        schedule,
        collect::collect_inventory,
        shutdown_signal(),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

fn status_command(config: &AgentConfig) -> anyhow::Result<ExitCode> {
    let lang = config.lang;
    let (agent_id, spool) = open_state(config)?;
    let (count, bytes) = spool.usage()?;
    let rejected = spool.rejected_count();
    let dir = config.data_dir.display();
    match lang {
        Lang::Vi => println!(
            "Thư mục dữ liệu: {dir}\nMã tác tử: {agent_id}\nBáo cáo chờ gửi: {count} ({bytes} byte)\nBáo cáo bị từ chối: {rejected}"
        ),
        Lang::En => println!(
            "Data directory: {dir}\nAgent id: {agent_id}\nReports waiting: {count} ({bytes} bytes)\nReports refused: {rejected}"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn open_state(config: &AgentConfig) -> anyhow::Result<(kiemke_shared::AgentId, Spool)> {
    let lang = config.lang;
    let dir = &config.data_dir;
    let agent_id = state::load_or_create_agent_id(dir).with_context(|| {
        format!(
            "{} {}",
            lang.pick(
                "không dùng được thư mục dữ liệu",
                "cannot use the data directory"
            ),
            dir.display()
        )
    })?;
    let spool = Spool::open(dir, config.spool).with_context(|| {
        lang.pick(
            "không mở được hàng đợi báo cáo (có thể một tiến trình kiemke-agent khác đang chạy)",
            "cannot open the report queue (another kiemke-agent may be running)",
        )
        .to_owned()
    })?;
    Ok((agent_id, spool))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
