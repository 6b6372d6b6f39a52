//! What the province survey reads from the store, gathered in one pass per
//! call: registries, devices with their flags, peripherals, and the speed
//! tests measured at each site (the line time series of `store::probes`).
//! Also moving a device to another site, and the sites registry's edits.
//!
//! Reads the trees of other modules (`devices`, `flags`, `peripherals`,
//! `line_samples`, `agents`) without writing them except in
//! [`Store::move_device`]; the aggregation itself is pure
//! (`crate::survey::aggregate`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kiemke_shared::{CommuneCode, DeviceId, SiteRef};

use super::communes::CommuneRecord;
use super::peripherals::PeripheralRecord;
use super::probes::SpeedSample;
use super::record::{self, DeviceRecord};
use super::sites::SiteRecord;
use super::{Store, StoreError};
use crate::policy::DeviceFlags;

/// Everything the survey aggregates, for one commune or the province.
#[derive(Debug, Clone, Default)]
pub struct SurveyInputs {
    pub communes: Vec<CommuneRecord>,
    pub sites: Vec<SiteRecord>,
    /// PCs with their latest flags (`None` before the first evaluation).
    pub devices: Vec<(DeviceRecord, Option<DeviceFlags>)>,
    /// Printers, scanners, network gear seen by the PCs above.
    pub peripherals: Vec<PeripheralRecord>,
    /// Each registered site's throughput tests since the window's start,
    /// from the line time series (`store::probes`), which
    /// `crate::lines` judges.
    pub speeds: BTreeMap<SiteRef, Vec<SpeedSample>>,
}

impl Store {
    /// The survey's inputs for `commune` (or every commune), with speed tests
    /// since `since`. One commune reads only its own PCs (through the
    /// survey index, see [`super::survey_index`], and the peripherals they
    /// saw through the same index); the province scans.
    pub fn survey_inputs(
        &self,
        commune: Option<&CommuneCode>,
        since: DateTime<Utc>,
    ) -> Result<SurveyInputs, StoreError> {
        match commune {
            Some(code) => self.survey_inputs_for(std::slice::from_ref(code), since),
            None => {
                let devices: Vec<_> = (self.flagged_devices()?.into_iter())
                    .filter(|(d, _)| d.origin.is_some())
                    .collect();
                let peripherals = self.list_peripherals()?;
                self.complete_inputs(
                    self.communes()?,
                    self.sites(None)?,
                    devices,
                    peripherals,
                    since,
                )
            }
        }
    }

    /// The survey's inputs for some communes, each read through the survey
    /// index (what a refresh of their aggregates needs).
    pub fn survey_inputs_for(
        &self,
        codes: &[CommuneCode],
        since: DateTime<Utc>,
    ) -> Result<SurveyInputs, StoreError> {
        let (mut communes, mut sites, mut devices) = (Vec::new(), Vec::new(), Vec::new());
        for code in codes {
            communes.extend(self.commune(code)?);
            sites.extend(self.sites(Some(code))?);
            for id in self.commune_device_ids(code)? {
                let Some(device) = self.device_record(&id)? else {
                    continue;
                };
                if device.origin.as_ref().is_some_and(|o| &o.commune == code) {
                    let flags = self.flags(&id)?;
                    devices.push((device, flags));
                }
            }
        }
        // Only the peripherals these PCs saw, through the survey index.
        let mut peripherals = Vec::new();
        for id in self.peripheral_ids_seen_by(devices.iter().map(|(d, _)| d.id))? {
            peripherals.extend(self.peripheral_record(&id)?);
        }
        super::peripherals::sort_for_listing(&mut peripherals);
        self.complete_inputs(communes, sites, devices, peripherals, since)
    }

    /// Adds the peripherals (of `candidates`) the `devices` saw and the
    /// sites' speed tests.
    fn complete_inputs(
        &self,
        communes: Vec<CommuneRecord>,
        sites: Vec<SiteRecord>,
        devices: Vec<(DeviceRecord, Option<DeviceFlags>)>,
        candidates: Vec<PeripheralRecord>,
        since: DateTime<Utc>,
    ) -> Result<SurveyInputs, StoreError> {
        let ids: std::collections::BTreeSet<DeviceId> = devices.iter().map(|(d, _)| d.id).collect();
        let peripherals = (candidates.into_iter())
            .filter(|p| p.seen_by.iter().any(|pc| ids.contains(pc)))
            .collect();
        let mut speeds = BTreeMap::new();
        for site in &sites {
            speeds.insert(site.site.clone(), self.speed_samples(&site.site, since)?);
        }
        Ok(SurveyInputs {
            communes,
            sites,
            devices,
            peripherals,
            speeds,
        })
    }

    /// Creates or replaces a site's record (the web form and the import).
    pub fn put_site(&self, site: &SiteRecord) -> Result<(), StoreError> {
        self.sites
            .insert(site.site.to_string(), record::encode(site)?)?;
        self.mark_survey_stale(&site.site.commune)?;
        self.db.flush()?;
        Ok(())
    }

    /// Moves a device to another site of its commune: its record and the
    /// enrollment of every agent that reported for it, so later reports are
    /// filed there too. Its history (reports, flags) stays with it; reports
    /// already stored keep the site they were measured at.
    pub fn move_device(&self, id: &DeviceId, to: &SiteRef) -> Result<bool, StoreError> {
        let _writing = self.write_guard();
        let Some(mut device) = self.device_record(id)? else {
            return Ok(false);
        };
        let from = device.origin.as_ref().map(|o| o.commune.clone());
        for agent in &device.agent_ids {
            if let Some(mut enrolled) = self.agent(agent)? {
                if enrolled.commune == to.commune {
                    enrolled.site = Some(to.site.clone());
                    self.agents
                        .insert(&agent.as_bytes()[..], record::encode(&enrolled)?)?;
                }
            }
        }
        device.origin = Some(super::Origin {
            commune: to.commune.clone(),
            site: Some(to.site.clone()),
        });
        self.devices
            .insert(id.as_bytes(), record::encode(&device)?)?;
        self.reindex_device(id, from.as_ref(), Some(&to.commune))?;
        self.db.flush()?;
        Ok(true)
    }
}

impl Store {
    /// Writes communes and sites together (an import): all of them or, on
    /// failure, none.
    pub fn put_registry(
        &self,
        communes: &[&CommuneRecord],
        sites: &[&SiteRecord],
    ) -> Result<(), StoreError> {
        use sled::Transactional;
        let encoded_communes = (communes.iter())
            .map(|c| Ok((c.code.to_string(), record::encode(c)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let encoded_sites = (sites.iter())
            .map(|s| Ok((s.site.to_string(), record::encode(s)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        (&self.communes, &self.sites)
            .transaction(|(c_tree, s_tree)| {
                for (key, value) in &encoded_communes {
                    c_tree.insert(key.as_bytes(), value.as_slice())?;
                }
                for (key, value) in &encoded_sites {
                    s_tree.insert(key.as_bytes(), value.as_slice())?;
                }
                Ok::<(), sled::transaction::ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
            })?;
        for code in (communes.iter().map(|c| &c.code)).chain(sites.iter().map(|s| &s.site.commune))
        {
            self.mark_survey_stale(code)?;
        }
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::fixture;

    #[test]
    fn a_moved_device_keeps_its_history_and_reports_from_its_new_site() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let (_, province) = fixture::load::small_province(&store, 3, 1, (20, 20));
        let commune = &province.communes[0];
        let (device, _) = store.flagged_devices().expect("devices").remove(0);
        let from = device.origin.clone().and_then(|o| o.site).expect("site");
        let to = (commune.sites.iter())
            .find(|s| s.site.site != from)
            .expect("another site")
            .site
            .clone();
        let reports_before = store
            .device(&device.id, 100)
            .expect("read")
            .expect("device")
            .reports
            .len();
        let history_before = store.flag_history(&device.id, 100).expect("history").len();

        assert!(store.move_device(&device.id, &to).expect("move"));
        let moved = store
            .device_record(&device.id)
            .expect("read")
            .expect("device");
        assert_eq!(moved.origin.and_then(|o| o.site), Some(to.site.clone()));
        let detail = store
            .device(&device.id, 100)
            .expect("read")
            .expect("device");
        assert_eq!(detail.reports.len(), reports_before, "reports stay");
        assert_eq!(
            store.flag_history(&device.id, 100).expect("history").len(),
            history_before
        );
        assert!(!store.move_device(&DeviceId::generate(), &to).expect("move"));
    }
}
