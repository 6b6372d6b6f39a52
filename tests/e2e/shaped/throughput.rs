//! Throughput: the agent's `probe speed` against the real server, and
//! `iperf3` with the same stream counts, on the same shaped link in the same
//! test. The agent must be within ±5 % of iperf3 and reach 90 % of the
//! shaped rate, both ways. (TCP goodput through a link counted in Ethernet
//! frames tops out at 1448/1514 = 95.6 % of the rate: 191 of 200 Mbit/s.)

use kiemke_shared::probes::SpeedResult;
use kiemke_tests::measure::{self, ServerInNs, ThroughputFigures, ThroughputPlan, agent_json};
use kiemke_tests::netns::{LinkSpec, LossDir, RateShaper, ShapedLink};
use kiemke_tests::stats::diff_pct;

use super::{binaries, serial};

/// TCP payload per Ethernet frame: 1448 of 1514 bytes.
const GOODPUT_CEILING: f64 = 1448.0 / 1514.0;

/// iperf3 then the agent on a fresh link; figures printed before judging.
fn measure_and_check(rate_mbit: f64, rtt_ms: f64) -> anyhow::Result<()> {
    let _one_at_a_time = serial();
    let link = ShapedLink::new(LinkSpec {
        delay_ms: rtt_ms / 2.0,
        rate_mbit: Some(rate_mbit),
        ..LinkSpec::default()
    })?;
    let bins = binaries();
    let figures = measure::throughput(&link, &bins, ThroughputPlan::default())?;
    eprint!("{}", figures.report(bins.profile()));
    assert_close_to_iperf3_and_rate(&figures);
    Ok(())
}

fn assert_close_to_iperf3_and_rate(f: &ThroughputFigures) {
    for (way, agent, iperf) in f.pairs() {
        if agent > GOODPUT_CEILING * f.rate_mbit * 1.01 {
            eprintln!(
                "  note: {way} {agent:.2} Mbit/s is above the link's TCP goodput ceiling {:.2}",
                GOODPUT_CEILING * f.rate_mbit
            );
        }
        assert!(
            diff_pct(agent, iperf.mbps).abs() <= 5.0,
            "{way} at {} Mbit/s: agent {agent:.2} vs iperf3 {:.2} Mbit/s differ by more than 5 %",
            f.rate_mbit,
            iperf.mbps
        );
        assert!(
            agent >= 0.9 * f.rate_mbit,
            "{way} at {} Mbit/s: agent measured {agent:.2} Mbit/s, under 90 % of the shaped rate",
            f.rate_mbit
        );
    }
}

#[test]
fn speed_at_50_mbit_40ms_matches_iperf3_needs_root() -> anyhow::Result<()> {
    measure_and_check(50.0, 40.0)
}

#[test]
fn speed_at_100_mbit_30ms_matches_iperf3_needs_root() -> anyhow::Result<()> {
    measure_and_check(100.0, 30.0)
}

#[test]
fn speed_at_200_mbit_20ms_matches_iperf3_needs_root() -> anyhow::Result<()> {
    measure_and_check(200.0, 20.0)
}

/// On a long lossy line one TCP connection cannot fill the pipe (CUBIC
/// halves its window at every loss), several together come much closer:
/// why the agent uses several streams, shown.
#[test]
fn one_stream_measures_less_than_many_on_a_lossy_link_needs_root() -> anyhow::Result<()> {
    let _one_at_a_time = serial();
    let rate = 100.0;
    let link = ShapedLink::new(LinkSpec {
        delay_ms: 25.0,
        loss_pct: 1.0,
        loss_dir: LossDir::Both,
        rate_mbit: Some(rate),
        ..LinkSpec::default()
    })?;
    let bins = binaries();
    let server = ServerInNs::start(&link, &bins.server)?;
    let run = |streams: u32| -> anyhow::Result<SpeedResult> {
        agent_json(
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
                "6",
            ],
        )
    };
    let single = run(1)?;
    let multi = run(8)?;
    eprintln!(
        "shaped {rate} Mbit/s, RTT 50 ms, 1 % loss each way, CUBIC ({}, {} build):\n  \
         1 stream:  down {:6.2} up {:6.2} Mbit/s\n  8 streams: down {:6.2} up {:6.2} Mbit/s",
        measure::machine_note(),
        bins.profile(),
        single.download_mbps.get(),
        single.upload_mbps.get(),
        multi.download_mbps.get(),
        multi.upload_mbps.get(),
    );
    for (way, one, many) in [
        (
            "download",
            single.download_mbps.get(),
            multi.download_mbps.get(),
        ),
        ("upload", single.upload_mbps.get(), multi.upload_mbps.get()),
    ] {
        assert!(
            one < 0.7 * many,
            "{way}: one stream {one:.2} Mbit/s is not clearly below {many:.2} Mbit/s with 8"
        );
    }
    Ok(())
}

/// A line with a deep queue (linkemu's own pacing queues without bound, like
/// a bufferbloated modem): uploads counted where they are sent, not where
/// they arrive, would read above what the link can carry (an agent that
/// counted a frame when hyper took it read 52.69 Mbit/s through 50 Mbit/s,
/// +10.2 % over iperf3). `probe/speed/transfer.rs` counts a request's bytes
/// when the server answers it, so they are counted where they arrive.
#[test]
fn upload_through_a_deep_queue_is_not_overstated_needs_root() -> anyhow::Result<()> {
    let _one_at_a_time = serial();
    let rate = 50.0;
    let link = ShapedLink::new(LinkSpec {
        delay_ms: 10.0,
        rate_mbit: Some(rate),
        shaper: RateShaper::Linkemu,
        ..LinkSpec::default()
    })?;
    let bins = binaries();
    let figures = measure::throughput(&link, &bins, ThroughputPlan::default())?;
    eprint!("{}", figures.report(bins.profile()));
    assert_close_to_iperf3_and_rate(&figures);
    assert!(
        figures.agent_up() <= GOODPUT_CEILING * rate * 1.01,
        "upload {:.2} Mbit/s is more than a {rate} Mbit/s link carries",
        figures.agent_up()
    );
    Ok(())
}
