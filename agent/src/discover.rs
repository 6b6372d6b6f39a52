//! LAN discovery of printers, scanners and network gear: an ICMP sweep of
//! the local subnet(s) ([`sweep`]), then SNMP v2c (v1 fallback) to the hosts
//! that answered ([`snmp`]), read as devices by [`printer_mib`] with the
//! vendor quirks of [`vendors`]. Used by `kiemke-agent discover` and by the
//! daemon's daily report.
//!
//! Everything is bounded: the sweep is paced and capped in concurrency,
//! every SNMP request has a timeout and a retry count, and the whole run has
//! a time budget after which unfinished hosts are given up (and counted), so
//! a silent or slow host never stalls a report.
//!
//! Beside the sweep, mDNS/DNS-SD is browsed for a short window
//! ([`dnssd`]); its devices are merged into the SNMP results by IP.

pub mod cli;
pub mod dnssd;
pub mod printer_mib;
pub mod render;
pub mod snmp;
pub mod subnet;
pub mod sweep;
pub mod vendors;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use kiemke_shared::peripherals::Peripheral;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use snmp::SnmpOptions;
pub use subnet::{Subnet, SubnetError};
pub use sweep::SweepOptions;

/// Named defaults for discovery.
pub mod defaults {
    use std::time::Duration;

    pub const COMMUNITY: &str = "public";
    pub const SNMP_PORT: u16 = 161;
    pub const SNMP_TIMEOUT: Duration = Duration::from_millis(1500);
    pub const SNMP_RETRIES: u32 = 1;
    pub const SNMP_CONCURRENCY: usize = 16;
    pub const MAX_WALK: usize = 256;
    pub const PING_TIMEOUT: Duration = Duration::from_secs(1);
    pub const PING_CONCURRENCY: usize = 32;
    /// A /24 takes about 5 s to sweep at this pace.
    pub const PING_RATE_PER_SEC: u32 = 50;
    pub const PING_ATTEMPTS: u32 = 2;
    pub const BUDGET: Duration = Duration::from_secs(120);
    /// How long DNS-SD announcements are listened for (devices answer a
    /// query within a second or two).
    pub const MDNS_WINDOW: Duration = Duration::from_secs(5);
}

/// Everything a discovery run needs.
#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    pub subnets: Vec<Subnet>,
    pub snmp: SnmpOptions,
    pub sweep: SweepOptions,
    /// Hosts read over SNMP at once.
    pub snmp_concurrency: usize,
    /// The whole run (sweep and SNMP) ends by then.
    pub budget: Duration,
    /// DNS-SD is browsed this long (within the budget); zero: not at all.
    pub mdns_window: Duration,
}

impl DiscoverOptions {
    /// The defaults, for these subnets.
    pub fn new(subnets: Vec<Subnet>) -> Self {
        DiscoverOptions {
            subnets,
            snmp: SnmpOptions {
                community: defaults::COMMUNITY.to_owned(),
                port: defaults::SNMP_PORT,
                timeout: defaults::SNMP_TIMEOUT,
                retries: defaults::SNMP_RETRIES,
                max_walk: defaults::MAX_WALK,
                v3: None,
            },
            sweep: SweepOptions {
                concurrency: defaults::PING_CONCURRENCY,
                rate_per_sec: defaults::PING_RATE_PER_SEC,
                timeout: defaults::PING_TIMEOUT,
                attempts: defaults::PING_ATTEMPTS,
            },
            snmp_concurrency: defaults::SNMP_CONCURRENCY,
            budget: defaults::BUDGET,
            mdns_window: defaults::MDNS_WINDOW,
        }
    }
}

/// What a discovery run found, and how complete it was.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    pub devices: Vec<Peripheral>,
    pub subnets: Vec<String>,
    /// Addresses swept.
    pub hosts_swept: usize,
    /// Addresses that answered ping (all swept ones when ICMP was not
    /// permitted and SNMP was tried on every address).
    pub hosts_alive: usize,
    /// Hosts still being read when the budget ran out.
    pub hosts_unfinished: usize,
    /// `false` when no ICMP socket could be opened.
    pub ping_used: bool,
    /// DNS-SD service instances heard (in the swept subnets).
    #[serde(default)]
    pub mdns_announcements: usize,
    pub elapsed_ms: u64,
}

/// The IPv4 subnets of this PC's up, non-loopback interfaces. A LAN larger
/// than /22 is narrowed to the /24 around this PC unless `allow_large`.
pub fn local_subnets(allow_large: bool) -> Vec<Subnet> {
    let networks = sysinfo::Networks::new_with_refreshed_list();
    let mut out: Vec<Subnet> = Vec::new();
    for (_, data) in networks.iter() {
        for net in data.ip_networks() {
            let IpAddr::V4(ip) = net.addr else { continue };
            if ip.is_loopback() || ip.is_link_local() || net.prefix >= 31 {
                continue;
            }
            let subnet =
                Subnet::new(ip, net.prefix, allow_large).or_else(|_| Subnet::new(ip, 24, false));
            if let Ok(subnet) = subnet {
                if !out.contains(&subnet) {
                    out.push(subnet);
                }
            }
        }
    }
    out
}

/// Sweeps, then reads every host that answered. Never fails as a whole: a
/// sweep that cannot ping tries SNMP on every address instead.
pub async fn discover(options: &DiscoverOptions) -> Discovery {
    let start = Instant::now();
    let deadline = start + options.budget;
    let hosts: Vec<Ipv4Addr> = options.subnets.iter().flat_map(Subnet::hosts).collect();
    let mdns = (!options.mdns_window.is_zero()).then(|| {
        tokio::spawn(dnssd::browse(
            options.mdns_window.min(options.budget),
            options.subnets.clone(),
        ))
    });
    let (alive, ping_used) = match tokio::time::timeout_at(
        deadline,
        sweep::sweep(&hosts, &options.sweep),
    )
    .await
    {
        Ok(Ok(alive)) => (alive, true),
        Ok(Err(e)) => {
            tracing::warn!(cause = %e, "không ping được, thử SNMP mọi địa chỉ / cannot ping, trying SNMP on every address");
            (hosts.clone(), false)
        }
        Err(_) => {
            tracing::warn!("hết thời gian khi đang ping / time budget ran out while sweeping");
            (Vec::new(), true)
        }
    };
    tracing::info!(
        swept = hosts.len(),
        alive = alive.len(),
        "quét ping xong / sweep done"
    );

    let permits = Arc::new(Semaphore::new(options.snmp_concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for ip in alive.iter().copied() {
        let permits = permits.clone();
        let snmp = options.snmp.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.ok()?;
            read_host(ip, &snmp).await
        });
    }
    let mut devices = Vec::new();
    let mut unfinished = 0;
    loop {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(Ok(Some(device)))) => devices.push(device),
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                unfinished = tasks.len();
                tracing::warn!(
                    unfinished,
                    "hết thời gian, bỏ các máy chưa đọc xong / time budget ran out"
                );
                tasks.abort_all();
                break;
            }
        }
    }
    // The browse ends by its own window, within the budget.
    let announcements = match mdns {
        Some(task) => task.await.unwrap_or_default(),
        None => Vec::new(),
    };
    dnssd::merge(&mut devices, dnssd::devices(&announcements));
    devices
        .sort_by_key(|d: &Peripheral| d.ip.as_deref().and_then(|ip| ip.parse::<Ipv4Addr>().ok()));
    Discovery {
        devices,
        subnets: options.subnets.iter().map(ToString::to_string).collect(),
        hosts_swept: hosts.len(),
        hosts_alive: alive.len(),
        hosts_unfinished: unfinished,
        ping_used,
        mdns_announcements: announcements.len(),
        elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// Reads one host over SNMP; `None` when it does not answer SNMP.
pub async fn read_host(ip: Ipv4Addr, options: &SnmpOptions) -> Option<Peripheral> {
    let addr = SocketAddr::new(IpAddr::V4(ip), options.port);
    let mut session = match snmp::Session::open(addr, options).await {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(e) => {
            tracing::debug!(%ip, cause = %e, "không mở được SNMP / cannot open SNMP");
            return None;
        }
    };
    let mut snap = snmp::Snapshot::new();
    // sysDescr was read by `open`; read it again into the snapshot.
    let mut scalars = vec![printer_mib::SYS_DESCR];
    scalars.extend_from_slice(printer_mib::SCALARS);
    let mut result = session.get_into(&scalars, &mut snap).await;
    if result.is_ok() {
        for table in printer_mib::WALKS {
            result = session.walk_into(table, &mut snap).await;
            if result.is_err() {
                break;
            }
        }
    }
    let vendor = snap
        .get(printer_mib::SYS_OBJECT_ID)
        .and_then(snmp::SnmpValue::text)
        .and_then(|id| vendors::by_object_id(&id));
    if let (Ok(()), Some(vendor)) = (&result, vendor) {
        result = session.get_into(&vendors::oids(vendor), &mut snap).await;
    }
    if let Err(e) = result {
        // A host that stops answering half way is still reported with what
        // it said.
        tracing::debug!(%ip, cause = %e, "SNMP dừng giữa chừng / SNMP stopped half way");
    }
    Some(printer_mib::interpret(&ip.to_string(), &snap))
}
