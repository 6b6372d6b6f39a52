//! The Windows agent under Wine: the real `x86_64-pc-windows-gnu` build of
//! `kiemke-agent.exe`, run with Wine's 64-bit loader in a Wine prefix of its
//! own, so the Windows code paths (WMI through Wine's wbemprox, Winsock,
//! the service control manager) run on the Linux CI machine.
//!
//! The exe is built before the tests, by `.ci/run` (or by hand):
//! `cargo build -p kiemke-agent --target x86_64-pc-windows-gnu`; the tests
//! look for it in this build's target directory and fail, saying how to
//! build it, when it is not there. (Building it from inside `cargo test`
//! would wait on the lock the running `cargo test` holds.)
//!
//! Wine 8.0 lacks `bcryptprimitives.dll!ProcessPrng`, which Rust's standard
//! library imports; the team's three-line shim (`shared/tools/wine/`, found
//! like linkemu: see [`crate::shared_dir`]) is compiled with MinGW and put
//! next to the exe.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, bail, ensure};

/// Wine's 64-bit loader (Debian's `wine64` package).
pub const WINE64: &str = "/usr/lib/wine/wine64";

/// A Wine prefix with the agent's exe and the shim in a folder of their own.
pub struct Wine {
    /// Holds the prefix and the program folder; removed on drop.
    dir: tempfile::TempDir,
    pub exe: PathBuf,
}

/// Where this test build's target directory has the Windows exe.
pub fn windows_exe_path() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    // <target>/debug/deps/e2e-<hash>
    let target = me
        .ancestors()
        .nth(3)
        .context("the test binary is not inside a target directory")?;
    Ok(target
        .join("x86_64-pc-windows-gnu")
        .join("debug")
        .join("kiemke-agent.exe"))
}

impl Wine {
    /// Prepares the prefix (the first run of Wine in it takes some seconds).
    /// Fails loudly when Wine, MinGW or the exe is missing.
    pub fn start() -> anyhow::Result<Wine> {
        ensure!(
            Path::new(WINE64).exists(),
            "Wine is missing ({WINE64}): apt-get install wine64 (.ci/run installs it)"
        );
        let built = windows_exe_path()?;
        ensure!(
            built.exists(),
            "{} is missing: build it first with \
             `cargo build -p kiemke-agent --target x86_64-pc-windows-gnu` (.ci/run does)",
            built.display()
        );
        let dir = tempfile::tempdir()?;
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin)?;
        let exe = bin.join("kiemke-agent.exe");
        std::fs::copy(&built, &exe)?;
        let shim = crate::shared_dir().join("tools/wine");
        ensure!(
            shim.join("bcryptprimitives.c").is_file(),
            "the Wine shim is missing at {} (the shared/ tools live next to the \
             repository, or set KIEMKE_SHARED_DIR)",
            shim.display()
        );
        let gcc = Command::new("x86_64-w64-mingw32-gcc")
            .arg("-shared")
            .arg("-o")
            .arg(bin.join("bcryptprimitives.dll"))
            .arg(shim.join("bcryptprimitives.c"))
            .arg(shim.join("bcryptprimitives.def"))
            .arg("-ladvapi32")
            .output()
            .context("x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64)")?;
        ensure!(
            gcc.status.success(),
            "building the bcryptprimitives shim: {}",
            String::from_utf8_lossy(&gcc.stderr)
        );
        let wine = Wine { dir, exe };
        // Creates the prefix once, so the tests' own runs are quick.
        let boot = wine.command(&["--version"]).output()?;
        if !boot.status.success() {
            bail!(
                "the exe does not start under Wine: {}",
                String::from_utf8_lossy(&boot.stderr)
            );
        }
        // Also for the copy `install` puts in Program Files, which the
        // service manager starts.
        std::fs::copy(
            bin.join("bcryptprimitives.dll"),
            wine.prefix()
                .join("drive_c/windows/system32/bcryptprimitives.dll"),
        )?;
        Ok(wine)
    }

    pub fn prefix(&self) -> PathBuf {
        self.dir.path().join("prefix")
    }

    /// `kiemke-agent.exe ARGS` under Wine, quiet, in this prefix.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(WINE64);
        c.arg(&self.exe)
            .args(args)
            .env("WINEPREFIX", self.prefix())
            .env("WINEDEBUG", "-all")
            .env("NO_COLOR", "1")
            // Nothing from the Linux side leaks into the agent's config.
            .env_remove("KIEMKE_AGENT_DATA")
            .env_remove("KIEMKE_SERVER")
            .env_remove("KIEMKE_LANG");
        c
    }

    pub fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        Ok(self.command(args).output()?)
    }

    /// A Linux path as the Windows program sees it (Wine maps `Z:` to `/`).
    pub fn windows_path(path: &Path) -> String {
        format!("Z:{}", path.display()).replace('/', "\\")
    }

    /// The prefix's `C:\ProgramData`, from the Linux side.
    pub fn program_data(&self) -> PathBuf {
        self.prefix().join("drive_c/ProgramData")
    }

    /// The prefix's `C:\Program Files`, from the Linux side.
    pub fn program_files(&self) -> PathBuf {
        self.prefix().join("drive_c/Program Files")
    }

    /// Stops this prefix's wineserver (and the services it runs).
    pub fn shutdown(&self) {
        let _ = Command::new("/usr/lib/wine/wineserver64")
            .arg("-k")
            .env("WINEPREFIX", self.prefix())
            .status();
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        self.shutdown();
    }
}
