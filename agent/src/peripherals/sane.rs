//! Scanners SANE sees (`scanimage -L`, when installed). USB scanners are
//! already read from sysfs with their ids and port ([`super::usb`]), so only
//! SANE's network scanners (eSCL/AirScan, vendor network backends) are
//! reported from here.

use std::process::Command;
use std::time::Duration;

use kiemke_shared::peripherals::{Connection, Peripheral, PeripheralKind, PeripheralSource};

/// How long `scanimage -L` may look for network scanners.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The network scanners SANE lists, or nothing when SANE is absent.
pub fn network_scanners() -> Vec<Peripheral> {
    let Ok(mut child) = Command::new("scanimage")
        .arg("-L")
        .env("LC_ALL", "C")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return Vec::new();
    };
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < TIMEOUT => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Vec::new();
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    }
    parse(&out)
}

/// `device `BACKEND:ADDRESS' is a VENDOR MODEL TYPE` lines; USB ones dropped.
pub fn parse(text: &str) -> Vec<Peripheral> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("device `")?;
            let (device, description) = rest.split_once("' is a ")?;
            if device.contains("libusb") || device.contains(":usb") {
                return None;
            }
            let mut p = Peripheral::new(
                PeripheralKind::Scanner,
                PeripheralSource::Sane,
                Connection::Network,
            );
            p.uri = Some(device.to_owned());
            let description = description
                .trim_end_matches(" scanner")
                .trim_end_matches(" flatbed")
                .trim_end_matches(" ADF")
                .trim_end_matches(" eSCL")
                .trim();
            p.vendor = description.split_whitespace().next().map(str::to_owned);
            p.model = Some(description.to_owned());
            p.ip = device
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .find(|part| part.parse::<std::net::Ipv4Addr>().is_ok())
                .map(str::to_owned);
            Some(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_scanners_only() {
        let text = "device `genesys:libusb:001:004' is a Canon LiDE 220 flatbed scanner\n\
                    device `airscan:e0:Canon MF445dw' is a eSCL Canon MF445dw ip=10.77.9.22\n\
                    device `escl:http://10.77.9.23:80' is a HP ScanJet Pro 3500 f1 flatbed scanner\n";
        let found = parse(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].ip.as_deref(), Some("10.77.9.23"));
        assert_eq!(found[1].model.as_deref(), Some("HP ScanJet Pro 3500 f1"));
        assert!(found.iter().all(|p| p.kind == PeripheralKind::Scanner));
    }
}
