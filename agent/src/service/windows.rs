//! The agent as a Windows service (`KiemkeAgent`, LocalSystem): install,
//! uninstall, state, and the entry point the service control manager runs
//! (`"C:\Program Files\Kiemke\kiemke-agent.exe" service`).
//!
//! The service starts at boot (delayed, so it never competes with the
//! desktop coming up), and the SCM restarts it after a failure, also a
//! "clean" exit with an error code. It logs to the Event Log (Application,
//! source `KiemkeAgent`) and to daily files under
//! `%ProgramData%\Kiemke\agent\logs`, fourteen kept.
// `define_windows_service!` expands to an `extern "system"` function that
// reads the SCM's arguments with `unsafe`.
#![allow(unsafe_code)]

mod win32;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kiemke_shared::Lang;
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
    ServiceInfo, ServiceStartType, ServiceState as WinState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

use super::install::{InstallArgs, UninstallArgs, enroll_step};
use super::{
    DATA_DIR_SDDL, EVENT_SOURCE, FAILURE_RESET, LOG_FILE_PREFIX, LOG_FILES_KEPT, RESTART_DELAYS,
    ServiceState, WINDOWS_DESCRIPTION, WINDOWS_DISPLAY_NAME, WINDOWS_SERVICE_NAME, WindowsLayout,
};
use crate::config::{self, Overrides};

const ERROR_ACCESS_DENIED: i32 = 5;
const ERROR_SERVICE_DOES_NOT_EXIST: i32 = 1060;

fn os_error(e: &windows_service::Error) -> Option<i32> {
    match e {
        windows_service::Error::Winapi(io) => io.raw_os_error(),
        _ => None,
    }
}

fn need_admin(lang: Lang) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        lang.pick(
            "cần quyền quản trị: mở Command Prompt bằng \"Run as administrator\" rồi chạy lại lệnh",
            "administrator rights needed: open Command Prompt with \"Run as administrator\" and run the command again"
        )
    )
}

fn manager(access: ServiceManagerAccess, lang: Lang) -> anyhow::Result<ServiceManager> {
    ServiceManager::local_computer(None::<&str>, access).map_err(|e| {
        if os_error(&e) == Some(ERROR_ACCESS_DENIED) {
            need_admin(lang)
        } else {
            anyhow::anyhow!(
                "{}: {e}",
                lang.pick(
                    "không mở được trình quản lý dịch vụ",
                    "cannot open the service manager"
                )
            )
        }
    })
}

/// The service's state, for `status` (needs no administrator rights).
pub fn query_state() -> ServiceState {
    let Ok(scm) = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
    else {
        return ServiceState::Unknown("SCM".into());
    };
    match scm.open_service(WINDOWS_SERVICE_NAME, ServiceAccess::QUERY_STATUS) {
        Ok(service) => match service.query_status() {
            Ok(status) => match status.current_state {
                WinState::Running => ServiceState::Running,
                WinState::StartPending | WinState::ContinuePending => ServiceState::Starting,
                WinState::StopPending | WinState::PausePending => ServiceState::Stopping,
                WinState::Stopped | WinState::Paused => ServiceState::Stopped,
            },
            Err(e) => ServiceState::Unknown(e.to_string()),
        },
        Err(e) if os_error(&e) == Some(ERROR_SERVICE_DOES_NOT_EXIST) => ServiceState::NotInstalled,
        Err(e) => ServiceState::Unknown(e.to_string()),
    }
}

pub async fn install(args: InstallArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    // First, so a user without rights learns it before anything is written.
    let scm = manager(
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
        lang,
    )?;
    let layout = WindowsLayout::from_env();
    std::fs::create_dir_all(&layout.log_dir)
        .with_context(|| layout.data_dir.display().to_string())?;
    win32::set_dacl(&layout.data_dir, DATA_DIR_SDDL).with_context(|| {
        format!(
            "{} {}",
            lang.pick("không đặt được quyền truy cập cho", "cannot set the ACL of"),
            layout.data_dir.display()
        )
    })?;
    let enrolled = enroll_step(&layout.data_dir, &args, lang).await?;

    let access = ServiceAccess::QUERY_STATUS
        | ServiceAccess::START
        | ServiceAccess::STOP
        | ServiceAccess::CHANGE_CONFIG;
    let existing = scm.open_service(WINDOWS_SERVICE_NAME, access).ok();
    if let Some(service) = &existing {
        stop_and_wait(service);
    }
    copy_program(&layout)?;
    let info = ServiceInfo {
        name: OsString::from(WINDOWS_SERVICE_NAME),
        display_name: OsString::from(WINDOWS_DISPLAY_NAME),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: layout.exe.clone(),
        // The data directory by name: the service's environment may not
        // have the installing administrator's %ProgramData% (Wine's has not).
        launch_arguments: vec![
            OsString::from("--data"),
            layout.data_dir.clone().into_os_string(),
            OsString::from("service"),
        ],
        dependencies: vec![],
        account_name: None,
        account_password: None,
    };
    let service = match existing {
        Some(service) => {
            service.change_config(&info)?;
            service
        }
        None => scm.create_service(&info, access)?,
    };
    service
        .set_description(WINDOWS_DESCRIPTION)
        .context("SERVICE_CONFIG_DESCRIPTION")?;
    // Best effort: without it (Wine has no such setting) the service still
    // starts at boot, only not delayed.
    if let Err(e) = service.set_delayed_auto_start(true) {
        tracing::warn!(cause = %e, "không đặt được khởi động trễ / delayed start not set");
    }
    let mut actions: Vec<ServiceAction> = RESTART_DELAYS
        .iter()
        .map(|delay| ServiceAction {
            action_type: ServiceActionType::Restart,
            delay: *delay,
        })
        .collect();
    actions.truncate(3);
    service
        .update_failure_actions(ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(FAILURE_RESET),
            reboot_msg: None,
            command: None,
            actions: Some(actions),
        })
        .context("SERVICE_CONFIG_FAILURE_ACTIONS")?;
    // Restart also when the agent stops itself with an error code (Vista
    // and later; Wine lacks it, where only crashes restart it).
    if let Err(e) = service.set_failure_actions_on_non_crash_failures(true) {
        tracing::warn!(cause = %e, "không đặt được khởi động lại khi lỗi / failure-actions flag not set");
    }
    service
        .start::<&str>(&[])
        .context(lang.pick("không khởi động được dịch vụ", "cannot start the service"))?;
    if !args.quiet {
        match lang {
            Lang::Vi => println!(
                "Đã cài tác tử Kiểm kê.\nMáy chủ: {}\nMã tác tử: {}\nChương trình: {}\nDữ liệu và nhật ký: {} (chỉ SYSTEM và Administrators)\nDịch vụ \"{}\" đã chạy và sẽ tự khởi động cùng máy. Xem: kiemke-agent status",
                enrolled.server,
                enrolled.agent_id(),
                layout.exe.display(),
                layout.data_dir.display(),
                WINDOWS_DISPLAY_NAME
            ),
            Lang::En => println!(
                "The Kiểm kê agent is installed.\nServer: {}\nAgent id: {}\nProgram: {}\nData and logs: {} (SYSTEM and Administrators only)\nThe \"{}\" service runs and starts at boot. See: kiemke-agent status",
                enrolled.server,
                enrolled.agent_id(),
                layout.exe.display(),
                layout.data_dir.display(),
                WINDOWS_DISPLAY_NAME
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks the service to stop and waits (up to 30 s) until it has.
fn stop_and_wait(service: &windows_service::service::Service) {
    let Ok(status) = service.query_status() else {
        return;
    };
    if status.current_state == WinState::Stopped {
        return;
    }
    let _ = service.stop();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match service.query_status() {
            Ok(s) if s.current_state == WinState::Stopped => return,
            Err(_) => return,
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

fn copy_program(layout: &WindowsLayout) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let same = std::fs::canonicalize(&exe).ok() == std::fs::canonicalize(&layout.exe).ok()
        && layout.exe.exists();
    if same {
        return Ok(());
    }
    std::fs::create_dir_all(&layout.program_dir)?;
    std::fs::copy(&exe, &layout.exe)
        .with_context(|| format!("{} -> {}", exe.display(), layout.exe.display()))?;
    Ok(())
}

pub fn uninstall(args: UninstallArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let scm = manager(ServiceManagerAccess::CONNECT, lang)?;
    let access = ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE;
    match scm.open_service(WINDOWS_SERVICE_NAME, access) {
        Ok(service) => {
            stop_and_wait(&service);
            service.delete()?;
        }
        Err(e) if os_error(&e) == Some(ERROR_SERVICE_DOES_NOT_EXIST) => {}
        Err(e) if os_error(&e) == Some(ERROR_ACCESS_DENIED) => return Err(need_admin(lang)),
        Err(e) => bail!("{e}"),
    }
    let layout = WindowsLayout::from_env();
    let mut left = Vec::new();
    let running_from_install = std::env::current_exe()
        .ok()
        .and_then(|e| std::fs::canonicalize(e).ok())
        .is_some_and(|e| {
            std::fs::canonicalize(&layout.program_dir).is_ok_and(|d| e.starts_with(d))
        });
    if running_from_install {
        // A running program cannot delete itself: a detached cmd does it
        // once this process has exited.
        let _ = std::process::Command::new("cmd")
            .args(["/C", "ping -n 3 127.0.0.1 >NUL & rmdir /S /Q"])
            .arg(&layout.program_dir)
            .spawn();
    } else if layout.program_dir.exists() && std::fs::remove_dir_all(&layout.program_dir).is_err() {
        left.push(layout.program_dir.clone());
    }
    if !args.keep_data
        && layout.data_dir.exists()
        && std::fs::remove_dir_all(&layout.data_dir).is_err()
    {
        left.push(layout.data_dir.clone());
    }
    if !args.quiet {
        println!(
            "{}",
            lang.pick("Đã gỡ dịch vụ Kiểm kê.", "The Kiểm kê service is removed.")
        );
    }
    if !left.is_empty() {
        for path in &left {
            eprintln!(
                "{} {}",
                lang.pick(
                    "Chưa xóa được (hãy xóa tay):",
                    "Could not remove (delete it by hand):"
                ),
                path.display()
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `kiemke-agent service`: hands this thread to the SCM.
pub fn run_dispatcher(lang: Lang, data_dir: Option<std::path::PathBuf>) -> ExitCode {
    LANG.store(
        matches!(lang, Lang::En),
        std::sync::atomic::Ordering::Relaxed,
    );
    if let Some(dir) = data_dir {
        let _ = DATA_DIR.set(dir);
    }
    match service_dispatcher::start(WINDOWS_SERVICE_NAME, ffi_service_main) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "{}: {e}",
                lang.pick(
                    "lệnh này chỉ chạy được từ trình quản lý dịch vụ (cài bằng: kiemke-agent install)",
                    "this command only runs under the service manager (install with: kiemke-agent install)"
                )
            );
            ExitCode::FAILURE
        }
    }
}

/// `--data DIR` given to `service` by the installer.
static DATA_DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// `--lang en` given to `service` (the SCM passes no other way in).
static LANG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

define_windows_service!(ffi_service_main, service_main);

fn service_main(_arguments: Vec<OsString>) {
    let mut layout = WindowsLayout::from_env();
    if let Some(dir) = DATA_DIR.get() {
        layout.log_dir = dir.join("logs");
        layout.data_dir = dir.clone();
    }
    let _guard = init_logging(&layout);
    if let Err(e) = run_service(&layout) {
        tracing::error!(cause = %format!("{e:#}"), "dịch vụ dừng do lỗi / the service stopped on an error");
    }
}

fn status(state: WinState, exit_code: ServiceExitCode) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: if state == WinState::Running {
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
        } else {
            ServiceControlAccept::empty()
        },
        exit_code,
        checkpoint: 0,
        wait_hint: Duration::from_secs(10),
        process_id: None,
    }
}

fn run_service(layout: &WindowsLayout) -> anyhow::Result<()> {
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown | ServiceControl::Preshutdown => {
            let _ = stop_tx.send(true);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let handle = service_control_handler::register(WINDOWS_SERVICE_NAME, handler)?;
    handle.set_service_status(status(WinState::Running, ServiceExitCode::Win32(0)))?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "dịch vụ Kiểm kê đã khởi động / service started"
    );
    let lang = if LANG.load(std::sync::atomic::Ordering::Relaxed) {
        Lang::En
    } else {
        Lang::Vi
    };
    let result = (|| -> anyhow::Result<()> {
        let config = config::load(&Overrides {
            data_dir: Some(layout.data_dir.clone()),
            lang: Some(lang),
            ..Overrides::default()
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(crate::cli::run_daemon(config, async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
        }))
    })();
    // A failure exits with an error code: the SCM's failure actions then
    // restart the service (they apply to non-crash failures too).
    let exit = match &result {
        Ok(()) => ServiceExitCode::Win32(0),
        Err(e) => {
            tracing::error!(cause = %format!("{e:#}"), "tác tử lỗi, trình quản lý dịch vụ sẽ khởi động lại / agent failed, the service manager will restart it");
            ServiceExitCode::ServiceSpecific(1)
        }
    };
    handle.set_service_status(status(WinState::Stopped, exit))?;
    tracing::info!("dịch vụ Kiểm kê đã dừng / service stopped");
    Ok(())
}

/// The service's logging: the Event Log (warnings, errors, start and stop)
/// and the daily file (everything at info). Returns nothing to keep: the
/// file writer is synchronous.
fn init_logging(layout: &WindowsLayout) -> Option<()> {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, fmt};

    let _ = std::fs::create_dir_all(&layout.log_dir);
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .max_log_files(LOG_FILES_KEPT)
        .build(&layout.log_dir)
        .ok();
    let filter = std::env::var("KIEMKE_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info,sled=warn"));
    let file_layer = file.map(|w| fmt::layer().with_ansi(false).with_writer(w));
    let event_layer = win32::EventLogLayer::open(EVENT_SOURCE).map(|l| {
        l.with_filter(
            Targets::new()
                .with_default(LevelFilter::WARN)
                .with_target(module_path!(), LevelFilter::INFO),
        )
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(event_layer)
        .try_init()
        .ok()
}
