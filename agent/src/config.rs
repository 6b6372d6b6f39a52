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
    /// A ping burst every 5 minutes: 288 a day, enough to see an outage of
    /// a few minutes and the hours when the line is congested.
    pub const PROBE_INTERVAL: Duration = Duration::from_secs(300);
    /// Bursts shorter apart would make the probes a load of their own.
    pub const MIN_PROBE_INTERVAL: Duration = Duration::from_secs(30);
    /// Probe results go out in one report per hour (see `daemon::probes`).
    pub const PROBE_REPORT_INTERVAL: Duration = Duration::from_secs(3600);
    pub const SPEED_TESTS_PER_DAY: u32 = 1;
    pub const MAX_SPEED_TESTS_PER_DAY: u32 = 24;
    /// Office hours (local time): no scheduled throughput test then.
    pub const OFFICE_HOURS: &str = "07:30-17:00";
    /// LAN discovery (see `daemon::discovery`): on, first run within an
    /// hour of start, then daily.
    pub const LAN_DISCOVERY: bool = true;
    pub const LAN_DISCOVERY_DELAY_MAX: Duration = Duration::from_secs(3600);
    pub const LAN_DISCOVERY_INTERVAL: Duration = Duration::from_secs(24 * 3600);
    /// A sweep more often than this would be a load on the office LAN.
    pub const MIN_LAN_DISCOVERY_INTERVAL: Duration = Duration::from_secs(3600);
    /// Pings per second at most, whatever the file says.
    pub const MAX_LAN_DISCOVERY_PING_RATE: u32 = 200;
    pub const MAX_LAN_DISCOVERY_BUDGET: Duration = Duration::from_secs(600);
    pub const MAX_LAN_DISCOVERY_SUBNETS: usize = 8;
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
    /// Line probes on or off (pings and throughput tests).
    pub probes: Option<bool>,
    #[serde(default, with = "humantime_serde")]
    pub probe_interval: Option<Duration>,
    pub probe_count: Option<u32>,
    pub probe_gateway: Option<bool>,
    pub probe_targets: Option<Vec<String>>,
    #[serde(default, with = "humantime_serde")]
    pub probe_report_interval: Option<Duration>,
    pub speed_tests_per_day: Option<u32>,
    pub office_hours: Option<String>,
    pub speed_test_server: Option<String>,
    #[serde(default, with = "humantime_serde")]
    pub speed_test_duration: Option<Duration>,
    pub speed_test_streams_down: Option<u32>,
    pub speed_test_streams_up: Option<u32>,
    pub line_target_mbps: Option<f64>,
    /// LAN discovery of printers and scanners on or off.
    pub lan_discovery: Option<bool>,
    pub lan_discovery_subnets: Option<Vec<String>>,
    pub lan_discovery_allow_large_subnet: Option<bool>,
    pub lan_discovery_community: Option<String>,
    pub lan_discovery_ping_rate: Option<u32>,
    #[serde(default, with = "humantime_serde")]
    pub lan_discovery_budget: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub lan_discovery_delay_max: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub lan_discovery_interval: Option<Duration>,
    /// SNMPv3 for the daemon's discovery; passphrases in files only.
    pub lan_discovery_snmp_v3_user: Option<String>,
    pub lan_discovery_snmp_v3_auth_protocol: Option<crate::discover::snmp::V3Auth>,
    pub lan_discovery_snmp_v3_priv_protocol: Option<crate::discover::snmp::V3Priv>,
    pub lan_discovery_snmp_v3_auth_pass_file: Option<PathBuf>,
    pub lan_discovery_snmp_v3_priv_pass_file: Option<PathBuf>,
    pub lan_discovery_snmp_v3_context: Option<String>,
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
    pub probes: ProbeSettings,
    /// `None`: LAN discovery is off.
    pub discovery: Option<crate::daemon::discovery::DiscoveryPlan>,
}

/// The daemon's line probes, merged and checked.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub enabled: bool,
    pub interval: Duration,
    pub count: u32,
    pub gateway: bool,
    pub targets: Vec<String>,
    pub report_interval: Duration,
    pub speed_tests_per_day: u32,
    pub office_hours: crate::daemon::probes::OfficeHours,
    /// Where throughput tests go; `None`: the report server.
    pub speed_test_server: Option<Url>,
    pub speed_test_duration: Duration,
    pub speed_test_streams_down: u32,
    pub speed_test_streams_up: u32,
    /// The site's line target, for judging what limited a test.
    pub line_target_mbps: f64,
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
    #[error("{key} is invalid: {problem}")]
    Invalid { key: &'static str, problem: String },
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
    let probes = probe_settings(&file)?;
    let discovery = discovery_plan(&file)?;
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
        probes,
        discovery,
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

fn probe_settings(file: &ConfigFile) -> Result<ProbeSettings, ConfigError> {
    use crate::probe::speed::defaults as speed;
    let invalid = |key, problem: String| ConfigError::Invalid { key, problem };
    let office = file
        .office_hours
        .as_deref()
        .unwrap_or(defaults::OFFICE_HOURS);
    let office_hours = crate::daemon::probes::OfficeHours::parse(office).ok_or_else(|| {
        invalid(
            "office-hours",
            format!("{office:?}: expected \"HH:MM-HH:MM\", e.g. \"07:30-17:00\""),
        )
    })?;
    let speed_test_server = match &file.speed_test_server {
        Some(value) => Some(
            crate::deliver::parse_server_url(value)
                .map_err(|e| invalid("speed-test-server", e.to_string()))?,
        ),
        None => None,
    };
    let targets = file.probe_targets.clone().unwrap_or_default();
    for t in &targets {
        crate::probe::Target::parse(t).map_err(|e| invalid("probe-targets", e.to_string()))?;
    }
    let settings = ProbeSettings {
        enabled: file.probes.unwrap_or(true),
        interval: file.probe_interval.unwrap_or(defaults::PROBE_INTERVAL),
        count: file.probe_count.unwrap_or(crate::probe::defaults::COUNT),
        gateway: file.probe_gateway.unwrap_or(true),
        targets,
        report_interval: file
            .probe_report_interval
            .unwrap_or(defaults::PROBE_REPORT_INTERVAL),
        speed_tests_per_day: file
            .speed_tests_per_day
            .unwrap_or(defaults::SPEED_TESTS_PER_DAY),
        office_hours,
        speed_test_server,
        speed_test_duration: file.speed_test_duration.unwrap_or(speed::DURATION),
        speed_test_streams_down: file.speed_test_streams_down.unwrap_or(speed::STREAMS_DOWN),
        speed_test_streams_up: file.speed_test_streams_up.unwrap_or(speed::STREAMS_UP),
        line_target_mbps: file.line_target_mbps.unwrap_or(speed::TARGET_MBPS),
    };
    if settings.interval < defaults::MIN_PROBE_INTERVAL {
        return Err(invalid("probe-interval", "at least 30s".into()));
    }
    if settings.report_interval < settings.interval {
        return Err(invalid(
            "probe-report-interval",
            "at least probe-interval".into(),
        ));
    }
    if settings.speed_tests_per_day > defaults::MAX_SPEED_TESTS_PER_DAY {
        return Err(invalid("speed-tests-per-day", "at most 24".into()));
    }
    if !(settings.line_target_mbps.is_finite() && settings.line_target_mbps > 0.0) {
        return Err(invalid(
            "line-target-mbps",
            "a positive number of Mbps".into(),
        ));
    }
    crate::probe::PingOptions {
        count: settings.count,
        ..crate::probe::PingOptions::default()
    }
    .check()
    .map_err(|e| invalid("probe-count", e.to_string()))?;
    let mut speed_options = crate::probe::speed::SpeedOptions::new(
        "http://127.0.0.1/"
            .parse()
            .map_err(|_| invalid("speed-test-server", String::new()))?,
    );
    speed_options.duration = settings.speed_test_duration;
    speed_options.streams_down = settings.speed_test_streams_down;
    speed_options.streams_up = settings.speed_test_streams_up;
    speed_options
        .check()
        .map_err(|e| invalid("speed-test-duration / speed-test-streams", e.to_string()))?;
    Ok(settings)
}

/// The daemon's LAN discovery from the file, checked; `None` when off.
fn discovery_plan(
    file: &ConfigFile,
) -> Result<Option<crate::daemon::discovery::DiscoveryPlan>, ConfigError> {
    use crate::discover::{DiscoverOptions, Subnet};
    let invalid = |key, problem: String| ConfigError::Invalid { key, problem };
    if !file.lan_discovery.unwrap_or(defaults::LAN_DISCOVERY) {
        return Ok(None);
    }
    let allow_large = file.lan_discovery_allow_large_subnet.unwrap_or(false);
    let given = file.lan_discovery_subnets.clone().unwrap_or_default();
    if given.len() > defaults::MAX_LAN_DISCOVERY_SUBNETS {
        return Err(invalid(
            "lan-discovery-subnets",
            format!("at most {}", defaults::MAX_LAN_DISCOVERY_SUBNETS),
        ));
    }
    let subnets = given
        .iter()
        .map(|s| Subnet::parse(s, allow_large))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("lan-discovery-subnets", e.to_string()))?;
    let mut options = DiscoverOptions::new(Vec::new());
    if let Some(c) = &file.lan_discovery_community {
        if c.is_empty() || c.len() > 64 {
            return Err(invalid(
                "lan-discovery-community",
                "1 to 64 characters".into(),
            ));
        }
        options.snmp.community.clone_from(c);
    }
    if let Some(rate) = file.lan_discovery_ping_rate {
        if rate == 0 || rate > defaults::MAX_LAN_DISCOVERY_PING_RATE {
            return Err(invalid(
                "lan-discovery-ping-rate",
                format!("1 to {} a second", defaults::MAX_LAN_DISCOVERY_PING_RATE),
            ));
        }
        options.sweep.rate_per_sec = rate;
    }
    if let Some(budget) = file.lan_discovery_budget {
        if budget.is_zero() || budget > defaults::MAX_LAN_DISCOVERY_BUDGET {
            return Err(invalid(
                "lan-discovery-budget",
                "more than 0 and at most 10m".into(),
            ));
        }
        options.budget = budget;
    }
    if let Some(user) = file
        .lan_discovery_snmp_v3_user
        .clone()
        .filter(|u| !u.is_empty())
    {
        let read = |path: &Option<PathBuf>, env: &str| {
            // Only a file here: the daemon's environment is not the place.
            match path {
                Some(p) => crate::discover::cli::passphrase(Some(p), env, Lang::En),
                None => Ok(None),
            }
            .map_err(|e| invalid("lan-discovery-snmp-v3-*-pass-file", e.to_string()))
        };
        let auth_pass = read(
            &file.lan_discovery_snmp_v3_auth_pass_file,
            crate::discover::cli::V3_AUTH_PASS_ENV,
        )?;
        let priv_pass = read(
            &file.lan_discovery_snmp_v3_priv_pass_file,
            crate::discover::cli::V3_PRIV_PASS_ENV,
        )?;
        if priv_pass.is_some() && auth_pass.is_none() {
            return Err(invalid(
                "lan-discovery-snmp-v3-priv-pass-file",
                "needs lan-discovery-snmp-v3-auth-pass-file too".into(),
            ));
        }
        options.snmp.v3 = Some(crate::discover::snmp::V3Credentials {
            user,
            auth: file
                .lan_discovery_snmp_v3_auth_protocol
                .unwrap_or(crate::discover::snmp::V3Auth::Sha),
            auth_pass,
            privacy: file
                .lan_discovery_snmp_v3_priv_protocol
                .unwrap_or(crate::discover::snmp::V3Priv::Aes),
            priv_pass,
            context: file
                .lan_discovery_snmp_v3_context
                .clone()
                .unwrap_or_default(),
        });
    }
    let interval = file
        .lan_discovery_interval
        .unwrap_or(defaults::LAN_DISCOVERY_INTERVAL);
    if interval < defaults::MIN_LAN_DISCOVERY_INTERVAL {
        return Err(invalid("lan-discovery-interval", "at least 1h".into()));
    }
    Ok(Some(crate::daemon::discovery::DiscoveryPlan {
        delay_max: file
            .lan_discovery_delay_max
            .unwrap_or(defaults::LAN_DISCOVERY_DELAY_MAX),
        interval,
        subnets,
        allow_large_subnet: allow_large,
        options,
    }))
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
        assert!(file.probe_targets.is_some() && file.line_target_mbps.is_some());
        let probes = probe_settings(&file).expect("sample probe settings are valid");
        assert_eq!(probes.interval, defaults::PROBE_INTERVAL);
        assert_eq!(
            probes.office_hours,
            crate::daemon::probes::OfficeHours::default()
        );
    }

    #[test]
    fn bad_probe_settings_name_their_key() {
        let cases = [
            ("probe-interval = \"5s\"", "probe-interval"),
            ("office-hours = \"17:00-07:30\"", "office-hours"),
            ("probe-targets = [\"bad host\"]", "probe-targets"),
            (
                "speed-test-duration = \"10m\"",
                "speed-test-duration / speed-test-streams",
            ),
            ("probe-count = 0", "probe-count"),
            ("line-target-mbps = -100.0", "line-target-mbps"),
        ];
        for (text, key) in cases {
            let file: ConfigFile = toml::from_str(text).expect(text);
            match probe_settings(&file) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn lan_discovery_is_on_by_default_and_bad_keys_are_named() {
        let plan = discovery_plan(&ConfigFile::default())
            .expect("defaults")
            .expect("on by default");
        assert_eq!(plan.interval, defaults::LAN_DISCOVERY_INTERVAL);
        assert!(plan.subnets.is_empty(), "the PC's own subnets");
        let dir = tempfile::tempdir().expect("tempdir");
        let pass = dir.path().join("auth");
        std::fs::write(&pass, "xac-thuc-2026\n").expect("write");
        let v3: ConfigFile = toml::from_str(&format!(
            "lan-discovery-snmp-v3-user = \"kiemke\"\nlan-discovery-snmp-v3-auth-protocol = \"sha256\"\n\
             lan-discovery-snmp-v3-auth-pass-file = {:?}\n",
            pass.display().to_string()
        ))
        .expect("toml");
        let v3 = discovery_plan(&v3)
            .expect("v3")
            .expect("on")
            .options
            .snmp
            .v3
            .expect("v3 user");
        assert_eq!(v3.auth_pass.as_deref(), Some("xac-thuc-2026"));
        assert_eq!(v3.auth, crate::discover::snmp::V3Auth::Sha256);
        assert!(!format!("{v3:?}").contains("xac-thuc"), "never printed");
        let off: ConfigFile = toml::from_str("lan-discovery = false").expect("toml");
        assert!(discovery_plan(&off).expect("off").is_none());
        let cases = [
            (
                "lan-discovery-subnets = [\"10.0.0.0/20\"]",
                "lan-discovery-subnets",
            ),
            (
                "lan-discovery-subnets = [\"nonsense\"]",
                "lan-discovery-subnets",
            ),
            ("lan-discovery-ping-rate = 1000", "lan-discovery-ping-rate"),
            ("lan-discovery-budget = \"1h\"", "lan-discovery-budget"),
            ("lan-discovery-interval = \"5m\"", "lan-discovery-interval"),
            ("lan-discovery-community = \"\"", "lan-discovery-community"),
            (
                "lan-discovery-snmp-v3-user = \"u\"\nlan-discovery-snmp-v3-auth-pass-file = \"/nonexistent/kiemke\"",
                "lan-discovery-snmp-v3-*-pass-file",
            ),
        ];
        for (text, key) in cases {
            let file: ConfigFile = toml::from_str(text).expect(text);
            match discovery_plan(&file) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
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
