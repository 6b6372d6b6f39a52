//! Test helper: a fake root filesystem (sysfs, procfs, /etc) in a temporary
//! directory, with the symlinks sysfs uses, so the Linux readers can be
//! tested on recorded trees.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use tempfile::TempDir;

pub struct FakeRoot {
    dir: TempDir,
}

impl FakeRoot {
    pub fn new() -> Self {
        FakeRoot {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a directory (and its parents).
    pub fn dir(&self, rel: &str) -> &Self {
        fs::create_dir_all(self.path().join(rel)).expect("mkdir");
        self
    }

    /// Writes a file, creating its parents.
    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, content).expect("write");
        self
    }

    /// Creates the symlink `rel` pointing at `target` (both under the root;
    /// the target directory is created).
    pub fn link(&self, rel: &str, target: &str) -> &Self {
        let link = self.path().join(rel);
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        let target = self.path().join(target);
        if !target.exists() {
            fs::create_dir_all(&target).expect("mkdir target");
        }
        symlink(target, link).expect("symlink");
        self
    }
}
