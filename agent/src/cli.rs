//! The command line: `inventory`, `report`, `run`, `status`, `probe ping`,
//! `probe speed`. Messages are in
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
use crate::{collect, probe, state, summary, telemetry};

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
    /// Đo chất lượng đường truyền: độ trễ, mất gói, tốc độ.
    Probe {
        #[command(subcommand)]
        probe: ProbeCommand,
    },
}

/// `kiemke-agent probe ...`
#[derive(Debug, Subcommand)]
pub enum ProbeCommand {
    /// Đo độ trễ, độ dao động (jitter) và tỷ lệ mất gói tới một địa chỉ
    /// (ICMP; nếu hệ điều hành không cho phép thì đo bằng kết nối TCP).
    Ping {
        /// Tên máy, địa chỉ IP hoặc URL, ví dụ 192.168.1.1, dns.google, https://dichvucong.gov.vn
        target: String,
        /// Số gói gửi (1–10000, mặc định 20).
        #[arg(long, default_value_t = probe::defaults::COUNT)]
        count: u32,
        /// Khoảng cách giữa hai gói, mili giây (10–60000, mặc định 200).
        #[arg(long, default_value_t = 200)]
        interval_ms: u64,
        /// Chờ phản hồi tối đa, mili giây (10–60000, mặc định 1000).
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u64,
        /// Cách đo: auto (ICMP, không được thì TCP), icmp, tcp, http.
        #[arg(long, default_value = "auto")]
        method: probe::MethodChoice,
        /// Cổng TCP khi đo bằng kết nối TCP (mặc định: cổng của URL, hoặc 443).
        #[arg(long)]
        port: Option<u16>,
        /// In dạng JSON.
        #[arg(long)]
        json: bool,
    },
    /// Đo tốc độ tải xuống rồi tải lên tới máy chủ (nhiều luồng TCP song song).
    Speed {
        /// Máy chủ đo: máy chủ Kiểm kê hoặc máy chủ LibreSpeed, ví dụ http://10.0.0.5:8080
        #[arg(long, env = "KIEMKE_SERVER", value_name = "URL")]
        server: Option<String>,
        /// Số luồng cho cả hai chiều (mặc định 6 tải xuống, 4 tải lên).
        #[arg(long, value_name = "N")]
        streams: Option<u32>,
        /// Số luồng tải xuống.
        #[arg(long, value_name = "N")]
        streams_down: Option<u32>,
        /// Số luồng tải lên.
        #[arg(long, value_name = "N")]
        streams_up: Option<u32>,
        /// Thời gian đo mỗi chiều, giây (4–60, mặc định 10; 2 giây đầu để khởi động).
        #[arg(long, value_name = "S", default_value_t = 10)]
        duration: u64,
        /// Máy chủ là LibreSpeed (mặc định: tự nhận biết).
        #[arg(long)]
        librespeed: bool,
        /// Mức tốc độ yêu cầu, Mbps (mặc định 100; TTPVHCC: 200).
        #[arg(long, value_name = "MBPS", default_value_t = probe::speed::defaults::TARGET_MBPS)]
        target_mbps: f64,
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
        Command::Status => {
            telemetry::init("error");
            let config = config::load(&overrides)?;
            status_command(&config)
        }
        Command::Probe { probe } => {
            telemetry::init("error");
            probe_command(probe, overrides).await
        }
    }
}

async fn probe_command(
    command: ProbeCommand,
    mut overrides: Overrides,
) -> anyhow::Result<ExitCode> {
    let lang = overrides.lang.unwrap_or_default();
    match command {
        ProbeCommand::Ping {
            target,
            count,
            interval_ms,
            timeout_ms,
            method,
            port,
            json,
        } => {
            let options = probe::PingOptions {
                count,
                interval: Duration::from_millis(interval_ms),
                timeout: Duration::from_millis(timeout_ms),
                method,
                port,
                role: None,
            };
            let result = probe::run_ping(&target, &options)
                .await
                .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                print!("{}", probe::render::ping(&result, lang));
            }
            // Like ping(8): failure when nothing answered.
            Ok(if result.received > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ProbeCommand::Speed {
            server,
            streams,
            streams_down,
            streams_up,
            duration,
            librespeed,
            target_mbps,
            json,
        } => {
            overrides.server = server;
            let config = config::load(&overrides)?;
            let lang = config.lang;
            let server = config.server.clone().with_context(|| {
                lang.pick(
                    "chưa có địa chỉ máy chủ đo (--server URL)",
                    "no test server address (--server URL)",
                )
                .to_owned()
            })?;
            let mut options = probe::speed::SpeedOptions::new(server);
            options.streams_down = streams_down.or(streams).unwrap_or(options.streams_down);
            options.streams_up = streams_up.or(streams).unwrap_or(options.streams_up);
            options.duration = Duration::from_secs(duration);
            options.target_mbps = target_mbps;
            options.api = librespeed.then_some(kiemke_shared::probes::SpeedApi::Librespeed);
            options.agent_id = state::read_agent_id(&config.data_dir);
            options.trigger = Some(kiemke_shared::probes::SpeedTrigger::Manual);
            if !json {
                eprintln!(
                    "{}",
                    lang.pick(
                        "Đang đo tốc độ (tải xuống rồi tải lên), vui lòng chờ...",
                        "Measuring (download, then upload), please wait..."
                    )
                );
            }
            let result = probe::speed::run(&options)
                .await
                .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                print!("{}", probe::render::speed(&result, lang));
            }
            Ok(ExitCode::SUCCESS)
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
    let probes = config
        .probes
        .enabled
        .then(|| probe_scheduler(&config, &server, agent_id, spool.clone()));
    daemon::run(
        agent_id,
        spool,
        client,
        schedule,
        collect::collect_inventory,
        probes,
        shutdown_signal(),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// The daemon's probes, from the configuration.
fn probe_scheduler(
    config: &AgentConfig,
    server: &reqwest::Url,
    agent_id: kiemke_shared::AgentId,
    spool: Spool,
) -> daemon::probes::ProbeScheduler<daemon::probes::RealProber> {
    use daemon::probes::{ProbePlan, ProbeScheduler, RealProber, SpeedPlan};
    let p = &config.probes;
    let mut speed = probe::speed::SpeedOptions::new(
        p.speed_test_server
            .clone()
            .unwrap_or_else(|| server.clone()),
    );
    speed.duration = p.speed_test_duration;
    speed.streams_down = p.speed_test_streams_down;
    speed.streams_up = p.speed_test_streams_up;
    speed.target_mbps = p.line_target_mbps;
    let plan = ProbePlan {
        ping_interval: p.interval,
        ping: probe::PingOptions {
            count: p.count,
            ..probe::PingOptions::default()
        },
        gateway: p.gateway,
        server: Some(server.clone()),
        targets: p.targets.clone(),
        batch_interval: p.report_interval,
        speed: Some(SpeedPlan {
            per_day: p.speed_tests_per_day,
            office_hours: p.office_hours,
            options: speed,
        }),
    };
    ProbeScheduler {
        plan,
        prober: std::sync::Arc::new(RealProber),
        outbox: spool,
        agent_id,
        clock: daemon::probes::system_clock(),
        deliver: Default::default(),
        on_demand: Default::default(),
    }
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
