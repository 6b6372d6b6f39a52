//! What every request handler can reach. Later concerns (agent credentials,
//! communes and sites, the replacement policy) join here as further shared,
//! cheaply cloned fields.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::config::ServerConfig;
use crate::policy::Policy;
use crate::routes::speedtest::SpeedTest;
use crate::store::Store;

/// The application state, cloned into each request (every field is a handle).
#[derive(Clone)]
pub struct AppState {
    /// Reports and devices.
    pub store: Store,
    /// Limits and the default language, read-only while the server runs.
    pub config: Arc<ServerConfig>,
    /// The lifecycle policy flags are computed with (the shipped one unless
    /// `--policy FILE`).
    pub policy: Arc<Policy>,
    /// Throughput tests: the per-client limiter and the random data served.
    pub speedtest: Arc<SpeedTest>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        let speedtest = Arc::new(SpeedTest::new(config.speedtest_limits()));
        AppState {
            store,
            config: Arc::new(config),
            policy: Arc::new(Policy::shipped().clone()),
            speedtest,
        }
    }

    /// The same state with another policy.
    pub fn with_policy(mut self, policy: Policy) -> AppState {
        self.policy = Arc::new(policy);
        self
    }

    /// The date flags are evaluated on: the configured one, else today in
    /// Vietnam.
    pub fn as_of(&self) -> NaiveDate {
        self.config
            .evaluation_date
            .unwrap_or_else(crate::policy::today)
    }
}
