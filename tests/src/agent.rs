//! An agent installation for tests: its own data directory (so its own agent
//! id and spool), using the real agent library to queue and deliver.

use std::path::Path;
use std::time::Duration;

use kiemke_agent::deliver::{self, Client, DrainSummary};
use kiemke_agent::spool::{Spool, SpoolLimits};
use kiemke_agent::{report, state};
use kiemke_shared::{AgentId, Inventory, Lang, Report};

pub struct TestAgent {
    pub agent_id: AgentId,
    pub spool: Spool,
}

impl TestAgent {
    /// A fresh installation in `data_dir` (a reinstall is a new directory).
    pub fn install(data_dir: &Path) -> anyhow::Result<TestAgent> {
        let agent_id = state::load_or_create_agent_id(data_dir)?;
        let spool = Spool::open(data_dir, SpoolLimits::default())?;
        Ok(TestAgent { agent_id, spool })
    }

    /// Queues a report of this inventory, as the agent does before sending.
    pub async fn queue(&self, inventory: Inventory) -> anyhow::Result<Report> {
        let report = report::build(self.agent_id, inventory);
        self.spool.push(&report).await?;
        Ok(report)
    }

    /// One delivery pass to the server at `url`.
    pub async fn deliver(&self, url: &str) -> anyhow::Result<DrainSummary> {
        let server = deliver::parse_server_url(url)?;
        let client = Client::new(&server, Lang::Vi, Duration::from_secs(10))?;
        Ok(deliver::drain(&self.spool, &client).await?)
    }

    pub fn queued(&self) -> anyhow::Result<usize> {
        Ok(self.spool.usage()?.0)
    }
}

/// The real agent program (`kiemke-agent report`) on the installation in
/// `data_dir`, sending to `server_url`: for tests that kill it mid-run. Its
/// log goes to stderr at `info`, uncoloured, so a test can follow it.
pub fn report_process(binary: &Path, data_dir: &Path, server_url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(binary);
    command
        .args(["report", "--server", server_url, "--data"])
        .arg(data_dir)
        .env("KIEMKE_LOG", "info,sled=warn")
        .env("NO_COLOR", "1");
    command
}
