//! Compiling a Docker profile to a raw x86_64 filter as a runtime would
//! (with runc's ENOSYS stub, or without it for `--no-enosys`), for the
//! tests that diff a decompiled profile with the filter it came from.

use crate::syscage_bin::{stderr, syscage};
use std::path::Path;

/// `syscage compile PROFILE -a x86_64 -f raw -o BPF` (and `--no-enosys`
/// when asked); asserts it succeeds, naming `what` if not.
#[track_caller]
pub fn compile_raw(what: &str, profile: &Path, bpf: &Path, no_enosys: bool) {
    let mut cmd = vec![
        "compile",
        profile.to_str().unwrap(),
        "-a",
        "x86_64",
        "-f",
        "raw",
        "-o",
        bpf.to_str().unwrap(),
    ];
    if no_enosys {
        cmd.push("--no-enosys");
    }
    let c = syscage(&cmd);
    assert!(c.status.success(), "{what}: compile: {}", stderr(&c));
}
