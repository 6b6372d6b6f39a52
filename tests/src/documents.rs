//! Opening generated documents the way a reviewer would: LibreOffice
//! (headless) converts a `.docx` to PDF and a `.xlsx` to CSV, recomputing
//! every formula; `pdftotext` reads the PDF back and `pdftoppm` renders its
//! first page to PNG under `target/screenshots/` for a reviewer to look at.
//!
//! Each [`Office`] has a private LibreOffice profile, so parallel runs do
//! not collide, set to recalculate Excel files on load (LibreOffice's
//! default is to trust the values cached in the file).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The apt packages these helpers need, for error messages and CI.
pub const PACKAGES: &str =
    "libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils fonts-liberation";

const RECALC_ALWAYS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"#;

/// A headless LibreOffice with its own profile.
pub struct Office {
    program: PathBuf,
    profile: tempfile::TempDir,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

impl Office {
    /// Finds LibreOffice and the poppler tools, or says what to install.
    pub fn find() -> anyhow::Result<Office> {
        let Some(program) = which("soffice").or_else(|| which("libreoffice")) else {
            bail!(
                "LibreOffice is not installed (needed to open the generated documents): apt-get install {PACKAGES}"
            );
        };
        for tool in ["pdftotext", "pdftoppm"] {
            if which(tool).is_none() {
                bail!("{tool} is not installed: apt-get install {PACKAGES}");
            }
        }
        let profile = tempfile::tempdir()?;
        let user = profile.path().join("user");
        std::fs::create_dir_all(&user)?;
        std::fs::write(user.join("registrymodifications.xcu"), RECALC_ALWAYS)?;
        Ok(Office { program, profile })
    }

    /// Converts `input` with LibreOffice's `--convert-to FILTER` into
    /// `outdir`; returns the file written.
    pub fn convert(&self, input: &Path, filter: &str, outdir: &Path) -> anyhow::Result<PathBuf> {
        let profile = format!(
            "-env:UserInstallation=file://{}",
            self.profile.path().display()
        );
        let output = Command::new(&self.program)
            .arg(profile)
            .args([
                "--headless",
                "--norestore",
                "--convert-to",
                filter,
                "--outdir",
            ])
            .arg(outdir)
            .arg(input)
            .output()
            .with_context(|| format!("Failed to run {}", self.program.display()))?;
        let extension = filter.split(':').next().unwrap_or(filter);
        let stem = input.file_stem().context("input has no name")?;
        let out = outdir.join(stem).with_extension(extension);
        if !output.status.success() || !out.is_file() {
            bail!(
                "LibreOffice could not convert {} to {extension}: {}{}",
                input.display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(out)
    }
}

/// The text of a PDF, in reading order.
pub fn pdf_text(pdf: &Path) -> anyhow::Result<String> {
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .context("Failed to run pdftotext")?;
    if !output.status.success() {
        bail!(
            "pdftotext failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Runs of whitespace as one space: text that wrapped across lines reads
/// as written.
pub fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text with every space removed: pdftotext splits some words of
/// justified text at the gaps between glyphs, so comparisons ignore spaces.
pub fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Renders the first page of `pdf` to `screenshots_dir()/NAME.png`.
pub fn first_page_png(pdf: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let dir = screenshots_dir();
    std::fs::create_dir_all(&dir)?;
    let stem = dir.join(name);
    let output = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(pdf)
        .arg(&stem)
        .output()
        .context("Failed to run pdftoppm")?;
    let png = stem.with_extension("png");
    if !output.status.success() || !png.is_file() {
        bail!(
            "pdftoppm failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(png)
}

/// `target/screenshots/` of this workspace (or of `CARGO_TARGET_DIR`).
pub fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("screenshots")
}

/// The rows of a CSV file.
pub fn csv_rows(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

/// The integer in a cell as LibreOffice wrote it ("162,000,000" or
/// "162000000").
pub fn integer(cell: &str) -> Option<u64> {
    let digits: String = cell.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}
