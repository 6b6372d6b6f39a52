//! The agent's data directory and the identity of this installation.
//!
//! The data directory holds the spool and the agent id. Defaults: Windows
//! `%ProgramData%\Kiemke\agent`; Linux as root `/var/lib/kiemke-agent`;
//! Linux as a user `$XDG_STATE_HOME/kiemke-agent` (or
//! `~/.local/state/kiemke-agent`), so a user can try the agent without root.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use kiemke_shared::AgentId;

const AGENT_ID_FILE: &str = "agent-id";

/// Why the agent's state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot create data directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} does not hold a valid agent id")]
    CorruptId { path: PathBuf },
    #[error("{path} is damaged; enroll again (kiemke-agent enroll)")]
    Corrupt { path: PathBuf },
}

/// The default data directory for this OS and user.
pub fn default_data_dir() -> PathBuf {
    if cfg!(windows) {
        let base = std::env::var_os("ProgramData").unwrap_or_else(|| r"C:\ProgramData".into());
        return PathBuf::from(base).join("Kiemke").join("agent");
    }
    if is_privileged() == Some(true) {
        return PathBuf::from("/var/lib/kiemke-agent");
    }
    let state_home = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state_home.join("kiemke-agent")
}

/// Creates the data directory if needed (owner-only on Unix: it will hold
/// credentials).
pub fn ensure_data_dir(dir: &Path) -> Result<(), StateError> {
    let err = |source| StateError::CreateDir {
        path: dir.to_owned(),
        source,
    };
    fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

/// This installation's id: read from the data directory, or generated and
/// written durably (temp file, fsync, rename) on first use. A reinstall that
/// wipes the directory gets a new id; the server still recognises the device
/// by its hardware.
pub fn load_or_create_agent_id(dir: &Path) -> Result<AgentId, StateError> {
    ensure_data_dir(dir)?;
    let path = dir.join(AGENT_ID_FILE);
    let io_err = |source| StateError::Io {
        path: path.clone(),
        source,
    };
    match fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| StateError::CorruptId { path: path.clone() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let id = AgentId::generate();
            let tmp = dir.join(format!("{AGENT_ID_FILE}.tmp"));
            let mut file = fs::File::create(&tmp).map_err(io_err)?;
            writeln!(file, "{id}").map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
            fs::rename(&tmp, &path).map_err(io_err)?;
            Ok(id)
        }
        Err(e) => Err(io_err(e)),
    }
}

/// This installation's id if it already has one; never creates anything
/// (for commands such as `probe speed` that only name the agent to the
/// server, so its per-agent limits apply).
pub fn read_agent_id(dir: &Path) -> Option<AgentId> {
    fs::read_to_string(dir.join(AGENT_ID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether this process runs with root rights (Linux: effective uid 0, read
/// from `/proc/self/status`). `None` where the agent cannot tell.
pub fn is_privileged() -> Option<bool> {
    if cfg!(target_os = "linux") {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        let uid_line = status.lines().find(|l| l.starts_with("Uid:"))?;
        let effective = uid_line.split_whitespace().nth(2)?;
        return Some(effective == "0");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_id_is_created_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("nested/agent");
        let first = load_or_create_agent_id(&data).expect("create");
        let second = load_or_create_agent_id(&data).expect("read");
        assert_eq!(first, second);
        fs::write(data.join(AGENT_ID_FILE), "garbage").expect("write");
        assert!(matches!(
            load_or_create_agent_id(&data),
            Err(StateError::CorruptId { .. })
        ));
    }
}
