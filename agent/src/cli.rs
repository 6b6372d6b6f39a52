//! The command line: `enroll`, `inventory`, `report`, `run`, `status`,
//! `install`, `uninstall`, `probe ping`, `probe speed`, `discover`,
//! `peripherals`. Messages are in
//! Vietnamese unless `--lang en` (or `KIEMKE_LANG=en`) is given.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kiemke_shared::Lang;

use crate::config::{self, AgentConfig, Overrides};
use crate::daemon::{self, Schedule};
use crate::deliver::{self, Client, Connection, DrainSummary};
use crate::enrollment::{self, EnrollOptions, Enrollment};
use crate::spool::Spool;
use crate::tls::{self, ServerTrust};
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
    /// Đăng ký máy này với máy chủ bằng mã đăng ký do Sở KH&CN cấp.
    Enroll {
        /// Địa chỉ máy chủ, ví dụ https://kiemke.gialai.gov.vn
        #[arg(long, env = "KIEMKE_SERVER", value_name = "URL")]
        server: String,
        /// Mã đăng ký (kkt_...)
        #[arg(
            long,
            env = "KIEMKE_ENROLL_TOKEN",
            value_name = "TOKEN",
            hide_env_values = true
        )]
        token: String,
        /// Chỉ tin CA trong tệp này (PEM) cho máy chủ.
        #[arg(long, value_name = "FILE", conflicts_with = "ca_fingerprint")]
        ca: Option<PathBuf>,
        /// Ghim CA của máy chủ theo dấu vân tay SHA-256 mà máy chủ in ra.
        #[arg(long, value_name = "HEX")]
        ca_fingerprint: Option<String>,
        /// Cho phép http:// không mã hóa tới máy chủ khác máy này (KHÔNG an toàn).
        #[arg(long)]
        insecure_http: bool,
    },
    /// Kiểm kê phần cứng và hệ điều hành của máy này và in ra.
    Inventory {
        /// In dạng JSON (cho công cụ khác).
        #[arg(long)]
        json: bool,
    },
    /// Kiểm kê một lần và gửi báo cáo tới máy chủ.
    Report {
        /// Địa chỉ máy chủ (mặc định: máy chủ đã đăng ký)
        #[arg(long, env = "KIEMKE_SERVER", value_name = "URL")]
        server: Option<String>,
        /// Cho phép http:// không mã hóa tới máy chủ khác máy này (KHÔNG an toàn).
        #[arg(long)]
        insecure_http: bool,
    },
    /// Chạy thường trú: kiểm kê khi khởi động rồi định kỳ, gửi lại báo cáo còn chờ.
    Run {
        /// Địa chỉ máy chủ, ví dụ https://kiemke.gialai.gov.vn
        #[arg(long, env = "KIEMKE_SERVER", value_name = "URL")]
        server: Option<String>,
        /// Chu kỳ kiểm kê, ví dụ 24h, 30m (mặc định 24h).
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        interval: Option<Duration>,
        /// Cho phép http:// không mã hóa tới máy chủ khác máy này (KHÔNG an toàn).
        #[arg(long)]
        insecure_http: bool,
    },
    /// Cho biết dịch vụ có đang chạy không, lần gửi báo cáo gần nhất, lỗi gần
    /// nhất, số báo cáo đang chờ gửi và trạng thái đăng ký.
    Status,
    /// Cài tác tử thành dịch vụ chạy nền (Windows: dịch vụ; Linux: systemd):
    /// đăng ký với máy chủ, chép chương trình, tự khởi động cùng máy.
    Install(crate::service::install::InstallArgs),
    /// Gỡ dịch vụ, chương trình đã chép và dữ liệu của tác tử.
    Uninstall(crate::service::install::UninstallArgs),
    /// (Trình quản lý dịch vụ Windows gọi lệnh này; không chạy tay.)
    #[command(hide = true)]
    Service,
    /// Tìm máy in, máy scan và thiết bị mạng trong mạng LAN (ping rồi SNMP).
    Discover(crate::discover::cli::DiscoverArgs),
    /// Liệt kê máy in, máy scan gắn với máy này (hàng đợi in, USB).
    Peripherals {
        /// In dạng JSON.
        #[arg(long)]
        json: bool,
    },
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
        /// (mặc định: máy chủ đã đăng ký).
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
    if !matches!(cli.command, Command::Run { .. } | Command::Service) {
        crate::sigpipe::restore_default();
    }
    let lang = cli.lang.unwrap_or_default();
    if let Command::Service = cli.command {
        // The service control manager's entry: it blocks this thread and
        // runs the daemon on its own.
        return crate::service::run_as_service(lang, cli.data_dir);
    }
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
        Command::Enroll {
            server,
            token,
            ca,
            ca_fingerprint,
            insecure_http,
        } => {
            telemetry::init("error");
            let config = config::load(&overrides)?;
            enroll_command(&config, &server, &token, ca, ca_fingerprint, insecure_http).await
        }
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
        Command::Report {
            server,
            insecure_http,
        } => {
            telemetry::init("error");
            overrides.server = server;
            overrides.insecure_http = insecure_http;
            let config = config::load(&overrides)?;
            report_command(&config).await
        }
        Command::Run {
            server,
            interval,
            insecure_http,
        } => {
            telemetry::init("info");
            overrides.server = server;
            overrides.insecure_http = insecure_http;
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
        Command::Install(args) => {
            telemetry::init("error");
            crate::service::install::install(args, cli.lang.unwrap_or_default()).await
        }
        Command::Uninstall(args) => {
            telemetry::init("error");
            crate::service::install::uninstall(args, cli.lang.unwrap_or_default()).await
        }
        Command::Service => Ok(crate::service::run_as_service(
            cli.lang.unwrap_or_default(),
            overrides.data_dir,
        )),
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
            let enrollment = load_enrollment(&config)?;
            let server = (config.server.clone())
                .or_else(|| enrollment.as_ref().map(|e| e.server.clone()))
                .with_context(|| {
                    lang.pick(
                        "máy này chưa đăng ký với máy chủ Kiểm kê, nên chưa biết đo tốc độ \
                         với máy chủ nào: đăng ký trước (kiemke-agent enroll --server URL \
                         --token MÃ) hoặc chỉ rõ máy chủ đo (--server URL)",
                        "this PC is not enrolled with a Kiểm kê server, so there is no \
                         server to test against: enroll first (kiemke-agent enroll \
                         --server URL --token TOKEN) or name a test server (--server URL)",
                    )
                    .to_owned()
                })?;
            let mut options = speed_options(server, enrollment.as_ref());
            options.streams_down = streams_down.or(streams).unwrap_or(options.streams_down);
            options.streams_up = streams_up.or(streams).unwrap_or(options.streams_up);
            options.duration = Duration::from_secs(duration);
            options.target_mbps = target_mbps;
            options.api = librespeed.then_some(kiemke_shared::probes::SpeedApi::Librespeed);
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
    let (agent_id, spool) = open_state(config)?;
    let client = agent_client(config)?;
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
    run_daemon(config, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// The daemon (`run`, and the Windows service) until `shutdown` completes.
/// Returns early only on what waiting cannot fix: no enrollment or server,
/// a damaged data directory, a spool error.
pub async fn run_daemon(
    config: AgentConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let (agent_id, spool) = open_state(&config)?;
    let client = agent_client(&config)?;
    let enrollment = load_enrollment(&config)?;
    let server = server_url(&config, enrollment.as_ref())?;
    let schedule = Schedule {
        interval: config.interval,
        jitter: config.jitter,
        startup_delay_max: config.startup_delay_max,
        retry_initial: config.retry_initial,
        retry_max: config.retry_max,
        discovery: config.discovery.clone(),
    };
    tracing::info!(%agent_id, %server, interval = ?config.interval, "tác tử Kiểm kê bắt đầu chạy / agent started");
    let probes = config.probes.enabled.then(|| {
        probe_scheduler(
            &config,
            enrollment.as_ref(),
            &server,
            agent_id,
            spool.clone(),
        )
    });
    daemon::run(
        agent_id,
        spool,
        client,
        schedule,
        collect::collect_inventory,
        probes,
        shutdown,
    )
    .await?;
    Ok(())
}

/// Throughput-test options for `server`: with the agent's credential and
/// the enrolled certificate trust when it is the server the agent enrolled
/// with (same scheme, host and port), else anonymous with the public CAs (a
/// LibreSpeed server of an ISP never sees the credential).
fn speed_options(
    server: reqwest::Url,
    enrollment: Option<&Enrollment>,
) -> probe::speed::SpeedOptions {
    let mut options = probe::speed::SpeedOptions::new(server);
    if let Some(e) = enrollment.filter(|e| e.server.origin() == options.server.origin()) {
        options.credential = Some(e.credential.clone());
        options.trust = e.trust.clone();
    }
    options
}

/// The daemon's probes, from the configuration.
fn probe_scheduler(
    config: &AgentConfig,
    enrollment: Option<&Enrollment>,
    server: &reqwest::Url,
    agent_id: kiemke_shared::AgentId,
    spool: Spool,
) -> daemon::probes::ProbeScheduler<daemon::probes::RealProber> {
    use daemon::probes::{ProbePlan, ProbeScheduler, RealProber, SpeedPlan};
    let p = &config.probes;
    let mut speed = speed_options(
        p.speed_test_server
            .clone()
            .unwrap_or_else(|| server.clone()),
        enrollment,
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
    use crate::service::status::{QueueView, StatusView};
    let lang = config.lang;
    let dir = &config.data_dir;
    // The running service holds the spool: then the queue figures come from
    // the last delivery pass it recorded.
    let queue = if dir.join("spool").exists() {
        Spool::open(dir, config.spool).ok().and_then(|spool| {
            let (count, bytes) = spool.usage().ok()?;
            Some(QueueView {
                count,
                bytes,
                rejected: spool.rejected_count(),
            })
        })
    } else {
        None
    };
    let activity = crate::activity::load(dir);
    let view = StatusView {
        service: crate::service::query_state(),
        data_dir: dir,
        agent_id: state::read_agent_id(dir),
        activity: &activity,
        queue,
    };
    print!(
        "{}",
        crate::service::status::render(&view, lang, chrono::Utc::now())
    );
    match load_enrollment(config) {
        Ok(enrollment) => print!("{}", enrollment_status(enrollment.as_ref(), lang)),
        Err(e) => println!("{e:#}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The enrollment lines of `status`.
pub fn enrollment_status(enrollment: Option<&Enrollment>, lang: Lang) -> String {
    let Some(e) = enrollment else {
        return lang
            .pick(
                "Đăng ký: CHƯA đăng ký với máy chủ nào (kiemke-agent enroll --server URL --token MÃ)\n",
                "Enrollment: NOT enrolled with any server (kiemke-agent enroll --server URL --token TOKEN)\n",
            )
            .to_owned();
    };
    let site = match (&e.site, &e.site_name) {
        (Some(code), Some(name)) => format!("{code} ({name})"),
        (Some(code), None) => code.to_string(),
        (None, _) => lang.pick("(chưa gắn điểm)", "(no site)").to_owned(),
    };
    let trust = match (&e.trust, lang) {
        (ServerTrust::System, Lang::Vi) => "CA công cộng".to_owned(),
        (ServerTrust::System, Lang::En) => "public CAs".to_owned(),
        (ServerTrust::Ca { .. }, Lang::Vi) => "CA riêng (tệp)".to_owned(),
        (ServerTrust::Ca { .. }, Lang::En) => "own CA (file)".to_owned(),
        (ServerTrust::Fingerprint { sha256 }, Lang::Vi) => format!("CA ghim SHA-256 {sha256}"),
        (ServerTrust::Fingerprint { sha256 }, Lang::En) => format!("pinned CA SHA-256 {sha256}"),
    };
    let when = e.enrolled_at.format("%d/%m/%Y %H:%M UTC");
    match lang {
        Lang::Vi => format!(
            "Đăng ký: đã đăng ký lúc {when}\nMáy chủ: {}\nXã: {}\nĐiểm: {site}\nChứng chỉ máy chủ: {trust}\n",
            e.server, e.commune
        ),
        Lang::En => format!(
            "Enrollment: enrolled at {when}\nServer: {}\nCommune: {}\nSite: {site}\nServer certificate: {trust}\n",
            e.server, e.commune
        ),
    }
}

fn load_enrollment(config: &AgentConfig) -> anyhow::Result<Option<Enrollment>> {
    enrollment::load(&config.data_dir).with_context(|| {
        config
            .lang
            .pick(
                "không đọc được thông tin đăng ký",
                "cannot read the enrollment",
            )
            .to_owned()
    })
}

/// The server to report to: `--server` (or the file), else the one enrolled with.
fn server_url(
    config: &AgentConfig,
    enrollment: Option<&Enrollment>,
) -> anyhow::Result<reqwest::Url> {
    config
        .server
        .clone()
        .or_else(|| enrollment.map(|e| e.server.clone()))
        .with_context(|| {
            config
                .lang
                .pick(
                    "chưa có địa chỉ máy chủ (--server URL), và máy này chưa đăng ký \
                     (kiemke-agent enroll --server URL --token MÃ)",
                    "no server address (--server URL), and this PC is not enrolled \
                     (kiemke-agent enroll --server URL --token TOKEN)",
                )
                .to_owned()
        })
}

/// The delivery client: the enrolled credential and certificate trust.
pub fn agent_client(config: &AgentConfig) -> anyhow::Result<Client> {
    let lang = config.lang;
    let enrollment = load_enrollment(config)?;
    let server = server_url(config, enrollment.as_ref())?;
    let connection = Connection {
        server,
        trust: enrollment
            .as_ref()
            .map_or(ServerTrust::System, |e| e.trust.clone()),
        credential: enrollment.as_ref().map(|e| e.credential.clone()),
        allow_insecure_http: config.insecure_http
            || enrollment.as_ref().is_some_and(|e| e.insecure_http),
    };
    Client::connect(connection, lang, config.request_timeout)
        .map_err(|e| anyhow::anyhow!(e.message(lang)))
}

async fn enroll_command(
    config: &AgentConfig,
    server: &str,
    token: &str,
    ca: Option<PathBuf>,
    ca_fingerprint: Option<String>,
    insecure_http: bool,
) -> anyhow::Result<ExitCode> {
    let lang = config.lang;
    let enrolled = enroll_into(config, server, token, ca, ca_fingerprint, insecure_http).await?;
    let file = enrollment::path(&config.data_dir);
    match lang {
        Lang::Vi => println!(
            "Đã đăng ký máy này với máy chủ {}.\nMã tác tử: {}\nThông tin xác thực đã lưu vào {} (chỉ tài khoản quản trị đọc được).",
            enrolled.server,
            enrolled.agent_id(),
            file.display()
        ),
        Lang::En => println!(
            "This PC is enrolled with {}.\nAgent id: {}\nThe credential is saved in {} (readable by administrators only).",
            enrolled.server,
            enrolled.agent_id(),
            file.display()
        ),
    }
    print!("{}", enrollment_status(Some(&enrolled), lang));
    Ok(ExitCode::SUCCESS)
}

/// Checks the flags and enrolls into `config.data_dir` (for `enroll` and
/// `install`); prints nothing.
pub async fn enroll_into(
    config: &AgentConfig,
    server: &str,
    token: &str,
    ca: Option<PathBuf>,
    ca_fingerprint: Option<String>,
    insecure_http: bool,
) -> anyhow::Result<Enrollment> {
    let lang = config.lang;
    let server = deliver::parse_server_url(server).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}",
            lang.pick("địa chỉ máy chủ không hợp lệ", "invalid server address")
        )
    })?;
    let token = kiemke_shared::auth::EnrollmentToken::parse(token).map_err(|_| {
        anyhow::anyhow!(
            "{}",
            lang.pick(
                "mã đăng ký không đúng dạng (kkt_ + 12 ký tự + _ + 64 ký tự); hãy sao chép lại nguyên văn",
                "the enrollment token is malformed (kkt_ + 12 + _ + 64 characters); copy it again exactly"
            )
        )
    })?;
    let trust = match (ca, ca_fingerprint) {
        (Some(path), _) => {
            let pem = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "{} {}",
                    lang.pick("không đọc được tệp CA", "cannot read the CA file"),
                    path.display()
                )
            })?;
            tls::check_ca_pem(&pem)?;
            ServerTrust::Ca { pem }
        }
        (None, Some(hex)) => ServerTrust::Fingerprint {
            sha256: tls::parse_fingerprint(&hex)?,
        },
        (None, None) => ServerTrust::System,
    };
    if trust != ServerTrust::System && server.scheme() != "https" {
        bail!(
            "{}",
            lang.pick(
                "--ca và --ca-fingerprint chỉ dùng với máy chủ https://",
                "--ca and --ca-fingerprint need an https:// server"
            )
        );
    }
    let options = EnrollOptions {
        server,
        token,
        trust,
        insecure_http: insecure_http || config.insecure_http,
        lang,
        timeout: config.request_timeout,
    };
    let enrolled = enrollment::enroll(&config.data_dir, options)
        .await
        .map_err(|e| match e {
            enrollment::EnrollError::Client(c) => anyhow::anyhow!(c.message(lang)),
            other => anyhow::anyhow!(other),
        })
        .context(lang.pick("đăng ký không thành công", "enrollment failed"))?;
    Ok(enrolled)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_goes_only_to_the_enrolled_server() {
        let enrolled = Enrollment {
            server: reqwest::Url::parse("https://tinh.example.vn:8443/").expect("url"),
            credential: kiemke_shared::auth::AgentCredential {
                agent_id: kiemke_shared::AgentId::generate(),
                secret: kiemke_shared::auth::Secret::from_bytes(&[1; 32]),
            },
            commune: kiemke_shared::CommuneCode::parse("24118").expect("code"),
            site: None,
            site_name: None,
            trust: ServerTrust::Fingerprint {
                sha256: "ab".repeat(32),
            },
            insecure_http: false,
            enrolled_at: chrono::Utc::now(),
        };
        let cases = [
            ("https://tinh.example.vn:8443/", true),
            ("https://tinh.example.vn:8443/speed/", true),
            ("https://tinh.example.vn/", false),
            ("http://tinh.example.vn:8443/", false),
            ("https://speedtest.vnpt.vn:8443/", false),
        ];
        for (url, sent) in cases {
            let url = reqwest::Url::parse(url).expect("url");
            let options = speed_options(url.clone(), Some(&enrolled));
            assert_eq!(options.credential.is_some(), sent, "{url}");
            assert_eq!(options.trust == enrolled.trust, sent, "{url}");
        }
        let anonymous = speed_options(enrolled.server.clone(), None);
        assert!(anonymous.credential.is_none());
    }
}
