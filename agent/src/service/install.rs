//! `kiemke-agent install` and `uninstall`: the flags, and the steps both
//! platforms share (asking for what is missing when a person is at the
//! keyboard, enrolling into the service's data directory, checking the
//! site). Silent with `--quiet`: nothing is asked, only errors are printed,
//! and the exit code tells a script or a Group Policy whether it worked.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use kiemke_shared::Lang;

use crate::config::{self, Overrides};
use crate::enrollment::{self, Enrollment};

/// `kiemke-agent install ...`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstallArgs {
    /// Địa chỉ máy chủ, ví dụ https://kiemke.gialai.gov.vn (thiếu thì hỏi).
    #[arg(long, env = "KIEMKE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Mã đăng ký kkt_... (thiếu thì hỏi; bỏ qua nếu máy đã đăng ký).
    #[arg(
        long,
        env = "KIEMKE_ENROLL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Mã điểm (trụ sở, TTPVHCC...) mà mã đăng ký phải thuộc về; khác thì dừng.
    #[arg(long, value_name = "CODE")]
    pub site: Option<String>,
    /// Chỉ tin CA trong tệp này (PEM) cho máy chủ.
    #[arg(long, value_name = "FILE", conflicts_with = "ca_fingerprint")]
    pub ca: Option<PathBuf>,
    /// Ghim CA của máy chủ theo dấu vân tay SHA-256 mà máy chủ in ra.
    #[arg(long, value_name = "HEX")]
    pub ca_fingerprint: Option<String>,
    /// Cho phép http:// không mã hóa tới máy chủ khác máy này (KHÔNG an toàn).
    #[arg(long)]
    pub insecure_http: bool,
    /// Không hỏi, không in gì trừ lỗi (cho script, Group Policy).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Linux: cài vào thư mục gốc khác (đóng gói, kiểm thử); không gọi systemctl.
    #[arg(long, value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
}

/// `kiemke-agent uninstall ...`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct UninstallArgs {
    /// Giữ lại thư mục dữ liệu (đăng ký, báo cáo chưa gửi).
    #[arg(long)]
    pub keep_data: bool,
    /// Không in gì trừ lỗi.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Linux: gỡ khỏi thư mục gốc khác (xem install --root).
    #[arg(long, value_name = "DIR", hide = true)]
    pub root: Option<PathBuf>,
}

/// Installs the service on this OS.
pub async fn install(args: InstallArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    #[cfg(windows)]
    return super::windows::install(args, lang).await;
    #[cfg(unix)]
    return super::systemd::install(args, lang).await;
    #[cfg(not(any(windows, unix)))]
    bail!("unsupported OS")
}

/// Removes the service on this OS.
pub async fn uninstall(args: UninstallArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    #[cfg(windows)]
    return super::windows::uninstall(args, lang);
    #[cfg(unix)]
    return super::systemd::uninstall(args, lang);
    #[cfg(not(any(windows, unix)))]
    bail!("unsupported OS")
}

/// Enrolls into the service's data directory (which the caller has created
/// and protected), unless it is already enrolled and no new token is given;
/// checks `--site`; writes a starting configuration file.
pub async fn enroll_step(
    data_dir: &Path,
    args: &InstallArgs,
    lang: Lang,
) -> anyhow::Result<Enrollment> {
    let overrides = Overrides {
        data_dir: Some(data_dir.to_owned()),
        lang: Some(lang),
        ..Overrides::default()
    };
    let config = config::load(&overrides)?;
    let existing = enrollment::load(data_dir).ok().flatten();
    let enrolled = match (&args.token, existing) {
        (None, Some(e)) if args.server.as_deref().is_none_or(|s| same_server(s, &e)) => e,
        (token, _) => {
            let interactive = !args.quiet && std::io::stdin().is_terminal();
            let server = match &args.server {
                Some(s) => s.clone(),
                None if interactive => ask(lang.pick(
                    "Địa chỉ máy chủ (ví dụ https://kiemke.gialai.gov.vn): ",
                    "Server address (e.g. https://kiemke.gialai.gov.vn): ",
                ))?,
                None => bail!(
                    "{}",
                    lang.pick(
                        "thiếu --server URL (địa chỉ máy chủ Kiểm kê)",
                        "missing --server URL (the Kiểm kê server's address)"
                    )
                ),
            };
            let token = match token {
                Some(t) => t.clone(),
                None if interactive => ask(lang.pick(
                    "Mã đăng ký (kkt_..., do Sở KH&CN cấp): ",
                    "Enrollment token (kkt_..., from the province): ",
                ))?,
                None => bail!(
                    "{}",
                    lang.pick(
                        "thiếu --token MÃ (mã đăng ký do Sở KH&CN cấp)",
                        "missing --token TOKEN (the enrollment token from the province)"
                    )
                ),
            };
            crate::cli::enroll_into(
                &config,
                &server,
                &token,
                args.ca.clone(),
                args.ca_fingerprint.clone(),
                args.insecure_http,
            )
            .await?
        }
    };
    if let Err(message) = check_site(&enrolled, args.site.as_deref(), lang) {
        // Leave nothing half-installed: without the file, no service will
        // report under the wrong site.
        let _ = std::fs::remove_file(enrollment::path(data_dir));
        bail!("{message}");
    }
    write_starting_config(data_dir, lang).with_context(|| {
        lang.pick(
            "không ghi được tệp cấu hình",
            "cannot write the configuration file",
        )
        .to_owned()
    })?;
    Ok(enrolled)
}

fn same_server(given: &str, enrolled: &Enrollment) -> bool {
    crate::deliver::parse_server_url(given).is_ok_and(|u| u == enrolled.server)
}

fn ask(prompt: &str) -> anyhow::Result<String> {
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// The site a token enrolled into must be the one `--site` names: the
/// server decides the site from the token, and a script run at the wrong
/// office must not file that office's PCs under another.
pub fn check_site(enrolled: &Enrollment, expected: Option<&str>, lang: Lang) -> Result<(), String> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let actual = enrolled.site.as_ref().map(|s| s.to_string());
    if actual
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case(expected.trim()))
    {
        return Ok(());
    }
    let actual = actual.unwrap_or_else(|| lang.pick("(không gắn điểm)", "(no site)").to_owned());
    Err(match lang {
        Lang::Vi => format!(
            "mã đăng ký này thuộc điểm {actual}, không phải {expected}; hãy dùng đúng mã đăng ký của điểm {expected}"
        ),
        Lang::En => format!(
            "this token enrolls into site {actual}, not {expected}; use the token made for site {expected}"
        ),
    })
}

/// The configuration file the service reads, written once (an edited file
/// is never overwritten by a reinstall).
pub fn write_starting_config(data_dir: &Path, lang: Lang) -> std::io::Result<()> {
    let path = data_dir.join(config::defaults::CONFIG_FILE_NAME);
    if path.exists() {
        return Ok(());
    }
    let text = format!(
        "# Cấu hình tác tử Kiểm kê (các khóa: xem kiemke-agent.sample.toml).\n\
         # Máy chủ và thông tin xác thực nằm trong enrollment.json, do\n\
         # \"kiemke-agent install\" ghi.\n\
         lang = \"{}\"\n",
        lang.tag()
    );
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use kiemke_shared::auth::{AgentCredential, SECRET_BYTES, Secret};
    use kiemke_shared::{AgentId, CommuneCode, SiteCode};

    fn enrolled(site: Option<&str>) -> Enrollment {
        Enrollment {
            server: "https://kiemke.example.gov.vn/".parse().expect("url"),
            credential: AgentCredential {
                agent_id: AgentId::generate(),
                secret: Secret::from_bytes(&[7; SECRET_BYTES]),
            },
            commune: CommuneCode::parse("24118").expect("code"),
            site: site.map(|s| SiteCode::parse(s).expect("site")),
            site_name: None,
            trust: crate::tls::ServerTrust::System,
            insecure_http: false,
            enrolled_at: Utc::now(),
        }
    }

    #[test]
    fn the_site_must_match_when_named() {
        let e = enrolled(Some("ttpvhcc"));
        assert_eq!(check_site(&e, None, Lang::Vi), Ok(()));
        assert_eq!(check_site(&e, Some("ttpvhcc"), Lang::Vi), Ok(()));
        let err = check_site(&e, Some("tru-so"), Lang::Vi).expect_err("other site");
        assert!(
            err.contains("thuộc điểm ttpvhcc, không phải tru-so"),
            "{err}"
        );
        let err = check_site(&enrolled(None), Some("ttpvhcc"), Lang::En).expect_err("no site");
        assert!(err.contains("(no site)"), "{err}");
    }

    #[test]
    fn the_starting_config_parses_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_starting_config(dir.path(), Lang::En).expect("write");
        let path = dir.path().join(config::defaults::CONFIG_FILE_NAME);
        let loaded = config::load(&Overrides {
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        })
        .expect("the written file is a valid configuration");
        assert_eq!(loaded.lang, Lang::En);
        std::fs::write(&path, "lang = \"vi\"\n").expect("edit");
        write_starting_config(dir.path(), Lang::En).expect("again");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "lang = \"vi\"\n"
        );
    }

    #[test]
    fn same_server_compares_normalised_urls() {
        let e = enrolled(None);
        assert!(same_server("https://kiemke.example.gov.vn", &e));
        assert!(!same_server("https://other.example.gov.vn", &e));
    }
}
