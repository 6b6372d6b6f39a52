//! The server's configuration, in three layers merged by [`merge`]: command
//! line flags ([`ServeArgs`], each also readable from a `KIEMKE_SERVER_*`
//! environment variable) over a TOML file ([`ConfigFile`], `--config FILE`)
//! over the named [`defaults`].
//!
//! `server/kiemke-server.sample.toml` documents every key of the file.

pub mod defaults;
pub mod trust;

pub use trust::{AdminToken, TlsMode};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
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
    /// Chứng chỉ TLS (PEM, cả chuỗi) để phục vụ HTTPS (TLS certificate chain)
    #[arg(long, env = "KIEMKE_SERVER_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// Khóa riêng của chứng chỉ TLS (PEM) (TLS private key)
    #[arg(long, env = "KIEMKE_SERVER_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Tự tạo CA và chứng chỉ trong thư mục dữ liệu, kể cả trên loopback
    /// (own CA and certificate, generated once in the data directory)
    #[arg(long, env = "KIEMKE_SERVER_TLS_SELF_SIGNED")]
    pub tls_self_signed: bool,
    /// Tên miền/IP mà tác tử dùng để gọi máy chủ, cho chứng chỉ tự tạo
    /// (names agents use to reach the server, for the own certificate)
    #[arg(
        long = "tls-name",
        env = "KIEMKE_SERVER_TLS_NAMES",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub tls_names: Vec<String>,
    /// Cho phép HTTP không mã hóa trên địa chỉ không phải loopback (KHÔNG
    /// an toàn) (allow plain HTTP off loopback: NOT safe)
    #[arg(long, env = "KIEMKE_SERVER_INSECURE_HTTP")]
    pub insecure_http: bool,
    /// Mã quản trị cho /api/v1/admin (admin bearer token; unset: admin API off)
    #[arg(
        long,
        env = "KIEMKE_SERVER_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Thời gian tối đa để nhận phần đầu của yêu cầu, giây (header read timeout)
    #[arg(
        long,
        env = "KIEMKE_SERVER_HEADER_READ_TIMEOUT_SECS",
        value_name = "SECS"
    )]
    pub header_read_timeout_secs: Option<u64>,
    /// Số kết nối mở cùng lúc tối đa (max open connections)
    #[arg(long, env = "KIEMKE_SERVER_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Tệp chính sách vòng đời thiết bị (lifecycle policy file; default: the
    /// shipped one)
    #[arg(long, env = "KIEMKE_SERVER_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Ngày đánh giá chính sách, YYYY-MM-DD (evaluate the policy as of this
    /// date instead of today)
    #[arg(long, env = "KIEMKE_SERVER_EVALUATION_DATE", value_name = "YYYY-MM-DD")]
    pub evaluation_date: Option<NaiveDate>,
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
    /// Số ngày giữ kết quả đo đường truyền chi tiết, sau đó gộp theo ngày
    /// (days of raw probe samples kept before daily rollups)
    #[arg(long, env = "KIEMKE_SERVER_PROBE_RAW_DAYS", value_name = "DAYS")]
    pub probe_raw_days: Option<u32>,
    /// Số ngày giữ bản gộp theo ngày (days of daily rollups kept)
    #[arg(long, env = "KIEMKE_SERVER_PROBE_ROLLUP_DAYS", value_name = "DAYS")]
    pub probe_rollup_days: Option<u32>,
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
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_self_signed: Option<bool>,
    pub tls_names: Option<Vec<String>>,
    pub insecure_http: Option<bool>,
    pub admin_token: Option<String>,
    pub header_read_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub policy: Option<PathBuf>,
    pub evaluation_date: Option<NaiveDate>,
    pub speedtest_tests_per_hour: Option<u32>,
    pub speedtest_max_seconds: Option<u64>,
    pub speedtest_max_bytes: Option<u64>,
    pub speedtest_max_concurrent: Option<usize>,
    pub probe_raw_days: Option<u32>,
    pub probe_rollup_days: Option<u32>,
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
    /// HTTPS or plain HTTP (see [`TlsMode::resolve`]).
    pub tls: TlsMode,
    /// Extra names (DNS or IP) for the server's own certificate.
    pub tls_names: Vec<String>,
    /// Plain HTTP off loopback was explicitly allowed (a warning is printed).
    pub insecure_http: bool,
    /// Enables the admin API when set.
    pub admin_token: Option<AdminToken>,
    /// Longest wait for a request's head (slowloris).
    pub header_read_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// The lifecycle policy file; `None`: the shipped policy.
    pub policy_file: Option<PathBuf>,
    /// Evaluate flags as of this date (planning for a budget year, tests);
    /// `None`: today.
    pub evaluation_date: Option<NaiveDate>,
    /// Throughput tests a client may start per hour.
    pub speedtest_tests_per_hour: u32,
    /// Longest one throughput test may run.
    pub speedtest_max_seconds: u64,
    /// Most bytes one throughput test may move.
    pub speedtest_max_bytes: u64,
    /// Throughput tests running at once, all clients together.
    pub speedtest_max_concurrent: usize,
    /// Raw probe samples and daily rollups kept (see
    /// `crate::store::line_rollups`).
    pub probe_retention: crate::store::line_rollups::Retention,
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
            tls: TlsMode::Off,
            tls_names: Vec::new(),
            insecure_http: false,
            admin_token: None,
            header_read_timeout: defaults::HEADER_READ_TIMEOUT,
            max_connections: defaults::MAX_CONNECTIONS,
            policy_file: None,
            evaluation_date: None,
            speedtest_tests_per_hour: defaults::SPEEDTEST_TESTS_PER_HOUR,
            speedtest_max_seconds: defaults::SPEEDTEST_MAX_SECONDS,
            speedtest_max_bytes: defaults::SPEEDTEST_MAX_BYTES,
            speedtest_max_concurrent: defaults::SPEEDTEST_MAX_CONCURRENT,
            probe_retention: crate::store::line_rollups::Retention::default(),
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
    let listen = args.listen.or(file.listen).unwrap_or(d.listen);
    let insecure_http = args.insecure_http || file.insecure_http.unwrap_or(false);
    let tls = TlsMode::resolve(
        listen,
        args.tls_cert.clone().or(file.tls_cert),
        args.tls_key.clone().or(file.tls_key),
        args.tls_self_signed || file.tls_self_signed.unwrap_or(false),
        insecure_http,
    )?;
    let admin_token = match args.admin_token.clone().or(file.admin_token) {
        Some(token) => Some(AdminToken::parse(&token)?),
        None => None,
    };
    let tls_names = if args.tls_names.is_empty() {
        file.tls_names.unwrap_or_default()
    } else {
        args.tls_names.clone()
    };
    let config = ServerConfig {
        listen,
        tls,
        tls_names,
        insecure_http,
        admin_token,
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
        header_read_timeout: (args
            .header_read_timeout_secs
            .or(file.header_read_timeout_secs))
        .map_or(d.header_read_timeout, Duration::from_secs),
        max_connections: (args.max_connections.or(file.max_connections))
            .unwrap_or(d.max_connections),
        policy_file: args.policy.clone().or(file.policy),
        evaluation_date: args.evaluation_date.or(file.evaluation_date),
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
        probe_retention: crate::store::line_rollups::Retention {
            raw_days: (args.probe_raw_days.or(file.probe_raw_days))
                .unwrap_or(d.probe_retention.raw_days),
            rollup_days: (args.probe_rollup_days.or(file.probe_rollup_days))
                .unwrap_or(d.probe_retention.rollup_days),
        },
    };
    let positive = [
        ("max-body-bytes", config.max_body_bytes),
        ("max-decompressed-bytes", config.max_decompressed_bytes),
        ("max-concurrent-requests", config.max_concurrent_requests),
        ("max-connections", config.max_connections),
        ("speedtest-max-concurrent", config.speedtest_max_concurrent),
        (
            "probe-raw-days",
            config
                .probe_retention
                .raw_days
                .try_into()
                .unwrap_or(usize::MAX),
        ),
        (
            "probe-rollup-days",
            config
                .probe_retention
                .rollup_days
                .try_into()
                .unwrap_or(usize::MAX),
        ),
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
    // The line judgment reads raw samples over its longest window; folding
    // them sooner would change verdicts, not just save space.
    let judged_days = crate::lines::WINDOWS_DAYS
        .into_iter()
        .chain([crate::lines::LATENCY_DAYS])
        .max()
        .unwrap_or(30);
    if i64::from(config.probe_retention.raw_days) < judged_days {
        return Err(ConfigError::Invalid {
            key: "probe-raw-days",
            problem: format!(
                "phải từ {judged_days} ngày trở lên (đường truyền được đánh giá trên {judged_days} ngày số liệu gốc)"
            ),
        });
    }
    for (key, value) in [
        ("request-timeout-secs", config.request_timeout),
        ("header-read-timeout-secs", config.header_read_timeout),
    ] {
        if value.is_zero() {
            return Err(ConfigError::Invalid {
                key,
                problem: "phải lớn hơn 0".into(),
            });
        }
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
        assert_eq!(config.header_read_timeout, defaults::HEADER_READ_TIMEOUT);
        assert_eq!(config.max_connections, defaults::MAX_CONNECTIONS);
        assert_eq!(config.admin_token, None, "commented out in the sample");
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
    fn raw_probe_samples_outlive_the_line_window() {
        let file: ConfigFile = toml::from_str("probe-raw-days = 7").expect("parses");
        assert!(matches!(
            merge(&ServeArgs::default(), file),
            Err(ConfigError::Invalid {
                key: "probe-raw-days",
                ..
            })
        ));
        let file: ConfigFile = toml::from_str("probe-raw-days = 30").expect("parses");
        assert!(merge(&ServeArgs::default(), file).is_ok());
    }

    #[test]
    fn admin_tokens_are_long_and_hidden() {
        let file: ConfigFile = toml::from_str("admin-token = \"short\"").expect("parses");
        assert!(matches!(
            merge(&ServeArgs::default(), file),
            Err(ConfigError::Invalid {
                key: "admin-token",
                ..
            })
        ));
        let token = AdminToken::parse("mot-ma-quan-tri-du-dai-24k").expect("long enough");
        assert!(!format!("{token:?}").contains("quan-tri"));
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
