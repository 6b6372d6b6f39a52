//! The commune traffic light: XANH when every criterion of the policy
//! file's `[traffic-light]` section is met, VÀNG with 1 to
//! `yellow-max-unmet` criteria unmet, ĐỎ beyond (DOMAIN.md, "The commune
//! traffic light"). Every unmet criterion is listed with what was seen.

use kiemke_shared::Lang;
use serde::{Deserialize, Serialize};

use super::lines::SiteLine;
use crate::lines::Verdict;
use crate::policy::TrafficLight;

/// The rating of a commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Xanh,
    Vang,
    Do,
}

impl Light {
    pub const ALL: [Light; 3] = [Light::Xanh, Light::Vang, Light::Do];

    /// The API and CSS spelling.
    pub fn key(self) -> &'static str {
        match self {
            Light::Xanh => "xanh",
            Light::Vang => "vang",
            Light::Do => "do",
        }
    }

    /// What a user reads: the province's own words in Vietnamese.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Light::Xanh => lang.pick("XANH", "GREEN"),
            Light::Vang => lang.pick("VÀNG", "YELLOW"),
            Light::Do => lang.pick("ĐỎ", "RED"),
        }
    }
}

impl std::str::FromStr for Light {
    type Err = String;
    fn from_str(s: &str) -> Result<Light, String> {
        Light::ALL
            .into_iter()
            .find(|l| l.key() == s.trim())
            .ok_or_else(|| format!("{s:?}: xanh, vang, do"))
    }
}

/// One criterion not met, with what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmet {
    /// `site-line:{site}`, `replace-share`, `service-center-scanners`,
    /// `silent-share`, `no-reports`.
    pub criterion: String,
    pub vi: String,
    pub en: String,
}

impl Unmet {
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.vi, &self.en)
    }
}

/// What a commune is judged on.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub sites: &'a [SiteLine],
    /// PCs reporting from the commune (any status).
    pub pcs: u64,
    /// Of those, flagged `replace`.
    pub replace: u64,
    /// Of those, silent longer than the policy's `silent-days`.
    pub silent: u64,
    /// Scanners seen at the commune's service center(s); `None` when the
    /// commune has no service center in its sites registry.
    pub service_center_scanners: Option<u32>,
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        #[allow(clippy::cast_precision_loss)]
        let share = part as f64 * 100.0 / whole as f64;
        share
    }
}

/// The light and the unmet criteria, in a stable order (sites by code,
/// then the commune-wide criteria).
pub fn judge(settings: &TrafficLight, facts: &Facts<'_>) -> (Light, Vec<Unmet>) {
    let mut unmet = Vec::new();
    if facts.pcs == 0 {
        unmet.push(Unmet {
            criterion: "no-reports".into(),
            vi: "Chưa có máy tính nào của xã gửi báo cáo.".into(),
            en: "No PC of the commune has reported yet.".into(),
        });
    }
    if settings.site_lines {
        for site in facts.sites {
            let criterion = format!("site-line:{}", site.code);
            match (site.verdict, site.best_download_mbps) {
                (Verdict::NoData, _) | (_, None) => unmet.push(Unmet {
                    criterion,
                    vi: format!(
                        "Đường truyền tại {} chưa có số đo trong {} ngày qua (mục tiêu {} Mbps).",
                        site.name, settings.line_window_days, site.target_mbps
                    ),
                    en: format!(
                        "The line at {} has no measurement in the last {} days (target {} Mbps).",
                        site.name, settings.line_window_days, site.target_mbps
                    ),
                }),
                (Verdict::Below, Some(best)) => unmet.push(Unmet {
                    criterion,
                    vi: format!(
                        "Đường truyền tại {} chỉ đạt {best:.0} Mbps, dưới mục tiêu {} Mbps.",
                        site.name, site.target_mbps
                    ),
                    en: format!(
                        "The line at {} reaches only {best:.0} Mbps, below its target of {} Mbps.",
                        site.name, site.target_mbps
                    ),
                }),
                (Verdict::PcLimited, Some(_)) => unmet.push(Unmet {
                    criterion,
                    vi: format!(
                        "Đường truyền tại {} chưa kết luận được: card mạng của các máy đo chậm hơn mục tiêu {} Mbps.",
                        site.name, site.target_mbps
                    ),
                    en: format!(
                        "The line at {} cannot be judged: the testing PCs' own links are slower than its {} Mbps target.",
                        site.name, site.target_mbps
                    ),
                }),
                (Verdict::Meets, Some(_)) => {}
            }
        }
    }
    if let Some(max) = settings.max_replace_share_percent {
        let share = percent(facts.replace, facts.pcs);
        if facts.pcs > 0 && share > f64::from(max) {
            unmet.push(Unmet {
                criterion: "replace-share".into(),
                vi: format!(
                    "{} trên {} máy tính ({share:.0} %) đề xuất thay thế, vượt mức {max} %.",
                    facts.replace, facts.pcs
                ),
                en: format!(
                    "{} of {} PCs ({share:.0} %) are due for replacement, above {max} %.",
                    facts.replace, facts.pcs
                ),
            });
        }
    }
    if let Some(min) = settings.min_service_center_scanners {
        match facts.service_center_scanners {
            None => unmet.push(Unmet {
                criterion: "service-center-scanners".into(),
                vi: "Danh sách điểm của xã chưa có Trung tâm Phục vụ hành chính công.".into(),
                en: "The commune's sites do not include a public service center.".into(),
            }),
            Some(n) if n < min => unmet.push(Unmet {
                criterion: "service-center-scanners".into(),
                vi: format!(
                    "Trung tâm Phục vụ hành chính công có {n} máy scan, cần ít nhất {min}."
                ),
                en: format!("The public service center has {n} scanners; at least {min} needed."),
            }),
            Some(_) => {}
        }
    }
    if let Some(max) = settings.max_silent_share_percent {
        let share = percent(facts.silent, facts.pcs);
        if facts.pcs > 0 && share > f64::from(max) {
            unmet.push(Unmet {
                criterion: "silent-share".into(),
                vi: format!(
                    "{} trên {} máy tính ({share:.0} %) không gửi báo cáo quá {} ngày, vượt mức {max} %.",
                    facts.silent, facts.pcs, settings.silent_days
                ),
                en: format!(
                    "{} of {} PCs ({share:.0} %) have not reported for over {} days, above {max} %.",
                    facts.silent, facts.pcs, settings.silent_days
                ),
            });
        }
    }
    let n = u32::try_from(unmet.len()).unwrap_or(u32::MAX);
    let light = if n == 0 {
        Light::Xanh
    } else if n <= settings.yellow_max_unmet {
        Light::Vang
    } else {
        Light::Do
    };
    (light, unmet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(code: &str, target: u32, best: Option<f64>) -> SiteLine {
        SiteLine {
            code: code.into(),
            name: code.into(),
            kind: kiemke_shared::SiteKind::Other,
            target_mbps: target,
            best_download_mbps: best,
            best_upload_mbps: best,
            tests: u32::from(best.is_some()),
            verdict: match best {
                None => Verdict::NoData,
                Some(b) if b >= f64::from(target) => Verdict::Meets,
                Some(_) => Verdict::Below,
            },
            meets_target: best.map(|b| b >= f64::from(target)),
            daily: Vec::new(),
        }
    }

    #[test]
    fn lights_by_number_of_unmet_criteria() {
        let settings = TrafficLight::default();
        let good = [site("a", 100, Some(150.0)), site("b", 200, Some(200.0))];
        let facts = Facts {
            sites: &good,
            pcs: 10,
            replace: 3,
            silent: 2,
            service_center_scanners: Some(1),
        };
        // 30 % replace and 20 % silent are at the limits, not above.
        assert_eq!(judge(&settings, &facts), (Light::Xanh, vec![]));

        let slow = [site("a", 100, Some(99.9)), site("b", 200, None)];
        let (light, unmet) = judge(
            &settings,
            &Facts {
                sites: &slow,
                ..facts
            },
        );
        assert_eq!(light, Light::Vang);
        let ids: Vec<_> = unmet.iter().map(|u| u.criterion.as_str()).collect();
        assert_eq!(ids, ["site-line:a", "site-line:b"]);
        assert!(unmet[0].vi.contains("100 Mbps"), "{}", unmet[0].vi);

        let six = [
            site("a", 100, None),
            site("b", 100, None),
            site("c", 100, None),
        ];
        let (light, unmet) = judge(
            &settings,
            &Facts {
                sites: &six,
                pcs: 10,
                replace: 4,
                silent: 3,
                service_center_scanners: Some(0),
            },
        );
        assert_eq!(unmet.len(), 6);
        assert_eq!(light, Light::Do);
    }

    #[test]
    fn switched_off_criteria_are_not_judged() {
        let settings = TrafficLight {
            site_lines: false,
            max_replace_share_percent: None,
            min_service_center_scanners: None,
            max_silent_share_percent: None,
            ..TrafficLight::default()
        };
        let sites = [site("a", 100, None)];
        let facts = Facts {
            sites: &sites,
            pcs: 1,
            replace: 1,
            silent: 1,
            service_center_scanners: None,
        };
        assert_eq!(judge(&settings, &facts).0, Light::Xanh);
        let facts = Facts { pcs: 0, ..facts };
        let (light, unmet) = judge(&settings, &facts);
        assert_eq!(
            (light, unmet[0].criterion.as_str()),
            (Light::Vang, "no-reports")
        );
    }
}
