//! A device's status (`ok` / `watch` / `replace`) and every reason for it:
//! the service-life test (from the register, else from the age estimate)
//! and the configuration rules. Each reason names its rule, severity, the
//! value seen and the threshold, in Vietnamese and English.

use chrono::{DateTime, NaiveDate, Utc};
use kiemke_shared::{CommuneCode, DeviceId, Inventory, Lang, SiteCode, SiteKind};
use serde::{Deserialize, Serialize};

use super::age::{self, AgeEstimate, Confidence};
use super::category::Category;
use super::cpu::CpuTable;
use super::depreciation::{self, ServiceLife, ServiceLifeTest, Wear};
use super::file::Severity;
use super::register::AssetRecord;
use super::rules::{self, PrinterFacts};
use super::{Policy, year_end};

/// What to do about a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// Service life ends within the watch window, or a warning rule.
    Watch,
    /// Past its service life (hết hạn sử dụng), or a blocking rule.
    Replace,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Ok, Status::Watch, Status::Replace];

    pub fn key(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Watch => "watch",
            Status::Replace => "replace",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Ok => lang.pick("Đạt", "OK"),
            Status::Watch => lang.pick("Cần theo dõi", "Watch"),
            Status::Replace => lang.pick("Đề xuất thay thế", "Replace"),
        }
    }

    fn of(severity: Severity) -> Status {
        match severity {
            Severity::Info => Status::Ok,
            Severity::Warning => Status::Watch,
            Severity::Blocking => Status::Replace,
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|k| k.key() == s.trim())
            .ok_or_else(|| {
                format!("trạng thái không hợp lệ / unknown status {s:?} (ok, watch, replace)")
            })
    }
}

/// One reason for a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule's id in the policy file, e.g. `os-end-of-support`.
    pub rule: String,
    pub severity: Severity,
    /// What was seen.
    pub value: Option<String>,
    /// What the rule asks for.
    pub threshold: Option<String>,
    pub vi: String,
    pub en: String,
}

impl Reason {
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.vi, &self.en)
    }
}

/// Where the category came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CategorySource {
    Register,
    Chassis,
    /// The chassis is unknown: the policy's `unknown-chassis`.
    Assumed,
}

/// Everything the policy concluded about one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceFlags {
    pub device_id: DeviceId,
    pub status: Status,
    /// Blocking reasons first, then warnings, then information.
    pub reasons: Vec<Reason>,
    pub category: Category,
    pub category_source: CategorySource,
    pub commune: Option<CommuneCode>,
    pub site: Option<SiteCode>,
    pub site_kind: Option<SiteKind>,
    pub age: AgeEstimate,
    /// From the register's date, or from the youngest estimate.
    pub service_life: Option<ServiceLifeTest>,
    /// With a register cost and date only.
    pub wear: Option<Wear>,
    pub line_target_mbps: u32,
    pub evaluated_on: NaiveDate,
    pub evaluated_at: DateTime<Utc>,
    pub policy: String,
    pub policy_fingerprint: String,
}

impl DeviceFlags {
    /// Rule ids of the reasons that count (info excluded), for comparing
    /// two evaluations.
    pub fn counted_rules(&self) -> Vec<&str> {
        (self.reasons.iter())
            .filter(|r| r.severity > Severity::Info)
            .map(|r| r.rule.as_str())
            .collect()
    }
}

/// What is known about a device.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeviceInputs<'a> {
    pub inventory: Option<&'a Inventory>,
    pub register: Option<&'a AssetRecord>,
    pub printer: Option<&'a PrinterFacts>,
}

/// Evaluates one device on `as_of`.
pub fn evaluate(
    policy: &Policy,
    cpus: &CpuTable,
    device_id: DeviceId,
    inputs: DeviceInputs<'_>,
    as_of: NaiveDate,
) -> DeviceFlags {
    let register = inputs.register.cloned().unwrap_or_default();
    let chassis = inputs.inventory.and_then(|i| i.system.chassis);
    let (category, category_source) = match (register.category, chassis) {
        (Some(c), _) => (c, CategorySource::Register),
        (None, Some(ch)) => (Category::from_chassis(ch), CategorySource::Chassis),
        (None, None) => (policy.file.assets.unknown_chassis, CategorySource::Assumed),
    };
    let age = age::estimate(
        policy,
        cpus,
        register.in_service,
        inputs.inventory,
        category,
        as_of,
    );
    let line_target_mbps = policy.file.line_targets.for_site(register.site_kind);

    let mut reasons = Vec::new();
    let service_life = service_life_reason(policy, category, &register, &age, as_of, &mut reasons);
    let wear = register
        .in_service
        .zip(register.cost_vnd)
        .map(|(date, cost)| depreciation::wear(policy, category, date, cost, as_of));
    reasons.extend(rules::evaluate(
        policy,
        category,
        inputs.inventory,
        age.cpu.as_ref(),
        line_target_mbps,
        inputs.printer,
        as_of,
    ));
    reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));
    let status = reasons
        .iter()
        .map(|r| Status::of(r.severity))
        .max()
        .unwrap_or(Status::Ok);
    DeviceFlags {
        device_id,
        status,
        reasons,
        category,
        category_source,
        commune: register.commune,
        site: register.site,
        site_kind: register.site_kind,
        age,
        service_life,
        wear,
        line_target_mbps,
        evaluated_on: as_of,
        evaluated_at: Utc::now(),
        policy: policy.name(),
        policy_fingerprint: policy.fingerprint.clone(),
    }
}

/// The service-life reason. From the register's date the test is exact; from
/// an estimate, "past" is judged on the youngest possible in-service date
/// (31/12 of the latest year) and counts as blocking only when the estimate
/// has at least two agreeing sources; otherwise it is a warning.
fn service_life_reason(
    policy: &Policy,
    category: Category,
    register: &AssetRecord,
    age: &AgeEstimate,
    as_of: NaiveDate,
    reasons: &mut Vec<Reason>,
) -> Option<ServiceLifeTest> {
    let rule = &policy.file.rules.service_life;
    if !rule.applies(category) {
        return None;
    }
    let d = |date: NaiveDate| date.format("%d/%m/%Y").to_string();
    let push =
        |reasons: &mut Vec<Reason>, severity, t: &ServiceLifeTest, vi: String, en: String| {
            let value = Some(d(t.in_service));
            let threshold = Some(format!("{} năm / years ({})", t.life_years, t.regime));
            reasons.push(rules::reason(
                "service-life",
                rule,
                severity,
                value,
                threshold,
                (&vi, &en),
            ));
        };
    if let Some(date) = register.in_service {
        let t = depreciation::service_life(policy, category, date, as_of);
        let basis_vi = format!(
            "đưa vào sử dụng {} theo sổ tài sản, {} năm theo {}",
            d(date),
            t.life_years,
            t.source_vi
        );
        let basis_en = format!(
            "in service since {} per the asset register, {} years under {}",
            d(date),
            t.life_years,
            t.source_en
        );
        match t.state {
            ServiceLife::Past => push(
                reasons,
                rule.severity,
                &t,
                format!("đã hết từ {} ({basis_vi})", d(t.ends)),
                format!("ended on {} ({basis_en})", d(t.ends)),
            ),
            ServiceLife::EndsSoon => push(
                reasons,
                Severity::Warning.min(rule.severity),
                &t,
                format!("sẽ hết vào {} ({basis_vi})", d(t.ends)),
                format!("ends on {} ({basis_en})", d(t.ends)),
            ),
            ServiceLife::InService => {}
        }
        return Some(t);
    }
    let Some(latest) = age.latest else {
        let info = rules::reason(
            "service-life",
            rule,
            Severity::Info,
            None,
            None,
            (
                "chưa xác định được tuổi máy; hãy nhập ngày đưa vào sử dụng từ sổ tài sản",
                "the machine's age is unknown; enter the in-service date from the asset register",
            ),
        );
        reasons.push(info);
        return None;
    };
    let earliest = age.earliest.unwrap_or(latest);
    let youngest = depreciation::service_life(policy, category, year_end(latest), as_of);
    let oldest_start = NaiveDate::from_ymd_opt(earliest, 1, 1).unwrap_or(year_end(earliest));
    let oldest = depreciation::service_life(policy, category, oldest_start, as_of);
    let range = if earliest == latest {
        earliest.to_string()
    } else {
        format!("{earliest}–{latest}")
    };
    let basis_vi = format!(
        "ước tính đưa vào sử dụng năm {range} (độ tin cậy: {}), {} năm theo {}",
        confidence_vi(age.confidence),
        youngest.life_years,
        youngest.source_vi
    );
    let basis_en = format!(
        "estimated in service {range} ({} confidence), {} years under {}",
        confidence_en(age.confidence),
        youngest.life_years,
        youngest.source_en
    );
    match (youngest.state, oldest.state) {
        (ServiceLife::Past, _) if age.confidence >= Confidence::Medium => push(
            reasons,
            rule.severity,
            &youngest,
            format!("đã hết chậm nhất từ {} ({basis_vi})", d(youngest.ends)),
            format!("ended by {} at the latest ({basis_en})", d(youngest.ends)),
        ),
        (ServiceLife::Past, _) | (_, ServiceLife::Past) => push(
            reasons,
            Severity::Warning.min(rule.severity),
            &youngest,
            format!("có thể đã hết ({basis_vi}); hãy xác nhận ngày đưa vào sử dụng"),
            format!("may have ended ({basis_en}); confirm the in-service date"),
        ),
        (ServiceLife::EndsSoon, _) => push(
            reasons,
            Severity::Warning.min(rule.severity),
            &youngest,
            format!("sẽ hết khoảng {} ({basis_vi})", d(youngest.ends)),
            format!("ends around {} ({basis_en})", d(youngest.ends)),
        ),
        _ => {}
    }
    Some(youngest)
}

fn confidence_en(c: Confidence) -> &'static str {
    match c {
        Confidence::None => "no",
        Confidence::Low => "low",
        Confidence::Medium => "medium",
        Confidence::High => "high",
    }
}

fn confidence_vi(c: Confidence) -> &'static str {
    match c {
        Confidence::None => "không có",
        Confidence::Low => "thấp",
        Confidence::Medium => "trung bình",
        Confidence::High => "cao",
    }
}

#[cfg(test)]
mod tests;
