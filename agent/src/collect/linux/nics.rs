//! Network interfaces from `/sys/class/net`: MAC, link speed, physical or
//! virtual, loopback, wireless, up or down; their addresses (with prefix)
//! come from `sysinfo`, which reads them with `getifaddrs`.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use kiemke_shared::inventory::{Nic, normalize_mac};
use sysinfo::Networks;

use super::sysfs::{entries, number, text};

/// ARPHRD_LOOPBACK, the `type` of a loopback interface.
const ARPHRD_LOOPBACK: u32 = 772;
/// IFF_UP in the interface `flags` (sysfs never shows IFF_RUNNING there).
const IFF_UP: u32 = 0x1;

/// The addresses of every interface, `ip/prefix`, by interface name.
pub fn addresses() -> HashMap<String, Vec<String>> {
    Networks::new_with_refreshed_list()
        .list()
        .iter()
        .map(|(name, data)| {
            let mut addresses: Vec<String> = data
                .ip_networks()
                .iter()
                .map(|net| format!("{}/{}", net.addr, net.prefix))
                .collect();
            addresses.sort();
            (name.clone(), addresses)
        })
        .collect()
}

/// Lists the interfaces under `root` (`/` in production).
pub fn read_nics(root: &Path, addresses: &HashMap<String, Vec<String>>) -> Vec<Nic> {
    let class = root.join("sys/class/net");
    entries(&class)
        .into_iter()
        .filter(|name| class.join(name).join("type").exists())
        .map(|name| {
            let dir = class.join(&name);
            let mut nic = read_nic(&dir, &name);
            nic.addresses = addresses.get(&name).cloned().unwrap_or_default();
            nic
        })
        .collect()
}

fn read_nic(dir: &Path, name: &str) -> Nic {
    let canonical = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let is_virtual =
        !dir.join("device").exists() || canonical.to_string_lossy().contains("/devices/virtual/");
    let loopback = name == "lo" || number::<u32>(&dir.join("type")) == Some(ARPHRD_LOOPBACK);
    let up = up(
        text(&dir.join("operstate")).as_deref(),
        text(&dir.join("flags")).as_deref(),
    );
    Nic {
        name: name.to_owned(),
        mac: text(&dir.join("address"))
            .and_then(|a| normalize_mac(&a))
            .filter(|mac| mac != "00:00:00:00:00:00"),
        addresses: Vec::new(),
        // Reading `speed` of a down or virtual interface fails (EINVAL) or
        // says -1: unknown, not zero.
        link_mbps: number::<i64>(&dir.join("speed"))
            .filter(|&mbps| mbps > 0)
            .and_then(|mbps| u32::try_from(mbps).ok()),
        is_virtual,
        loopback,
        wireless: dir.join("wireless").exists() || dir.join("phy80211").exists(),
        up,
    }
}

/// Whether the interface is up: its `operstate`, or for drivers that leave
/// it `unknown` (loopback, tun), whether it is administratively up.
fn up(operstate: Option<&str>, flags: Option<&str>) -> Option<bool> {
    match operstate {
        Some("up") => Some(true),
        Some("down" | "lowerlayerdown" | "notpresent" | "dormant") => Some(false),
        _ => {
            let flags = u32::from_str_radix(flags?.trim_start_matches("0x"), 16).ok()?;
            Some(flags & IFF_UP != 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::fake::FakeRoot;

    const ETH_DEV: &str = "sys/devices/pci0000:00/0000:00:19.0";
    const WIFI_DEV: &str = "sys/devices/pci0000:00/0000:00:1c.2/0000:02:00.0";

    fn iface(root: &FakeRoot, name: &str, dev: Option<&str>, attrs: &[(&str, &str)]) {
        let dir = match dev {
            Some(dev) => format!("{dev}/net/{name}"),
            None => format!("sys/devices/virtual/net/{name}"),
        };
        root.link(&format!("sys/class/net/{name}"), &dir);
        if let Some(dev) = dev {
            root.link(&format!("{dir}/device"), dev);
        }
        for (attr, value) in attrs {
            root.file(&format!("{dir}/{attr}"), value);
        }
    }

    fn office_pc() -> FakeRoot {
        let root = FakeRoot::new();
        iface(
            &root,
            "lo",
            None,
            &[
                ("type", "772\n"),
                ("address", "00:00:00:00:00:00\n"),
                ("operstate", "unknown\n"),
                ("flags", "0x9\n"),
            ],
        );
        iface(
            &root,
            "enp0s25",
            Some(ETH_DEV),
            &[
                ("type", "1\n"),
                ("address", "18:66:DA:0A:1B:2C\n"),
                ("operstate", "up\n"),
                ("flags", "0x1003\n"),
                ("speed", "1000\n"),
            ],
        );
        iface(
            &root,
            "wlp2s0",
            Some(WIFI_DEV),
            &[
                ("type", "1\n"),
                ("address", "a4:02:b9:11:22:33\n"),
                ("operstate", "down\n"),
                ("flags", "0x1003\n"),
                ("wireless/.keep", ""),
            ],
        );
        iface(
            &root,
            "docker0",
            None,
            &[
                ("type", "1\n"),
                ("address", "02:42:ac:11:00:01\n"),
                ("operstate", "down\n"),
                ("speed", "-1\n"),
            ],
        );
        root
    }

    #[test]
    fn reads_an_office_pc() {
        let root = office_pc();
        let addresses = HashMap::from([(
            "enp0s25".to_owned(),
            vec![
                "192.168.1.23/24".to_owned(),
                "fe80::1a66:daff:fe0a:1b2c/64".to_owned(),
            ],
        )]);
        let nics = read_nics(root.path(), &addresses);
        let names: Vec<&str> = nics.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["docker0", "enp0s25", "lo", "wlp2s0"]);

        let eth = &nics[1];
        assert_eq!(eth.mac.as_deref(), Some("18:66:da:0a:1b:2c"));
        assert_eq!(eth.link_mbps, Some(1000));
        assert_eq!(
            (eth.is_virtual, eth.loopback, eth.wireless),
            (false, false, false)
        );
        assert_eq!(eth.up, Some(true));
        assert_eq!(eth.addresses.len(), 2);
        assert_eq!(eth.hardware_mac(), Some("18:66:da:0a:1b:2c"));

        let docker = &nics[0];
        assert!(docker.is_virtual);
        assert_eq!(docker.link_mbps, None);
        assert_eq!(docker.up, Some(false));

        let lo = &nics[2];
        assert!(lo.loopback && lo.is_virtual);
        assert_eq!(lo.mac, None);
        assert_eq!(lo.up, Some(true), "operstate unknown, flags UP|LOOPBACK");

        let wifi = &nics[3];
        assert!(wifi.wireless && !wifi.is_virtual);
        assert_eq!(wifi.link_mbps, None);
        assert_eq!(wifi.up, Some(false));
    }

    #[test]
    fn up_states() {
        let cases = [
            (Some("up"), None, Some(true)),
            (Some("down"), Some("0x1003"), Some(false)),
            (Some("dormant"), None, Some(false)),
            (Some("unknown"), Some("0x9"), Some(true)),
            (Some("unknown"), Some("0x1002"), Some(false)),
            (Some("unknown"), None, None),
            (None, Some("garbage"), None),
        ];
        for (operstate, flags, want) in cases {
            assert_eq!(up(operstate, flags), want, "{operstate:?} {flags:?}");
        }
    }

    #[test]
    fn no_sysfs_no_nics() {
        assert_eq!(read_nics(FakeRoot::new().path(), &HashMap::new()), vec![]);
    }
}
