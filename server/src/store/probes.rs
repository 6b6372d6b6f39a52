//! The line-probe time series of each site: every ping burst and
//! throughput test the site's PCs reported, keyed by site and time, so the
//! per-site line status ([`crate::lines`]) reads one site's last 30 days
//! with a range scan instead of every report.
//!
//! Tree `line_samples`: `COMMUNE/SITE` ++ `0x00` ++ kind (`p` ping, `s`
//! throughput) ++ time (big-endian µs) ++ report id ++ index in the report
//! (big-endian u16) → [`PingSample`] or [`SpeedSample`] (JSON). The site
//! comes from the reporting agent's enrollment ([`Origin`]), never from the
//! report; results of agents enrolled without a site are kept in their
//! reports only. The time is when the probe started by the PC's clock,
//! but never later than the server received it (a PC clock running ahead
//! cannot put results in the future).
//!
//! Written inside the ingest's transaction ([`absorb`]), so a report and
//! its samples are stored together or not at all; a duplicate report
//! writes nothing, and a sample's key is unique per report and index, so a
//! replayed report could not double a sample either.
//!
//! Tree `speedtest_requests`: `COMMUNE/SITE` → [`SpeedTestRequest`]: a
//! throughput test the server wants from the site (asked by an officer, or
//! because the site has none recent), handed to one agent at a time.

use chrono::{DateTime, Duration, Utc};
use kiemke_shared::probes::{LimitedBy, RttMethod, SpeedTrigger, TargetRole};
use kiemke_shared::{AgentId, DeviceId, Report, SiteRef};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::record::{self, Origin};
use super::{Store, StoreError};

/// One ping burst, as the line status needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingSample {
    pub at: DateTime<Utc>,
    /// The PC (device) whose agent measured it.
    pub device_id: DeviceId,
    pub agent_id: AgentId,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<TargetRole>,
    pub method: RttMethod,
    pub sent: u32,
    pub received: u32,
    pub loss_pct: f64,
    /// The burst's median and 95th-percentile RTT; `null` when nothing
    /// came back.
    pub median_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
}

impl PingSample {
    /// Whether the burst measured the line (not only the office LAN: a
    /// gateway burst ends at the router).
    pub fn crosses_the_line(&self) -> bool {
        self.role != Some(TargetRole::Gateway)
    }
}

/// One throughput test, as the line status needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedSample {
    pub at: DateTime<Utc>,
    pub device_id: DeviceId,
    pub agent_id: AgentId,
    /// The test server's URL.
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<SpeedTrigger>,
    pub download_mbps: f64,
    pub upload_mbps: f64,
    /// The PC's own link speed, when known: a PC below the target cannot
    /// show whether the line meets it.
    pub link_mbps: Option<u32>,
    pub wireless: Option<bool>,
    pub limited_by: Option<LimitedBy>,
    pub latency_idle_ms: Option<f64>,
    pub latency_loaded_ms: Option<f64>,
}

/// A throughput test the server wants from a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedTestRequest {
    pub requested_at: DateTime<Utc>,
    /// Who asked: a user name, or `auto` when the site had no recent test.
    pub requested_by: String,
    /// The agent last told to run it, and when: others are not asked
    /// while it may still be testing (tests from several PCs of one office
    /// at once would share the line and each read low).
    #[serde(default)]
    pub handed_to: Option<(AgentId, DateTime<Utc>)>,
}

const PING: u8 = b'p';
const SPEED: u8 = b's';

fn site_prefix(site: &SiteRef, kind: u8) -> Vec<u8> {
    let mut key = site.to_string().into_bytes();
    key.push(0);
    key.push(kind);
    key
}

fn micros(at: DateTime<Utc>) -> [u8; 8] {
    u64::try_from(at.timestamp_micros())
        .unwrap_or(0)
        .to_be_bytes()
}

fn sample_key(
    site: &SiteRef,
    kind: u8,
    at: DateTime<Utc>,
    report: &Report,
    index: usize,
) -> Vec<u8> {
    let mut key = site_prefix(site, kind);
    key.extend_from_slice(&micros(at));
    key.extend_from_slice(report.report_id.as_bytes());
    key.extend_from_slice(&u16::try_from(index).unwrap_or(u16::MAX).to_be_bytes());
    key
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort<T>(result: Result<T, StoreError>) -> TxResult<T> {
    result.map_err(ConflictableTransactionError::Abort)
}

/// Stores the probe results of one report under its agent's site (inside
/// the ingest transaction).
pub(super) fn absorb(
    samples: &TransactionalTree,
    report: &Report,
    origin: Option<&Origin>,
    device_id: DeviceId,
    received_at: DateTime<Utc>,
) -> TxResult<()> {
    let (Some(probes), Some(origin)) = (&report.probes, origin) else {
        return Ok(());
    };
    let Some(site) = &origin.site else {
        return Ok(());
    };
    let site = SiteRef {
        commune: origin.commune.clone(),
        site: site.clone(),
    };
    let when = |started: DateTime<Utc>| started.min(received_at);
    for (i, p) in probes.pings.iter().enumerate() {
        let at = when(p.started_at);
        let sample = PingSample {
            at,
            device_id,
            agent_id: report.agent_id,
            target: p.target.chars().take(200).collect(),
            role: p.role,
            method: p.method,
            sent: p.sent,
            received: p.received,
            loss_pct: p.loss_pct,
            median_ms: p.rtt_ms.map(|r| r.median),
            p95_ms: p.rtt_ms.map(|r| r.p95),
            jitter_ms: p.jitter_ms,
        };
        samples.insert(
            sample_key(&site, PING, at, report, i),
            abort(record::encode(&sample))?,
        )?;
    }
    for (i, s) in probes.speed_tests.iter().enumerate() {
        let at = when(s.started_at);
        let sample = SpeedSample {
            at,
            device_id,
            agent_id: report.agent_id,
            server: s.server.chars().take(200).collect(),
            trigger: s.trigger,
            download_mbps: s.download_mbps.get(),
            upload_mbps: s.upload_mbps.get(),
            link_mbps: s.link_mbps,
            wireless: s.wireless,
            limited_by: s.limited_by,
            latency_idle_ms: s.latency_idle_ms,
            latency_loaded_ms: s.latency_loaded_ms,
        };
        samples.insert(
            sample_key(&site, SPEED, at, report, i),
            abort(record::encode(&sample))?,
        )?;
    }
    Ok(())
}

impl Store {
    fn samples_since<T: serde::de::DeserializeOwned>(
        &self,
        site: &SiteRef,
        kind: u8,
        since: DateTime<Utc>,
    ) -> Result<Vec<T>, StoreError> {
        let prefix = site_prefix(site, kind);
        let mut from = prefix.clone();
        from.extend_from_slice(&micros(since));
        let mut to = prefix;
        to.extend_from_slice(&[0xff; 9]);
        self.line_samples
            .range(from..to)
            .values()
            .map(|v| record::decode("line_samples", &v?))
            .collect()
    }

    /// A site's ping bursts since `since`, oldest first.
    pub fn ping_samples(
        &self,
        site: &SiteRef,
        since: DateTime<Utc>,
    ) -> Result<Vec<PingSample>, StoreError> {
        self.samples_since(site, PING, since)
    }

    /// A site's throughput tests since `since`, oldest first.
    pub fn speed_samples(
        &self,
        site: &SiteRef,
        since: DateTime<Utc>,
    ) -> Result<Vec<SpeedSample>, StoreError> {
        self.samples_since(site, SPEED, since)
    }

    /// The throughput tests since `since` of every site of `commune` with
    /// any (registered in the sites tree or not), oldest first per site.
    pub fn commune_speed_samples(
        &self,
        commune: &kiemke_shared::CommuneCode,
        since: DateTime<Utc>,
    ) -> Result<std::collections::BTreeMap<SiteRef, Vec<SpeedSample>>, StoreError> {
        let mut found = std::collections::BTreeMap::new();
        let prefix = format!("{commune}/");
        for entry in self.line_samples.scan_prefix(prefix.as_bytes()) {
            let (key, value) = entry?;
            let Some(end) = key.iter().position(|&b| b == 0) else {
                continue;
            };
            if key.get(end + 1) != Some(&SPEED) {
                continue;
            }
            let Some(code) = (key.get(prefix.len()..end))
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| kiemke_shared::SiteCode::parse(s).ok())
            else {
                continue;
            };
            let site = SiteRef {
                commune: commune.clone(),
                site: code,
            };
            let sample: SpeedSample = record::decode("line_samples", &value)?;
            if sample.at >= since {
                found.entry(site).or_insert_with(Vec::new).push(sample);
            }
        }
        Ok(found)
    }

    /// When the site's latest throughput test ran, if it ever did.
    pub fn last_speed_test_at(&self, site: &SiteRef) -> Result<Option<DateTime<Utc>>, StoreError> {
        let prefix = site_prefix(site, SPEED);
        match self.line_samples.scan_prefix(prefix).next_back() {
            Some(entry) => {
                let sample: SpeedSample = record::decode("line_samples", &entry?.1)?;
                Ok(Some(sample.at))
            }
            None => Ok(None),
        }
    }

    /// The pending throughput-test request of a site.
    pub fn speed_test_request(
        &self,
        site: &SiteRef,
    ) -> Result<Option<SpeedTestRequest>, StoreError> {
        match self.speedtest_requests.get(site.to_string())? {
            Some(bytes) => record::decode("speedtest_requests", &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Asks the site for a throughput test (an officer's request replaces
    /// any pending one, so the next agent to report is asked at once).
    pub fn request_speed_test(
        &self,
        site: &SiteRef,
        requested_by: &str,
        now: DateTime<Utc>,
    ) -> Result<SpeedTestRequest, StoreError> {
        let request = SpeedTestRequest {
            requested_at: now,
            requested_by: requested_by.chars().take(100).collect(),
            handed_to: None,
        };
        self.speedtest_requests
            .insert(site.to_string(), record::encode(&request)?)?;
        self.db.flush()?;
        Ok(request)
    }

    /// Whether `agent`, which just reported from `site`, should run a
    /// throughput test now; records the hand-out. A request is withdrawn
    /// once a test from the site newer than it is stored. Without a
    /// request, one is made when the site's latest test is older than
    /// `max_age` (or it has none). A request handed to an agent within
    /// `hold` is not handed to another (nor again to the same one).
    pub fn claim_speed_test(
        &self,
        site: &SiteRef,
        agent: AgentId,
        now: DateTime<Utc>,
        max_age: Duration,
        hold: Duration,
    ) -> Result<bool, StoreError> {
        let key = site.to_string();
        let last = self.last_speed_test_at(site)?;
        loop {
            let current = self.speedtest_requests.get(&key)?;
            let request: Option<SpeedTestRequest> = match &current {
                Some(bytes) => Some(record::decode("speedtest_requests", bytes)?),
                None => None,
            };
            let request = match request {
                // Done: a test ran since it was asked for.
                Some(r) if last.is_some_and(|l| l >= r.requested_at) => {
                    if self
                        .speedtest_requests
                        .compare_and_swap(&key, current, None::<&[u8]>)?
                        .is_err()
                    {
                        continue;
                    }
                    self.db.flush()?;
                    return Ok(false);
                }
                Some(r) => r,
                None if last.is_none_or(|l| now - l > max_age) => SpeedTestRequest {
                    requested_at: now,
                    requested_by: "auto".into(),
                    handed_to: None,
                },
                None => return Ok(false),
            };
            if request
                .handed_to
                .is_some_and(|(_, at)| now - at < hold && at <= now)
            {
                return Ok(false);
            }
            let handed = SpeedTestRequest {
                handed_to: Some((agent, now)),
                ..request
            };
            if self
                .speedtest_requests
                .compare_and_swap(&key, current, Some(record::encode(&handed)?))?
                .is_err()
            {
                continue;
            }
            self.db.flush()?;
            return Ok(true);
        }
    }
}
