//! A small office LAN in network namespaces, for discovery tests: one
//! namespace for the agent's PC and one for the "office", joined by a veth
//! pair, with an snmpsim process per recorded device (each on its own
//! address, port 161) and optionally bare addresses that answer ping only.
//!
//! Needs root, `ip` and `snmpsimd`; [`Lan::available`] says whether this
//! machine can, so tests can skip (loudly) where it cannot. Nothing leaves
//! the namespaces: the agent's namespace has no route but the veth's subnet.
//! Everything is torn down on drop (processes by pid, then namespaces).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// One simulated device: its address and its `.snmprec` recording.
pub struct SimHost {
    pub ip: Ipv4Addr,
    /// `None`: the address answers ping but nothing listens for SNMP.
    pub snmprec: Option<PathBuf>,
    /// The community the recording answers to ("public" unless a test wants
    /// a host that stays silent to the agent's community).
    pub community: &'static str,
    /// More `snmpsimd` flags, e.g. an SNMPv3 user (`--v3-user=...`).
    pub extra_args: Vec<String>,
}

pub struct Lan {
    /// The namespace the agent runs in.
    pub agent_ns: String,
    hosts_ns: String,
    /// The agent's address inside `agent_ns`.
    pub agent_ip: Ipv4Addr,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The recordings shipped under `tests/fixtures/snmp/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/snmp")
        .join(format!("{name}.snmprec"))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    run(Command::new("ip").args(args))
}

impl Lan {
    /// Whether namespaces and snmpsim can be used here (root, `ip`,
    /// `snmpsimd`).
    pub fn available() -> bool {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let has = |tool: &str| {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        root && has("ip") && has("snmpsimd")
    }

    /// Builds the LAN `10.77.<net>.0/24`: the agent at `.2`, each host at its
    /// address, and waits until every snmpsim listens.
    pub fn start(net: u8, hosts: &[SimHost]) -> anyhow::Result<Lan> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tag = format!("kkp{}x{n}", std::process::id());
        let dir = tempfile::tempdir()?;
        set_mode(dir.path(), 0o755)?;
        let mut lan = Lan {
            agent_ns: format!("{tag}a"),
            hosts_ns: format!("{tag}h"),
            agent_ip: Ipv4Addr::new(10, 77, net, 2),
            children: Vec::new(),
            _dir: dir,
        };
        let (va, vh) = (format!("{tag}va"), format!("{tag}vh"));
        ip(&["netns", "add", &lan.agent_ns])?;
        ip(&["netns", "add", &lan.hosts_ns])?;
        ip(&[
            "link",
            "add",
            &va,
            "netns",
            &lan.agent_ns,
            "type",
            "veth",
            "peer",
            "name",
            &vh,
            "netns",
            &lan.hosts_ns,
        ])?;
        let agent_cidr = format!("{}/24", lan.agent_ip);
        ip(&["-n", &lan.agent_ns, "addr", "add", &agent_cidr, "dev", &va])?;
        for (ns, dev) in [(&lan.agent_ns, &va), (&lan.hosts_ns, &vh)] {
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        for (i, host) in hosts.iter().enumerate() {
            let cidr = format!("{}/24", host.ip);
            ip(&["-n", &lan.hosts_ns, "addr", "add", &cidr, "dev", &vh])?;
            if let Some(rec) = &host.snmprec {
                lan.start_snmpsim(i, host, rec)?;
            }
        }
        lan.wait_listening(Duration::from_secs(30))?;
        Ok(lan)
    }

    fn host_dir(&self, i: usize) -> PathBuf {
        self._dir.path().join(format!("host{i}"))
    }

    fn start_snmpsim(&mut self, i: usize, host: &SimHost, rec: &Path) -> anyhow::Result<()> {
        let dir = self.host_dir(i);
        let (data, cache) = (dir.join("data"), dir.join("cache"));
        std::fs::create_dir_all(&data)?;
        std::fs::create_dir_all(&cache)?;
        std::fs::copy(rec, data.join(format!("{}.snmprec", host.community)))
            .with_context(|| format!("fixture {}", rec.display()))?;
        for d in [&dir, &data, &cache] {
            set_mode(d, 0o777)?;
        }
        let child = Command::new("ip")
            .args(["netns", "exec", &self.hosts_ns, "snmpsimd"])
            .arg(format!("--data-dir={}", data.display()))
            .arg(format!("--cache-dir={}", cache.display()))
            .arg(format!("--agent-udpv4-endpoint={}:161", host.ip))
            .args(["--process-user=nobody", "--process-group=nogroup"])
            .args(&host.extra_args)
            .arg(format!(
                "--logging-method=file:{}",
                dir.join("log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start snmpsimd")?;
        self.children.push(child);
        Ok(())
    }

    fn wait_listening(&self, limit: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        for i in 0..self.children.len() {
            let log = self.host_dir(i).join("log");
            loop {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains("Listening at") {
                    break;
                }
                if start.elapsed() > limit {
                    bail!("snmpsimd {i} did not start: {text}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// Starts `program args` inside the hosts' namespace (stdin and stdout
    /// piped), stopped with the LAN.
    pub fn spawn_in_hosts(&mut self, program: &Path, args: &[String]) -> anyhow::Result<usize> {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.hosts_ns])
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        self.children.push(child);
        Ok(self.children.len() - 1)
    }

    /// The stdout of a process started by [`Lan::spawn_in_hosts`].
    pub fn child_stdout(&mut self, index: usize) -> Option<std::process::ChildStdout> {
        self.children.get_mut(index)?.stdout.take()
    }

    /// A command run inside the agent's namespace.
    pub fn exec(&self, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.agent_ns]).arg(program);
        command
    }
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

impl Drop for Lan {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // `ip netns exec` execs snmpsimd in place, so its pid is the child's;
        // anything left in the namespace is ours too.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.hosts_ns])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = ip(&["netns", "del", &self.agent_ns]);
        let _ = ip(&["netns", "del", &self.hosts_ns]);
    }
}
