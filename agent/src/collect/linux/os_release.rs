//! The Linux distribution, from `/etc/os-release` (name, version, build id)
//! where `sysinfo` left a gap, and the OS install date: the earliest of the
//! root filesystem's birth time and the Debian/Ubuntu installer log's
//! modification time. The install date is a lower bound on the hardware's
//! age, and absent when neither source exists.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use kiemke_shared::inventory::{OsInfo, clean_text};

const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];
const INSTALLER_LOG: &str = "var/log/installer";

/// Fills the gaps `sysinfo` left in `os` from the files under `root`.
pub fn fill_os(root: &Path, os: &mut OsInfo) {
    let release = OS_RELEASE
        .iter()
        .find_map(|path| fs::read_to_string(root.join(path)).ok())
        .map(|content| parse(&content))
        .unwrap_or_default();
    let get = |key: &str| release.get(key).and_then(|v| clean_text(v));
    if os.name.is_none() {
        os.name = get("NAME").or_else(|| get("PRETTY_NAME"));
    }
    if os.version.is_none() {
        os.version = get("VERSION_ID");
    }
    if os.build.is_none() {
        os.build = get("BUILD_ID");
    }
    if os.install_date.is_none() {
        os.install_date = install_date(root);
    }
}

/// Parses `KEY=value` lines, with the shell quoting os-release allows.
pub fn parse(content: &str) -> HashMap<String, String> {
    content
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), unquote(value.trim())))
        .collect()
}

fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')));
    match inner {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    out.extend(chars.next());
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => value.to_owned(),
    }
}

/// The earliest of the root filesystem's birth time and the installer log's
/// modification time.
pub fn install_date(root: &Path) -> Option<DateTime<Utc>> {
    let birth = fs::metadata(root).and_then(|m| m.created()).ok();
    let installer = fs::metadata(root.join(INSTALLER_LOG))
        .and_then(|m| m.modified())
        .ok();
    [birth, installer]
        .into_iter()
        .flatten()
        .filter(|t| *t > SystemTime::UNIX_EPOCH)
        .min()
        .map(DateTime::<Utc>::from)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const DEBIAN: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"#;

    const ARCH: &str =
        "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n";

    #[test]
    fn parses_os_release() {
        let fields = parse(DEBIAN);
        assert_eq!(fields["NAME"], "Debian GNU/Linux");
        assert_eq!(fields["VERSION_ID"], "12");
        assert_eq!(fields["ID"], "debian");
        let quoted = parse("NAME='Linux Mint'\nX=\"a \\\"b\\\"\"\n# comment\n");
        assert_eq!(quoted["NAME"], "Linux Mint");
        assert_eq!(quoted["X"], "a \"b\"");
    }

    #[test]
    fn fills_only_the_gaps() {
        let root = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(root.path().join("etc")).expect("mkdir");
        fs::write(root.path().join("etc/os-release"), ARCH).expect("write");

        let mut os = OsInfo::default();
        fill_os(root.path(), &mut os);
        assert_eq!(os.name.as_deref(), Some("Arch Linux"));
        assert_eq!(os.version, None);
        assert_eq!(os.build.as_deref(), Some("rolling"));

        let mut os = OsInfo {
            name: Some("Ubuntu".into()),
            ..OsInfo::default()
        };
        fs::write(root.path().join("etc/os-release"), DEBIAN).expect("write");
        fill_os(root.path(), &mut os);
        assert_eq!(os.name.as_deref(), Some("Ubuntu"));
        assert_eq!(os.version.as_deref(), Some("12"));
    }

    #[test]
    fn install_date_is_the_earliest_source() {
        let root = tempfile::tempdir().expect("tempdir");
        let installer = root.path().join(INSTALLER_LOG);
        fs::create_dir_all(&installer).expect("mkdir");
        let in_2015 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_430_000_000);
        fs::File::open(&installer)
            .and_then(|dir| dir.set_modified(in_2015))
            .expect("set mtime");
        let date = install_date(root.path()).expect("a date");
        assert_eq!(date, DateTime::<Utc>::from(in_2015));
    }

    #[test]
    fn no_install_date_source() {
        let missing = Path::new("/nonexistent-kiemke-root");
        assert_eq!(install_date(missing), None);
    }
}
