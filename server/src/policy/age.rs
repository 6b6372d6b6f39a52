//! A device's in-service year as a range, from evidence, strongest first:
//! the asset register's date (authoritative); the CPU's launch year (the
//! machine is not older than its CPU); the BIOS release date (unless it is a
//! later firmware update); a built-in panel's EDID year; the OS install date
//! (the machine was in service by then). Without a register date the range
//! is an estimate and never makes a device look older than its evidence.

use chrono::{Datelike, NaiveDate};
use kiemke_shared::Inventory;
use kiemke_shared::inventory::Chassis;
use serde::{Deserialize, Serialize};

use super::Policy;
use super::category::Category;
use super::cpu::{CpuModel, CpuTable};

/// How far an estimate can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// No evidence at all.
    None,
    /// One source.
    Low,
    /// Two sources that agree.
    Medium,
    /// The asset register.
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Register,
    Cpu,
    Bios,
    Monitor,
    OsInstall,
}

/// What a piece of evidence did to the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Fixes the year (the register).
    Authoritative,
    /// The machine entered service this year or later.
    NotBefore,
    /// The machine was in service by this year.
    NotAfter,
    /// Moves the estimate of the latest year.
    Estimate,
    /// Seen but not used (the note says why).
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub source: Source,
    /// What was seen, e.g. `Intel Core i5-3470 (2012)`.
    pub value: String,
    pub year: i32,
    pub role: Role,
    pub note_vi: String,
    pub note_en: String,
}

/// In-service year between `earliest` and `latest` (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeEstimate {
    pub earliest: Option<i32>,
    pub latest: Option<i32>,
    pub confidence: Confidence,
    pub evidence: Vec<Evidence>,
    /// The CPU as the table knows it, if it does.
    pub cpu: Option<CpuModel>,
}

fn ev(source: Source, value: String, year: i32, role: Role, vi: String, en: String) -> Evidence {
    Evidence {
        source,
        value,
        year,
        role,
        note_vi: vi,
        note_en: en,
    }
}

/// Estimates the in-service year range of a device.
pub fn estimate(
    policy: &Policy,
    cpus: &CpuTable,
    register: Option<NaiveDate>,
    inventory: Option<&Inventory>,
    category: Category,
    as_of: NaiveDate,
) -> AgeEstimate {
    let settings = &policy.file.age;
    let gap = i32::from(settings.bios_update_gap_years);
    let window = i32::from(settings.sale_window_years);
    let now = as_of.year();
    let cpu = inventory
        .and_then(|i| i.cpu.brand.as_deref())
        .and_then(|b| cpus.lookup(b));
    let mut evidence = Vec::new();

    if let Some(date) = register {
        evidence.push(ev(
            Source::Register,
            date.format("%d/%m/%Y").to_string(),
            date.year(),
            Role::Authoritative,
            "Ngày đưa vào sử dụng theo sổ tài sản: căn cứ chính thức.".into(),
            "In-service date from the asset register: authoritative.".into(),
        ));
        return AgeEstimate {
            earliest: Some(date.year()),
            latest: Some(date.year()),
            confidence: Confidence::High,
            evidence,
            cpu,
        };
    }

    let mut earliest: Option<i32> = None;
    let mut anchor: Option<i32> = None;
    let mut sources = 0;
    if let Some(c) = &cpu {
        let year = i32::from(c.launch_year);
        earliest = Some(year);
        anchor = Some(year);
        sources += 1;
        evidence.push(ev(
            Source::Cpu,
            format!("{} ({year})", c.model),
            year,
            Role::NotBefore,
            format!("CPU ra mắt năm {year}: máy không cũ hơn CPU của nó."),
            format!("The CPU launched in {year}: a machine is not older than its CPU."),
        ));
    }
    if let Some(date) = inventory.and_then(|i| i.bios.date) {
        let b = date.year();
        let value = format!("BIOS {}", date.format("%d/%m/%Y"));
        let cpu_year = cpu.as_ref().map(|c| i32::from(c.launch_year));
        match cpu_year {
            Some(c) if b > c + gap => evidence.push(ev(
                Source::Bios, value, b, Role::Ignored,
                format!("BIOS mới hơn năm ra mắt CPU ({c}) quá {gap} năm: coi là BIOS đã được cập nhật, không phải tuổi máy."),
                format!("The BIOS is more than {gap} years newer than the CPU ({c}): a firmware update, not the machine's age."),
            )),
            Some(c) if b < c => evidence.push(ev(
                Source::Bios, value, b, Role::Ignored,
                format!("BIOS cũ hơn năm ra mắt CPU ({c}): không nhất quán, không dùng."),
                format!("The BIOS predates the CPU's launch ({c}): inconsistent, not used."),
            )),
            Some(_) => {
                anchor = anchor.max(Some(b));
                sources += 1;
                evidence.push(ev(
                    Source::Bios, value, b, Role::Estimate,
                    "Ngày phát hành BIOS phù hợp với CPU: máy được sản xuất khoảng thời gian này.".into(),
                    "The BIOS date agrees with the CPU: the machine was built around then.".into(),
                ));
            }
            None => {
                earliest = Some(b);
                anchor = Some(b);
                sources += 1;
                evidence.push(ev(
                    Source::Bios, value, b, Role::Estimate,
                    "Ngày phát hành BIOS (có thể đã cập nhật, nên máy có thể cũ hơn).".into(),
                    "BIOS release date (it may have been updated: the machine may be older).".into(),
                ));
            }
        }
    }
    let mut latest = anchor.map(|a| a + window);

    let built_in = matches!(category, Category::Laptop | Category::Tablet)
        || inventory.and_then(|i| i.system.chassis) == Some(Chassis::AllInOne);
    for m in inventory.map(|i| i.monitors.as_slice()).unwrap_or(&[]) {
        let Some(year) = m.year.map(i32::from).filter(|y| (1990..=now).contains(y)) else {
            continue;
        };
        let value = format!("EDID {year} {}", m.model.as_deref().unwrap_or(""))
            .trim()
            .to_owned();
        if built_in {
            if earliest.is_none_or(|e| year > e) {
                earliest = Some(year);
            }
            latest = Some(latest.map_or(year + window, |l| l.max(year)));
            sources += 1;
            evidence.push(ev(
                Source::Monitor,
                value,
                year,
                Role::NotBefore,
                "Màn hình liền máy sản xuất năm này: máy không cũ hơn màn hình.".into(),
                "The built-in panel was made this year: the machine is not older.".into(),
            ));
        } else {
            evidence.push(ev(
                Source::Monitor,
                value,
                year,
                Role::Ignored,
                "Màn hình rời có thể đã được thay hoặc chuyển từ máy khác: chỉ tham khảo.".into(),
                "An external monitor may have been replaced or moved: for reference only.".into(),
            ));
        }
    }

    if let Some(installed) = inventory.and_then(|i| i.os.install_date) {
        let year = installed.year();
        let value = format!("{}", installed.format("%d/%m/%Y"));
        if year > now || earliest.is_some_and(|e| year < e) {
            evidence.push(ev(
                Source::OsInstall, value, year, Role::Ignored,
                "Ngày cài hệ điều hành không nhất quán với các bằng chứng khác (đồng hồ sai hoặc bản sao ổ đĩa): không dùng.".into(),
                "The OS install date disagrees with the other evidence (wrong clock or a cloned disk): not used.".into(),
            ));
        } else {
            latest = Some(latest.map_or(year, |l| l.min(year)));
            sources += 1;
            evidence.push(ev(
                Source::OsInstall,
                value,
                year,
                Role::NotAfter,
                "Hệ điều hành được cài năm này: máy đã được sử dụng từ năm này hoặc trước đó."
                    .into(),
                "The OS was installed this year: the machine was in service by then.".into(),
            ));
        }
    }

    let latest = latest
        .map(|l| l.min(now))
        .map(|l| earliest.map_or(l, |e| l.max(e)));
    let confidence = match sources {
        0 => Confidence::None,
        1 => Confidence::Low,
        _ => Confidence::Medium,
    };
    AgeEstimate {
        earliest,
        latest,
        confidence,
        evidence,
        cpu,
    }
}

#[cfg(test)]
mod tests;
