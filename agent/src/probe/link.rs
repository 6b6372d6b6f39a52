//! The interface traffic to a target leaves by, its link speed, and its byte
//! counters.
//!
//! The interface is found the portable way: a UDP socket "connected" to the
//! target (no packet is sent) gets the source address the routing table
//! chose, and the interface holding that address is the one used. Link
//! speed and Wi-Fi: Linux `/sys/class/net/IF/{speed,wireless}`; Windows the
//! inventory's WMI network adapters (matched on the connection name, which is
//! also the name the counters use). Counters come from sysinfo on both.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use sysinfo::Networks;

/// What the agent knows about the interface used for a target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkInfo {
    pub interface: Option<String>,
    pub source: Option<IpAddr>,
    pub link_mbps: Option<u32>,
    pub wireless: Option<bool>,
}

/// Bytes an interface has received and sent since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub rx: u64,
    pub tx: u64,
}

/// The source address the OS would use to reach `target`.
pub fn source_address(target: IpAddr) -> Option<IpAddr> {
    let any: IpAddr = match target {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0)).ok()?;
    socket.connect(SocketAddr::new(target, 9)).ok()?;
    Some(socket.local_addr().ok()?.ip())
}

/// Finds the interface used for `target`, with its link speed.
pub async fn route_to(target: IpAddr) -> LinkInfo {
    tokio::task::spawn_blocking(move || route_to_blocking(target))
        .await
        .unwrap_or_default()
}

fn route_to_blocking(target: IpAddr) -> LinkInfo {
    let Some(source) = source_address(target) else {
        return LinkInfo::default();
    };
    let networks = Networks::new_with_refreshed_list();
    let interface = networks
        .list()
        .iter()
        .find(|(_, data)| data.ip_networks().iter().any(|n| n.addr == source))
        .map(|(name, _)| name.clone());
    let (link_mbps, wireless) = interface.as_deref().map_or((None, None), link_of);
    LinkInfo {
        interface,
        source: Some(source),
        link_mbps,
        wireless,
    }
}

/// The interface's counters now.
pub fn counters(interface: &str) -> Option<Counters> {
    let networks = Networks::new_with_refreshed_list();
    let data = networks.list().get(interface)?;
    Some(Counters {
        rx: data.total_received(),
        tx: data.total_transmitted(),
    })
}

#[cfg(target_os = "linux")]
fn link_of(interface: &str) -> (Option<u32>, Option<bool>) {
    let dir = std::path::Path::new("/sys/class/net").join(interface);
    // `speed` is -1 or unreadable on a down, virtual or Wi-Fi interface.
    let speed = std::fs::read_to_string(dir.join("speed"))
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s > 0);
    let wireless = dir.join("wireless").exists() || dir.join("phy80211").exists();
    let is_loopback = interface == "lo";
    (speed, (!is_loopback).then_some(wireless))
}

#[cfg(windows)]
fn link_of(interface: &str) -> (Option<u32>, Option<bool>) {
    let inventory = crate::collect::collect_inventory();
    inventory
        .nics
        .iter()
        .find(|n| n.name == interface)
        .map_or((None, None), |n| (n.link_mbps, Some(n.wireless)))
}

#[cfg(not(any(target_os = "linux", windows)))]
fn link_of(_interface: &str) -> (Option<u32>, Option<bool>) {
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_traffic_uses_the_loopback_interface() {
        let info = route_to("127.0.0.1".parse().expect("ip")).await;
        assert_eq!(info.source, Some("127.0.0.1".parse().expect("ip")));
        #[cfg(target_os = "linux")]
        {
            assert_eq!(info.interface.as_deref(), Some("lo"));
            let c = counters("lo").expect("lo has counters");
            assert!(c.rx > 0 || c.tx == 0);
        }
    }
}
