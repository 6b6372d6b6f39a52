//! A made-up province for demos, tests and load simulations: communes with
//! their sites, PCs with a realistic spread of ages and specs, printers and
//! scanners, and line measurements, deterministic from a seed.
//!
//! Generation is pure ([`generate`] returns [`Province`]: registry records
//! and the agents' reports); [`load::load`] puts it into a store through the
//! same ingest and flag evaluation real reports go through, so every figure
//! the survey shows is computed, not planted.
//!
//! Each commune gets a [`Profile`] that decides, by construction, which
//! traffic-light criteria it fails (slow sites, too many old PCs, no scanner
//! at the service center, too many silent PCs): [`Profile::expected_unmet`]
//! is what tests compare the survey's verdict with.
//!
//! # Layout
//! - [`names`]: commune and site names.
//! - [`hardware`]: inventories, printers and scanners, speed tests.
//! - [`load`]: into a store.

pub mod hardware;
pub mod load;
pub mod names;

use chrono::{DateTime, Duration, Utc};
use kiemke_shared::{AgentId, CommuneCode, Report, SiteCode, SiteKind, SiteRef};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::store::communes::CommuneRecord;
use crate::store::record::Origin;
use crate::store::sites::{Line, SiteRecord};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FixtureSpec {
    pub seed: u64,
    /// 135 for Gia Lai.
    pub communes: usize,
    /// PCs per commune, inclusive range (20–80 for a province).
    pub pcs_min: usize,
    pub pcs_max: usize,
    /// "Now": the newest report is received shortly before it.
    pub now: DateTime<Utc>,
    pub province: String,
}

impl FixtureSpec {
    /// Gia Lai after the 2025 merger: 135 communes, 20–80 PCs each.
    pub fn province(seed: u64, now: DateTime<Utc>) -> FixtureSpec {
        FixtureSpec {
            seed,
            communes: 135,
            pcs_min: 20,
            pcs_max: 80,
            now,
            province: "Gia Lai".into(),
        }
    }
}

/// Which traffic-light criteria a commune is built to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Profile {
    /// Sites whose every measurement is below target (the last sites of
    /// the commune, the service center never).
    pub slow_sites: usize,
    /// About half the PCs are old enough to be replaced (above the 30 %
    /// default); otherwise at most a fifth.
    pub many_old_pcs: bool,
    /// No scanner at the service center.
    pub no_center_scanner: bool,
    /// About a third of the PCs silent for 10+ days (above the 20 %
    /// default); otherwise none.
    pub many_silent: bool,
}

impl Profile {
    /// How many criteria of the default policy this commune fails.
    pub fn expected_unmet(&self) -> usize {
        self.slow_sites
            + usize::from(self.many_old_pcs)
            + usize::from(self.no_center_scanner)
            + usize::from(self.many_silent)
    }
}

/// One PC and everything its agent sent.
#[derive(Debug, Clone)]
pub struct FixturePc {
    pub agent_id: AgentId,
    pub origin: Origin,
    /// Old hardware, built to be flagged `replace`.
    pub old: bool,
    pub silent: bool,
    /// Reports with the time the server receives them, oldest first.
    pub reports: Vec<(Report, DateTime<Utc>)>,
}

/// One commune of the fixture.
#[derive(Debug, Clone)]
pub struct FixtureCommune {
    pub record: CommuneRecord,
    pub sites: Vec<SiteRecord>,
    pub profile: Profile,
    pub pcs: Vec<FixturePc>,
}

/// The whole province.
#[derive(Debug, Clone)]
pub struct Province {
    pub communes: Vec<FixtureCommune>,
}

impl Province {
    pub fn pcs(&self) -> usize {
        self.communes.iter().map(|c| c.pcs.len()).sum()
    }
}

/// A profile drawn so that about half the communes are XANH, most others
/// VÀNG and a few ĐỎ (Gia Lai 2025: 66 green, 69 yellow of 135).
fn draw_profile(rng: &mut StdRng, sites: usize) -> Profile {
    let roll: u32 = rng.random_range(0..100);
    if roll < 48 {
        return Profile::default();
    }
    if roll >= 94 {
        // ĐỎ: every non-center site slow and every commune-wide criterion.
        return Profile {
            slow_sites: sites - 1,
            many_old_pcs: true,
            no_center_scanner: true,
            many_silent: true,
        };
    }
    let mut p = Profile {
        slow_sites: rng.random_range(0..=2.min(sites - 1)),
        many_old_pcs: rng.random_bool(0.5),
        no_center_scanner: rng.random_bool(0.3),
        many_silent: rng.random_bool(0.2),
    };
    if p.expected_unmet() == 0 {
        p.many_old_pcs = true;
    }
    p
}

/// The site kinds of a commune with `n` sites (3–5): headquarters and
/// service center always, then a health station, a school, a village hall.
const SITE_KINDS: [(SiteKind, &str); 5] = [
    (SiteKind::Headquarters, "tru-so"),
    (SiteKind::ServiceCenter, "ttpvhcc"),
    (SiteKind::HealthStation, "tram-y-te"),
    (SiteKind::School, "truong-thcs"),
    (SiteKind::VillageHall, "nha-van-hoa-thon-1"),
];

/// Generates the province (pure and deterministic from the spec).
pub fn generate(spec: &FixtureSpec) -> Province {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let names = names::commune_names(spec.communes, &mut rng);
    let created = spec.now - Duration::days(60);
    let mut communes = Vec::with_capacity(spec.communes);
    for (i, (kind, name)) in names.into_iter().enumerate() {
        let code = CommuneCode::parse(&format!("{:05}", 23000 + 3 * i))
            .expect("five digits by construction");
        let record = CommuneRecord {
            code: code.clone(),
            kind,
            name: name.clone(),
            province: spec.province.clone(),
            created_at: created,
        };
        let n_sites = rng.random_range(3..=5);
        let sites: Vec<SiteRecord> = SITE_KINDS[..n_sites]
            .iter()
            .map(|(site_kind, site_code)| SiteRecord {
                site: SiteRef {
                    commune: code.clone(),
                    site: SiteCode::parse(site_code).expect("valid site codes above"),
                },
                kind: *site_kind,
                name: names::site_name(*site_kind, kind, &name),
                lines: vec![Line {
                    isp: names::isp(&mut rng),
                    kind: kiemke_shared::site::LineKind::Internet,
                    contracted_mbps: Some(if *site_kind == SiteKind::ServiceCenter {
                        300
                    } else {
                        150
                    }),
                }],
                staff: Some(rng.random_range(4..=25)),
                created_at: created,
            })
            .collect();
        let profile = draw_profile(&mut rng, n_sites);
        let pcs = hardware::commune_pcs(spec, &record, &sites, &profile, &mut rng);
        communes.push(FixtureCommune {
            record,
            sites,
            profile,
            pcs,
        });
    }
    Province { communes }
}

#[cfg(test)]
mod tests;
