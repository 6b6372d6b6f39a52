//! The machine's SMBIOS/DMI identity as the kernel exposes it under
//! `/sys/class/dmi/id`: vendor, model, serial, UUID, chassis and BIOS. The
//! serial and UUID files are readable by root only; for everyone else they
//! come out `None` with a `needs_privilege` note.

use std::fs;
use std::io;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use kiemke_shared::firmware;
use kiemke_shared::inventory::{BiosInfo, Chassis, CollectNote, NoteReason, SystemInfo};

use super::super::add_note;
use super::sysfs::note_reason;

const DMI_DIR: &str = "sys/class/dmi/id";

/// What DMI says about the machine, and which fields could not be read.
#[derive(Debug, Default, PartialEq)]
pub struct Dmi {
    pub system: SystemInfo,
    pub bios: BiosInfo,
    pub notes: Vec<CollectNote>,
}

/// Reads DMI under `root` (`/` in production). No DMI directory at all
/// (ARM boards, some VMs) is one `system` note, `not_available`.
pub fn read_dmi(root: &Path) -> Dmi {
    let dir = root.join(DMI_DIR);
    if !dir.is_dir() {
        let mut dmi = Dmi::default();
        add_note(&mut dmi.notes, "system", NoteReason::NotAvailable);
        return dmi;
    }
    from_attributes(|name| fs::read_to_string(dir.join(name)))
}

/// Builds the DMI parts from an attribute reader (the real one reads files;
/// tests hand in any error kind, e.g. `PermissionDenied`, which a root test
/// run could not otherwise produce).
pub fn from_attributes(read: impl Fn(&str) -> io::Result<String>) -> Dmi {
    let mut notes = Vec::new();
    let mut attribute = |name: &str, field: &str| match read(name) {
        Ok(raw) => Some(raw),
        Err(error) => {
            if let Some(reason) = note_reason(&error) {
                add_note(&mut notes, field, reason);
            }
            None
        }
    };
    let system = SystemInfo {
        vendor: attribute("sys_vendor", "system.vendor").and_then(|v| firmware::text(&v)),
        model: attribute("product_name", "system.model").and_then(|v| firmware::text(&v)),
        serial: attribute("product_serial", "system.serial").and_then(|v| firmware::text(&v)),
        uuid: attribute("product_uuid", "system.uuid").and_then(|v| firmware::smbios_uuid(&v)),
        chassis: attribute("chassis_type", "system.chassis")
            .and_then(|v| v.trim().parse().ok())
            .and_then(Chassis::from_smbios),
    };
    let date = attribute("bios_date", "bios.date").and_then(|v| firmware::text(&v));
    let bios = BiosInfo {
        vendor: attribute("bios_vendor", "bios.vendor").and_then(|v| firmware::text(&v)),
        version: attribute("bios_version", "bios.version").and_then(|v| firmware::text(&v)),
        date: date.as_deref().and_then(parse_bios_date),
    };
    if date.is_some() && bios.date.is_none() {
        add_note(&mut notes, "bios.date", NoteReason::Failed);
    }
    Dmi {
        system,
        bios,
        notes,
    }
}

/// The kernel prints the BIOS date as `MM/DD/YYYY`; a few firmwares give a
/// two-digit year.
fn parse_bios_date(raw: &str) -> Option<NaiveDate> {
    let (_, year) = raw.rsplit_once('/')?;
    let format = if year.len() == 2 {
        "%m/%d/%y"
    } else {
        "%m/%d/%Y"
    };
    NaiveDate::parse_from_str(raw, format)
        .ok()
        .filter(|d| d.year() >= 1980)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Dell OptiPlex 3020 as sysfs shows it (files end with a newline).
    const OPTIPLEX: &[(&str, &str)] = &[
        ("sys_vendor", "Dell Inc.\n"),
        ("product_name", "OptiPlex 3020\n"),
        ("product_serial", "5KZ3T52\n"),
        ("product_uuid", "4c4c4544-004b-5a10-8033-b5c04f543532\n"),
        ("chassis_type", "3\n"),
        ("bios_vendor", "Dell Inc.\n"),
        ("bios_version", "A18\n"),
        ("bios_date", "05/13/2019\n"),
    ];

    fn fake_dmi(root: &Path, files: &[(&str, &str)]) {
        let dir = root.join(DMI_DIR);
        fs::create_dir_all(&dir).expect("mkdir");
        for (name, content) in files {
            fs::write(dir.join(name), content).expect("write");
        }
    }

    #[test]
    fn reads_an_optiplex() {
        let root = tempfile::tempdir().expect("tempdir");
        fake_dmi(root.path(), OPTIPLEX);
        let dmi = read_dmi(root.path());
        assert_eq!(dmi.system.vendor.as_deref(), Some("Dell Inc."));
        assert_eq!(dmi.system.model.as_deref(), Some("OptiPlex 3020"));
        assert_eq!(dmi.system.serial.as_deref(), Some("5KZ3T52"));
        assert_eq!(
            dmi.system.uuid.as_deref(),
            Some("4c4c4544-004b-5a10-8033-b5c04f543532")
        );
        assert_eq!(dmi.system.chassis, Some(Chassis::Desktop));
        assert_eq!(dmi.bios.vendor.as_deref(), Some("Dell Inc."));
        assert_eq!(dmi.bios.version.as_deref(), Some("A18"));
        assert_eq!(dmi.bios.date, NaiveDate::from_ymd_opt(2019, 5, 13));
        assert_eq!(dmi.notes, vec![]);
    }

    #[test]
    fn serial_and_uuid_need_root() {
        let dmi = from_attributes(|name| match name {
            "product_serial" | "product_uuid" => {
                Err(io::Error::from(io::ErrorKind::PermissionDenied))
            }
            _ => Ok(OPTIPLEX
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()),
        });
        assert_eq!(dmi.system.serial, None);
        assert_eq!(dmi.system.uuid, None);
        assert_eq!(dmi.system.model.as_deref(), Some("OptiPlex 3020"));
        let fields: Vec<(&str, NoteReason)> = dmi
            .notes
            .iter()
            .map(|n| (n.field.as_str(), n.reason))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("system.serial", NoteReason::NeedsPrivilege),
                ("system.uuid", NoteReason::NeedsPrivilege)
            ]
        );
    }

    /// Exercises a real `EACCES` when run as an unprivileged user (e.g.
    /// `runuser -u nobody -- <test binary> dmi`); as root, which reads
    /// anything, it checks the serial is read.
    #[test]
    fn unreadable_serial_file_as_non_root() {
        use std::os::unix::fs::PermissionsExt;

        let root = tempfile::tempdir().expect("tempdir");
        fake_dmi(root.path(), OPTIPLEX);
        let serial = root.path().join(DMI_DIR).join("product_serial");
        fs::set_permissions(&serial, fs::Permissions::from_mode(0o000)).expect("chmod");
        let dmi = read_dmi(root.path());
        if fs::read(&serial).is_ok() {
            assert_eq!(dmi.system.serial.as_deref(), Some("5KZ3T52"), "root");
            return;
        }
        assert_eq!(dmi.system.serial, None);
        assert_eq!(dmi.system.model.as_deref(), Some("OptiPlex 3020"));
        assert_eq!(
            dmi.notes,
            vec![CollectNote {
                field: "system.serial".into(),
                reason: NoteReason::NeedsPrivilege
            }]
        );
    }

    #[test]
    fn placeholders_and_absent_files_are_none_without_notes() {
        let root = tempfile::tempdir().expect("tempdir");
        fake_dmi(
            root.path(),
            &[
                ("sys_vendor", "To Be Filled By O.E.M.\n"),
                ("product_name", "System Product Name\n"),
                ("product_serial", "Default string\n"),
                ("product_uuid", "03000200-0400-0500-0006-000700080009\n"),
                ("chassis_type", "2\n"),
                ("bios_vendor", "American Megatrends Inc.\n"),
                ("bios_version", "1.20\n"),
            ],
        );
        let dmi = read_dmi(root.path());
        assert_eq!(dmi.system, SystemInfo::default());
        assert_eq!(dmi.bios.vendor.as_deref(), Some("American Megatrends Inc."));
        assert_eq!(dmi.bios.date, None);
        assert_eq!(dmi.notes, vec![]);
    }

    #[test]
    fn no_dmi_at_all() {
        let root = tempfile::tempdir().expect("tempdir");
        let dmi = read_dmi(root.path());
        assert_eq!(dmi.system, SystemInfo::default());
        assert_eq!(dmi.notes.len(), 1);
        assert_eq!(dmi.notes[0].field, "system");
        assert_eq!(dmi.notes[0].reason, NoteReason::NotAvailable);
    }

    #[test]
    fn bios_dates() {
        let cases = [
            ("05/13/2019", NaiveDate::from_ymd_opt(2019, 5, 13)),
            ("12/01/2009", NaiveDate::from_ymd_opt(2009, 12, 1)),
            ("04/01/14", NaiveDate::from_ymd_opt(2014, 4, 1)),
            ("2019-05-13", None),
            ("13/45/2019", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_bios_date(raw), want, "{raw}");
        }
    }
}
