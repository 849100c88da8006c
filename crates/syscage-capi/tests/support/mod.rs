//! What the C-level tests share: the library directory to put first on
//! `LD_LIBRARY_PATH`, compiling C with gcc against the system's
//! `seccomp.h`, and the CI rule for missing tools (fail under `CI=true`,
//! else print `NOT CHECKED` and skip).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Whether `what` is available; under CI a missing one fails the test.
pub fn require(what: &str, ok: bool) -> bool {
    if ok {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is missing (CI=true: a missing tool is a failure)");
    }
    eprintln!("NOT CHECKED: {what} is missing");
    false
}

/// gcc and libseccomp-dev (header and the real `libseccomp.so.2`).
pub fn have_toolchain() -> bool {
    let gcc = Command::new("gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require("gcc", gcc)
        && require(
            "libseccomp-dev (/usr/include/seccomp.h)",
            Path::new("/usr/include/seccomp.h").exists(),
        )
}

/// A scratch directory for this test binary.
pub fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("syscage-capi")
        .join(name);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// A directory holding `libseccomp.so.2`, a link to this crate's cdylib.
///
/// `cargo test` builds a library's rlib for the tests, not its cdylib, so
/// the first call builds the shared library itself, with the cargo that
/// runs the tests, into a target directory of its own
/// (`target/capi-cdylib`: the test run holds the lock of the main one).
/// Up to date, that build is a no-op; it is never a stale copy.
pub fn lib_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let target = exe
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .expect("target/<profile>/deps/<test>");
        let own = target.join("capi-cdylib");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "syscage-capi",
                "--lib",
                "--target-dir",
            ])
            .arg(&own)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo to build the cdylib");
        assert!(
            out.status.success(),
            "cargo build -p syscage-capi --lib: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let so = own.join("debug/libseccomp.so");
        assert!(so.exists(), "{} was not built", so.display());
        let dir = scratch("lib");
        let link = dir.join("libseccomp.so.2");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&so, &link).expect("symlink libseccomp.so.2");
        dir
    })
    .clone()
}

/// The crate's test data.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// Compiles `src` with `gcc … -lseccomp` into the scratch dir, once per
/// test binary (tests run in parallel threads).
pub fn gcc(src: &Path) -> PathBuf {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(src) {
        return p.clone();
    }
    let exe = std::env::current_exe().expect("test binary");
    let tag = exe.file_name().and_then(|n| n.to_str()).unwrap_or("t");
    let out = scratch(&format!("bin-{tag}")).join(src.file_stem().expect("file name"));
    let o = Command::new("gcc")
        .args(["-O1", "-Wall", "-o"])
        .arg(&out)
        .arg(src)
        .arg("-lseccomp")
        .output()
        .expect("run gcc");
    assert!(
        o.status.success(),
        "gcc {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    built.insert(src.to_path_buf(), out.clone());
    out
}

/// Which library a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    /// The system's libseccomp.
    Real,
    /// syscage's, first on `LD_LIBRARY_PATH`.
    Ours,
}

/// A command for `prog` (run without core dumps) with `lib`.
pub fn command(prog: &Path, args: &[&str], lib: Lib) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c")
        .arg("ulimit -c 0; exec \"$0\" \"$@\"")
        .arg(prog)
        .args(args)
        .env_remove("LD_LIBRARY_PATH");
    if lib == Lib::Ours {
        c.env("LD_LIBRARY_PATH", lib_dir());
    }
    c
}

/// Runs `prog` with `lib` and `stdin`.
pub fn run(prog: &Path, args: &[&str], lib: Lib, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = command(prog, args, lib)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    out
}

/// Asserts that `prog` resolves `libseccomp.so.2` to `lib`'s file.
pub fn assert_uses(prog: &Path, lib: Lib) {
    let mut c = Command::new(prog);
    c.env("LD_TRACE_LOADED_OBJECTS", "1")
        .env_remove("LD_LIBRARY_PATH");
    if lib == Lib::Ours {
        c.env("LD_LIBRARY_PATH", lib_dir());
    }
    let o = c.output().expect("ld.so trace");
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("libseccomp.so.2"))
        .unwrap_or_else(|| panic!("{} does not load libseccomp.so.2:\n{text}", prog.display()));
    let ours = line.contains(lib_dir().to_str().expect("utf-8 path"));
    assert_eq!(ours, lib == Lib::Ours, "{}: {line}", prog.display());
}
