//! What the `syscage record` tests share: the test program
//! (`crates/syscage-linux/examples/record_probe.rs`), running `syscage`
//! and programs with a deadline, recording, and reading profiles.
//!
//! Without ptrace the tests say so and stop, except under `CI=true`,
//! where they fail ([`traced`]).
// Each test binary uses a part of it.
#![allow(dead_code)]

use serde_json::Value;

#[path = "../../../syscage-linux/tests/example_program/mod.rs"]
mod example_program;
#[path = "../../../syscage-linux/tests/scratch/mod.rs"]
mod scratch;
pub use scratch::{Scratch, ScratchFile};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const SYSCAGE: &str = env!("CARGO_BIN_EXE_syscage");

/// Builds the test program (once) and returns its path.
pub fn probe() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        example_program::build("record_probe")
            .to_string_lossy()
            .into_owned()
    })
}

/// A scratch directory unique to one test, removed when dropped.
pub fn scratch(name: &str) -> Scratch {
    Scratch::new(&format!("record-{name}"))
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Waits for a child with a deadline, reading its output meanwhile (so a
/// full pipe cannot block it); kills it and fails on timeout.
pub fn wait_for(mut child: Child, secs: u64) -> Output {
    use std::io::Read;
    fn drain(r: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = err.join().unwrap_or_default();
            panic!(
                "timed out after {secs}s; stderr: {}",
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Whatever still holds the output pipes outlived the recorder.
    let grace = Instant::now() + Duration::from_secs(10);
    while !(out.is_finished() && err.is_finished()) {
        assert!(
            Instant::now() < grace,
            "a process still holds the output pipes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

pub fn syscage(args: &[&str]) -> Output {
    let child = Command::new(SYSCAGE)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn syscage");
    wait_for(child, 120)
}

pub fn plain(cmd: &[&str]) -> Output {
    let child = Command::new(cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the program");
    wait_for(child, 120)
}

/// Whether ptrace works here: a recorder error saying it cannot trace
/// means no (and fails the test under CI=true).
pub fn traced(out: &Output) -> bool {
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("cannot trace the program") {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but ptrace is unavailable: {err}");
        }
        eprintln!("NOT CHECKED: ptrace is unavailable here: {err}");
        return false;
    }
    true
}

/// `syscage record [flags] -o OUT -- cmd`; `None` without ptrace.
pub fn record(dir: &Path, name: &str, flags: &[&str], cmd: &[&str]) -> Option<(Output, PathBuf)> {
    let out_path = dir.join(format!("{name}.json"));
    let mut args = vec!["record"];
    args.extend_from_slice(flags);
    let o = s(&out_path);
    args.extend_from_slice(&["-o", &o, "--"]);
    args.extend_from_slice(cmd);
    let out = syscage(&args);
    if !traced(&out) {
        return None;
    }
    Some((out, out_path))
}

/// The profile with `defaultAction` KILL_PROCESS: any syscall the
/// recording missed kills the program.
pub fn kill_variant(profile: &Path) -> PathBuf {
    let text = std::fs::read_to_string(profile).expect("read profile");
    let mut v: Value = serde_json::from_str(&text).expect("profile is JSON");
    v["defaultAction"] = Value::from("SCMP_ACT_KILL_PROCESS");
    v.as_object_mut().expect("object").remove("defaultErrnoRet");
    let path = profile.with_extension("kill.json");
    std::fs::write(&path, serde_json::to_string_pretty(&v).expect("json")).expect("write");
    path
}

pub fn run_with(profile: &Path, cmd: &[&str]) -> Output {
    let p = s(profile);
    let mut args = vec!["run", "--profile", &p, "--"];
    args.extend_from_slice(cmd);
    syscage(&args)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Records `cmd`, then checks it runs under the recorded profile and under
/// its KILL_PROCESS variant exactly as without a filter; returns the
/// profile (removed with its scratch directory when dropped).
pub fn record_then_run(name: &str, flags: &[&str], cmd: &[&str]) -> Option<ScratchFile> {
    let dir = scratch(name);
    let expected = plain(cmd);
    let (recorded, profile) = record(&dir, name, flags, cmd)?;
    assert_eq!(
        recorded.status.code(),
        expected.status.code(),
        "{name}: the recorder passes the exit status through; stderr: {}",
        text(&recorded.stderr)
    );
    assert_eq!(
        text(&recorded.stdout),
        text(&expected.stdout),
        "{name}: traced output"
    );
    for p in [profile.clone(), kill_variant(&profile)] {
        let out = run_with(&p, cmd);
        let err = text(&out.stderr);
        assert!(
            !err.contains("killed by seccomp"),
            "{name}: denied under {}: {err}",
            p.display()
        );
        assert_eq!(out.status.code(), expected.status.code(), "{name}: {err}");
        assert_eq!(
            text(&out.stdout),
            text(&expected.stdout),
            "{name} under {}",
            p.display()
        );
    }
    Some(dir.file(&format!("{name}.json")))
}

pub fn profile_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("JSON")
}

/// Every name the profile allows without conditions.
pub fn allowed_names(p: &Path) -> Vec<String> {
    let v = profile_json(p);
    let mut names = Vec::new();
    for entry in v["syscalls"].as_array().expect("syscalls") {
        if entry["action"] == "SCMP_ACT_ALLOW" {
            for n in entry["names"].as_array().expect("names") {
                names.push(n.as_str().expect("name").to_string());
            }
        }
    }
    names
}
