//! The TPM from `/sys/class/tpm`: present or not, and its spec version (a
//! Windows 11 upgrade needs TPM 2.0, so this is a policy input).

use std::fs;
use std::path::Path;

use kiemke_shared::inventory::TpmInfo;

use super::sysfs::{entries, number};

/// Reads the TPM under `root` (`/` in production). Without sysfs at all,
/// presence is unknown; with sysfs and no `tpm*` device, there is none.
pub fn read_tpm(root: &Path) -> TpmInfo {
    let class = root.join("sys/class");
    if !class.is_dir() {
        return TpmInfo::default();
    }
    let Some(device) = entries(&class.join("tpm"))
        .into_iter()
        .find(|name| name.starts_with("tpm"))
    else {
        return TpmInfo {
            present: Some(false),
            version: None,
        };
    };
    let dir = class.join("tpm").join(&device);
    let version = number::<u32>(&dir.join("tpm_version_major"))
        .and_then(|major| match major {
            2 => Some("2.0".to_owned()),
            1 => Some("1.2".to_owned()),
            _ => None,
        })
        // Kernels before 5.6 have no tpm_version_major: only a TPM 2.0 gets
        // a resource-manager device, and a 1.x one lists its version in caps.
        .or_else(|| {
            let rm = device.replacen("tpm", "tpmrm", 1);
            class
                .join("tpmrm")
                .join(rm)
                .exists()
                .then(|| "2.0".to_owned())
        })
        .or_else(|| caps_version(&fs::read_to_string(dir.join("device/caps")).ok()?));
    TpmInfo {
        present: Some(true),
        version,
    }
}

/// The `TCG version: 1.2` line of a TPM 1.x `caps` file.
fn caps_version(caps: &str) -> Option<String> {
    caps.lines()
        .find_map(|line| line.trim().strip_prefix("TCG version:"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::fake::FakeRoot;

    #[test]
    fn tpm_versions() {
        let tpm2 = FakeRoot::new();
        tpm2.file("sys/class/tpm/tpm0/tpm_version_major", "2\n");
        let tpm12 = FakeRoot::new();
        tpm12.file("sys/class/tpm/tpm0/tpm_version_major", "1\n");
        let old_kernel_tpm2 = FakeRoot::new();
        old_kernel_tpm2
            .dir("sys/class/tpm/tpm0")
            .dir("sys/class/tpmrm/tpmrm0");
        let old_kernel_tpm12 = FakeRoot::new();
        old_kernel_tpm12.file(
            "sys/class/tpm/tpm0/device/caps",
            "Manufacturer: 0x49465800\nTCG version: 1.2\nFirmware version: 3.17\n",
        );
        let bare = FakeRoot::new();
        bare.dir("sys/class/tpm/tpm0");
        let none = FakeRoot::new();
        none.dir("sys/class/net");
        let no_sysfs = FakeRoot::new();

        let cases = [
            (&tpm2, Some(true), Some("2.0")),
            (&tpm12, Some(true), Some("1.2")),
            (&old_kernel_tpm2, Some(true), Some("2.0")),
            (&old_kernel_tpm12, Some(true), Some("1.2")),
            (&bare, Some(true), None),
            (&none, Some(false), None),
            (&no_sysfs, None, None),
        ];
        for (i, (root, present, version)) in cases.into_iter().enumerate() {
            let tpm = read_tpm(root.path());
            assert_eq!(tpm.present, present, "case {i}");
            assert_eq!(tpm.version.as_deref(), version, "case {i}");
        }
    }
}
