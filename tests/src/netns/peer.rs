//! A long-running process in a namespace (iperf3 -s, the server), killed
//! when dropped, whose output lines can be waited for.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A child process and its output, line by line.
pub struct Peer {
    /// What it is, for error messages.
    name: String,
    child: Child,
    /// stdout and stderr lines as they come; a reader thread per stream keeps
    /// the pipes drained so the peer never blocks on a full pipe.
    lines: mpsc::Receiver<String>,
    /// Every line seen so far, for error messages.
    seen: Vec<String>,
}

impl Peer {
    /// Spawns `command` with its output piped.
    pub fn spawn(mut command: Command, name: &str) -> anyhow::Result<Peer> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("Failed to start {name} ({command:?})"))?;
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().context("stdout")?;
        let stderr = child.stderr.take().context("stderr")?;
        let tx_err = tx.clone();
        std::thread::spawn(move || forward(stdout, tx));
        std::thread::spawn(move || forward(stderr, tx_err));
        Ok(Peer {
            name: name.to_owned(),
            child,
            lines,
            seen: Vec::new(),
        })
    }

    /// Waits for a line containing `needle` and returns it.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Ok(line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "{} did not print {needle:?} within {timeout:?}; it printed: {:?}",
                    self.name,
                    self.seen
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    bail!(
                        "{} exited ({status:?}) before printing {needle:?}; it printed: {:?}",
                        self.name,
                        self.seen
                    )
                }
            }
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

fn forward(stream: impl std::io::Read, tx: mpsc::Sender<String>) {
    for line in BufReader::new(stream).lines().map_while(Result::ok) {
        if tx.send(line).is_err() {
            // Nobody listens any more: keep draining so the peer never blocks.
            continue;
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
