//! `kiemke-agent discover`: its flags and what it prints.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use kiemke_shared::Lang;

use super::{DiscoverOptions, Subnet, defaults};

/// Flags of `kiemke-agent discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Dải mạng cần quét, ví dụ 192.168.1.0/24 (lặp lại được; mặc định: mạng của máy này).
    #[arg(long, value_name = "CIDR")]
    pub subnet: Vec<String>,
    /// Cho phép quét dải lớn hơn /22.
    #[arg(long)]
    pub allow_large_subnet: bool,
    /// Community SNMP (mặc định public).
    #[arg(long, env = "KIEMKE_SNMP_COMMUNITY", value_name = "NAME")]
    pub community: Option<String>,
    /// In dạng JSON.
    #[arg(long)]
    pub json: bool,
    /// Thời gian tối đa cho cả lần quét, ví dụ 2m (mặc định 2m).
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub budget: Option<Duration>,
    /// Thời gian chờ mỗi yêu cầu SNMP, ví dụ 1500ms.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub snmp_timeout: Option<Duration>,
    /// Số gói ping tối đa mỗi giây (mặc định 50).
    #[arg(long, value_name = "N")]
    pub ping_rate: Option<u32>,
    /// Thời gian nghe thông báo mDNS/DNS-SD, ví dụ 5s (mặc định 5s; 0s: không dùng).
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub mdns_window: Option<Duration>,
    /// Người dùng SNMPv3 (thử v3 trước, rồi v2c, v1). Mật khẩu không nhận trên
    /// dòng lệnh: đọc từ tệp (--snmp-v3-auth-pass-file, --snmp-v3-priv-pass-file)
    /// hoặc biến môi trường KIEMKE_SNMP_V3_AUTH_PASS, KIEMKE_SNMP_V3_PRIV_PASS.
    #[arg(long, env = "KIEMKE_SNMP_V3_USER", value_name = "NAME")]
    pub snmp_v3_user: Option<String>,
    /// Giao thức xác thực SNMPv3 (mặc định sha).
    #[arg(long, value_enum, default_value = "sha", value_name = "PROTO")]
    pub snmp_v3_auth_protocol: super::snmp::V3Auth,
    /// Giao thức mã hóa SNMPv3 (mặc định aes).
    #[arg(long, value_enum, default_value = "aes", value_name = "PROTO")]
    pub snmp_v3_priv_protocol: super::snmp::V3Priv,
    /// Tệp chứa mật khẩu xác thực SNMPv3 (dòng đầu).
    #[arg(long, value_name = "FILE")]
    pub snmp_v3_auth_pass_file: Option<std::path::PathBuf>,
    /// Tệp chứa mật khẩu mã hóa SNMPv3 (dòng đầu).
    #[arg(long, value_name = "FILE")]
    pub snmp_v3_priv_pass_file: Option<std::path::PathBuf>,
    /// Context SNMPv3 (mặc định trống).
    #[arg(long, value_name = "NAME", default_value = "")]
    pub snmp_v3_context: String,
}

/// Environment variables holding the SNMPv3 passphrases.
pub const V3_AUTH_PASS_ENV: &str = "KIEMKE_SNMP_V3_AUTH_PASS";
pub const V3_PRIV_PASS_ENV: &str = "KIEMKE_SNMP_V3_PRIV_PASS";

/// SNMPv3 passphrases shorter than this are refused (RFC 3414 requires 8).
const MIN_V3_PASS: usize = 8;

/// A passphrase: the file's first line, else the environment variable.
pub(crate) fn passphrase(
    file: Option<&std::path::Path>,
    env: &str,
    lang: Lang,
) -> anyhow::Result<Option<String>> {
    let value = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "{} {}: {e}",
                    lang.pick(
                        "không đọc được tệp mật khẩu",
                        "cannot read the passphrase file"
                    ),
                    path.display()
                )
            })?;
            Some(text.lines().next().unwrap_or_default().to_owned())
        }
        None => std::env::var(env).ok(),
    };
    match value {
        Some(v) if v.chars().count() < MIN_V3_PASS => bail!(
            "{}",
            lang.pick(
                "mật khẩu SNMPv3 phải có ít nhất 8 ký tự",
                "an SNMPv3 passphrase has at least 8 characters"
            )
        ),
        other => Ok(other),
    }
}

impl DiscoverArgs {
    /// The SNMPv3 user these flags (and files, environment) describe.
    pub fn v3(&self, lang: Lang) -> anyhow::Result<Option<super::snmp::V3Credentials>> {
        let Some(user) = self.snmp_v3_user.clone().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let auth_pass = passphrase(
            self.snmp_v3_auth_pass_file.as_deref(),
            V3_AUTH_PASS_ENV,
            lang,
        )?;
        let priv_pass = passphrase(
            self.snmp_v3_priv_pass_file.as_deref(),
            V3_PRIV_PASS_ENV,
            lang,
        )?;
        if priv_pass.is_some() && auth_pass.is_none() {
            bail!(
                "{}",
                lang.pick(
                    "SNMPv3: có mật khẩu mã hóa thì phải có mật khẩu xác thực",
                    "SNMPv3: a privacy passphrase needs an authentication passphrase"
                )
            );
        }
        Ok(Some(super::snmp::V3Credentials {
            user,
            auth: self.snmp_v3_auth_protocol,
            auth_pass,
            privacy: self.snmp_v3_priv_protocol,
            priv_pass,
            context: self.snmp_v3_context.clone(),
        }))
    }
}

impl DiscoverArgs {
    /// The options these flags ask for.
    pub fn options(&self, lang: Lang) -> anyhow::Result<DiscoverOptions> {
        let subnets = if self.subnet.is_empty() {
            super::local_subnets(self.allow_large_subnet)
        } else {
            let mut subnets = Vec::new();
            for s in &self.subnet {
                match Subnet::parse(s, self.allow_large_subnet) {
                    Ok(subnet) => subnets.push(subnet),
                    Err(e) => bail!("{}", e.message(lang)),
                }
            }
            subnets
        };
        if subnets.is_empty() {
            bail!(
                "{}",
                lang.pick(
                    "không tìm thấy mạng IPv4 nào để quét (dùng --subnet CIDR)",
                    "no IPv4 network to sweep (use --subnet CIDR)"
                )
            );
        }
        let mut options = DiscoverOptions::new(subnets);
        if let Some(c) = &self.community {
            options.snmp.community.clone_from(c);
        }
        options.budget = self.budget.unwrap_or(defaults::BUDGET);
        if let Some(t) = self.snmp_timeout {
            options.snmp.timeout = t;
        }
        options.snmp.v3 = self.v3(lang)?;
        if let Some(w) = self.mdns_window {
            options.mdns_window = w;
        }
        if let Some(r) = self.ping_rate {
            options.sweep.rate_per_sec = r.max(1);
        }
        Ok(options)
    }
}

/// Runs `discover` and prints the result.
pub async fn run(args: DiscoverArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let options = args.options(lang)?;
    let found = super::discover(&options).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print!("{}", super::render::render(&found, lang));
    }
    Ok(ExitCode::SUCCESS)
}
