//! What the container tests share: finding the runtimes (a missing one
//! fails under `CI=true`, else the test prints `NOT CHECKED` and stops),
//! root filesystems built from the host's busybox-static and dynamically
//! linked programs ([`rootfs`]), OCI bundles for runc and crun
//! ([`bundle`]), a private Docker daemon ([`dockerd`]) and a private
//! podman store ([`podman`]).
// Each test binary uses a part of it.
#![allow(dead_code)]

pub mod bundle;
pub mod dockerd;
pub mod podman;
pub mod rootfs;
pub mod workloads;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

pub const SYSCAGE: &str = env!("CARGO_BIN_EXE_syscage");

/// Whether the tests run in CI, where nothing may go unchecked.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Says why a test cannot check anything here: a failure under CI, else
/// `NOT CHECKED: why` on stderr. Returns false so callers can `return`.
pub fn not_checked(why: &str) -> bool {
    assert!(!in_ci(), "CI=true, but {why}");
    eprintln!("NOT CHECKED: {why}");
    false
}

/// Whether `program` is installed (runs with `--version`).
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the effective uid is 0 (`/proc/self/status`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

/// Root, and each of `programs` installed; else [`not_checked`].
pub fn require(programs: &[&str]) -> bool {
    if !is_root() {
        return not_checked("container tests need root");
    }
    for p in programs {
        if !have(p) {
            return not_checked(&format!("{p} is not installed"));
        }
    }
    true
}

/// One container test at a time in a test binary: measuring a runtime
/// reads the audit records of every process, and several containers
/// starting at once on two cores make the runs slow.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("syscage-container-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The runtime cache (`XDG_CACHE_HOME`) of every container test of this
/// `cargo test` run: a runtime is measured once (keyed by its version).
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("container-cache")
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `syscage ARGS` with the runtime cache in `cache` and the Debian docker
/// client (which matches the daemon) first in `$PATH`.
pub fn syscage(cache: &Path, docker_host: Option<&str>, args: &[String]) -> Output {
    syscage_command(cache, docker_host, args)
        .output()
        .expect("run syscage")
}

/// The command of [`syscage`], to add to its environment.
pub fn syscage_command(cache: &Path, docker_host: Option<&str>, args: &[String]) -> Command {
    let mut cmd = Command::new(SYSCAGE);
    cmd.args(args).env("XDG_CACHE_HOME", cache).env(
        "PATH",
        format!(
            "/usr/bin:/usr/sbin:/bin:/sbin:{}",
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    match docker_host {
        Some(host) => cmd.env("DOCKER_HOST", host),
        None => cmd.env_remove("DOCKER_HOST"),
    };
    cmd
}

/// The syscall names a profile allows (unconditional `SCMP_ACT_ALLOW`).
pub fn allowed_names(profile: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(profile).expect("profile JSON");
    let mut out: Vec<String> = v["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "SCMP_ACT_ALLOW")
        .flat_map(|e| e["names"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}
