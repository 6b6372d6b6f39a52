//! A DNS-SD responder for discovery tests, run inside a test's network
//! namespace: registers each `TYPE,INSTANCE,IPV4,MODEL` argument (e.g.
//! `_uscan._tcp.local.,HP M402dn,10.77.34.11,HP LaserJet Pro M402dn`) with
//! `mdns-sd`, prints `ready`, and answers queries until stdin closes.

use std::io::{BufRead, Write};

use anyhow::Context;
use mdns_sd::{ServiceDaemon, ServiceInfo};

fn main() -> anyhow::Result<()> {
    let daemon = ServiceDaemon::new().context("mDNS daemon")?;
    for (i, arg) in std::env::args().skip(1).enumerate() {
        let parts: Vec<&str> = arg.splitn(4, ',').collect();
        let [ty, instance, ip, model] = parts[..] else {
            anyhow::bail!("expected TYPE,INSTANCE,IPV4,MODEL: {arg}");
        };
        let host = format!("kiemke-test-{i}.local.");
        let info = ServiceInfo::new(ty, instance, &host, ip, 631, &[("ty", model)][..])
            .with_context(|| format!("service {arg}"))?;
        daemon
            .register(info)
            .with_context(|| format!("register {arg}"))?;
    }
    println!("ready");
    std::io::stdout().flush()?;
    // Until the test closes stdin (or kills this process).
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
    let _ = daemon.shutdown();
    Ok(())
}
