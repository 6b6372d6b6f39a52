//! Connected monitors from the EDID files the DRM drivers expose under
//! `/sys/class/drm/cardN-CONNECTOR/edid` (empty when nothing is plugged in).

use std::fs;
use std::path::Path;

use kiemke_shared::inventory::Monitor;

use super::super::edid;
use super::sysfs::entries;

/// Reads the monitors under `root` (`/` in production).
pub fn read_monitors(root: &Path) -> Vec<Monitor> {
    let class = root.join("sys/class/drm");
    entries(&class)
        .iter()
        .filter_map(|name| {
            let connector = connector(name)?;
            let bytes = fs::read(class.join(name).join("edid")).ok()?;
            let monitor = edid::parse(&bytes)?;
            Some(Monitor {
                connector: Some(connector.to_owned()),
                ..monitor
            })
        })
        .collect()
}

/// `card0-HDMI-A-1` → `HDMI-A-1`; `None` for `card0`, `renderD128`, ...
fn connector(entry: &str) -> Option<&str> {
    let rest = entry.strip_prefix("card")?;
    let (index, connector) = rest.split_once('-')?;
    let numeric = !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit());
    (numeric && !connector.is_empty()).then_some(connector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::edid::tests::edid_block;
    use crate::collect::linux::fake::FakeRoot;

    #[test]
    fn reads_connected_monitors() {
        let root = FakeRoot::new();
        let dell = edid_block(
            "DEL",
            0xA0C1,
            0,
            12,
            2019,
            Some("DELL P2219H"),
            Some("5KZ3T93"),
        );
        root.file("sys/class/drm/card0-HDMI-A-1/edid", &dell)
            .file("sys/class/drm/card0-DP-1/edid", "")
            .file("sys/class/drm/card0-VGA-1/edid", [0x12u8; 128])
            .dir("sys/class/drm/card0")
            .dir("sys/class/drm/renderD128")
            .file("sys/class/drm/version", "drm 1.1.0 20060810\n");
        let monitors = read_monitors(root.path());
        assert_eq!(monitors.len(), 1);
        assert_eq!(monitors[0].connector.as_deref(), Some("HDMI-A-1"));
        assert_eq!(monitors[0].model.as_deref(), Some("DELL P2219H"));
        assert_eq!(monitors[0].year, Some(2019));
    }

    #[test]
    fn connectors() {
        let cases = [
            ("card0-HDMI-A-1", Some("HDMI-A-1")),
            ("card1-eDP-1", Some("eDP-1")),
            ("card0", None),
            ("renderD128", None),
            ("cardX-VGA-1", None),
            ("card0-", None),
        ];
        for (entry, want) in cases {
            assert_eq!(connector(entry), want, "{entry}");
        }
    }
}
