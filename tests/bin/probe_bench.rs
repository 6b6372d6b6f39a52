//! `kiemke-probe-bench`: the agent's probes against the reference tools on
//! shaped links, printed as Markdown for `docs/benchmarks.md`. Not a test:
//! it judges nothing, it measures. Needs root, like the shaped-link tests.
//!
//! For each rate (default 50, 100, 200 Mbit/s at 20 ms RTT): iperf3 and the
//! agent both ways, their ratio and the wire's CPU; then the agent's ping
//! beside fping (raw and datagram sockets); then one stream vs many on a
//! lossy link. Uses the agent and server binaries next to itself:
//!
//! ```text
//! cargo build -p kiemke-tests --bins --release
//! target/release/kiemke-probe-bench [--rtt-ms 20] [--rates 50,100,200] [--repeat 1] [--shaper tbf|linkemu|both]
//! ```

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use kiemke_shared::probes::SpeedResult;
use kiemke_tests::echo_loss::{self, EchoLoss};
use kiemke_tests::measure::{
    self, Binaries, PingPlan, ServerInNs, ThroughputPlan, agent_json, machine_note,
};
use kiemke_tests::netns::{LinkSpec, RateShaper, ShapedLink};
use kiemke_tests::stats::{Z95, diff_pct, wilson_interval_pct};

/// Benchmark of the agent's line probes on shaped links.
#[derive(Debug, Parser)]
struct Args {
    /// Round-trip time of the throughput links, ms.
    #[arg(long, default_value_t = 20.0)]
    rtt_ms: f64,
    /// Shaped rates, Mbit/s.
    #[arg(long, value_delimiter = ',', default_values_t = [50.0, 100.0, 200.0])]
    rates: Vec<f64>,
    /// Runs per rate.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Who paces the link: tbf, linkemu or both.
    #[arg(long, default_value = "tbf")]
    shaper: String,
    /// Skip the ping and lossy-link sections.
    #[arg(long)]
    throughput_only: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let bins = sibling_binaries()?;
    let shapers = match args.shaper.as_str() {
        "tbf" => vec![RateShaper::Tbf],
        "linkemu" => vec![RateShaper::Linkemu],
        "both" => vec![RateShaper::Tbf, RateShaper::Linkemu],
        other => anyhow::bail!("--shaper {other}: tbf, linkemu or both"),
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "Machine: {} at start, kernel {}, {} build, TCP congestion control {} in both namespaces.\n",
        machine_note(),
        kernel.trim(),
        bins.profile(),
        kiemke_tests::netns::DEFAULT_CONGESTION_CONTROL
    );

    println!("### Throughput: agent vs iperf3 (same link, same run)\n");
    println!(
        "| shaped | RTT | shaper | direction | streams | agent Mbit/s | iperf3 Mbit/s | agent/iperf3 | agent/shaped | iperf3 retransmits | wire CPU | load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let plan = ThroughputPlan::default();
    let mut details = Vec::new();
    for &shaper in &shapers {
        for &rate in &args.rates {
            for _ in 0..args.repeat {
                let link = ShapedLink::new(LinkSpec {
                    delay_ms: args.rtt_ms / 2.0,
                    rate_mbit: Some(rate),
                    shaper,
                    ..LinkSpec::default()
                })?;
                let f = measure::throughput(&link, &bins, plan)?;
                for ((way, agent, iperf), streams) in f
                    .pairs()
                    .into_iter()
                    .zip([plan.streams_down, plan.streams_up])
                {
                    println!(
                        "| {rate} | {} ms | {shaper:?} | {way} | {streams} | {agent:.2} | {:.2} | {:.3} ({:+.2} %) | {:.1} % | {} | {} | {} |",
                        args.rtt_ms,
                        iperf.mbps,
                        agent / iperf.mbps,
                        diff_pct(agent, iperf.mbps),
                        100.0 * agent / rate,
                        iperf.retransmits,
                        f.wire_cpu_s.map_or("?".to_owned(), |s| format!(
                            "{:.0} % of a core",
                            100.0 * s / f.wall_s
                        )),
                        f.load,
                    );
                }
                details.push(f.report(bins.profile()));
            }
        }
    }
    println!("\nDetails (per-stream iperf3, per-second agent percentiles, CPU):\n\n```text");
    for d in &details {
        print!("{d}");
    }
    println!("```\n");
    if args.throughput_only {
        return Ok(());
    }
    ping(&bins)?;
    lossy(&bins)?;
    println!("Machine at the end: {}.", machine_note());
    Ok(())
}

/// The ping comparison of the shaped-link test, printed.
fn ping(bins: &Binaries) -> anyhow::Result<()> {
    let plan = PingPlan {
        count: 500,
        interval_ms: 20,
        timeout_ms: 2000,
    };
    let mut link = ShapedLink::new(LinkSpec {
        delay_ms: 10.0,
        jitter_ms: 2.0,
        ..LinkSpec::default()
    })?;
    // Exactly 2 %: every 50th request of each program dropped, and counted.
    let flows = [echo_loss::AGENT, echo_loss::FPING];
    let loss = EchoLoss::install(&link, 50, &flows)?;
    let label = "agent, root (raw socket)";
    let raw = measure::ping_side_by_side(&link, &loss, bins, label, false, plan)?;
    link.set_unprivileged_icmp(true)?;
    let label = "agent, nobody (datagram)";
    let dgram = measure::ping_side_by_side(&link, &loss, bins, label, true, plan)?;
    let (low, high) = wilson_interval_pct(2.0, plan.count.into(), Z95);
    println!(
        "### Ping: agent vs fping, run side by side\n\n10 ms ± 2 ms each way, 2 % loss on requests \
         (every 50th of each program, nftables), {} probes every {} ms (expected median 20.4 ms; loss 95 % Wilson interval {low:.2}–{high:.2} %); {}.\n",
        plan.count,
        plan.interval_ms,
        machine_note()
    );
    println!("| run | sent | received | loss % | median ms | jitter ms | server received |");
    println!("|---|---|---|---|---|---|---|");
    for run in [&raw, &dgram] {
        for (b, wire) in [(&run.agent, run.agent_wire), (&run.fping, run.fping_wire)] {
            println!(
                "| {} | {} | {} | {:.2} | {:.2} | {} | {} |",
                b.label,
                b.sent,
                b.received,
                b.loss_pct,
                b.median_ms,
                b.jitter_ms.map_or("-".to_owned(), |j| format!("{j:.2}")),
                wire.delivered
            );
        }
    }
    println!();
    Ok(())
}

/// One stream vs eight on a 100 Mbit/s link with 50 ms RTT and 1 % loss.
fn lossy(bins: &Binaries) -> anyhow::Result<()> {
    let link = ShapedLink::new(LinkSpec {
        delay_ms: 25.0,
        loss_pct: 1.0,
        rate_mbit: Some(100.0),
        ..LinkSpec::default()
    })?;
    let server = ServerInNs::start(&link, &bins.server)?;
    println!(
        "### One stream vs many: 100 Mbit/s, 50 ms RTT, 1 % loss each way\n\n| streams | download Mbit/s | upload Mbit/s |\n|---|---|---|"
    );
    for streams in [1u32, 8] {
        let r: SpeedResult = agent_json(
            &link,
            &bins.agent,
            false,
            &[
                "probe",
                "speed",
                "--server",
                server.url(),
                "--streams",
                &streams.to_string(),
                "--duration",
                "8",
            ],
        )?;
        println!(
            "| {streams} | {:.2} | {:.2} |",
            r.download_mbps.get(),
            r.upload_mbps.get()
        );
    }
    println!();
    Ok(())
}

/// The agent and server binaries built next to this one.
fn sibling_binaries() -> anyhow::Result<Binaries> {
    let me = std::env::current_exe().context("where am I")?;
    let dir = me.parent().map(PathBuf::from).unwrap_or_default();
    let bins = Binaries {
        agent: dir.join("kiemke-agent-e2e"),
        server: dir.join("kiemke-server-e2e"),
    };
    for bin in [&bins.agent, &bins.server] {
        anyhow::ensure!(
            bin.is_file(),
            "{} is missing: build all of this crate's binaries first \
             (cargo build -p kiemke-tests --bins --release)",
            bin.display()
        );
    }
    Ok(bins)
}
