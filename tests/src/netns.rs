//! Two network namespaces joined by a shaped link, for tests that need a real
//! network between the server and the agent: delay, jitter, loss and rate.
//!
//! The kernel here has `tbf` but no `netem`, so the wire is the user-space
//! `linkemu.py` from `../shared/tools/linkemu/` (called in place, never copied):
//! two TAP devices, one in each namespace, with delay/jitter/loss applied in
//! Python. Rate comes from `tbf` on each end by default ([`RateShaper::Tbf`]):
//! measured on this 2-core machine, it gives the same goodput as linkemu's own
//! pacing (191 Mbit/s through a 200 Mbit/s link, the 1448/1514 TCP ceiling)
//! with the wire using 27 % of a core instead of 66 %, which matters when it
//! has to move 200 Mbit/s in Python next to the test itself, and a bounded
//! queue like a real line's (`docs/benchmarks.md`).
//!
//! ```text
//!   client namespace (a)                     server namespace (b)
//!   10.77.0.2 ── tap (tbf) ── linkemu.py ── tap (tbf) ── 10.77.0.1
//! ```
//!
//! The wire runs at real-time priority and everything started on the link at
//! nice −10, so that builds sharing the machine slow neither the "hardware"
//! nor, unevenly, the tool under test and its reference.
//!
//! Every link gets two fresh namespaces named `kiemke-<pid>-<n>-cli/-srv`;
//! namespaces (and wires) left by a crashed run, whose pid is gone, are removed
//! on the next [`ShapedLink::new`]. Dropping the link, also while unwinding from
//! a failed assertion, kills the wire and every process left in its
//! namespaces, then deletes the namespaces. Needs root, `ip` (iproute2),
//! `tc` and `python3`: a missing one is an error that says so, never a skip.

mod peer;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

pub use self::peer::Peer;

/// Prefix of every namespace this harness creates; stale-run cleanup only
/// looks at names with it.
const PREFIX: &str = "kiemke-";

/// How long the wire may take to print "ready".
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// The wire ends itself after this long even if the test process was
/// `kill -9`ed and never dropped the link.
const WIRE_LIFETIME_S: u32 = 900;

/// Real-time (SCHED_FIFO) priority of the wire: it stands for hardware,
/// which does not slow down when the machine is busy. On the 2-core CI
/// machine shared with several builds (load 10), a wire at normal priority,
/// and still at nice −15, fell behind: fping's median RTT over a 20 ms link
/// rose to 22.6 ms with 9 ms jitter (2 ms configured), iperf3 measured 89
/// Mbit/s through a 100 Mbit/s link with no retransmits. The wire sleeps in
/// `select` between frames and uses well under a core even at 200 Mbit/s
/// (`docs/benchmarks.md`); the kernel's RT throttling (95 %) bounds it
/// anyway.
const WIRE_RT_PRIORITY: &str = "10";

/// Priority of every program run on the link (the agent, the server,
/// iperf3, fping): above the builds that share the machine, below the wire,
/// the same for the tool under test and its reference.
pub const PEER_NICE: &str = "-10";

/// Which way loss applies (the wire's `--loss-dir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossDir {
    /// Each direction independently: a round trip is lost with probability
    /// `1 - (1 - p)^2`.
    #[default]
    Both,
    /// Client to server only (requests, uploads).
    ClientToServer,
    /// Server to client only (replies, downloads).
    ServerToClient,
}

/// Who paces the link to `rate_mbit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateShaper {
    /// A `tbf` qdisc on each end's TAP device; the wire adds delay only.
    #[default]
    Tbf,
    /// linkemu's own pacing (an unbounded queue: no drops from the rate).
    Linkemu,
}

/// What the link looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkSpec {
    /// One-way delay, applied in each direction (RTT = 2 × delay + ~0.4 ms
    /// the wire adds itself).
    pub delay_ms: f64,
    /// Uniform ± jitter on each frame's delay (no reordering).
    pub jitter_ms: f64,
    /// Random loss in percent, in the direction(s) of `loss_dir`.
    pub loss_pct: f64,
    pub loss_dir: LossDir,
    /// Rate in each direction, `None` for as fast as the wire goes.
    pub rate_mbit: Option<f64>,
    pub shaper: RateShaper,
    /// Open `net.ipv4.ping_group_range` in the client namespace so an
    /// unprivileged process may use ICMP datagram sockets (new namespaces
    /// start closed, "1 0").
    pub unprivileged_icmp: bool,
    /// TCP congestion control in both namespaces, `None` for the host's
    /// default (see [`DEFAULT_CONGESTION_CONTROL`]).
    pub congestion_control: Option<&'static str>,
}

/// CUBIC: the default of Windows 10 and later (the commune PCs) and of
/// Debian/Ubuntu (a province server). This kernel defaults to BBR, which
/// ignores random loss: with it one TCP stream fills a 100 Mbit/s link at
/// 1 % loss and 50 ms RTT (measured: 94.5 Mbit/s), which no office line with
/// loss-based TCP does.
pub const DEFAULT_CONGESTION_CONTROL: &str = "cubic";

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            delay_ms: 0.0,
            jitter_ms: 0.0,
            loss_pct: 0.0,
            loss_dir: LossDir::Both,
            rate_mbit: None,
            shaper: RateShaper::Tbf,
            unprivileged_icmp: false,
            congestion_control: Some(DEFAULT_CONGESTION_CONTROL),
        }
    }
}

/// One end of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// A live link; see the module docs.
pub struct ShapedLink {
    pub spec: LinkSpec,
    /// Namespace names, for `ip netns exec` in hand-made commands.
    pub client_ns: String,
    pub server_ns: String,
    pub client_addr: Ipv4Addr,
    pub server_addr: Ipv4Addr,
    /// TAP device names, one in each namespace (qdiscs, counters).
    pub client_dev: String,
    pub server_dev: String,
    /// The wire itself; killing it removes the TAP devices.
    wire: Option<Child>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl ShapedLink {
    /// Creates the namespaces, starts the wire and waits until it is up.
    pub fn new(spec: LinkSpec) -> anyhow::Result<ShapedLink> {
        check_environment()?;
        remove_stale();
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let client_ns = format!("{PREFIX}{pid}-{n}-cli");
        let server_ns = format!("{PREFIX}{pid}-{n}-srv");
        // IFNAMSIZ is 16: "kk" + pid in hex (≤ 6) + n + side ≤ 15.
        let client_dev = format!("kk{pid:x}x{n}a");
        let server_dev = format!("kk{pid:x}x{n}b");
        let mut link = ShapedLink {
            spec,
            client_ns,
            server_ns,
            client_addr: Ipv4Addr::new(10, 77, 0, 2),
            server_addr: Ipv4Addr::new(10, 77, 0, 1),
            client_dev,
            server_dev,
            wire: None,
        };
        // From here on, Drop cleans up whatever was created.
        for ns in [&link.client_ns, &link.server_ns] {
            run(Command::new("ip").args(["netns", "add", ns]))?;
        }
        link.set_unprivileged_icmp(spec.unprivileged_icmp)?;
        if let Some(algorithm) = spec.congestion_control {
            link.set_congestion_control(algorithm)?;
        }
        link.start_wire()?;
        if let (Some(rate), RateShaper::Tbf) = (spec.rate_mbit, spec.shaper) {
            for side in [Side::Client, Side::Server] {
                link.add_tbf(side, rate)?;
            }
        }
        Ok(link)
    }

    /// The namespace of one end.
    pub fn ns(&self, side: Side) -> &str {
        match side {
            Side::Client => &self.client_ns,
            Side::Server => &self.server_ns,
        }
    }

    /// The address of one end, as seen from the other.
    pub fn addr(&self, side: Side) -> Ipv4Addr {
        match side {
            Side::Client => self.client_addr,
            Side::Server => self.server_addr,
        }
    }

    /// Opens (every group) or closes ("1 0", a new namespace's default)
    /// `net.ipv4.ping_group_range` in the client namespace: open, any user
    /// there may use ICMP datagram sockets, root included; closed, root
    /// falls back to raw sockets and other users have no ICMP at all.
    pub fn set_unprivileged_icmp(&mut self, open: bool) -> anyhow::Result<()> {
        let range = if open { "0 2147483647" } else { "1 0" };
        run(self.command_in(Side::Client, "sysctl").args([
            "-q",
            "-w",
            &format!("net.ipv4.ping_group_range={range}"),
        ]))?;
        self.spec.unprivileged_icmp = open;
        Ok(())
    }

    /// Sets the default TCP congestion control in both namespaces. A
    /// namespace other than the host's may only pick an algorithm in the
    /// host's `tcp_allowed_congestion_control`; one missing there is added
    /// (a host-wide setting, only ever extended, never narrowed).
    fn set_congestion_control(&self, algorithm: &str) -> anyhow::Result<()> {
        const ALLOWED: &str = "/proc/sys/net/ipv4/tcp_allowed_congestion_control";
        let allowed =
            std::fs::read_to_string(ALLOWED).with_context(|| format!("read {ALLOWED}"))?;
        if !allowed.split_whitespace().any(|a| a == algorithm) {
            let extended = format!("{} {algorithm}", allowed.trim());
            std::fs::write(ALLOWED, &extended).with_context(|| {
                format!("Failed to allow TCP congestion control {algorithm} in {ALLOWED}")
            })?;
        }
        for side in [Side::Client, Side::Server] {
            run(self.command_in(side, "sysctl").args([
                "-q",
                "-w",
                &format!("net.ipv4.tcp_congestion_control={algorithm}"),
            ]))?;
        }
        Ok(())
    }

    /// One ICMP counter of one end's namespace (`/proc/net/snmp`), e.g.
    /// `InEchos` on the server: how many echo requests the wire delivered,
    /// the truth a ping's loss figure is checked against.
    pub fn icmp_counter(&self, side: Side, name: &str) -> anyhow::Result<u64> {
        let output = self
            .command_in(side, "cat")
            .arg("/proc/net/snmp")
            .output()
            .context("Failed to read /proc/net/snmp")?;
        let text = String::from_utf8_lossy(&output.stdout);
        let mut icmp = text.lines().filter(|l| l.starts_with("Icmp:"));
        let (Some(names), Some(values)) = (icmp.next(), icmp.next()) else {
            bail!("no Icmp lines in /proc/net/snmp");
        };
        names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.parse().ok())
            .with_context(|| format!("no ICMP counter {name}"))
    }

    /// CPU seconds (user + system) the wire's Python process has used so
    /// far: a wire starved of CPU paces late and the link looks slower than
    /// it is, so benchmarks report it.
    pub fn wire_cpu_seconds(&self) -> Option<f64> {
        let pid = self.wire.as_ref()?.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name in parentheses, from field 3 on;
        // utime and stime are fields 14 and 15.
        let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        let per_second = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(100.0);
        Some(ticks / per_second)
    }

    /// `ip netns exec <ns> nice -n -10 <program>`: add arguments, then run
    /// or spawn. Raised priority (see [`PEER_NICE`]) for everything on the
    /// link, the program under test and the reference tool alike.
    pub fn command_in(&self, side: Side, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", self.ns(side)])
            .args(["nice", "-n", PEER_NICE])
            .arg(program);
        command
    }

    /// Like [`ShapedLink::command_in`], as user `nobody` (`runuser`): what
    /// an unprivileged agent may and may not do.
    pub fn command_unprivileged_in(&self, side: Side, program: impl AsRef<OsStr>) -> Command {
        let mut command = self.command_in(side, "runuser");
        command.args(["-u", "nobody", "--"]).arg(program);
        command
    }

    /// The async twin of [`ShapedLink::command_in`].
    pub fn tokio_command_in(
        &self,
        side: Side,
        program: impl AsRef<OsStr>,
    ) -> tokio::process::Command {
        tokio::process::Command::from(self.command_in(side, program))
    }

    /// Starts a long-running peer in a namespace; it is killed when dropped.
    pub fn spawn_in(&self, side: Side, program: &str, args: &[&str]) -> anyhow::Result<Peer> {
        let mut command = self.command_in(side, program);
        command.args(args);
        Peer::spawn(command, program)
    }

    /// `iperf3 -s` on the server side, up once it says it listens.
    pub fn spawn_iperf3_server(&self) -> anyhow::Result<Peer> {
        let address = self.server_addr.to_string();
        let mut peer = self.spawn_in(
            Side::Server,
            "iperf3",
            // Its output is block-buffered in a pipe without --forceflush.
            &["-s", "-B", &address, "--forceflush"],
        )?;
        peer.wait_for_line("Server listening", Duration::from_secs(10))?;
        Ok(peer)
    }

    fn start_wire(&mut self) -> anyhow::Result<()> {
        let script = linkemu_path()?;
        let spec = self.spec;
        let mut command = Command::new("chrt");
        command
            .args(["--fifo", WIRE_RT_PRIORITY, "python3"])
            .arg(&script)
            .args(["--ns-a", &self.client_ns, "--ns-b", &self.server_ns])
            .args(["--addr-a", &format!("{}/24", self.client_addr)])
            .args(["--addr-b", &format!("{}/24", self.server_addr)])
            .args(["--dev-a", &self.client_dev, "--dev-b", &self.server_dev])
            .args(["--delay-ms", &spec.delay_ms.to_string()])
            .args(["--jitter-ms", &spec.jitter_ms.to_string()])
            .args(["--loss-pct", &spec.loss_pct.to_string()])
            .args(["--seconds", &WIRE_LIFETIME_S.to_string()]);
        command.args([
            "--loss-dir",
            match spec.loss_dir {
                LossDir::Both => "both",
                LossDir::ClientToServer => "a2b",
                LossDir::ServerToClient => "b2a",
            },
        ]);
        if let (Some(rate), RateShaper::Linkemu) = (spec.rate_mbit, spec.shaper) {
            command.args(["--rate-mbit", &rate.to_string()]);
        }
        let mut wire = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("Failed to start python3 {}", script.display()))?;
        let stdout = wire.stdout.take().context("wire stdout")?;
        let mut stderr = wire.stderr.take().context("wire stderr")?;
        self.wire = Some(wire);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.trim() == "ready" {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(READY_TIMEOUT).is_ok() {
            return Ok(());
        }
        if let Some(mut wire) = self.wire.take() {
            let _ = wire.kill();
            let _ = wire.wait();
        }
        let mut message = String::new();
        let _ = stderr.read_to_string(&mut message);
        bail!(
            "linkemu did not print \"ready\" within {READY_TIMEOUT:?}: {}",
            message.trim()
        )
    }

    /// `tbf` on one end's egress: a burst of 3 ms at the rate (at least a
    /// few frames) and a queue of 25 ms or one RTT, whichever is longer, so
    /// that TCP can fill the link without the queue growing without bound.
    fn add_tbf(&self, side: Side, rate_mbit: f64) -> anyhow::Result<()> {
        let bytes_per_ms = rate_mbit * 1e6 / 8.0 / 1000.0;
        let burst = (bytes_per_ms * 3.0).max(16.0 * 1024.0) as u64;
        let queue_ms = (2.0 * self.spec.delay_ms).max(25.0) as u64;
        let dev = match side {
            Side::Client => &self.client_dev,
            Side::Server => &self.server_dev,
        };
        run(Command::new("tc").args([
            "-n",
            self.ns(side),
            "qdisc",
            "add",
            "dev",
            dev,
            "root",
            "tbf",
            "rate",
            &format!("{}kbit", (rate_mbit * 1000.0).round() as u64),
            "burst",
            &burst.to_string(),
            "latency",
            &format!("{queue_ms}ms"),
        ]))
    }
}

impl Drop for ShapedLink {
    fn drop(&mut self) {
        if let Some(mut wire) = self.wire.take() {
            let _ = wire.kill();
            let _ = wire.wait();
        }
        for ns in [self.client_ns.clone(), self.server_ns.clone()] {
            delete_namespace(&ns);
        }
    }
}

/// Kills what still runs in a namespace (peers this harness started there),
/// then deletes it.
fn delete_namespace(ns: &str) {
    if let Ok(output) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&output.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
    let _ = Command::new("ip")
        .args(["netns", "delete", ns])
        .stderr(Stdio::null())
        .status();
}

/// Removes namespaces and wires left by runs whose process is gone (a test
/// binary killed before it could drop its links).
fn remove_stale() {
    let Ok(output) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(owner) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if PathBuf::from(format!("/proc/{owner}")).exists() {
            continue;
        }
        kill_stale_wires(name);
        delete_namespace(name);
    }
}

/// A wire outlives its test process until `--seconds`; find the one that
/// served a stale namespace by its command line and end it.
fn kill_stale_wires(ns: &str) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let pid = entry.file_name();
        let Some(pid) = pid
            .to_str()
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_wire = args.iter().any(|a| a.ends_with(b"linkemu.py"));
        let serves_ns = args.contains(&ns.as_bytes());
        if is_wire && serves_ns {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
}

/// `linkemu.py` in the team's `shared/` folder: `$KIEMKE_SHARED_DIR` when set
/// (`.ci/run` sets it for a clone that does not sit next to `shared/`),
/// else `<repo>/../shared`.
pub fn linkemu_path() -> anyhow::Result<PathBuf> {
    let script = crate::shared_dir().join("tools/linkemu/linkemu.py");
    anyhow::ensure!(
        script.is_file(),
        "linkemu not found at {} (the shared/ tools live next to the repository, \
         or set KIEMKE_SHARED_DIR)",
        script.display()
    );
    Ok(script)
}

/// Root, `ip`, `tc`, `sysctl`, `python3`, `chrt`, `nice`: the link cannot be built without
/// them, and a test that needs the link must fail, not pass, without them.
pub fn check_environment() -> anyhow::Result<()> {
    let status = std::fs::read_to_string("/proc/self/status").context("read /proc/self/status")?;
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().nth(1))
        == Some("0");
    anyhow::ensure!(
        root,
        "shaped-link tests need root (network namespaces, TAP devices); CI runs as root"
    );
    for (program, version_arg, package) in [
        ("ip", "-V", "iproute2"),
        ("tc", "-V", "iproute2"),
        ("sysctl", "--version", "procps"),
        ("python3", "--version", "python3"),
        ("chrt", "--version", "util-linux"),
        ("nice", "--version", "coreutils"),
    ] {
        let found = Command::new(program)
            .arg(version_arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        anyhow::ensure!(
            found,
            "`{program}` is missing: install the {package} package"
        );
    }
    linkemu_path().map(|_| ())
}

/// Runs a setup command, failing with its stderr.
fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("Failed to run {command:?}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}
