//! Printers and scanners attached to this PC: CUPS queues ([`cups`]), USB
//! scanners from sysfs ([`usb`]) and SANE's network scanners ([`sane`]) on
//! Linux; WMI printers and Image-class PnP devices ([`windows`]) on Windows.
//! Each source fails quietly (not installed, not running): a missing source
//! is fewer devices, never a failed report.

pub mod cups;
pub mod sane;
pub mod usb;
pub mod windows;

use kiemke_shared::peripherals::Peripheral;

/// Every local printer and scanner, reading the running system. Blocking
/// (runs commands and, on Windows, waits on WMI).
pub fn collect_local() -> Vec<Peripheral> {
    let mut found = Vec::new();
    #[cfg(target_os = "linux")]
    {
        found.extend(cups::queues());
        found.extend(usb::scanners(std::path::Path::new("/")));
        found.extend(sane::network_scanners());
    }
    #[cfg(windows)]
    {
        found.extend(windows::fetch(std::time::Duration::from_secs(5)));
    }
    found.truncate(kiemke_shared::validate::MAX_PERIPHERALS);
    found
}

/// The peripherals section of a report: the local devices, read on the
/// blocking pool. `None` when the collection itself failed.
pub async fn for_report() -> Option<kiemke_shared::report::Peripherals> {
    match tokio::task::spawn_blocking(collect_local).await {
        Ok(devices) => Some(kiemke_shared::report::Peripherals {
            devices,
            discovery_ran: false,
        }),
        Err(e) => {
            tracing::error!(cause = %e, "không đọc được máy in, máy scan / peripheral collection failed");
            None
        }
    }
}
