//! The province-wide survey (issue 6): per commune, devices by category,
//! the share flagged `replace`/`watch`, each site's line against its target,
//! the last report, silent agents, and the traffic light XANH/VÀNG/ĐỎ with
//! the criteria not met.
//!
//! # Layout
//! - [`lines`]: each site's line status from the speed tests measured there
//!   (the one place that judges a line for the survey).
//! - [`traffic_light`]: the light and the unmet criteria, from the policy
//!   file's `[traffic-light]` section.
//! - [`aggregate`]: the commune and province figures, pure functions of
//!   [`crate::store::survey::SurveyInputs`].
//!
//! [`province`] and [`commune`] read the store and aggregate. Today that is
//! a scan per call; issue 10 keeps the aggregates up to date on ingest
//! instead, behind these two functions.

pub mod aggregate;
pub mod lines;
pub mod traffic_light;

use chrono::{DateTime, Duration, Utc};
use kiemke_shared::CommuneCode;

pub use self::aggregate::{CommuneDetail, CommuneSurvey, DeviceLine, ProvinceSurvey, Totals};
pub use self::lines::{DailyBest, SiteLine};
pub use self::traffic_light::{Light, Unmet};
use crate::policy::Policy;
use crate::store::{Store, StoreError};

/// The start of the line window at `now`.
fn window_start(policy: &Policy, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(i64::from(policy.file.traffic_light.line_window_days))
}

/// Every commune of the registry (and any commune devices report from that
/// is not registered yet), with the province's totals.
pub fn province(
    store: &Store,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<ProvinceSurvey, StoreError> {
    let inputs = store.survey_inputs(None, window_start(policy, now))?;
    Ok(aggregate::province(&inputs, policy, now))
}

/// The survey with every commune's devices, for exports: the province, or
/// one commune (`scope`).
pub fn with_devices(
    store: &Store,
    policy: &Policy,
    scope: Option<&CommuneCode>,
    now: DateTime<Utc>,
) -> Result<(ProvinceSurvey, Vec<CommuneDetail>), StoreError> {
    let inputs = store.survey_inputs(scope, window_start(policy, now))?;
    let details = aggregate::details(&inputs, policy, now);
    let survey = aggregate::summarize(details.iter().map(|d| d.survey.clone()).collect(), now);
    Ok((survey, details))
}

/// One commune in detail: its figures, sites with their daily line series,
/// every device with status and reasons. `None` for a commune that is
/// neither registered nor reporting.
pub fn commune(
    store: &Store,
    policy: &Policy,
    code: &CommuneCode,
    now: DateTime<Utc>,
) -> Result<Option<CommuneDetail>, StoreError> {
    let inputs = store.survey_inputs(Some(code), window_start(policy, now))?;
    Ok(aggregate::commune_detail(&inputs, policy, code, now))
}
