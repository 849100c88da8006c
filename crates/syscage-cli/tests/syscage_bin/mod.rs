//! Running the `syscage` binary from a CLI test binary: its arguments
//! given, no standard input, its output captured and read as text, and
//! paths into the repository's test data.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `syscage` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_syscage");

/// Runs `syscage ARGS` to its end, standard input empty.
pub fn syscage(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run syscage")
}

/// What the run wrote to standard output.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What the run wrote to standard error.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `rel` (from the repository's root) as an absolute path.
pub fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
        .to_str()
        .unwrap()
        .to_string()
}
