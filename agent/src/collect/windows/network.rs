//! Maps WMI network rows to interfaces: the adapters that appear in Network
//! Connections (`Win32_NetworkAdapter` with a `NetConnectionID`), with their
//! addresses from `Win32_NetworkAdapterConfiguration` (joined on `Index`).
//!
//! `PhysicalAdapter` is not enough to tell a virtual adapter: VirtualBox's
//! and VMware's host adapters claim to be physical. Software-enumerated
//! devices (`ROOT\...`, `SWD\...`) and known virtual adapter names are
//! virtual too.

use std::net::Ipv4Addr;

use kiemke_shared::inventory::{Nic, clean_text, normalize_mac};

use super::super::virtual_hw::is_virtual_adapter_name;
use super::rows::{NetworkAdapter, NetworkAdapterConfiguration};

/// `NetConnectionStatus` of a connected adapter.
const CONNECTED: u16 = 2;
/// `AdapterTypeID` of a wireless adapter (few Wi-Fi drivers report it).
const ADAPTER_TYPE_WIRELESS: u16 = 9;
/// Link speeds above this are "unknown" markers (`i64::MAX` bits/s).
const MAX_PLAUSIBLE_BPS: u64 = 1_000_000_000_000;

pub fn nics(adapters: &[NetworkAdapter], configs: &[NetworkAdapterConfiguration]) -> Vec<Nic> {
    let mut nics: Vec<Nic> = adapters
        .iter()
        .filter_map(|adapter| {
            let name = adapter.net_connection_id.as_deref().and_then(clean_text)?;
            let config = configs
                .iter()
                .find(|c| adapter.index.is_some() && c.index == adapter.index);
            Some(nic(adapter, name, config))
        })
        .collect();
    nics.sort_by(|a, b| a.name.cmp(&b.name));
    nics
}

fn nic(
    adapter: &NetworkAdapter,
    name: String,
    config: Option<&NetworkAdapterConfiguration>,
) -> Nic {
    let description = adapter.name.as_deref().unwrap_or("");
    let pnp = adapter
        .pnp_device_id
        .as_deref()
        .unwrap_or("")
        .to_ascii_uppercase();
    let is_virtual = adapter.physical_adapter == Some(false)
        || pnp.starts_with(r"ROOT\")
        || pnp.starts_with(r"SWD\")
        || is_virtual_adapter_name(description)
        || is_virtual_adapter_name(&name);
    let text = format!("{description} {name}").to_lowercase();
    let wireless = adapter.adapter_type_id == Some(ADAPTER_TYPE_WIRELESS)
        || ["wireless", "wi-fi", "wifi", "wlan", "802.11"]
            .iter()
            .any(|hint| text.contains(hint));
    let up = match adapter.net_connection_status {
        Some(status) => Some(status == CONNECTED),
        None => adapter.net_enabled,
    };
    let link_mbps = adapter
        .speed
        .filter(|&bps| bps > 0 && bps < MAX_PLAUSIBLE_BPS && up != Some(false))
        .and_then(|bps| u32::try_from(bps / 1_000_000).ok())
        .filter(|&mbps| mbps > 0);
    Nic {
        name,
        mac: adapter.mac_address.as_deref().and_then(normalize_mac),
        addresses: config.map(addresses).unwrap_or_default(),
        link_mbps,
        is_virtual,
        loopback: false,
        wireless,
        up,
    }
}

/// `ip/prefix` for each configured address; IPv4 subnets come as masks.
fn addresses(config: &NetworkAdapterConfiguration) -> Vec<String> {
    let subnets = config.ip_subnet.as_deref().unwrap_or(&[]);
    config
        .ip_address
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, addr)| match subnets.get(i).and_then(|s| prefix(s)) {
            Some(prefix) => format!("{addr}/{prefix}"),
            None => addr.clone(),
        })
        .collect()
}

fn prefix(subnet: &str) -> Option<u32> {
    match subnet.parse::<Ipv4Addr>() {
        Ok(mask) => {
            let bits = u32::from(mask);
            // A real mask is contiguous ones.
            (bits.leading_ones() + bits.trailing_zeros() == 32).then(|| bits.leading_ones())
        }
        Err(_) => subnet.parse::<u32>().ok().filter(|&p| p <= 128),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{self, rows};
    use super::*;

    #[test]
    fn optiplex_nics() {
        let nics = nics(&rows(fixtures::ADAPTERS), &rows(fixtures::CONFIGS));
        let names: Vec<&str> = nics.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Ethernet", "VirtualBox Host-Only Network", "Wi-Fi"]);

        assert_eq!(
            nics[0],
            Nic {
                name: "Ethernet".into(),
                mac: Some("18:66:da:0a:1b:2c".into()),
                addresses: vec![
                    "192.168.1.23/24".into(),
                    "fe80::8d4c:1d2e:3a4b:5c6d/64".into()
                ],
                link_mbps: Some(1000),
                is_virtual: false,
                loopback: false,
                wireless: false,
                up: Some(true),
            }
        );
        let vbox = &nics[1];
        assert!(vbox.is_virtual, "PhysicalAdapter lies for VirtualBox");
        assert_eq!(vbox.hardware_mac(), None);
        assert_eq!(vbox.addresses[0], "192.168.56.1/24");

        let wifi = &nics[2];
        assert!(wifi.wireless && !wifi.is_virtual);
        assert_eq!(wifi.up, Some(false));
        assert_eq!(wifi.link_mbps, None, "i64::MAX bits/s means unknown");
        assert_eq!(wifi.addresses, Vec::<String>::new());
    }

    #[test]
    fn without_configurations() {
        let nics = nics(&rows(fixtures::ADAPTERS), &[]);
        assert_eq!(nics.len(), 3);
        assert!(nics.iter().all(|n| n.addresses.is_empty()));
    }

    #[test]
    fn prefixes() {
        let cases = [
            ("255.255.255.0", Some(24)),
            ("255.255.0.0", Some(16)),
            ("255.255.255.255", Some(32)),
            ("0.0.0.0", Some(0)),
            ("255.0.255.0", None),
            ("64", Some(64)),
            ("129", None),
            ("", None),
        ];
        for (subnet, want) in cases {
            assert_eq!(prefix(subnet), want, "{subnet}");
        }
    }
}
