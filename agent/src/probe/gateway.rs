//! The default gateway (IPv4): the office router, first target of the
//! daemon's ping bursts. Loss or delay to it is the office LAN's problem,
//! not the line's.
//!
//! Linux: `/proc/net/route` (the default route with the lowest metric).
//! Windows: the IPv4 route table as printed by `route print -4 0.0.0.0`,
//! whose table rows are numeric in every Windows language.

use std::net::Ipv4Addr;

/// The default gateway, if the PC has one.
pub async fn default_gateway() -> Option<Ipv4Addr> {
    tokio::task::spawn_blocking(read_default_gateway)
        .await
        .ok()
        .flatten()
}

#[cfg(target_os = "linux")]
fn read_default_gateway() -> Option<Ipv4Addr> {
    let table = std::fs::read_to_string("/proc/net/route").ok()?;
    from_proc_route(&table)
}

#[cfg(windows)]
fn read_default_gateway() -> Option<Ipv4Addr> {
    let output = std::process::Command::new("route")
        .args(["print", "-4", "0.0.0.0"])
        .output()
        .ok()?;
    from_route_print(&String::from_utf8_lossy(&output.stdout))
}

#[cfg(not(any(target_os = "linux", windows)))]
fn read_default_gateway() -> Option<Ipv4Addr> {
    None
}

/// Parses `/proc/net/route`: columns Iface, Destination, Gateway, Flags,
/// RefCnt, Use, Metric, Mask..., addresses in little-endian hex.
pub fn from_proc_route(table: &str) -> Option<Ipv4Addr> {
    const RTF_UP: u32 = 0x1;
    const RTF_GATEWAY: u32 = 0x2;
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (dest, gw, flags, metric, mask) = (
                hex(f.get(1)?)?,
                hex(f.get(2)?)?,
                hex(f.get(3)?)?,
                f.get(6)?.parse::<u32>().ok()?,
                hex(f.get(7)?)?,
            );
            let default = dest == 0 && mask == 0 && gw != 0;
            let usable = flags & RTF_UP != 0 && flags & RTF_GATEWAY != 0;
            (default && usable).then(|| (metric, Ipv4Addr::from(gw.to_le_bytes())))
        })
        .min_by_key(|(metric, _)| *metric)
        .map(|(_, gw)| gw)
}

/// Parses `route print -4 0.0.0.0`: rows "Network Destination, Netmask,
/// Gateway, Interface, Metric"; the default route's gateway with the lowest
/// metric ("On-link" rows have no gateway).
pub fn from_route_print(text: &str) -> Option<Ipv4Addr> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.first() != Some(&"0.0.0.0") || f.get(1) != Some(&"0.0.0.0") {
                return None;
            }
            let gw: Ipv4Addr = f.get(2)?.parse().ok()?;
            let metric: u32 = f.get(4)?.parse().ok()?;
            Some((metric, gw))
        })
        .min_by_key(|(metric, _)| *metric)
        .map(|(_, gw)| gw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_route_table() {
        let table = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            wlan0\t00000000\t0100A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n\
            eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
            eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(from_proc_route(table), Some(Ipv4Addr::new(192, 168, 1, 1)));
        let no_default = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
            eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\n";
        assert_eq!(from_proc_route(no_default), None);
        assert_eq!(from_proc_route(""), None);
    }

    #[test]
    fn windows_route_print() {
        // As printed by a Vietnamese Windows 10 (headers localized, rows not).
        let text = "===========================================================================\n\
            Danh sách giao diện\n\
            IPv4 Route Table\n\
            ===========================================================================\n\
            Active Routes:\n\
            Network Destination        Netmask          Gateway       Interface  Metric\n\
                      0.0.0.0          0.0.0.0      192.168.1.1    192.168.1.57     25\n\
                      0.0.0.0          0.0.0.0       10.10.0.1       10.10.0.23     50\n\
            ===========================================================================\n\
            Persistent Routes:\n\
              None\n";
        assert_eq!(from_route_print(text), Some(Ipv4Addr::new(192, 168, 1, 1)));
        let on_link = "          0.0.0.0          0.0.0.0         On-link     10.0.0.5     5\n";
        assert_eq!(from_route_print(on_link), None);
    }
}
