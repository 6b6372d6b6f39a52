//! The agent as a systemd service on Linux. The unit is the one the .deb
//! ships (`packaging/kiemke-agent.service`, compiled in); `install` only
//! writes it to `/etc/systemd/system` when no package put one in place, with
//! `ExecStart=` naming the program it copied to `/usr/local/bin`.
//!
//! With `--root DIR` everything goes under `DIR` and `systemctl` is not
//! called (packaging, tests); so too when systemd is not running (a
//! container), where `install` says how to start the agent by hand.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use kiemke_shared::Lang;

use super::install::{InstallArgs, UninstallArgs, enroll_step};
use super::{LinuxLayout, PACKAGED_EXE, SYSTEMD_UNIT, ServiceState};

/// The unit as packaged.
pub const PACKAGED_UNIT: &str = include_str!("../../../packaging/kiemke-agent.service");

/// The unit for a program at `exec_path`.
pub fn unit_text(exec_path: &Path) -> String {
    PACKAGED_UNIT.replace(
        &format!("ExecStart={PACKAGED_EXE} run"),
        &format!("ExecStart={} run", exec_path.display()),
    )
}

/// Whether this system was booted with systemd (what `sd_booted()` checks).
fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("systemctl")
        .args(args)
        .status()
        .with_context(|| format!("systemctl {}", args.join(" ")))?;
    if !status.success() {
        bail!("systemctl {} ({status})", args.join(" "));
    }
    Ok(())
}

fn layout(root: Option<&Path>) -> LinuxLayout {
    let exe = std::env::current_exe().unwrap_or_default();
    LinuxLayout::new(root.unwrap_or(Path::new("/")), &exe)
}

pub async fn install(args: InstallArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let staged = args.root.is_some();
    if !staged && crate::state::is_privileged() != Some(true) {
        bail!(
            "{}",
            lang.pick(
                "cần quyền root để cài dịch vụ: sudo kiemke-agent install ...",
                "installing the service needs root: sudo kiemke-agent install ..."
            )
        );
    }
    let layout = layout(args.root.as_deref());
    crate::state::ensure_data_dir(&layout.data_dir)?;
    let enrolled = enroll_step(&layout.data_dir, &args, lang).await?;
    if !layout.is_packaged() {
        copy_program(&layout)?;
    }
    let unit = match layout.packaged_unit() {
        Some(unit) => unit.to_owned(),
        None => {
            if let Some(dir) = layout.unit_file.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(&layout.unit_file, unit_text(&layout.exec_path))
                .with_context(|| layout.unit_file.display().to_string())?;
            layout.unit_file.clone()
        }
    };
    let started = !staged && systemd_running();
    if started {
        systemctl(&["daemon-reload"])?;
        systemctl(&["enable", SYSTEMD_UNIT])?;
        // Restart, not start: a reinstall must pick up a new enrollment.
        systemctl(&["restart", SYSTEMD_UNIT])?;
    }
    if !args.quiet {
        match lang {
            Lang::Vi => println!(
                "Đã cài tác tử Kiểm kê.\nMáy chủ: {}\nMã tác tử: {}\nDịch vụ systemd: {}",
                enrolled.server,
                enrolled.agent_id(),
                unit.display()
            ),
            Lang::En => println!(
                "The Kiểm kê agent is installed.\nServer: {}\nAgent id: {}\nsystemd unit: {}",
                enrolled.server,
                enrolled.agent_id(),
                unit.display()
            ),
        }
        println!(
            "{}",
            if started {
                lang.pick(
                    "Dịch vụ đã chạy và sẽ tự khởi động cùng máy. Xem: kiemke-agent status",
                    "The service runs and starts at boot. See: kiemke-agent status",
                )
            } else {
                lang.pick(
                    "systemd không chạy ở đây: dịch vụ chưa được khởi động (systemctl enable --now kiemke-agent).",
                    "systemd is not running here: the service was not started (systemctl enable --now kiemke-agent).",
                )
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn uninstall(args: UninstallArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let staged = args.root.is_some();
    if !staged && crate::state::is_privileged() != Some(true) {
        bail!(
            "{}",
            lang.pick(
                "cần quyền root để gỡ dịch vụ: sudo kiemke-agent uninstall",
                "removing the service needs root: sudo kiemke-agent uninstall"
            )
        );
    }
    let layout = layout(args.root.as_deref());
    let live = !staged && systemd_running();
    if live {
        // Not installed is fine: uninstall is idempotent.
        let _ = systemctl(&["disable", "--now", SYSTEMD_UNIT]);
    }
    remove_if_present(&layout.unit_file)?;
    if live {
        let _ = systemctl(&["daemon-reload"]);
    }
    if !layout.is_packaged() {
        remove_if_present(&layout.copied_exe)?;
    }
    if !args.keep_data {
        remove_dir_if_present(&layout.data_dir)?;
        // Where systemd keeps a DynamicUser service's state.
        let private = layout.root.join("var/lib/private/kiemke-agent");
        remove_dir_if_present(&private)?;
    }
    if !args.quiet {
        println!(
            "{}",
            match (args.keep_data, layout.packaged_unit().is_some(), lang) {
                (_, true, Lang::Vi) =>
                    "Đã dừng và tắt dịch vụ. Gỡ hẳn gói: apt remove kiemke-agent",
                (_, true, Lang::En) =>
                    "The service is stopped and disabled. Remove the package: apt remove kiemke-agent",
                (false, false, Lang::Vi) => "Đã gỡ tác tử Kiểm kê và dữ liệu của nó.",
                (false, false, Lang::En) => "The Kiểm kê agent and its data are removed.",
                (true, false, Lang::Vi) => "Đã gỡ tác tử Kiểm kê (giữ lại thư mục dữ liệu).",
                (true, false, Lang::En) => "The Kiểm kê agent is removed (data kept).",
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The unit's state, from `systemctl is-active`.
pub fn query_state(layout: &LinuxLayout) -> ServiceState {
    if layout.packaged_unit().is_none() && !layout.unit_file.exists() {
        return ServiceState::NotInstalled;
    }
    if !systemd_running() {
        return ServiceState::Unknown("systemd không chạy / systemd is not running".into());
    }
    match Command::new("systemctl")
        .args(["is-active", SYSTEMD_UNIT])
        .output()
    {
        Ok(out) => state_from_is_active(&String::from_utf8_lossy(&out.stdout)),
        Err(e) => ServiceState::Unknown(format!("systemctl: {e}")),
    }
}

/// Maps `systemctl is-active` output to a state.
pub fn state_from_is_active(text: &str) -> ServiceState {
    match text.trim() {
        "active" | "reloading" => ServiceState::Running,
        "activating" => ServiceState::Starting,
        "deactivating" => ServiceState::Stopping,
        "inactive" | "failed" => ServiceState::Stopped,
        other => ServiceState::Unknown(other.to_owned()),
    }
}

fn copy_program(layout: &LinuxLayout) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    if exe == layout.copied_exe {
        return Ok(());
    }
    if let Some(dir) = layout.copied_exe.parent() {
        fs::create_dir_all(dir)?;
    }
    // Copy beside, then rename: replaces a running program safely.
    let tmp = layout.copied_exe.with_extension("new");
    fs::copy(&exe, &tmp).with_context(|| format!("{} -> {}", exe.display(), tmp.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
    }
    fs::rename(&tmp, &layout.copied_exe)?;
    Ok(())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| path.display().to_string())
        }
        _ => Ok(()),
    }
}

fn remove_dir_if_present(path: &Path) -> anyhow::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::remove_file(path),
        Ok(_) => fs::remove_dir_all(path),
        Err(_) => Ok(()),
    };
    result.with_context(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_is_hardened_and_names_the_program() {
        let unit = unit_text(Path::new("/usr/local/bin/kiemke-agent"));
        assert!(unit.contains("\nExecStart=/usr/local/bin/kiemke-agent run\n"));
        for line in [
            "DynamicUser=yes",
            "ProtectSystem=strict",
            "StateDirectory=kiemke-agent",
            "AmbientCapabilities=CAP_NET_RAW",
            "CapabilityBoundingSet=CAP_NET_RAW",
            "NoNewPrivileges=yes",
            "Restart=always",
            "Environment=KIEMKE_AGENT_DATA=/var/lib/kiemke-agent",
            "WantedBy=multi-user.target",
        ] {
            assert!(unit.lines().any(|l| l == line), "missing {line}");
        }
        assert_eq!(
            unit_text(Path::new(PACKAGED_EXE)),
            PACKAGED_UNIT,
            "the packaged program needs no change"
        );
    }

    #[test]
    fn is_active_answers_map_to_states() {
        assert_eq!(state_from_is_active("active\n"), ServiceState::Running);
        assert_eq!(state_from_is_active("failed\n"), ServiceState::Stopped);
        assert_eq!(state_from_is_active("activating"), ServiceState::Starting);
        assert!(matches!(
            state_from_is_active("maintenance"),
            ServiceState::Unknown(_)
        ));
    }
}
