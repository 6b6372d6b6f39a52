//! Print queues of CUPS (Linux): `lpstat -v` lists each queue's device URI,
//! `lpoptions -p` its make and model. The URI says how the printer hangs on
//! the PC (usb://, ipp://, socket://, smb://...); queues that print to a
//! file or a PDF (cups-pdf:/, file:/) are virtual and not devices.
//!
//! Both commands run with `LC_ALL=C` (their output is localised) and honour
//! `CUPS_SERVER`, which is how the tests point them at their own cupsd.

use std::process::Command;

use kiemke_shared::firmware::is_placeholder_serial;
use kiemke_shared::inventory::clean_text;
use kiemke_shared::peripherals::{Connection, Peripheral, PeripheralKind, PeripheralSource};

/// The queues of the local CUPS, or nothing when CUPS is not installed or
/// not running.
pub fn queues() -> Vec<Peripheral> {
    let Some(listing) = run("lpstat", &["-v"]) else {
        return Vec::new();
    };
    parse_lpstat_v(&listing)
        .into_iter()
        .filter_map(|(name, uri)| {
            let options = run("lpoptions", &["-p", &name]).unwrap_or_default();
            let model = lpoption(&options, "printer-make-and-model");
            queue(&name, &uri, model.as_deref())
        })
        .collect()
}

fn run(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `device for NAME: URI` lines.
pub fn parse_lpstat_v(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("device for ")?;
            let (name, uri) = rest.split_once(": ")?;
            Some((name.trim().to_owned(), uri.trim().to_owned()))
        })
        .collect()
}

/// One option's value from `lpoptions` output (`key=value key='a b'`).
pub fn lpoption(text: &str, key: &str) -> Option<String> {
    let mut chars = text.trim().chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars
            .by_ref()
            .take_while(|c| *c != '=' && *c != ' ')
            .collect();
        let mut value = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => value.extend(chars.next()),
                ('\'' | '"', None) => quote = Some(c),
                (c, Some(q)) if c == q => quote = None,
                (' ', None) => break,
                (c, _) => value.push(c),
            }
        }
        if name == key {
            return clean_text(&value);
        }
    }
    None
}

/// Schemes of queues that are not a device.
const VIRTUAL_SCHEMES: &[&str] = &["cups-pdf", "file", "pdf", "cups-brf", "implicitclass"];

/// The device behind one queue; `None` for a virtual queue.
pub fn queue(name: &str, uri: &str, make_and_model: Option<&str>) -> Option<Peripheral> {
    let scheme = uri
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let pdf = make_and_model.is_some_and(|m| m.to_ascii_lowercase().contains("pdf"));
    // `lpstat -v` shows a file:// queue as the bare path.
    if VIRTUAL_SCHEMES.contains(&scheme.as_str()) || uri.starts_with('/') || pdf {
        return None;
    }
    // A raw queue says nothing about the printer.
    let make_and_model = make_and_model.filter(|m| !m.eq_ignore_ascii_case("Local Raw Printer"));
    let after_scheme = uri.split_once("://").map_or("", |(_, r)| r);
    let connection = match scheme.as_str() {
        "usb" => Connection::Usb,
        "hp" | "hpfax" if after_scheme.starts_with("usb") || uri.starts_with("hp:/usb") => {
            Connection::Usb
        }
        "smb" => Connection::Shared,
        "ipp" | "ipps" | "http" | "https" | "socket" | "lpd" | "dnssd" | "hp" | "hpfax" => {
            Connection::Network
        }
        _ => Connection::Other,
    };
    let mut p = Peripheral::new(PeripheralKind::Printer, PeripheralSource::Cups, connection);
    p.name = Some(name.to_owned());
    p.uri = Some(uri.to_owned());
    if connection == Connection::Network {
        p.ip = uri_host(after_scheme)
            .filter(|h| h.parse::<std::net::IpAddr>().is_ok())
            .map(str::to_owned);
    }
    p.serial = query_param(uri, "serial").filter(|s| !is_placeholder_serial(s));
    p.driver = make_and_model.map(str::to_owned);
    p.model = make_and_model.map(model_of_driver);
    p.vendor = p
        .model
        .as_deref()
        .and_then(|m| m.split_whitespace().next())
        .map(str::to_owned);
    if p.model
        .as_deref()
        .is_some_and(crate::discover::vendors::model_is_mfp)
    {
        p.kind = PeripheralKind::Mfp;
    }
    Some(p)
}

/// `host` of `host:port/path` (IPv6 literals in brackets).
fn uri_host(rest: &str) -> Option<&str> {
    let authority = rest.split(['/', '?']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next();
    }
    authority.split(':').next().filter(|h| !h.is_empty())
}

fn query_param(uri: &str, key: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key)
            .then(|| v.replace("%20", " "))
            .and_then(|v| clean_text(&v))
    })
}

/// A model name from a driver's make-and-model: without the PDL and
/// driver-family suffixes (", driverless, cups-filters 1.28", " PCL 6",
/// " - CUPS+Gutenprint v5.3.3", " Foomatic/...").
pub fn model_of_driver(driver: &str) -> String {
    let mut model = driver;
    for cut in [
        ",",
        " - ",
        " Foomatic",
        " PCL",
        " PS",
        " (recommended)",
        " hpcups",
        " pxl",
    ] {
        if let Some(i) = model.find(cut) {
            if i > 0 {
                model = &model[..i];
            }
        }
    }
    model.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lpstat_and_lpoptions_output() {
        let listing = "device for HP-Ke-toan: socket://10.77.9.21:9100\n\
                       device for PDF: cups-pdf:/\n\
                       device for Canon-Mot-cua: ipp://10.77.9.22/ipp/print\n";
        assert_eq!(
            parse_lpstat_v(listing),
            [
                ("HP-Ke-toan".into(), "socket://10.77.9.21:9100".into()),
                ("PDF".into(), "cups-pdf:/".into()),
                ("Canon-Mot-cua".into(), "ipp://10.77.9.22/ipp/print".into()),
            ]
        );
        let options = "copies=1 device-uri=socket://10.77.9.21:9100 printer-info='HP Ke toan' \
                       printer-make-and-model='HP LaserJet Pro M402-M403 PCL 6' job-sheets=none,none";
        assert_eq!(
            lpoption(options, "printer-make-and-model").as_deref(),
            Some("HP LaserJet Pro M402-M403 PCL 6")
        );
        assert_eq!(lpoption(options, "copies").as_deref(), Some("1"));
        assert_eq!(
            lpoption(r"printer-info=HP\ Ke\ toan", "printer-info").as_deref(),
            Some("HP Ke toan")
        );
        assert_eq!(lpoption(options, "missing"), None);
    }

    #[test]
    fn queues_by_uri() {
        let net = queue(
            "HP",
            "socket://10.77.9.21:9100",
            Some("HP LaserJet Pro M402-M403 PCL 6"),
        )
        .expect("net");
        assert_eq!(net.connection, Connection::Network);
        assert_eq!(net.ip.as_deref(), Some("10.77.9.21"));
        assert_eq!(net.model.as_deref(), Some("HP LaserJet Pro M402-M403"));
        let usb = queue(
            "Brother",
            "usb://Brother/HL-L2360D%20series?serial=E74193F7N654321",
            Some("Brother HL-L2360D series, using brlaser v6"),
        )
        .expect("usb");
        assert_eq!(usb.connection, Connection::Usb);
        assert_eq!(usb.serial.as_deref(), Some("E74193F7N654321"));
        assert_eq!(usb.model.as_deref(), Some("Brother HL-L2360D series"));
        let shared = queue("KT", "smb://PC-KETOAN/HP1102", None).expect("smb");
        assert_eq!(shared.connection, Connection::Shared);
        let mfp = queue("MF", "ipp://[fe80::1]/ipp/print", Some("Canon MF445dw")).expect("mfp");
        assert_eq!(mfp.kind, PeripheralKind::Mfp);
        assert_eq!(mfp.ip.as_deref(), Some("fe80::1"));
        assert!(
            queue(
                "PDF",
                "cups-pdf:/",
                Some("Generic CUPS-PDF Printer (w/ options)")
            )
            .is_none()
        );
        assert!(queue("File", "file:///dev/null", None).is_none());
        assert!(queue("File", "///dev/null", None).is_none());
        let raw = queue("R", "lpd://10.0.0.9/queue", Some("Local Raw Printer")).expect("raw");
        assert_eq!(raw.model, None);
        assert!(queue("P", "ipp://h/", Some("Generic PDF Printer")).is_none());
    }
}
