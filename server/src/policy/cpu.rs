//! CPU brand strings → model, launch year and Windows 11 support, from the
//! data file `server/data/cpu-launch-years.toml` (embedded at build time).
//!
//! The launch year is age evidence (a machine is not older than its CPU), so
//! a string the table does not cover gives `None`: no evidence is better
//! than a wrong year. Parsing is code (brand strings have a handful of
//! shapes); which years and which cut-offs apply is data.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The shipped table. Its parse is checked by the tests below.
const SHIPPED: &str = include_str!("../../data/cpu-launch-years.toml");

static TABLE: LazyLock<CpuTable> = LazyLock::new(|| {
    // The embedded file is parsed by `the_shipped_table_parses` in CI; a
    // failure here is a build defect, not an input error.
    #[allow(clippy::expect_used)]
    CpuTable::parse(SHIPPED).expect("server/data/cpu-launch-years.toml is valid")
});

/// A CPU family as the brand string names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Core,
    CoreUltra,
    Core2,
    Pentium,
    Celeron,
    XeonE3,
    IntelN,
    Ryzen,
    RyzenAi,
    Athlon,
    ASeries,
    Fx,
}

impl Family {
    pub fn vendor(self) -> &'static str {
        match self {
            Family::Ryzen | Family::RyzenAi | Family::Athlon | Family::ASeries | Family::Fx => {
                "AMD"
            }
            _ => "Intel",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Family::Core => "Core",
            Family::CoreUltra => "Core Ultra",
            Family::Core2 => "Core 2",
            Family::Pentium => "Pentium",
            Family::Celeron => "Celeron",
            Family::XeonE3 => "Xeon",
            Family::IntelN => "Processor",
            Family::Ryzen => "Ryzen",
            Family::RyzenAi => "Ryzen AI",
            Family::Athlon => "Athlon",
            Family::ASeries => "",
            Family::Fx => "FX",
        }
    }
}

/// What the policy knows about a CPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuModel {
    /// e.g. `Intel Core i5-3470`, `AMD Ryzen 5 5600G`.
    pub model: String,
    pub family: Family,
    /// Intel Core generation, Core Ultra series, or Ryzen series (2000...).
    pub generation: Option<u16>,
    pub launch_year: u16,
    /// On Microsoft's Windows 11 supported-CPU list; `None` when unknown.
    pub windows11: Option<bool>,
}

/// A brand string taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub family: Family,
    /// `i5`, `5` (Ryzen 5, Core Ultra 5), `A8`...
    pub tier: Option<String>,
    /// Qualifier words between the family and the model, upper-case:
    /// `GOLD`, `II X2`, `PRO`.
    pub line: String,
    /// Letters before the number (`G` in G2030).
    pub prefix: String,
    pub number: u32,
    /// Letters and digits after the number, upper-case (`K`, `U`, `G1`).
    pub suffix: String,
    /// Xeon E3 version (v1–v6).
    pub version: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TableFile {
    windows11: Cutoffs,
    cpu: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Cutoffs {
    core_min_generation: u16,
    core_ultra: bool,
    ryzen_min_number: u32,
    ryzen_ai: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Entry {
    family: Family,
    prefix: Option<String>,
    line: Option<String>,
    numbers: Option<Vec<u32>>,
    from: Option<u32>,
    to: Option<u32>,
    suffixes: Option<Vec<String>>,
    version: Option<u8>,
    year: u16,
    generation: Option<u16>,
    windows11: Option<bool>,
}

impl Entry {
    fn matches(&self, p: &Parsed) -> bool {
        let eq = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(have))
        };
        self.family == p.family
            && eq(&self.prefix, &p.prefix)
            && self
                .line
                .as_deref()
                .is_none_or(|l| p.line.contains(&l.to_ascii_uppercase()))
            && self.numbers.as_ref().is_none_or(|n| n.contains(&p.number))
            && self.from.is_none_or(|f| p.number >= f)
            && self.to.is_none_or(|t| p.number <= t)
            && (self.suffixes.as_ref())
                .is_none_or(|s| s.iter().any(|s| s.eq_ignore_ascii_case(&p.suffix)))
            && self.version.is_none_or(|v| Some(v) == p.version)
    }
}

/// Why the CPU table cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CpuTableError {
    #[error("bảng CPU không hợp lệ tại {path}: {message}")]
    Parse { path: String, message: String },
    #[error("bảng CPU: mục thứ {index} không hợp lệ: {problem}")]
    Invalid { index: usize, problem: String },
}

/// The launch-year table.
#[derive(Debug, Clone)]
pub struct CpuTable {
    entries: Vec<Entry>,
    cutoffs: Cutoffs,
}

impl CpuTable {
    /// The table shipped in the binary.
    pub fn shipped() -> &'static CpuTable {
        &TABLE
    }

    pub fn parse(text: &str) -> Result<CpuTable, CpuTableError> {
        let de = toml::Deserializer::parse(text).map_err(|e| CpuTableError::Parse {
            path: String::new(),
            message: e.message().to_owned(),
        })?;
        let file: TableFile =
            serde_path_to_error::deserialize(de).map_err(|e| CpuTableError::Parse {
                path: e.path().to_string(),
                message: e.inner().message().to_owned(),
            })?;
        for (index, e) in file.cpu.iter().enumerate() {
            let problem = if !(1990..=2100).contains(&e.year) {
                Some("year must be between 1990 and 2100")
            } else if e.from.is_some() != e.to.is_some() {
                Some("from and to go together")
            } else if e.from.zip(e.to).is_some_and(|(f, t)| f > t) {
                Some("from is after to")
            } else if e.numbers.is_none() && e.from.is_none() {
                Some("give numbers or from/to")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(CpuTableError::Invalid {
                    index: index + 1,
                    problem: problem.to_owned(),
                });
            }
        }
        Ok(CpuTable {
            entries: file.cpu,
            cutoffs: file.windows11,
        })
    }

    /// Looks a brand string up; `None` when it is not parsed or not covered.
    pub fn lookup(&self, brand: &str) -> Option<CpuModel> {
        let p = parse(brand)?;
        let entry = self.entries.iter().find(|e| e.matches(&p))?;
        let c = &self.cutoffs;
        let windows11 = entry.windows11.or(match p.family {
            Family::Core => entry.generation.map(|g| g >= c.core_min_generation),
            Family::CoreUltra => Some(c.core_ultra),
            Family::Ryzen => Some(p.number >= c.ryzen_min_number),
            Family::RyzenAi => Some(c.ryzen_ai),
            _ => None,
        });
        Some(CpuModel {
            model: display(&p),
            family: p.family,
            generation: entry.generation,
            launch_year: entry.year,
            windows11,
        })
    }
}

fn display(p: &Parsed) -> String {
    let mut parts = vec![p.family.vendor().to_owned()];
    if !p.family.label().is_empty() {
        parts.push(p.family.label().to_owned());
    }
    let model = format!("{}{}{}", p.prefix, p.number, p.suffix);
    match (&p.tier, p.family) {
        (Some(t), Family::Core | Family::ASeries) => parts.push(format!("{t}-{model}")),
        (Some(t), _) => parts.push(format!("{t} {model}")),
        (None, Family::XeonE3) => parts.push(format!("E3-{model}")),
        (None, Family::Fx) => {
            parts.pop();
            parts.push(format!("FX-{model}"));
        }
        (None, _) => parts.push(model),
    }
    if let Some(v) = p.version.filter(|v| *v > 1) {
        parts.push(format!("v{v}"));
    }
    parts.join(" ")
}

/// Splits `G2030`, `5600G`, `1035G1`, `650` into (prefix, number, suffix):
/// up to two leading letters, then 2–5 digits, then letters and digits.
fn split_model(token: &str) -> Option<(String, u32, String)> {
    let t = token.to_ascii_uppercase();
    let letters = t.chars().take_while(char::is_ascii_alphabetic).count();
    if letters > 2 {
        return None;
    }
    let rest = t.get(letters..)?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if !(2..=5).contains(&digits) {
        return None;
    }
    let suffix = rest.get(digits..)?;
    if !suffix.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let number = rest.get(..digits)?.parse().ok()?;
    Some((t.get(..letters)?.to_owned(), number, suffix.to_owned()))
}

/// Takes a brand string apart; `None` for shapes not understood.
pub fn parse(brand: &str) -> Option<Parsed> {
    let mut s = brand.to_owned();
    for junk in ["(R)", "(r)", "(TM)", "(tm)", "(Tm)", "®", "™"] {
        s = s.replace(junk, "");
    }
    let lower = s.to_ascii_lowercase();
    // Everything after the clock speed or the graphics description is noise.
    let cut = [" @", " with ", " w/ ", " radeon", ","]
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
        .unwrap_or(s.len());
    let head = s.get(..cut).unwrap_or(&s);
    let noise = [
        "CPU",
        "PROCESSOR",
        "APU",
        "INTEL",
        "AMD",
        "GEN",
        "MOBILE",
        "EIGHT-CORE",
        "SIX-CORE",
        "QUAD-CORE",
    ];
    let tokens: Vec<String> = head
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .filter(|t| !noise.contains(&t.as_str()))
        .filter(|t| !(t.ends_with("TH") || t.ends_with("-CORE")) || t.starts_with("FX"))
        .collect();
    let pos = |word: &str| tokens.iter().position(|t| t == word);
    let after = |i: usize| tokens.get(i + 1..).unwrap_or(&[]).to_vec();

    for (word, family) in [
        ("PENTIUM", Family::Pentium),
        ("CELERON", Family::Celeron),
        ("ATHLON", Family::Athlon),
    ] {
        if let Some(i) = pos(word) {
            return simple(family, &after(i));
        }
    }
    if let Some(i) = pos("XEON") {
        return xeon(&after(i));
    }
    if let Some(i) = pos("RYZEN") {
        let rest = after(i);
        return match rest.first().map(String::as_str) {
            Some("AI") => tiered(Family::RyzenAi, rest.get(1..).unwrap_or(&[])),
            _ => tiered(Family::Ryzen, &rest),
        };
    }
    if let Some(i) = pos("CORE2") {
        return simple(Family::Core2, &after(i));
    }
    if let Some(i) = pos("CORE") {
        let rest = after(i);
        return match rest.first().map(String::as_str) {
            Some("2") => simple(Family::Core2, rest.get(1..).unwrap_or(&[])),
            Some("ULTRA") => tiered(Family::CoreUltra, rest.get(1..).unwrap_or(&[])),
            Some(t) if t.starts_with('I') => core_i(&rest),
            _ => None,
        };
    }
    if let Some(t) = tokens.iter().find(|t| t.starts_with("FX-")) {
        let (_, number, suffix) = split_model(t.get(3..)?)?;
        return Some(model(Family::Fx, None, String::new(), "", number, suffix));
    }
    if let Some((tier, rest)) = tokens.iter().find_map(|t| a_series(t)) {
        let (prefix, number, suffix) = split_model(&rest)?;
        return prefix.is_empty().then(|| {
            model(
                Family::ASeries,
                Some(tier),
                String::new(),
                "",
                number,
                suffix,
            )
        });
    }
    // "Intel(R) N100": the Alder Lake-N "Intel Processor" line.
    if tokens.len() == 1 {
        let (prefix, number, suffix) = split_model(&tokens[0])?;
        return (prefix == "N" && suffix.is_empty() && brand.contains("Intel"))
            .then(|| model(Family::IntelN, None, String::new(), "N", number, suffix));
    }
    None
}

fn model(
    family: Family,
    tier: Option<String>,
    line: String,
    prefix: &str,
    number: u32,
    suffix: String,
) -> Parsed {
    Parsed {
        family,
        tier,
        line,
        prefix: prefix.to_owned(),
        number,
        suffix,
        version: None,
    }
}

/// `Pentium [Gold|Dual-Core] G5400`, `Athlon II X2 250`: line words, then
/// the first token that is a model number.
fn simple(family: Family, rest: &[String]) -> Option<Parsed> {
    let at = rest.iter().position(|t| split_model(t).is_some())?;
    let (prefix, number, suffix) = split_model(&rest[at])?;
    let line = rest.get(..at).unwrap_or(&[]).join(" ");
    Some(model(family, None, line, &prefix, number, suffix))
}

/// `Ryzen 5 [PRO] 5600G`, `Core Ultra 5 125H`, `Ryzen AI 9 HX 370`.
fn tiered(family: Family, rest: &[String]) -> Option<Parsed> {
    let tier = rest
        .first()
        .filter(|t| t.chars().all(|c| c.is_ascii_digit()))?;
    let mut p = simple(family, rest.get(1..)?)?;
    if !p.prefix.is_empty() {
        return None;
    }
    p.tier = Some(tier.clone());
    Some(p)
}

/// `i5-3470`, `i5-1035G1`, and the first generation's `i5 CPU 650`,
/// `i5 CPU M 520`, `i7 CPU Q 720`, `i7 CPU X 980`.
fn core_i(rest: &[String]) -> Option<Parsed> {
    let first = rest.first()?;
    let (tier, tail) = match first.split_once('-') {
        Some((tier, number)) => (tier.to_owned(), Some(number.to_owned())),
        None => (first.clone(), None),
    };
    if !matches!(tier.as_str(), "I3" | "I5" | "I7" | "I9") {
        return None;
    }
    let tier = Some(tier.to_ascii_lowercase());
    if let Some(tail) = tail {
        let (prefix, number, suffix) = split_model(&tail)?;
        return prefix
            .is_empty()
            .then(|| model(Family::Core, tier, String::new(), "", number, suffix));
    }
    let mut letter = String::new();
    for t in rest.get(1..)? {
        match t.as_str() {
            "M" | "X" | "U" => letter = t.clone(),
            "Q" => letter = "QM".to_owned(),
            _ => {
                let (prefix, number, suffix) = split_model(t)?;
                if !prefix.is_empty() || number >= 1000 {
                    return None;
                }
                let suffix = if suffix.is_empty() { letter } else { suffix };
                return Some(model(Family::Core, tier, String::new(), "", number, suffix));
            }
        }
    }
    None
}

/// `E3-1230 V2`, `E3-1230 v5`, and v1's `E3-1230 0` or bare `E3-1230`.
fn xeon(rest: &[String]) -> Option<Parsed> {
    let number = rest.first()?.strip_prefix("E3-")?;
    let (prefix, number, suffix) = split_model(number)?;
    if !prefix.is_empty() {
        return None;
    }
    let version = match rest.get(1).map(String::as_str) {
        None | Some("0") => 1,
        Some(v) => v.strip_prefix('V')?.parse().ok()?,
    };
    let mut p = model(Family::XeonE3, None, String::new(), "", number, suffix);
    p.version = Some(version);
    Some(p)
}

/// `A8-7600` → ("A8", "7600").
fn a_series(token: &str) -> Option<(String, String)> {
    let (tier, rest) = token.split_once('-')?;
    matches!(tier, "A4" | "A6" | "A8" | "A9" | "A10" | "A12")
        .then(|| (tier.to_owned(), rest.to_owned()))
}

#[cfg(test)]
mod tests;
