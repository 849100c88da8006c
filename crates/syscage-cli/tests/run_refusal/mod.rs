//! What the `syscage run` tests share: scratch paths for marker files,
//! and the check that a program was refused before it ran.

use crate::syscage_bin::stderr;
use std::path::{Path, PathBuf};
use std::process::Output;

/// `$TMPDIR/syscage-run-<pid>-<name>`.
pub fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("syscage-run-{}-{name}", std::process::id()))
}

/// Exit 2, one line of syscage's own naming `needle`, and `marker` not
/// created: the program did not run. Where a test nests syscage, the
/// outer one names what its filter refused the inner one (`syscage:
/// refused ...`): those lines are not the inner one's and are skipped.
#[track_caller]
pub fn assert_refused(o: &Output, needle: &str, marker: &Path) {
    let err: String = stderr(o)
        .lines()
        .filter(|l| !l.starts_with("syscage: refused "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("syscage: error: ") && err.contains(needle),
        "{err}"
    );
    assert!(!marker.exists(), "the program ran");
}
