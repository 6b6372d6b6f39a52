//! The agent's configuration, in three layers merged by [`load`]: command
//! line flags (each also readable from a `KIEMKE_*` environment variable)
//! over a TOML file over the named [`defaults`].
//!
//! The file is `--config FILE`, or else `kiemke-agent.toml` in the data
//! directory when it exists. `agent/kiemke-agent.sample.toml` documents every
//! key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiemke_shared::Lang;
use reqwest::Url;
use serde::Deserialize;

use crate::spool::SpoolLimits;

/// Named defaults: a PC reports daily, retries from 30 s up to 1 h.
pub mod defaults {
    use std::time::Duration;

    pub const INTERVAL: Duration = Duration::from_secs(24 * 3600);
    /// Each interval is stretched or shrunk by up to this fraction, at random,
    /// so PCs switched on together do not report together.
    pub const JITTER: f64 = 0.1;
    /// The first delivery after start waits a random time up to this, so an
    /// office whose PCs all boot at 7:30 does not hit the server at once.
    pub const STARTUP_DELAY_MAX: Duration = Duration::from_secs(60);
    pub const RETRY_INITIAL: Duration = Duration::from_secs(30);
    pub const RETRY_MAX: Duration = Duration::from_secs(3600);
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
    pub const SPOOL_MAX_REPORTS: usize = 1000;
    pub const SPOOL_MAX_BYTES: u64 = 64 << 20;
    pub const CONFIG_FILE_NAME: &str = "kiemke-agent.toml";
}

/// The configuration file, as written by a person (kebab-case keys).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub server: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub lang: Option<Lang>,
    #[serde(default, with = "humantime_serde")]
    pub interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub startup_delay_max: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub retry_initial: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub retry_max: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub request_timeout: Option<Duration>,
    pub spool_max_reports: Option<usize>,
    pub spool_max_bytes: Option<u64>,
}

/// What the command line says (all optional: unset means "ask the next layer").
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub server: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub lang: Option<Lang>,
    pub interval: Option<Duration>,
    /// Plain HTTP to a server other than this machine is explicitly allowed.
    pub insecure_http: bool,
}

/// The merged configuration the agent runs with.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub server: Option<Url>,
    pub data_dir: PathBuf,
    pub lang: Lang,
    pub interval: Duration,
    pub jitter: f64,
    pub startup_delay_max: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub request_timeout: Duration,
    pub spool: SpoolLimits,
    /// Plain HTTP to a server other than this machine is explicitly allowed
    /// (`--insecure-http`); HTTPS is the rule.
    pub insecure_http: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is invalid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("server address {value:?} is invalid: {source}")]
    Server {
        value: String,
        source: crate::deliver::ServerUrlError,
    },
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
}

/// Merges the layers.
pub fn load(cli: &Overrides) -> Result<AgentConfig, ConfigError> {
    let default_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(crate::state::default_data_dir);
    let file = match &cli.config {
        Some(path) => read_file(path)?,
        None => {
            let path = default_dir.join(defaults::CONFIG_FILE_NAME);
            if path.exists() {
                read_file(&path)?
            } else {
                ConfigFile::default()
            }
        }
    };
    let server = match cli.server.clone().or(file.server) {
        Some(value) => Some(
            crate::deliver::parse_server_url(&value)
                .map_err(|source| ConfigError::Server { value, source })?,
        ),
        None => None,
    };
    let config = AgentConfig {
        server,
        data_dir: cli
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or(default_dir),
        lang: cli.lang.or(file.lang).unwrap_or_default(),
        interval: cli.interval.or(file.interval).unwrap_or(defaults::INTERVAL),
        jitter: defaults::JITTER,
        startup_delay_max: file
            .startup_delay_max
            .unwrap_or(defaults::STARTUP_DELAY_MAX),
        retry_initial: file.retry_initial.unwrap_or(defaults::RETRY_INITIAL),
        retry_max: file.retry_max.unwrap_or(defaults::RETRY_MAX),
        request_timeout: file.request_timeout.unwrap_or(defaults::REQUEST_TIMEOUT),
        spool: SpoolLimits {
            max_reports: file
                .spool_max_reports
                .unwrap_or(defaults::SPOOL_MAX_REPORTS),
            max_bytes: file.spool_max_bytes.unwrap_or(defaults::SPOOL_MAX_BYTES),
        },
        insecure_http: cli.insecure_http,
    };
    for (name, value) in [
        ("interval", config.interval),
        ("retry-initial", config.retry_initial),
        ("request-timeout", config.request_timeout),
    ] {
        if value.is_zero() {
            return Err(ConfigError::Zero(name));
        }
    }
    if config.spool.max_reports == 0 {
        return Err(ConfigError::Zero("spool-max-reports"));
    }
    Ok(config)
}

fn read_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_file_parses_and_sets_every_key() {
        let text = include_str!("../kiemke-agent.sample.toml");
        let file: ConfigFile = toml::from_str(text).expect("sample parses");
        assert_eq!(file.interval, Some(Duration::from_secs(24 * 3600)));
        assert!(file.server.is_some() && file.spool_max_bytes.is_some());
    }

    #[test]
    fn layers_merge_cli_over_file_over_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.toml");
        std::fs::write(
            &path,
            "server = \"http://file:8080\"\ninterval = \"2h\"\nlang = \"en\"\n",
        )
        .expect("write");
        let cli = Overrides {
            config: Some(path.clone()),
            server: Some("http://cli:9090".into()),
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        };
        let config = load(&cli).expect("load");
        assert_eq!(
            config.server.as_ref().map(Url::as_str),
            Some("http://cli:9090/")
        );
        assert_eq!(config.interval, Duration::from_secs(7200));
        assert_eq!(config.lang, Lang::En);
        assert_eq!(config.retry_max, defaults::RETRY_MAX);
    }

    #[test]
    fn bad_files_are_refused_with_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "srever = \"typo\"\n").expect("write");
        let cli = Overrides {
            config: Some(path),
            ..Overrides::default()
        };
        let err = load(&cli).expect_err("unknown key");
        assert!(err.to_string().contains("bad.toml"), "{err}");
        let cli = Overrides {
            server: Some("ftp://x".into()),
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        };
        assert!(matches!(load(&cli), Err(ConfigError::Server { .. })));
    }
}
