//! The survey's figures as pure functions of what the store holds
//! ([`SurveyInputs`]): a commune's devices by category, the share flagged
//! `replace`/`watch`, its sites' lines, last report, silent PCs and traffic
//! light; the province's totals; and one row per device for pages and
//! exports ([`DeviceLine`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use kiemke_shared::{CommuneCode, DeviceId, SiteKind};
use serde::{Deserialize, Serialize};

use super::lines::{self, SiteLine};
use super::traffic_light::{self, Facts, Light, Unmet};
use crate::policy::{Category, Policy, Status};
use crate::store::communes::CommuneKind;
use crate::store::peripherals::PeripheralRecord;
use crate::store::record::DeviceRecord;
use crate::store::survey::SurveyInputs;

/// One commune's figures: a row of the province overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneSurvey {
    pub code: String,
    /// As documents write it, e.g. "xã Ia Grai" (the code when the commune
    /// is not in the registry).
    pub name: String,
    pub kind: Option<CommuneKind>,
    /// Whether the commune is in the registry (a commune whose agents
    /// report before it is registered still shows).
    pub registered: bool,
    /// PCs by their category and peripherals by kind.
    pub devices_by_category: BTreeMap<Category, u64>,
    pub devices_total: u64,
    /// PCs (devices reporting themselves), of which flagged `replace` and
    /// `watch`.
    pub pcs: u64,
    pub replace: u64,
    pub watch: u64,
    pub replace_share_percent: f64,
    pub watch_share_percent: f64,
    pub sites: Vec<SiteLine>,
    /// Sites whose line meets its target in the window.
    pub sites_meeting_target: u32,
    pub last_report: Option<DateTime<Utc>>,
    /// PCs not heard from for longer than the policy's `silent-days`.
    pub silent_pcs: u64,
    pub light: Light,
    pub unmet: Vec<Unmet>,
}

/// A commune's row of the overview page: [`CommuneSurvey`] without its
/// sites' lines (only how many there are), so the page reads a few hundred
/// bytes per commune instead of every site's 30-day series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneSummary {
    pub code: String,
    pub name: String,
    pub kind: Option<CommuneKind>,
    pub registered: bool,
    pub devices_by_category: BTreeMap<Category, u64>,
    pub devices_total: u64,
    pub pcs: u64,
    pub replace: u64,
    pub watch: u64,
    pub replace_share_percent: f64,
    pub watch_share_percent: f64,
    /// The commune's registered sites.
    pub sites: u32,
    pub sites_meeting_target: u32,
    pub last_report: Option<DateTime<Utc>>,
    pub silent_pcs: u64,
    pub light: Light,
    pub unmet: Vec<Unmet>,
}

impl From<&CommuneSurvey> for CommuneSummary {
    fn from(c: &CommuneSurvey) -> CommuneSummary {
        CommuneSummary {
            code: c.code.clone(),
            name: c.name.clone(),
            kind: c.kind,
            registered: c.registered,
            devices_by_category: c.devices_by_category.clone(),
            devices_total: c.devices_total,
            pcs: c.pcs,
            replace: c.replace,
            watch: c.watch,
            replace_share_percent: c.replace_share_percent,
            watch_share_percent: c.watch_share_percent,
            sites: u32::try_from(c.sites.len()).unwrap_or(u32::MAX),
            sites_meeting_target: c.sites_meeting_target,
            last_report: c.last_report,
            silent_pcs: c.silent_pcs,
            light: c.light,
            unmet: c.unmet.clone(),
        }
    }
}

/// The overview page's data: every commune's summary and the totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvinceOverview {
    pub generated_at: DateTime<Utc>,
    /// By commune code.
    pub communes: Vec<CommuneSummary>,
    pub totals: Totals,
}

impl From<&ProvinceSurvey> for ProvinceOverview {
    fn from(s: &ProvinceSurvey) -> ProvinceOverview {
        ProvinceOverview {
            generated_at: s.generated_at,
            communes: s.communes.iter().map(CommuneSummary::from).collect(),
            totals: s.totals.clone(),
        }
    }
}

/// One device as pages and exports list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceLine {
    pub id: DeviceId,
    /// True for a PC running the agent; false for a printer, scanner or
    /// network device seen by PCs.
    pub pc: bool,
    pub category: Category,
    pub site: Option<String>,
    /// Host name, or the peripheral's name or model.
    pub name: String,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    pub cpu: Option<String>,
    pub ram_gib: Option<f64>,
    /// In service since (a range of years, from the age evidence).
    pub in_service_from: Option<i32>,
    pub in_service_to: Option<i32>,
    /// `null` for peripherals and PCs not evaluated yet.
    pub status: Option<Status>,
    pub reasons_vi: Vec<String>,
    pub reasons_en: Vec<String>,
    pub residual_vnd: Option<u64>,
    pub page_count: Option<u64>,
    pub last_seen: DateTime<Utc>,
    pub silent: bool,
}

/// A commune page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneDetail {
    #[serde(flatten)]
    pub survey: CommuneSurvey,
    /// PCs first, then peripherals; each by site, then name.
    pub devices: Vec<DeviceLine>,
}

/// The province's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub communes: u32,
    pub xanh: u32,
    pub vang: u32,
    pub do_: u32,
    pub devices_by_category: BTreeMap<Category, u64>,
    pub devices_total: u64,
    pub pcs: u64,
    pub replace: u64,
    pub watch: u64,
    pub sites: u32,
    pub sites_meeting_target: u32,
    pub silent_pcs: u64,
}

/// `GET /api/v1/survey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvinceSurvey {
    pub generated_at: DateTime<Utc>,
    /// By commune code.
    pub communes: Vec<CommuneSurvey>,
    pub totals: Totals,
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let share = part as f64 * 100.0 / whole as f64;
    (share * 10.0).round() / 10.0
}

/// Inputs split by commune code.
struct ByCommune<'a> {
    devices: BTreeMap<&'a CommuneCode, Vec<&'a (DeviceRecord, Option<crate::policy::DeviceFlags>)>>,
    /// Each peripheral with the PC that places it (its first reporter).
    peripherals: BTreeMap<&'a CommuneCode, Vec<(&'a PeripheralRecord, &'a DeviceRecord)>>,
}

fn split(inputs: &SurveyInputs) -> ByCommune<'_> {
    let mut devices: BTreeMap<_, Vec<_>> = BTreeMap::new();
    let mut by_id = BTreeMap::new();
    for entry in &inputs.devices {
        if let Some(origin) = &entry.0.origin {
            devices.entry(&origin.commune).or_default().push(entry);
            by_id.insert(entry.0.id, &entry.0);
        }
    }
    let mut peripherals: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for p in &inputs.peripherals {
        let placed = p.seen_by.iter().find_map(|pc| by_id.get(pc));
        if let Some(pc) = placed
            && let Some(origin) = &pc.origin
        {
            peripherals
                .entry(&origin.commune)
                .or_default()
                .push((p, *pc));
        }
    }
    ByCommune {
        devices,
        peripherals,
    }
}

fn site_of(pc: &DeviceRecord) -> Option<String> {
    pc.origin
        .as_ref()
        .and_then(|o| o.site.as_ref())
        .map(ToString::to_string)
}

/// One commune's figures and device rows.
fn one(
    code: &CommuneCode,
    inputs: &SurveyInputs,
    split: &ByCommune<'_>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> CommuneDetail {
    let settings = &policy.file.traffic_light;
    let silent_before = now - Duration::days(i64::from(settings.silent_days));
    let since = now - Duration::days(i64::from(settings.line_window_days));
    let registered = inputs.communes.iter().find(|c| &c.code == code);
    let sites: Vec<_> = (inputs.sites.iter())
        .filter(|s| &s.site.commune == code)
        .cloned()
        .collect();
    let site_lines = lines::site_lines(
        &sites,
        &inputs.speeds,
        &policy.file.line_targets,
        since,
        i64::from(settings.line_window_days),
    );
    let mut rows = Vec::new();
    for (pc, flags) in split.devices.get(code).into_iter().flatten().copied() {
        let f = &pc.facts;
        rows.push(DeviceLine {
            id: pc.id,
            pc: true,
            category: flags.as_ref().map_or(Category::Other, |f| f.category),
            site: site_of(pc),
            name: f.hostname.clone().unwrap_or_else(|| pc.id.to_string()),
            vendor: f.vendor.clone(),
            model: f.model.clone(),
            serial: f.serial.clone(),
            os: f.os_name.clone(),
            cpu: f.cpu_brand.clone(),
            #[allow(clippy::cast_precision_loss)]
            ram_gib: f
                .memory_total_bytes
                .map(|b| (b as f64 / f64::from(1u32 << 30) * 10.0).round() / 10.0),
            in_service_from: flags.as_ref().and_then(|f| f.age.earliest),
            in_service_to: flags.as_ref().and_then(|f| f.age.latest),
            status: flags.as_ref().map(|f| f.status),
            reasons_vi: (flags.iter().flat_map(|f| &f.reasons))
                .map(|r| r.vi.clone())
                .collect(),
            reasons_en: (flags.iter().flat_map(|f| &f.reasons))
                .map(|r| r.en.clone())
                .collect(),
            residual_vnd: flags
                .as_ref()
                .and_then(|f| f.wear.as_ref())
                .map(|w| w.residual_vnd),
            page_count: None,
            last_seen: pc.last_seen,
            silent: pc.last_seen < silent_before,
        });
    }
    let service_centers: BTreeSet<String> = (sites.iter())
        .filter(|s| s.kind == SiteKind::ServiceCenter)
        .map(|s| s.site.site.to_string())
        .collect();
    let mut scanners_at_center = 0u32;
    for (p, pc) in split.peripherals.get(code).into_iter().flatten().copied() {
        let site = site_of(pc);
        if p.kind.scans() && site.as_ref().is_some_and(|s| service_centers.contains(s)) {
            scanners_at_center += 1;
        }
        let name = (p.names.iter().next().cloned())
            .or_else(|| p.model.clone())
            .unwrap_or_else(|| p.id.to_string());
        rows.push(DeviceLine {
            id: p.id,
            pc: false,
            category: Category::from(p.kind),
            site,
            name,
            vendor: p.vendor.clone(),
            model: p.model.clone(),
            serial: p.serial.clone(),
            os: None,
            cpu: None,
            ram_gib: None,
            in_service_from: None,
            in_service_to: None,
            status: None,
            reasons_vi: Vec::new(),
            reasons_en: Vec::new(),
            residual_vnd: None,
            page_count: p.page_count.as_ref().map(|c| c.total),
            last_seen: p.last_seen,
            silent: false,
        });
    }
    rows.sort_by(|a, b| (!a.pc, &a.site, &a.name, a.id).cmp(&(!b.pc, &b.site, &b.name, b.id)));

    let pcs = rows.iter().filter(|r| r.pc).count() as u64;
    let count = |s: Status| rows.iter().filter(|r| r.status == Some(s)).count() as u64;
    let (replace, watch) = (count(Status::Replace), count(Status::Watch));
    let silent_pcs = rows.iter().filter(|r| r.silent).count() as u64;
    let mut devices_by_category = BTreeMap::new();
    for r in &rows {
        *devices_by_category.entry(r.category).or_insert(0) += 1;
    }
    let (light, unmet) = traffic_light::judge(
        settings,
        &Facts {
            sites: &site_lines,
            pcs,
            replace,
            silent: silent_pcs,
            service_center_scanners: (!service_centers.is_empty()).then_some(scanners_at_center),
        },
    );
    let survey = CommuneSurvey {
        code: code.to_string(),
        name: registered.map_or_else(|| code.to_string(), |c| c.full_name_vi()),
        kind: registered.map(|c| c.kind),
        registered: registered.is_some(),
        devices_total: rows.len() as u64,
        devices_by_category,
        pcs,
        replace,
        watch,
        replace_share_percent: percent(replace, pcs),
        watch_share_percent: percent(watch, pcs),
        sites_meeting_target: (site_lines.iter())
            .filter(|s| s.meets_target == Some(true))
            .count() as u32,
        sites: site_lines,
        last_report: rows.iter().filter(|r| r.pc).map(|r| r.last_seen).max(),
        silent_pcs,
        light,
        unmet,
    };
    CommuneDetail {
        survey,
        devices: rows,
    }
}

/// Every commune of the registry and every commune devices report from.
pub fn province(inputs: &SurveyInputs, policy: &Policy, now: DateTime<Utc>) -> ProvinceSurvey {
    let communes = details(inputs, policy, now)
        .into_iter()
        .map(|d| d.survey)
        .collect();
    summarize(communes, now)
}

/// Every commune in detail (devices included), by code.
pub fn details(inputs: &SurveyInputs, policy: &Policy, now: DateTime<Utc>) -> Vec<CommuneDetail> {
    let split = split(inputs);
    let mut codes: BTreeSet<&CommuneCode> = inputs.communes.iter().map(|c| &c.code).collect();
    codes.extend(split.devices.keys().copied());
    (codes.into_iter())
        .map(|code| one(code, inputs, &split, policy, now))
        .collect()
}

/// The province's totals over `communes`.
pub fn summarize(communes: Vec<CommuneSurvey>, now: DateTime<Utc>) -> ProvinceSurvey {
    let summaries: Vec<CommuneSummary> = communes.iter().map(CommuneSummary::from).collect();
    ProvinceSurvey {
        generated_at: now,
        totals: totals(&summaries),
        communes,
    }
}

/// The overview over `communes`' summaries.
pub fn overview(communes: Vec<CommuneSummary>, now: DateTime<Utc>) -> ProvinceOverview {
    ProvinceOverview {
        generated_at: now,
        totals: totals(&communes),
        communes,
    }
}

/// The province's totals over `communes`.
fn totals(communes: &[CommuneSummary]) -> Totals {
    let mut totals = Totals::default();
    for c in communes {
        totals.communes += 1;
        match c.light {
            Light::Xanh => totals.xanh += 1,
            Light::Vang => totals.vang += 1,
            Light::Do => totals.do_ += 1,
        }
        for (category, n) in &c.devices_by_category {
            *totals.devices_by_category.entry(*category).or_insert(0) += n;
        }
        totals.devices_total += c.devices_total;
        totals.pcs += c.pcs;
        totals.replace += c.replace;
        totals.watch += c.watch;
        totals.sites += c.sites;
        totals.sites_meeting_target += c.sites_meeting_target;
        totals.silent_pcs += c.silent_pcs;
    }
    totals
}

/// One commune in detail; `None` when it is neither registered nor
/// reporting.
pub fn commune_detail(
    inputs: &SurveyInputs,
    policy: &Policy,
    code: &CommuneCode,
    now: DateTime<Utc>,
) -> Option<CommuneDetail> {
    let split = split(inputs);
    let known = inputs.communes.iter().any(|c| &c.code == code) || split.devices.contains_key(code);
    known.then(|| one(code, inputs, &split, policy, now))
}
