//! Small readers for sysfs/procfs attribute files, shared by the Linux
//! collectors: an attribute is one short line of text, absent on hardware
//! that lacks it, sometimes readable by root only.

use std::fs;
use std::io;
use std::path::Path;
use std::str::FromStr;

use kiemke_shared::inventory::{NoteReason, clean_text};

/// An attribute as cleaned text; `None` when absent, unreadable or empty.
pub fn text(path: &Path) -> Option<String> {
    clean_text(&fs::read_to_string(path).ok()?)
}

/// An attribute as a number; `None` when absent, unreadable or not a number.
pub fn number<T: FromStr>(path: &Path) -> Option<T> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A `0`/`1` attribute.
pub fn flag(path: &Path) -> Option<bool> {
    number::<u8>(path).map(|n| n != 0)
}

/// The file name of the link target, e.g. `virtio` for a `subsystem` link.
pub fn link_name(path: &Path) -> Option<String> {
    let target = fs::read_link(path).ok()?;
    Some(target.file_name()?.to_string_lossy().into_owned())
}

/// The entries of a directory by name, sorted; empty when it is missing.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Why a read failed, as a note: `None` when the file is simply absent
/// (that is no failure, the hardware has no such value).
pub fn note_reason(error: &io::Error) -> Option<NoteReason> {
    match error.kind() {
        io::ErrorKind::NotFound => None,
        io::ErrorKind::PermissionDenied => Some(NoteReason::NeedsPrivilege),
        _ => Some(NoteReason::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |name: &str| dir.path().join(name);
        fs::write(p("model"), "Samsung SSD 860 EVO 250GB               \n").expect("write");
        fs::write(p("size"), "488397168\n").expect("write");
        fs::write(p("rotational"), "0\n").expect("write");
        fs::write(p("speed"), "-1\n").expect("write");
        fs::write(p("blank"), "\n").expect("write");
        assert_eq!(
            text(&p("model")).as_deref(),
            Some("Samsung SSD 860 EVO 250GB")
        );
        assert_eq!(text(&p("blank")), None);
        assert_eq!(text(&p("missing")), None);
        assert_eq!(number::<u64>(&p("size")), Some(488_397_168));
        assert_eq!(number::<u64>(&p("speed")), None);
        assert_eq!(number::<i64>(&p("speed")), Some(-1));
        assert_eq!(flag(&p("rotational")), Some(false));
        assert_eq!(entries(&p("missing")), Vec::<String>::new());
        assert_eq!(entries(dir.path()).len(), 5);
    }

    #[test]
    fn error_kinds_to_notes() {
        let cases = [
            (io::ErrorKind::NotFound, None),
            (
                io::ErrorKind::PermissionDenied,
                Some(NoteReason::NeedsPrivilege),
            ),
            (io::ErrorKind::InvalidData, Some(NoteReason::Failed)),
            (io::ErrorKind::Other, Some(NoteReason::Failed)),
        ];
        for (kind, want) in cases {
            assert_eq!(note_reason(&io::Error::from(kind)), want, "{kind:?}");
        }
    }
}
