//! Reads what a proposal needs from the store: the communes and sites
//! registries, the devices with their latest flags and register entries,
//! the printers and scanners the PCs reported, the photocopiers entered by
//! hand, and the line readings ([`super::lines`]). The result is frozen with a saved proposal.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use kiemke_shared::{CommuneCode, DeviceId, SiteCode};

use super::input::{CommuneInput, DeviceInput, ProposalInput, ReasonInput, Scope, SiteInput};
use super::lines;
use crate::policy::file::Severity;
use crate::policy::{Category, DeviceFlags, Policy, Status};
use crate::store::manual_assets::ManualAsset;
use crate::store::{DeviceRecord, Origin, Store, StoreError};

/// Categories counted from the assets entered by hand: no agent sees them
/// (hand-entered printers and scanners are not counted: the PCs report
/// theirs, and an officer's entry is never merged with a discovered one).
pub const HAND_COUNTED: [Category; 1] = [Category::Photocopier];

/// The name of the site entry that gathers devices whose site is unknown.
pub const UNKNOWN_SITE_VI: &str = "Chưa xác định điểm";

/// What to gather.
#[derive(Debug, Clone)]
pub struct Request {
    pub scope: Scope,
    /// For the province: the communes to consolidate (empty: every commune
    /// registered or reporting).
    pub communes: Vec<CommuneCode>,
    pub include_watch: bool,
    pub as_of: NaiveDate,
}

/// Gathers the frozen input of a proposal.
///
/// Each source (devices with their flags, peripherals, hand-entered assets)
/// is read once and grouped by commune before the communes are walked, so a
/// consolidation of the whole country costs one pass over its devices, not
/// one per commune.
pub fn gather(
    store: &Store,
    policy: &Policy,
    request: &Request,
) -> Result<ProposalInput, StoreError> {
    let devices = store.flagged_devices()?;
    let codes: Vec<CommuneCode> = match &request.scope {
        Scope::Commune(code) => vec![code.clone()],
        Scope::Province if !request.communes.is_empty() => {
            let set: BTreeSet<_> = request.communes.iter().cloned().collect();
            set.into_iter().collect()
        }
        Scope::Province => {
            let mut set: BTreeSet<CommuneCode> =
                store.communes()?.into_iter().map(|c| c.code).collect();
            set.extend(
                devices
                    .iter()
                    .filter_map(|(_, f)| f.as_ref().and_then(|f| f.commune.clone())),
            );
            set.into_iter().collect()
        }
    };
    let wanted: BTreeSet<&CommuneCode> = codes.iter().collect();
    let mut pcs: BTreeMap<&CommuneCode, Vec<(&DeviceRecord, &DeviceFlags)>> = BTreeMap::new();
    for (record, flags) in &devices {
        if let Some(flags) = flags
            && let Some(code) = flags.commune.as_ref().filter(|c| wanted.contains(c))
        {
            pcs.entry(code).or_default().push((record, flags));
        }
    }
    let origins: BTreeMap<DeviceId, &Origin> = devices
        .iter()
        .filter_map(|(r, _)| r.origin.as_ref().map(|o| (r.id, o)))
        .collect();
    // A peripheral belongs where the first PC that saw it (and has an
    // origin) is enrolled.
    let mut seen: BTreeMap<CommuneCode, Vec<(Category, Option<SiteCode>)>> = BTreeMap::new();
    for p in store.list_peripherals()? {
        let Some(origin) = p.seen_by.iter().find_map(|pc| origins.get(pc)) else {
            continue;
        };
        if wanted.contains(&origin.commune) {
            seen.entry(origin.commune.clone())
                .or_default()
                .push((Category::from(p.kind), origin.site.clone()));
        }
    }
    let mut by_hand: BTreeMap<CommuneCode, Vec<ManualAsset>> = BTreeMap::new();
    for asset in store.manual_assets(None)? {
        if wanted.contains(&asset.asset.commune) {
            by_hand
                .entry(asset.asset.commune.clone())
                .or_default()
                .push(asset);
        }
    }
    let mut province = None;
    let mut communes = Vec::new();
    for code in codes {
        let registered = store.commune(&code)?;
        if province.is_none() {
            province = registered.as_ref().map(|c| c.province.clone());
        }
        let mut sites: Vec<SiteInput> = store
            .sites(Some(&code))?
            .into_iter()
            .map(|s| SiteInput {
                code: Some(s.site.site),
                name: s.name,
                kind: Some(s.kind),
                staff: s.staff,
                held: BTreeMap::new(),
                line_target_mbps: policy.file.line_targets.for_site(Some(s.kind)),
                line: None,
            })
            .collect();
        let mut flagged = Vec::new();
        for (record, flags) in pcs.get(&code).into_iter().flatten() {
            *site_entry(&mut sites, flags.site.as_ref(), policy)
                .held
                .entry(flags.category)
                .or_default() += 1;
            let proposed = flags.status == Status::Replace
                || (request.include_watch && flags.status == Status::Watch);
            if proposed {
                flagged.push(device_input(store, record, flags)?);
            }
        }
        for (category, site) in seen.get(&code).into_iter().flatten() {
            *site_entry(&mut sites, site.as_ref(), policy)
                .held
                .entry(*category)
                .or_default() += 1;
        }
        // Photocopiers no agent sees: from the assets entered by hand, when
        // the commune keeps such a register (else their holdings are unknown).
        let by_hand = by_hand.remove(&code).unwrap_or_default();
        let hand_counted = if by_hand.is_empty() {
            Vec::new()
        } else {
            HAND_COUNTED.to_vec()
        };
        for asset in by_hand
            .iter()
            .filter(|a| HAND_COUNTED.contains(&a.asset.category))
        {
            *site_entry(&mut sites, asset.asset.site.as_ref(), policy)
                .held
                .entry(asset.asset.category)
                .or_default() += 1;
        }
        for (site, reading) in lines::site_lines(store, policy, &code, chrono::Utc::now())? {
            site_entry(&mut sites, site.as_ref(), policy).line = Some(reading);
        }
        let (full_name_vi, place_vi) = match &registered {
            Some(c) => (c.full_name_vi(), c.name.clone()),
            None => (format!("xã {code}"), code.to_string()),
        };
        communes.push(CommuneInput {
            code,
            full_name_vi,
            place_vi,
            registered: registered.is_some(),
            sites,
            devices: flagged,
            hand_counted,
        });
    }
    Ok(ProposalInput {
        scope: request.scope.clone(),
        as_of: request.as_of,
        include_watch: request.include_watch,
        policy: policy.name(),
        norms: policy.norms().clone(),
        province,
        communes,
    })
}

/// The site entry for `code` (a site the registry does not know gets an
/// entry named by its code; `None` the "unknown site" entry).
fn site_entry<'a>(
    sites: &'a mut Vec<SiteInput>,
    code: Option<&SiteCode>,
    policy: &Policy,
) -> &'a mut SiteInput {
    let index = match sites.iter().position(|s| s.code.as_ref() == code) {
        Some(i) => i,
        None => {
            sites.push(SiteInput {
                code: code.cloned(),
                name: code.map_or_else(|| UNKNOWN_SITE_VI.to_owned(), |c| format!("Điểm {c}")),
                kind: None,
                staff: None,
                held: BTreeMap::new(),
                line_target_mbps: policy.file.line_targets.for_site(None),
                line: None,
            });
            sites.len() - 1
        }
    };
    &mut sites[index]
}

fn device_input(
    store: &Store,
    record: &DeviceRecord,
    flags: &DeviceFlags,
) -> Result<DeviceInput, StoreError> {
    let asset = store.asset(&record.id)?.unwrap_or_default();
    let facts = &record.facts;
    let model = match (&facts.vendor, &facts.model) {
        (Some(v), Some(m)) => Some(format!("{v} {m}")),
        (v, m) => m.clone().or_else(|| v.clone()),
    };
    Ok(DeviceInput {
        id: record.id,
        category: flags.category,
        status: flags.status,
        site: flags.site.clone(),
        hostname: facts.hostname.clone(),
        model,
        serial: facts.serial.clone(),
        asset_tag: asset.asset_tag,
        in_service: asset.in_service,
        estimated_years: flags.age.earliest.zip(flags.age.latest),
        cost_vnd: asset.cost_vnd,
        residual_vnd: flags.wear.as_ref().map(|w| w.residual_vnd),
        life: flags
            .service_life
            .as_ref()
            .map(|t| (t.life_years, t.regime.clone())),
        reasons: flags
            .reasons
            .iter()
            .filter(|r| r.severity > Severity::Info)
            .map(|r| ReasonInput {
                rule: r.rule.clone(),
                blocking: r.severity == Severity::Blocking,
                vi: r.vi.clone(),
            })
            .collect(),
    })
}
