//! Building one of `syscage-linux`'s example programs (the test programs
//! of the dump and record tests) and finding its binary. Shared by the
//! test crates of `syscage-linux` and `syscage-cli` (through `#[path]`).

use std::path::PathBuf;
use std::process::Command;

/// Builds `crates/syscage-linux/examples/NAME.rs` with the cargo running
/// the tests and returns its path: `target/debug/examples/NAME`, found from
/// the test binary's own place (`target/debug/deps/TEST-HASH`).
pub fn build(name: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "syscage-linux", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap_or_else(|e| panic!("run cargo build for {name}: {e}"));
    assert!(status.success(), "building {name} failed");
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe.ancestors().nth(3).expect("target dir");
    let path = target.join("debug/examples").join(name);
    assert!(path.exists(), "{} missing", path.display());
    path
}
