//! `kiemke-agent peripherals` on Linux: CUPS queues (a private cupsd, root
//! only; CI installs `cups`): a network queue is listed with its URI and
//! address, virtual (PDF, file) queues are not devices.

use kiemke_tests::cups::Cups;
use serde_json::Value;

#[test]
fn cups_network_queue_is_listed_and_pdf_queue_is_not_needs_root() {
    if !Cups::available() {
        eprintln!("skipped: needs root and the cups package (CI has them)");
        return;
    }
    let cups = Cups::start().expect("cupsd");
    cups.add_queue("HP-Mot-cua", "socket://10.77.9.21:9100")
        .expect("network queue");
    cups.add_queue("Canon-Ke-toan", "ipp://10.77.9.22/ipp/print")
        .expect("ipp queue");
    cups.add_queue("PDF", "cups-pdf:/").expect("pdf queue");
    cups.add_queue("Tep", "file:///dev/null")
        .expect("file queue");

    let out = std::process::Command::new(crate::agent_bin())
        .args(["peripherals", "--json"])
        .env("CUPS_SERVER", cups.socket())
        .output()
        .expect("run agent");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).expect("json");
    let queues: Vec<(&str, &str, &str, &str)> = found
        .as_array()
        .expect("array")
        .iter()
        .filter(|d| d["source"] == "cups")
        .map(|d| {
            (
                d["name"].as_str().unwrap_or_default(),
                d["uri"].as_str().unwrap_or_default(),
                d["connection"].as_str().unwrap_or_default(),
                d["ip"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        queues,
        [
            (
                "Canon-Ke-toan",
                "ipp://10.77.9.22/ipp/print",
                "network",
                "10.77.9.22"
            ),
            (
                "HP-Mot-cua",
                "socket://10.77.9.21:9100",
                "network",
                "10.77.9.21"
            ),
        ],
        "{found:#}"
    );

    let human = std::process::Command::new(crate::agent_bin())
        .args(["peripherals"])
        .env("CUPS_SERVER", cups.socket())
        .output()
        .expect("run agent");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("máy in") && text.contains("socket://10.77.9.21:9100"),
        "{text}"
    );
    assert!(!text.contains("cups-pdf"), "{text}");
}
