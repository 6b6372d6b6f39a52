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
//! [`province`] reads each commune's aggregate, kept up to date on ingest
//! (`crate::store::survey_index`), and [`overview`] the same rows without
//! the sites' lines (what the overview page shows); [`commune`] reads one
//! commune's PCs and their peripherals through the same index and
//! aggregates.

pub mod aggregate;
pub mod lines;
pub mod traffic_light;

use chrono::{DateTime, Duration, Utc};
use kiemke_shared::CommuneCode;

pub use self::aggregate::{
    CommuneDetail, CommuneSummary, CommuneSurvey, DeviceLine, ProvinceOverview, ProvinceSurvey,
    Totals,
};
pub use self::lines::{DailyBest, SiteLine};
pub use self::traffic_light::{Light, Unmet};
use crate::policy::Policy;
use crate::store::{Store, StoreError};

/// The start of the line window at `now`.
fn window_start(policy: &Policy, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(i64::from(policy.file.traffic_light.line_window_days))
}

/// Every commune of the registry (and any commune devices report from that
/// is not registered yet), with the province's totals. Reads each
/// commune's stored aggregate, first recomputing those out of date (see
/// `crate::store::survey_index`): a view after a few reports costs the
/// communes they touched, not every device.
pub fn province(
    store: &Store,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<ProvinceSurvey, StoreError> {
    refresh(store, policy, now)?;
    let communes = (store.survey_aggregate_records()?.into_iter())
        .map(|(_, a)| a.survey)
        .collect();
    Ok(aggregate::summarize(communes, now))
}

/// The overview page's data: each commune's stored summary (its row
/// without the sites' lines), after the same refresh as [`province`], and
/// the totals.
pub fn overview(
    store: &Store,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<ProvinceOverview, StoreError> {
    let (mut records, stale) = store.survey_overview_checked(&policy.fingerprint, now)?;
    if !stale.is_empty() {
        // Checked again under the lock: a refresh that held it (the
        // server's background catch-up, another view) may have done it.
        let _one_at_a_time = store.survey_refresh_guard();
        let (_, stale) = store.survey_overview_checked(&policy.fingerprint, now)?;
        refresh_these(store, policy, now, &stale)?;
        records = store.survey_overview_records()?;
    }
    let communes = records.into_iter().map(|(_, r)| r.row).collect();
    Ok(aggregate::overview(communes, now))
}

/// The province recomputed from every device (what [`province`]'s stored
/// aggregates must equal; tests compare the two).
pub fn province_by_scan(
    store: &Store,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<ProvinceSurvey, StoreError> {
    let inputs = store.survey_inputs(None, window_start(policy, now))?;
    Ok(aggregate::province(&inputs, policy, now))
}

/// Out-of-date communes per batch: one batch reads the peripherals once.
const REFRESH_BATCH: usize = 256;

/// Recomputes the stored aggregates that are out of date at `now`.
pub fn refresh(store: &Store, policy: &Policy, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let _one_at_a_time = store.survey_refresh_guard();
    let stale = store.stale_survey_aggregates(&policy.fingerprint, now)?;
    refresh_these(store, policy, now, &stale)?;
    Ok(stale.len())
}

/// Recomputes the aggregates of `stale`.
fn refresh_these(
    store: &Store,
    policy: &Policy,
    now: DateTime<Utc>,
    stale: &[crate::store::survey_index::Stale],
) -> Result<(), StoreError> {
    let since = window_start(policy, now);
    for batch in stale.chunks(REFRESH_BATCH) {
        let codes: Vec<CommuneCode> = batch.iter().map(|s| s.commune.clone()).collect();
        let inputs = store.survey_inputs_for(&codes, since)?;
        for entry in batch {
            let row = aggregate::commune_detail(&inputs, policy, &entry.commune, now).map(|d| {
                crate::store::survey_index::CommuneAggregate {
                    policy: policy.fingerprint.clone(),
                    computed_at: now,
                    valid_until: valid_until(&inputs, policy, &entry.commune, now),
                    survey: d.survey,
                }
            });
            store.put_survey_aggregate(entry, row.as_ref())?;
        }
    }
    Ok(())
}

/// The last instant (from `now` on) before which time alone cannot change
/// `commune`'s row: right after it a PC passes the silence threshold, or a
/// speed test leaves the line window.
fn valid_until(
    inputs: &crate::store::survey::SurveyInputs,
    policy: &Policy,
    commune: &CommuneCode,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let settings = &policy.file.traffic_light;
    let silent = Duration::days(i64::from(settings.silent_days));
    let window = Duration::days(i64::from(settings.line_window_days));
    let pcs = (inputs.devices.iter())
        .filter(|(d, _)| d.origin.as_ref().is_some_and(|o| &o.commune == commune))
        .map(|(d, _)| d.last_seen + silent);
    let tests = (inputs.speeds.iter())
        .filter(|(site, _)| &site.commune == commune)
        .flat_map(|(_, samples)| samples.iter().map(|s| s.at + window));
    pcs.chain(tests).filter(|t| *t >= now).min()
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
