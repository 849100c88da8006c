//! A test's scratch directory under the system temp dir, removed with
//! everything in it when the guard is dropped (at the end of the test, or
//! when it panics), so that test runs leave nothing in `/tmp`. Shared by
//! the test crates of `syscage`, `syscage-linux` and `syscage-cli`
//! (through `#[path]`).
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::ops::Deref;
use std::path::{Path, PathBuf};

/// `$TMPDIR/syscage-<what>-<pid>`, empty and created; removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory named after `what` and this process.
    pub fn new(what: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("syscage-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Scratch(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `name` in this directory, which lives as long as the returned file.
    pub fn file(self, name: &str) -> ScratchFile {
        ScratchFile {
            path: self.0.join(name),
            _dir: self,
        }
    }
}

/// A path in a scratch directory that is removed when this is dropped;
/// derefs to the path.
pub struct ScratchFile {
    /// The file.
    pub path: PathBuf,
    _dir: Scratch,
}

impl Deref for ScratchFile {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl AsRef<Path> for ScratchFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<std::ffi::OsStr> for ScratchFile {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.path.as_os_str()
    }
}
