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
