//! Ingesting one report: identify its device and write the report, the
//! device record, the history entry and the identity keys in one
//! transaction; for an agent's report, bring the device's flags up to date
//! ([`Store::ingest_flagged`]); then flush to disk. Reports arriving
//! together share the transaction and the flush (`super::ingest_batch`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use kiemke_shared::api::{AckStatus, ReportAck};
use kiemke_shared::{DeviceId, Report, ReportId};
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};

use super::identity::{self, Candidate, IdentityKey, Resolution};
use super::record::{self, DeviceRecord, Origin, StoredReport};
use super::{Store, StoreError};
use crate::policy::{DeviceFlags, Policy};

/// What happened to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored now.
    Stored {
        device_id: DeviceId,
        received_at: DateTime<Utc>,
        /// The report started a new device.
        new_device: bool,
    },
    /// The same report was stored before (a retry); nothing was written.
    Duplicate {
        device_id: DeviceId,
        /// When it was first received.
        received_at: DateTime<Utc>,
    },
}

impl IngestOutcome {
    pub fn device_id(&self) -> DeviceId {
        match self {
            IngestOutcome::Stored { device_id, .. }
            | IngestOutcome::Duplicate { device_id, .. } => *device_id,
        }
    }

    /// The acknowledgement the agent waits for.
    pub fn ack(&self, report_id: ReportId) -> ReportAck {
        let (status, device_id, received_at) = match *self {
            IngestOutcome::Stored {
                device_id,
                received_at,
                ..
            } => (AckStatus::Stored, device_id, received_at),
            IngestOutcome::Duplicate {
                device_id,
                received_at,
            } => (AckStatus::Duplicate, device_id, received_at),
        };
        ReportAck {
            report_id,
            device_id,
            status,
            received_at,
            // When to ask for an on-demand test is the policy's decision.
            run_speed_test: false,
        }
    }
}

/// What [`Store::ingest_flagged`] did.
#[derive(Debug)]
pub struct Ingested {
    pub outcome: IngestOutcome,
    /// The device's flags when they were stored anew, and whether their
    /// status or counted reasons changed. An error here leaves the report
    /// stored: it is acknowledged, and the next evaluation catches up.
    pub flags: Result<Option<(DeviceFlags, bool)>, StoreError>,
}

/// What the transaction decided, for logging after it commits (the closure
/// may run more than once, so it must not log).
struct Committed {
    outcome: IngestOutcome,
    resolution: Option<Resolution>,
    /// Keys taken from another device: (key, previous device).
    repointed: Vec<(IdentityKey, DeviceId)>,
    /// The device's record as written (none for a duplicate).
    device: Option<DeviceRecord>,
}

type TxResult<T> = ConflictableTransactionResult<T, StoreError>;

fn abort<T>(result: Result<T, StoreError>) -> TxResult<T> {
    result.map_err(ConflictableTransactionError::Abort)
}

fn load_device(devices: &TransactionalTree, id: &DeviceId) -> TxResult<Option<DeviceRecord>> {
    match devices.get(&id.as_bytes()[..])? {
        Some(bytes) => abort(record::decode("devices", &bytes)).map(Some),
        None => Ok(None),
    }
}

fn id_bytes(report: &Report) -> &[u8] {
    &report.report_id.as_bytes()[..]
}

fn device_id_from(bytes: &[u8]) -> Option<DeviceId> {
    DeviceId::from_bytes(bytes.try_into().ok()?).ok()
}

impl Store {
    /// Stores a report durably (on disk when this returns), idempotently by
    /// report id: the same report again is a `Duplicate`; the same id with
    /// other content is a `Conflict`.
    pub async fn ingest(&self, report: &Report) -> Result<IngestOutcome, StoreError> {
        let report = report.clone();
        self.blocking(move |store| store.ingest_blocking(&report, Utc::now()))
            .await
    }

    /// [`Store::ingest`] on the calling thread, with the receive time given.
    pub fn ingest_blocking(
        &self,
        report: &Report,
        received_at: DateTime<Utc>,
    ) -> Result<IngestOutcome, StoreError> {
        self.ingest_blocking_from(report, None, received_at)
    }

    /// [`Store::ingest`] of a report from an enrolled agent (`origin`: filed
    /// under the agent's commune and site, its device identity looked up
    /// within that commune only), on the calling thread.
    pub fn ingest_blocking_from(
        &self,
        report: &Report,
        origin: Option<&Origin>,
        received_at: DateTime<Utc>,
    ) -> Result<IngestOutcome, StoreError> {
        let request = Request::new(report.clone(), origin.cloned(), received_at, None)?;
        Ok(self.submit(request)?.outcome)
    }

    /// [`Store::ingest_blocking_from`] from the async side, with the
    /// device's flags brought up to date under `policy` on `as_of` before
    /// the flush that makes both durable.
    pub async fn ingest_flagged(
        &self,
        report: Report,
        origin: Origin,
        policy: Arc<Policy>,
        as_of: NaiveDate,
    ) -> Result<Ingested, StoreError> {
        self.blocking(move |store| {
            let flags = Some((policy, as_of));
            store.submit(Request::new(report, Some(origin), Utc::now(), flags)?)
        })
        .await
    }

    /// Writes `request` with whatever other reports are waiting
    /// ([`super::ingest_batch`]); returns once it is on disk.
    fn submit(&self, request: Request) -> Result<Ingested, StoreError> {
        self.ingest_batch
            .submit(request, |batch| self.write_batch(&batch))
    }

    /// One batch: one transaction for all (or, if one of them is refused,
    /// one each), the flags, one flush.
    pub(super) fn write_batch(&self, batch: &[Request]) -> Vec<Result<Ingested, StoreError>> {
        // Shared with other writers, exclusive with a backup (until flushed).
        let _writing = self.write_guard();
        let all = self.transact(|trees| {
            (batch.iter())
                .map(|request| ingest_in(trees, request))
                .collect::<TxResult<Vec<_>>>()
        });
        let committed: Vec<Result<Committed, StoreError>> = match all {
            Ok(all) => all.into_iter().map(Ok).collect(),
            // A report refused (an id reused for other content) must not
            // take the others with it: each alone then.
            Err(_) if batch.len() > 1 => (batch.iter())
                .map(|request| self.transact(|trees| ingest_in(trees, request)))
                .collect(),
            Err(e) => vec![Err(e)],
        };
        let flags: Vec<_> = (batch.iter().zip(&committed))
            .map(|(request, committed)| match (committed, &request.flags) {
                (
                    Ok(Committed {
                        device: Some(device),
                        ..
                    }),
                    Some((policy, as_of)),
                ) => self.flag_after_ingest(policy, device, &request.report, *as_of),
                _ => Ok(None),
            })
            .collect();
        // Durable before anyone is told: a duplicate is flushed too, in case
        // the first attempt's flush failed after its commit. Concurrent
        // writers share one flush (group commit).
        let flushed = self.group_flush.flush(&self.db);
        (batch.iter().zip(committed).zip(flags))
            .map(|((request, committed), flags)| {
                let committed = committed?;
                if let Err(e) = &flushed {
                    return Err(StoreError::Sled(e.clone()));
                }
                log(&request.report, &committed);
                Ok(Ingested {
                    outcome: committed.outcome,
                    flags,
                })
            })
            .collect()
    }

    /// Runs `f` in one transaction over the ingest's trees.
    fn transact<T>(&self, f: impl Fn(&Trees<'_>) -> TxResult<T>) -> Result<T, StoreError> {
        let survey_index = self.db.open_tree(super::survey_index::INDEX_TREE)?;
        let trees = (
            &self.reports,
            &self.devices,
            &self.device_reports,
            &self.identity,
            &self.peripherals,
            &self.peripheral_identity,
            &self.page_counts,
            &self.line_samples,
            &survey_index,
        );
        trees
            .transaction(
                |(
                    reports,
                    devices,
                    history,
                    pointers,
                    per_devices,
                    per_identity,
                    page_counts,
                    line_samples,
                    survey_index,
                )| {
                    f(&Trees {
                        reports,
                        devices,
                        history,
                        pointers,
                        peripherals: super::peripherals::Trees {
                            devices: per_devices,
                            identity: per_identity,
                            page_counts,
                            survey_index,
                        },
                        line_samples,
                        survey_index,
                    })
                },
            )
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Sled(e),
            })
    }
}

/// One report handed to a batch, with what can be worked out before the
/// transaction (which holds sled's lock): its encoding and hash, its keys.
pub(super) struct Request {
    report: Report,
    origin: Option<Origin>,
    received_at: DateTime<Utc>,
    keys: identity::ReportKeys,
    encoded: record::EncodedReport,
    /// Bring the device's flags up to date under this policy on this day.
    flags: Option<(Arc<Policy>, NaiveDate)>,
}

impl Request {
    pub(super) fn new(
        report: Report,
        origin: Option<Origin>,
        received_at: DateTime<Utc>,
        flags: Option<(Arc<Policy>, NaiveDate)>,
    ) -> Result<Request, StoreError> {
        Ok(Request {
            keys: identity::report_keys(&report),
            encoded: record::EncodedReport::new(&report)?,
            report,
            origin,
            received_at,
            flags,
        })
    }
}

/// The ingest's trees inside a transaction.
struct Trees<'a> {
    reports: &'a TransactionalTree,
    devices: &'a TransactionalTree,
    history: &'a TransactionalTree,
    pointers: &'a TransactionalTree,
    /// Printers and scanners in the report join their own trees, in the
    /// same transaction (see `super::peripherals`).
    peripherals: super::peripherals::Trees<'a>,
    line_samples: &'a TransactionalTree,
    survey_index: &'a TransactionalTree,
}

/// Stores one report inside the transaction: the report, its device,
/// history, identity keys, peripherals, line samples and survey marks.
fn ingest_in(trees: &Trees<'_>, request: &Request) -> TxResult<Committed> {
    let Trees {
        reports,
        devices,
        history,
        pointers,
        peripherals: peripheral_trees,
        line_samples,
        survey_index,
    } = trees;
    let Request {
        report,
        received_at,
        keys,
        encoded,
        ..
    } = request;
    let (origin, received_at) = (request.origin.as_ref(), *received_at);
    let hash = &encoded.hash;
    // Identity keys live in one namespace per commune.
    let pointer = |key: &IdentityKey| match origin {
        Some(o) => format!("{}/{key}", o.commune),
        None => key.to_string(),
    };
    let id = &report.report_id.as_bytes()[..];
    if let Some(bytes) = reports.get(id)? {
        let existing: StoredReport = abort(record::decode("reports", &bytes))?;
        // The hash decides; comparing the decoded reports covers
        // a hash written by a build that encoded reports differently.
        if existing.content_hash != *hash && existing.report != *report {
            return Err(ConflictableTransactionError::Abort(StoreError::Conflict {
                report_id: report.report_id,
            }));
        }
        return Ok(Committed {
            outcome: IngestOutcome::Duplicate {
                device_id: existing.device_id,
                received_at: existing.received_at,
            },
            resolution: None,
            repointed: Vec::new(),
            device: None,
        });
    }

    // A report without an inventory (the agent's batched probe
    // results) carries no hardware keys: it belongs to the device
    // its agent last reported for, if any.
    let reporter = identity::reporter_key(report.agent_id);
    let last_device = match &report.inventory {
        Some(_) => None,
        None => match pointers.get(reporter.as_bytes())? {
            Some(target) => device_id_from(&target),
            None => None,
        },
    };
    if let Some(last) = last_device {
        if let Some(mut device) = load_device(devices, &last)? {
            device.absorb(report, received_at, &[]);
            devices.insert(&last.as_bytes()[..], abort(record::encode(&device))?)?;
            history.insert(
                record::history_key(&last, received_at, &report.report_id),
                sled::IVec::default(),
            )?;
            let stored = abort(encoded.stored(received_at, last, origin))?;
            reports.insert(id_bytes(report), stored)?;
            super::peripherals::absorb(peripheral_trees, report, origin, last, received_at)?;
            super::probes::absorb(line_samples, report, origin, last, received_at)?;
            let commune = device.origin.as_ref().map(|o| &o.commune);
            super::survey_index::on_ingest(survey_index, commune, commune, &last)?;
            return Ok(Committed {
                outcome: IngestOutcome::Stored {
                    device_id: last,
                    received_at,
                    new_device: false,
                },
                resolution: None,
                repointed: Vec::new(),
                device: Some(device),
            });
        }
    }

    let resolution = identity::resolve(keys, |key| -> TxResult<Option<Candidate>> {
        let Some(target) = pointers.get(pointer(key).as_bytes())? else {
            return Ok(None);
        };
        let Some(device) = device_id_from(&target) else {
            return Ok(None);
        };
        Ok(load_device(devices, &device)?.map(|record| Candidate {
            device,
            keys: record.keys,
        }))
    })?;
    let (mut device, new_device) = match &resolution.matched {
        Some((id, _)) => match load_device(devices, id)? {
            Some(record) => (record, false),
            None => (DeviceRecord::new(*id, received_at), true),
        },
        None => (DeviceRecord::new(DeviceId::generate(), received_at), true),
    };
    let device_id = device.id;

    // Point every key at this device, taking keys from others.
    let mut taken: BTreeMap<DeviceId, Vec<IdentityKey>> = BTreeMap::new();
    for key in &keys.store {
        let previous = pointers.insert(pointer(key).as_bytes(), &device_id.as_bytes()[..])?;
        if let Some(previous) = previous.as_deref().and_then(device_id_from) {
            if previous != device_id {
                taken.entry(previous).or_default().push(key.clone());
            }
        }
    }
    let mut repointed = Vec::new();
    for (loser, lost) in taken {
        if let Some(mut record) = load_device(devices, &loser)? {
            lost.iter().for_each(|k| {
                record.keys.remove(k);
            });
            devices.insert(&loser.as_bytes()[..], abort(record::encode(&record))?)?;
        }
        repointed.extend(lost.into_iter().map(|k| (k, loser)));
    }

    device.absorb(report, received_at, &keys.store);
    let old_commune = (!new_device)
        .then(|| device.origin.as_ref().map(|o| o.commune.clone()))
        .flatten();
    if let Some(origin) = origin {
        device.origin = Some(origin.clone());
    }
    devices.insert(&device_id.as_bytes()[..], abort(record::encode(&device))?)?;
    pointers.insert(reporter.as_bytes(), &device_id.as_bytes()[..])?;
    history.insert(
        record::history_key(&device_id, received_at, &report.report_id),
        sled::IVec::default(),
    )?;
    reports.insert(id, abort(encoded.stored(received_at, device_id, origin))?)?;
    super::peripherals::absorb(peripheral_trees, report, origin, device_id, received_at)?;
    super::probes::absorb(line_samples, report, origin, device_id, received_at)?;
    super::survey_index::on_ingest(
        survey_index,
        old_commune.as_ref(),
        device.origin.as_ref().map(|o| &o.commune),
        &device_id,
    )?;
    Ok(Committed {
        outcome: IngestOutcome::Stored {
            device_id,
            received_at,
            new_device,
        },
        resolution: Some(resolution),
        repointed,
        device: Some(device),
    })
}

fn log(report: &Report, committed: &Committed) {
    let device_id = committed.outcome.device_id();
    if let Some(resolution) = &committed.resolution {
        for r in &resolution.rejected {
            tracing::warn!(
                report_id = %report.report_id, candidate = %r.device, found_by = %r.found_by,
                conflict = ?r.conflict, chosen = %device_id,
                "không gộp vào thiết bị ứng viên vì khóa mạnh hơn khác nhau / \
                 candidate device rejected: a stronger key differs"
            );
        }
    }
    for (key, from) in &committed.repointed {
        tracing::info!(
            %key, from = %from, to = %device_id, report_id = %report.report_id,
            "chuyển khóa nhận dạng sang thiết bị khác / identity key re-pointed"
        );
    }
}
