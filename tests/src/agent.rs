//! An agent installation for tests: its own data directory (so its own agent
//! id, enrollment and spool), using the real agent library to queue and
//! deliver. `ServerProcess::install_agent` enrolls one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiemke_agent::deliver::{self, Client, Connection, DrainSummary};
use kiemke_agent::spool::{Spool, SpoolLimits};
use kiemke_agent::tls::ServerTrust;
use kiemke_agent::{enrollment, report, state};
use kiemke_shared::{AgentId, Inventory, Lang, Report};

pub struct TestAgent {
    pub agent_id: AgentId,
    pub spool: Spool,
    pub data_dir: PathBuf,
}

impl TestAgent {
    /// A fresh installation in `data_dir` (a reinstall is a new directory).
    pub fn install(data_dir: &Path) -> anyhow::Result<TestAgent> {
        let agent_id = state::load_or_create_agent_id(data_dir)?;
        let spool = Spool::open(data_dir, SpoolLimits::default())?;
        Ok(TestAgent {
            agent_id,
            spool,
            data_dir: data_dir.to_owned(),
        })
    }

    /// The `Authorization` value of this agent's enrollment.
    pub fn authorization(&self) -> anyhow::Result<String> {
        let enrolled = enrollment::load(&self.data_dir)?;
        Ok(enrolled
            .map(|e| e.credential.authorization())
            .unwrap_or_default())
    }

    /// Queues a report of this inventory, as the agent does before sending.
    pub async fn queue(&self, inventory: Inventory) -> anyhow::Result<Report> {
        let report = report::build(self.agent_id, inventory);
        self.spool.push(&report).await?;
        Ok(report)
    }

    /// One delivery pass to the server at `url`, with the credential and
    /// certificate trust of this agent's enrollment (none if not enrolled).
    pub async fn deliver(&self, url: &str) -> anyhow::Result<DrainSummary> {
        let enrolled = enrollment::load(&self.data_dir)?;
        let connection = Connection {
            server: deliver::parse_server_url(url)?,
            trust: (enrolled.as_ref()).map_or(ServerTrust::System, |e| e.trust.clone()),
            credential: enrolled.map(|e| e.credential),
            allow_insecure_http: false,
        };
        let client = Client::connect(connection, Lang::Vi, Duration::from_secs(10))?;
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
