//! Throughput: the agent's `probe speed` against the real server, and
//! `iperf3` with the same stream counts, on the same shaped link in the same
//! test. The agent must be within ±5 % of iperf3 and reach 90 % of the
//! shaped rate, both ways. (TCP goodput through a link counted in Ethernet
//! frames tops out at 1448/1514 = 95.6 % of the rate: 191 of 200 Mbit/s.)

use kiemke_shared::probes::SpeedResult;
use kiemke_tests::baseline::{self, Direction, Iperf3Result};
use kiemke_tests::netns::{LinkSpec, LossDir, ShapedLink};
use kiemke_tests::stats::diff_pct;

use super::{ServerInNs, agent_json, build_profile, machine_note, serial};

/// iperf3 runs `OMIT + SECONDS`; the agent `DURATION` with its 2 s warm-up
/// discarded: both count the same 6 seconds after the same warm-up.
const IPERF_SECONDS: u32 = 6;
const IPERF_OMIT: u32 = 2;
const AGENT_DURATION: u32 = 8;
/// The agent's default stream counts, which iperf3 mirrors with `-P`.
const STREAMS_DOWN: u32 = 6;
const STREAMS_UP: u32 = 4;

/// The figures of one rate, printed whatever the outcome.
pub struct RateFigures {
    pub rate_mbit: f64,
    pub rtt_ms: f64,
    pub iperf_down: Iperf3Result,
    pub iperf_up: Iperf3Result,
    pub agent: SpeedResult,
}

impl RateFigures {
    pub fn agent_down(&self) -> f64 {
        self.agent.download_mbps.get()
    }

    pub fn agent_up(&self) -> f64 {
        self.agent.upload_mbps.get()
    }

    fn print(&self) {
        let a = &self.agent;
        eprintln!(
            "shaped {} Mbit/s, RTT {} ms ({}, {} build):",
            self.rate_mbit,
            self.rtt_ms,
            machine_note(),
            build_profile()
        );
        for (way, iperf, agent, per_second) in [
            (
                "download",
                &self.iperf_down,
                self.agent_down(),
                &a.download_per_second_mbps,
            ),
            (
                "upload  ",
                &self.iperf_up,
                self.agent_up(),
                &a.upload_per_second_mbps,
            ),
        ] {
            eprintln!(
                "  {way}: agent {agent:7.2} Mbit/s (per second p10/p50/p90 {:.1}/{:.1}/{:.1}), \
                 iperf3 {:7.2} Mbit/s (streams {:?}, {} retransmits, cpu client {:.0} % server {:.0} %), \
                 agent/iperf3 {:+.2} %, agent/rate {:.1} %",
                per_second.p10,
                per_second.p50,
                per_second.p90,
                iperf.mbps,
                iperf
                    .per_stream_mbps
                    .iter()
                    .map(|m| (m * 10.0).round() / 10.0)
                    .collect::<Vec<_>>(),
                iperf.retransmits,
                iperf.cpu_client_pct,
                iperf.cpu_server_pct,
                diff_pct(agent, iperf.mbps),
                100.0 * agent / self.rate_mbit,
            );
        }
        eprintln!(
            "  agent latency idle {:?} ms, loaded {:?} ms; measured {} s down / {} s up after {} s warm-up",
            a.latency_idle_ms, a.latency_loaded_ms, a.measured_down_s, a.measured_up_s, a.warmup_s
        );
    }
}

/// iperf3 down and up, then the agent, on one link.
pub fn measure_rate(rate_mbit: f64, rtt_ms: f64) -> anyhow::Result<RateFigures> {
    let link = ShapedLink::new(LinkSpec {
        delay_ms: rtt_ms / 2.0,
        rate_mbit: Some(rate_mbit),
        ..LinkSpec::default()
    })?;
    let iperf_server = link.spawn_iperf3_server()?;
    let iperf_down = baseline::iperf3(
        &link,
        Direction::Download,
        STREAMS_DOWN,
        IPERF_SECONDS,
        IPERF_OMIT,
    )?;
    let iperf_up = baseline::iperf3(
        &link,
        Direction::Upload,
        STREAMS_UP,
        IPERF_SECONDS,
        IPERF_OMIT,
    )?;
    drop(iperf_server);
    let server = ServerInNs::start(&link)?;
    let agent: SpeedResult = agent_json(
        &link,
        false,
        &[
            "probe",
            "speed",
            "--server",
            server.url(),
            "--streams-down",
            &STREAMS_DOWN.to_string(),
            "--streams-up",
            &STREAMS_UP.to_string(),
            "--duration",
            &AGENT_DURATION.to_string(),
        ],
    )?;
    let figures = RateFigures {
        rate_mbit,
        rtt_ms,
        iperf_down,
        iperf_up,
        agent,
    };
    figures.print();
    Ok(figures)
}

fn assert_close_to_iperf3_and_rate(f: &RateFigures) {
    for (way, agent, iperf) in [
        ("download", f.agent_down(), f.iperf_down.mbps),
        ("upload", f.agent_up(), f.iperf_up.mbps),
    ] {
        assert!(
            diff_pct(agent, iperf).abs() <= 5.0,
            "{way} at {} Mbit/s: agent {agent:.2} vs iperf3 {iperf:.2} Mbit/s differ by more than 5 %",
            f.rate_mbit
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
    let _one_at_a_time = serial();
    let figures = measure_rate(50.0, 40.0)?;
    assert_close_to_iperf3_and_rate(&figures);
    Ok(())
}

#[test]
fn speed_at_100_mbit_30ms_matches_iperf3_needs_root() -> anyhow::Result<()> {
    let _one_at_a_time = serial();
    let figures = measure_rate(100.0, 30.0)?;
    assert_close_to_iperf3_and_rate(&figures);
    Ok(())
}

#[test]
fn speed_at_200_mbit_20ms_matches_iperf3_needs_root() -> anyhow::Result<()> {
    let _one_at_a_time = serial();
    let figures = measure_rate(200.0, 20.0)?;
    assert_close_to_iperf3_and_rate(&figures);
    Ok(())
}

/// On a long lossy line one TCP connection cannot fill the pipe (its window
/// halves at every loss), several together come much closer: why the agent
/// uses several streams, shown.
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
    let server = ServerInNs::start(&link)?;
    let run = |streams: u32| -> anyhow::Result<SpeedResult> {
        agent_json(
            &link,
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
        "shaped {rate} Mbit/s, RTT 50 ms, 1 % loss each way ({}, {} build):\n  \
         1 stream:  down {:6.2} up {:6.2} Mbit/s\n  8 streams: down {:6.2} up {:6.2} Mbit/s",
        machine_note(),
        build_profile(),
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
