//! The server's configuration, in three layers merged by [`merge`]: command
//! line flags ([`ServeArgs`], each also readable from a `KIEMKE_SERVER_*`
//! environment variable) over a TOML file ([`ConfigFile`], `--config FILE`)
//! over the named [`defaults`].
//!
//! `server/kiemke-server.sample.toml` documents every key of the file.

pub mod defaults;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kiemke_shared::Lang;
use serde::Deserialize;

/// The flags of `kiemke-server serve` (all optional: unset means "ask the
/// next layer"). Other subcommands that run a server flatten these too.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Địa chỉ lắng nghe, ví dụ 0.0.0.0:8080 (address to listen on)
    #[arg(long, env = "KIEMKE_SERVER_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Thư mục dữ liệu (data directory)
    #[arg(long = "data", env = "KIEMKE_SERVER_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Tệp cấu hình TOML (configuration file)
    #[arg(long, env = "KIEMKE_SERVER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ngôn ngữ: vi hoặc en (language)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
    /// Kích thước tối đa của báo cáo gửi lên, byte (max request body)
    #[arg(long, env = "KIEMKE_SERVER_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Kích thước tối đa sau khi giải nén, byte (max decompressed body)
    #[arg(
        long,
        env = "KIEMKE_SERVER_MAX_DECOMPRESSED_BYTES",
        value_name = "BYTES"
    )]
    pub max_decompressed_bytes: Option<usize>,
    /// Thời gian tối đa cho một yêu cầu, giây (request timeout)
    #[arg(long, env = "KIEMKE_SERVER_REQUEST_TIMEOUT_SECS", value_name = "SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Số yêu cầu xử lý đồng thời tối đa (max concurrent requests)
    #[arg(long, env = "KIEMKE_SERVER_MAX_CONCURRENT_REQUESTS", value_name = "N")]
    pub max_concurrent_requests: Option<usize>,
    /// Số lần đo tốc độ tối đa của một máy trong một giờ (speed tests per client per hour)
    #[arg(long, env = "KIEMKE_SERVER_SPEEDTEST_TESTS_PER_HOUR", value_name = "N")]
    pub speedtest_tests_per_hour: Option<u32>,
    /// Thời gian tối đa của một lần đo tốc độ, giây (max seconds per test)
    #[arg(long, env = "KIEMKE_SERVER_SPEEDTEST_MAX_SECONDS", value_name = "SECS")]
    pub speedtest_max_seconds: Option<u64>,
    /// Dung lượng tối đa của một lần đo tốc độ, byte (max bytes per test)
    #[arg(long, env = "KIEMKE_SERVER_SPEEDTEST_MAX_BYTES", value_name = "BYTES")]
    pub speedtest_max_bytes: Option<u64>,
    /// Số lần đo tốc độ chạy cùng lúc tối đa (max concurrent tests)
    #[arg(long, env = "KIEMKE_SERVER_SPEEDTEST_MAX_CONCURRENT", value_name = "N")]
    pub speedtest_max_concurrent: Option<usize>,
}

/// The configuration file, as written by a person (kebab-case keys; an
/// unknown key is an error, so a typo is not silently ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub lang: Option<Lang>,
    pub max_body_bytes: Option<usize>,
    pub max_decompressed_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub max_concurrent_requests: Option<usize>,
    pub speedtest_tests_per_hour: Option<u32>,
    pub speedtest_max_seconds: Option<u64>,
    pub speedtest_max_bytes: Option<u64>,
    pub speedtest_max_concurrent: Option<usize>,
}

impl ConfigFile {
    /// Reads and parses a configuration file.
    pub fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }
}

/// The merged configuration the server runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Where to accept connections (the caller binds it; see `serve`).
    pub listen: SocketAddr,
    /// Holds the store; one server per directory (it is locked while open).
    pub data_dir: PathBuf,
    /// Language of console messages and the default for requests that do
    /// not ask for one.
    pub lang: Lang,
    /// Largest request body accepted, as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Largest body accepted after gzip decompression.
    pub max_decompressed_bytes: usize,
    /// Longest a request may take, waiting for a slot included.
    pub request_timeout: Duration,
    /// Requests handled at once.
    pub max_concurrent_requests: usize,
    /// Throughput tests a client may start per hour.
    pub speedtest_tests_per_hour: u32,
    /// Longest one throughput test may run.
    pub speedtest_max_seconds: u64,
    /// Most bytes one throughput test may move.
    pub speedtest_max_bytes: u64,
    /// Throughput tests running at once, all clients together.
    pub speedtest_max_concurrent: usize,
}

impl ServerConfig {
    /// The throughput test limits, for the limiter.
    pub fn speedtest_limits(&self) -> crate::routes::speedtest::limit::Limits {
        crate::routes::speedtest::limit::Limits {
            tests_per_hour: self.speedtest_tests_per_hour,
            max_seconds: self.speedtest_max_seconds,
            max_bytes: self.speedtest_max_bytes,
            max_concurrent: self.speedtest_max_concurrent,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: defaults::LISTEN,
            data_dir: PathBuf::from(defaults::DATA_DIR),
            lang: defaults::LANG,
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_decompressed_bytes: defaults::MAX_DECOMPRESSED_BYTES,
            request_timeout: defaults::REQUEST_TIMEOUT,
            max_concurrent_requests: defaults::MAX_CONCURRENT_REQUESTS,
            speedtest_tests_per_hour: defaults::SPEEDTEST_TESTS_PER_HOUR,
            speedtest_max_seconds: defaults::SPEEDTEST_MAX_SECONDS,
            speedtest_max_bytes: defaults::SPEEDTEST_MAX_BYTES,
            speedtest_max_concurrent: defaults::SPEEDTEST_MAX_CONCURRENT,
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("không đọc được tệp cấu hình {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("tệp cấu hình {path} không hợp lệ: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("giá trị cấu hình {key} không hợp lệ: {problem}")]
    Invalid { key: &'static str, problem: String },
}

/// Reads the file named by `--config` (if any) and merges the layers.
pub fn load(args: &ServeArgs) -> Result<ServerConfig, ConfigError> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    merge(args, file)
}

/// Flags over file over defaults, then sanity checks.
pub fn merge(args: &ServeArgs, file: ConfigFile) -> Result<ServerConfig, ConfigError> {
    let d = ServerConfig::default();
    let config = ServerConfig {
        listen: args.listen.or(file.listen).unwrap_or(d.listen),
        data_dir: args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or(d.data_dir),
        lang: args.lang.or(file.lang).unwrap_or(d.lang),
        max_body_bytes: (args.max_body_bytes.or(file.max_body_bytes)).unwrap_or(d.max_body_bytes),
        max_decompressed_bytes: (args.max_decompressed_bytes.or(file.max_decompressed_bytes))
            .unwrap_or(d.max_decompressed_bytes),
        request_timeout: (args.request_timeout_secs.or(file.request_timeout_secs))
            .map_or(d.request_timeout, Duration::from_secs),
        max_concurrent_requests: (args
            .max_concurrent_requests
            .or(file.max_concurrent_requests))
        .unwrap_or(d.max_concurrent_requests),
        speedtest_tests_per_hour: (args.speedtest_tests_per_hour)
            .or(file.speedtest_tests_per_hour)
            .unwrap_or(d.speedtest_tests_per_hour),
        speedtest_max_seconds: (args.speedtest_max_seconds)
            .or(file.speedtest_max_seconds)
            .unwrap_or(d.speedtest_max_seconds),
        speedtest_max_bytes: (args.speedtest_max_bytes)
            .or(file.speedtest_max_bytes)
            .unwrap_or(d.speedtest_max_bytes),
        speedtest_max_concurrent: (args.speedtest_max_concurrent)
            .or(file.speedtest_max_concurrent)
            .unwrap_or(d.speedtest_max_concurrent),
    };
    let positive = [
        ("max-body-bytes", config.max_body_bytes),
        ("max-decompressed-bytes", config.max_decompressed_bytes),
        ("max-concurrent-requests", config.max_concurrent_requests),
        ("speedtest-max-concurrent", config.speedtest_max_concurrent),
        (
            "speedtest-max-seconds",
            usize::try_from(config.speedtest_max_seconds).unwrap_or(usize::MAX),
        ),
    ];
    for (key, value) in positive {
        if value == 0 {
            return Err(ConfigError::Invalid {
                key,
                problem: "phải lớn hơn 0".into(),
            });
        }
    }
    if config.request_timeout.is_zero() {
        return Err(ConfigError::Invalid {
            key: "request-timeout-secs",
            problem: "phải lớn hơn 0".into(),
        });
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../kiemke-server.sample.toml");

    #[test]
    fn the_sample_file_parses_and_sets_every_key() {
        let file: ConfigFile = toml::from_str(SAMPLE).expect("sample parses");
        let config = merge(&ServeArgs::default(), file).expect("sample is valid");
        assert_eq!(config.listen, defaults::LISTEN);
        assert_eq!(config.max_body_bytes, defaults::MAX_BODY_BYTES);
        assert_eq!(config.request_timeout, defaults::REQUEST_TIMEOUT);
        assert_eq!(config.lang, Lang::Vi);
        assert_eq!(
            config,
            ServerConfig::default(),
            "the sample shows the defaults"
        );
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let file: ConfigFile = toml::from_str(
            "listen = \"0.0.0.0:9000\"\ndata-dir = \"/srv/kiemke\"\nrequest-timeout-secs = 5",
        )
        .expect("parses");
        let args = ServeArgs {
            listen: Some("127.0.0.1:0".parse().expect("addr")),
            lang: Some(Lang::En),
            ..ServeArgs::default()
        };
        let config = merge(&args, file).expect("valid");
        assert_eq!(config.listen.to_string(), "127.0.0.1:0");
        assert_eq!(config.data_dir, PathBuf::from("/srv/kiemke"));
        assert_eq!(config.request_timeout, Duration::from_secs(5));
        assert_eq!(config.lang, Lang::En);
        assert_eq!(
            config.max_concurrent_requests,
            defaults::MAX_CONCURRENT_REQUESTS
        );
    }

    #[test]
    fn unknown_keys_and_zero_limits_are_refused() {
        assert!(toml::from_str::<ConfigFile>("lisen = \"0.0.0.0:80\"").is_err());
        assert!(
            toml::from_str::<ConfigFile>("data_dir = \"x\"").is_err(),
            "kebab-case only"
        );
        let file: ConfigFile = toml::from_str("max-concurrent-requests = 0").expect("parses");
        assert!(matches!(
            merge(&ServeArgs::default(), file),
            Err(ConfigError::Invalid {
                key: "max-concurrent-requests",
                ..
            })
        ));
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let args = ServeArgs {
            config: Some(PathBuf::from("/nonexistent/kiemke-server.toml")),
            ..ServeArgs::default()
        };
        let err = load(&args).expect_err("missing file");
        assert!(
            err.to_string().contains("/nonexistent/kiemke-server.toml"),
            "{err}"
        );
        assert!(err.to_string().contains("không đọc được"), "{err}");
    }
}
