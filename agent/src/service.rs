//! The agent as a system service: `kiemke-agent install` (enroll, put the
//! program in place, register a service that starts at boot and restarts on
//! failure, start it), `uninstall`, and the service's state for `status`.
//!
//! The platform-neutral parts live here and are unit-tested on every OS:
//! the names and paths, the restart policy, the `status` text. The
//! platforms:
//! - [`windows`] (Windows only): the service control manager through the
//!   `windows-service` crate, the data directory's ACL, and the service
//!   entry point the SCM starts (`kiemke-agent.exe service`).
//! - [`systemd`] (Unix): the unit from `packaging/kiemke-agent.service`,
//!   written and enabled with `systemctl`.
//! - [`install`]: the steps common to both (asking for what is missing,
//!   enrolling, checking the site).

pub mod install;
pub mod status;
#[cfg(unix)]
pub mod systemd;
#[cfg(windows)]
pub mod windows;

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiemke_shared::Lang;

/// The Windows service's name (`sc query KiemkeAgent`).
pub const WINDOWS_SERVICE_NAME: &str = "KiemkeAgent";
/// What the Services console shows.
pub const WINDOWS_DISPLAY_NAME: &str = "Kiểm kê - tác tử kiểm kê máy tính";
pub const WINDOWS_DESCRIPTION: &str = "Kiểm kê thiết bị CNTT và đo đường truyền của máy này, \
     gửi báo cáo về máy chủ Kiểm kê của tỉnh. Gỡ bằng: kiemke-agent uninstall";
/// The Event Log source the service writes under (Application log).
pub const EVENT_SOURCE: &str = "KiemkeAgent";
/// The systemd unit's name.
pub const SYSTEMD_UNIT: &str = "kiemke-agent.service";

/// After a failure the service manager restarts the agent after these
/// delays (first, second, and every later failure), and forgets the count
/// after [`FAILURE_RESET`]. The agent never exits because the server is
/// unreachable (the daemon spools and retries); these cover crashes and
/// a damaged data directory.
pub const RESTART_DELAYS: [Duration; 3] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(300),
];
pub const FAILURE_RESET: Duration = Duration::from_secs(24 * 3600);

/// Rotating log files kept under the data directory on Windows: one per
/// day, at most this many (the agent writes a few lines a day; two weeks
/// are enough for support and cap the disk used).
pub const LOG_FILES_KEPT: usize = 14;
pub const LOG_FILE_PREFIX: &str = "kiemke-agent.log";

/// The data directory's ACL on Windows (SDDL): protected from inheritance,
/// full control for SYSTEM (`SY`) and the Administrators group (`BA`) only,
/// inherited by everything created inside. Well-known SIDs, so it holds on
/// a Vietnamese Windows whose group names are translated.
pub const DATA_DIR_SDDL: &str = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

/// Where the installed agent lives on Windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsLayout {
    /// `%ProgramFiles%\Kiemke`: the program.
    pub program_dir: PathBuf,
    pub exe: PathBuf,
    /// `%ProgramData%\Kiemke\agent`: enrollment, spool, configuration (ACL:
    /// SYSTEM and Administrators).
    pub data_dir: PathBuf,
    /// Rotating log files.
    pub log_dir: PathBuf,
}

impl WindowsLayout {
    pub fn new(program_files: &Path, program_data: &Path) -> WindowsLayout {
        let program_dir = program_files.join("Kiemke");
        let data_dir = program_data.join("Kiemke").join("agent");
        WindowsLayout {
            exe: program_dir.join("kiemke-agent.exe"),
            program_dir,
            log_dir: data_dir.join("logs"),
            data_dir,
        }
    }

    /// From `%ProgramFiles%` and `%ProgramData%` (with Windows' defaults).
    pub fn from_env() -> WindowsLayout {
        let var = |name: &str, default: &str| {
            std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
        };
        WindowsLayout::new(
            &var("ProgramFiles", r"C:\Program Files"),
            &var("ProgramData", r"C:\ProgramData"),
        )
    }
}

/// Where the installed agent lives on Linux, under `root` (`/`, or a staging
/// directory in tests and packaging).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinuxLayout {
    pub root: PathBuf,
    /// The program as the unit names it (absolute on the target system).
    pub exec_path: PathBuf,
    /// Where `install` copies the program when it is not a packaged one.
    pub copied_exe: PathBuf,
    /// The unit `install` writes when no package ships one.
    pub unit_file: PathBuf,
    /// Units a package ships (`install` then only enables them).
    pub packaged_units: [PathBuf; 2],
    pub data_dir: PathBuf,
}

/// The packaged program (from the .deb).
pub const PACKAGED_EXE: &str = "/usr/bin/kiemke-agent";
/// The program `install` puts in place when run from elsewhere.
pub const LOCAL_EXE: &str = "/usr/local/bin/kiemke-agent";
/// The state directory the unit's `StateDirectory=` names.
pub const LINUX_DATA_DIR: &str = "/var/lib/kiemke-agent";

impl LinuxLayout {
    /// The layout under `root`, for a program started from `current_exe`.
    pub fn new(root: &Path, current_exe: &Path) -> LinuxLayout {
        let under = |abs: &str| root.join(abs.trim_start_matches('/'));
        let packaged = current_exe == Path::new(PACKAGED_EXE);
        LinuxLayout {
            root: root.to_owned(),
            exec_path: PathBuf::from(if packaged { PACKAGED_EXE } else { LOCAL_EXE }),
            copied_exe: under(LOCAL_EXE),
            unit_file: under("/etc/systemd/system").join(SYSTEMD_UNIT),
            packaged_units: [
                under("/lib/systemd/system").join(SYSTEMD_UNIT),
                under("/usr/lib/systemd/system").join(SYSTEMD_UNIT),
            ],
            data_dir: under(LINUX_DATA_DIR),
        }
    }

    /// Whether the program is the packaged one (nothing to copy).
    pub fn is_packaged(&self) -> bool {
        self.exec_path == Path::new(PACKAGED_EXE)
    }

    /// A unit shipped by a package, if there is one.
    pub fn packaged_unit(&self) -> Option<&Path> {
        self.packaged_units
            .iter()
            .find(|p| p.exists())
            .map(PathBuf::as_path)
    }
}

/// The service as the service manager sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceState {
    NotInstalled,
    Running,
    Starting,
    Stopping,
    Stopped,
    /// Installed, its state unknown (e.g. no systemd running); the text says why.
    Unknown(String),
}

impl ServiceState {
    /// One line for `status`.
    pub fn describe(&self, lang: Lang) -> String {
        let (vi, en) = match self {
            ServiceState::NotInstalled => (
                "CHƯA cài đặt (cài bằng: kiemke-agent install --server URL --token MÃ)",
                "NOT installed (install with: kiemke-agent install --server URL --token TOKEN)",
            ),
            ServiceState::Running => ("đang chạy", "running"),
            ServiceState::Starting => ("đang khởi động", "starting"),
            ServiceState::Stopping => ("đang dừng", "stopping"),
            ServiceState::Stopped => (
                "ĐÃ DỪNG (khởi động lại bằng quyền quản trị)",
                "STOPPED (start it again as an administrator)",
            ),
            ServiceState::Unknown(why) => {
                return match lang {
                    Lang::Vi => format!("không rõ ({why})"),
                    Lang::En => format!("unknown ({why})"),
                };
            }
        };
        lang.pick(vi, en).to_owned()
    }
}

/// The installed service's state on this OS.
pub fn query_state() -> ServiceState {
    #[cfg(windows)]
    return windows::query_state();
    #[cfg(unix)]
    return systemd::query_state(&LinuxLayout::new(
        Path::new("/"),
        &std::env::current_exe().unwrap_or_default(),
    ));
    #[cfg(not(any(windows, unix)))]
    ServiceState::Unknown("unsupported OS".into())
}

/// `kiemke-agent service`: what the Windows service control manager starts.
pub fn run_as_service(lang: Lang, data_dir: Option<PathBuf>) -> std::process::ExitCode {
    #[cfg(windows)]
    return windows::run_dispatcher(lang, data_dir);
    #[cfg(not(windows))]
    {
        let _ = data_dir;
        eprintln!(
            "{}",
            lang.pick(
                "Lệnh này chỉ dành cho trình quản lý dịch vụ Windows; trên Linux dùng: kiemke-agent run",
                "This command is for the Windows service manager; on Linux use: kiemke-agent run"
            )
        );
        std::process::ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_layout_puts_the_program_and_the_data_apart() {
        let l = WindowsLayout::new(Path::new("C:/Program Files"), Path::new("C:/ProgramData"));
        assert_eq!(l.exe, Path::new("C:/Program Files/Kiemke/kiemke-agent.exe"));
        assert_eq!(l.data_dir, Path::new("C:/ProgramData/Kiemke/agent"));
        assert!(l.log_dir.starts_with(&l.data_dir), "logs share the ACL");
    }

    #[test]
    fn linux_layout_uses_the_packaged_program_or_copies_one() {
        let root = Path::new("/tmp/stage");
        let deb = LinuxLayout::new(root, Path::new(PACKAGED_EXE));
        assert!(deb.is_packaged());
        assert_eq!(deb.exec_path, Path::new("/usr/bin/kiemke-agent"));
        let local = LinuxLayout::new(root, Path::new("/home/a/kiemke-agent"));
        assert!(!local.is_packaged());
        assert_eq!(local.exec_path, Path::new(LOCAL_EXE));
        assert_eq!(
            local.copied_exe,
            Path::new("/tmp/stage/usr/local/bin/kiemke-agent")
        );
        assert_eq!(
            local.unit_file,
            Path::new("/tmp/stage/etc/systemd/system/kiemke-agent.service")
        );
        assert_eq!(local.data_dir, Path::new("/tmp/stage/var/lib/kiemke-agent"));
        assert_eq!(local.packaged_unit(), None);
    }

    #[test]
    fn the_data_acl_names_only_system_and_administrators() {
        assert!(DATA_DIR_SDDL.starts_with("D:P"), "inheritance cut");
        let aces: Vec<&str> = DATA_DIR_SDDL
            .trim_start_matches("D:P")
            .split_terminator(')')
            .collect();
        assert_eq!(aces.len(), 2);
        assert!(
            aces.iter()
                .all(|a| a.ends_with(";;;SY") || a.ends_with(";;;BA"))
        );
    }

    #[test]
    fn restarts_back_off_and_states_read_in_both_languages() {
        assert!(RESTART_DELAYS.windows(2).all(|w| w[0] < w[1]));
        assert!(
            ServiceState::Running
                .describe(Lang::Vi)
                .contains("đang chạy")
        );
        assert!(
            ServiceState::NotInstalled
                .describe(Lang::En)
                .contains("NOT installed")
        );
        assert_eq!(
            ServiceState::Unknown("systemd không chạy".into()).describe(Lang::Vi),
            "không rõ (systemd không chạy)"
        );
    }
}
