//! A private CUPS for tests: its own cupsd (config, spool and a Unix socket
//! in a temporary directory), reached by pointing `CUPS_SERVER` at that
//! socket, so tests never touch the machine's CUPS. Its backend directory
//! mirrors the system's plus a stand-in `cups-pdf` backend (the shape of
//! the cups-pdf package's virtual PDF printer) that prints nothing.
//! Needs root and the `cups` package; [`Cups::available`] says whether.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub struct Cups {
    child: Child,
    dir: tempfile::TempDir,
}

const SERVER_BIN: &str = "/usr/lib/cups";

impl Cups {
    /// Root, `cupsd`, `lpadmin` and the system's CUPS programs are here.
    pub fn available() -> bool {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let has = |p: &str| Path::new(p).exists();
        root && has("/usr/sbin/cupsd") && has("/usr/sbin/lpadmin") && has(SERVER_BIN)
    }

    /// Starts cupsd and waits for its socket.
    pub fn start() -> anyhow::Result<Cups> {
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        for sub in [
            "root",
            "spool",
            "cache",
            "state",
            "log",
            "tmp",
            "bin/backend",
        ] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        set_mode(d, 0o755)?;
        for entry in std::fs::read_dir(SERVER_BIN)?.flatten() {
            if entry.file_name() != "backend" {
                std::os::unix::fs::symlink(entry.path(), d.join("bin").join(entry.file_name()))?;
            }
        }
        for entry in std::fs::read_dir(Path::new(SERVER_BIN).join("backend"))?.flatten() {
            std::os::unix::fs::symlink(
                entry.path(),
                d.join("bin/backend").join(entry.file_name()),
            )?;
        }
        let pdf = d.join("bin/backend/cups-pdf");
        std::fs::write(
            &pdf,
            "#!/bin/sh\n[ $# -eq 0 ] && echo 'file cups-pdf:/ \"Virtual PDF Printer\" \"CUPS-PDF\"'\nexit 0\n",
        )?;
        set_mode(&pdf, 0o700)?;
        let socket = d.join("cups.sock");
        std::fs::write(
            d.join("cupsd.conf"),
            format!(
                "Listen {}\nLogLevel warn\nBrowsing No\nWebInterface No\n\
                 <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n",
                socket.display()
            ),
        )?;
        let p = |s: &str| d.join(s).display().to_string();
        std::fs::write(
            d.join("cups-files.conf"),
            format!(
                "ServerRoot {}\nRequestRoot {}\nCacheDir {}\nStateDir {}\nTempDir {}\n\
                 ErrorLog {}\nAccessLog {}\nPageLog {}\nServerBin {}\nFileDevice Yes\n",
                p("root"),
                p("spool"),
                p("cache"),
                p("state"),
                p("tmp"),
                p("log/error_log"),
                p("log/access_log"),
                p("log/page_log"),
                p("bin"),
            ),
        )?;
        let child = Command::new("/usr/sbin/cupsd")
            .arg("-f")
            .arg("-c")
            .arg(d.join("cupsd.conf"))
            .arg("-s")
            .arg(d.join("cups-files.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start cupsd")?;
        let cups = Cups { child, dir };
        let start = Instant::now();
        while !socket.exists() {
            if start.elapsed() > Duration::from_secs(20) {
                bail!("cupsd did not open {}", socket.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(cups)
    }

    /// The value for `CUPS_SERVER`.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("cups.sock")
    }

    /// `lpadmin -p NAME -E -v URI -m raw`, with optional `-D` description.
    pub fn add_queue(&self, name: &str, uri: &str) -> anyhow::Result<()> {
        let out = Command::new("/usr/sbin/lpadmin")
            .env("CUPS_SERVER", self.socket())
            .args(["-p", name, "-E", "-v", uri, "-m", "raw"])
            .output()?;
        if !out.status.success() {
            bail!(
                "lpadmin {name} {uri}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

impl Drop for Cups {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
