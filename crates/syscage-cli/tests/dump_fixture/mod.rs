//! What the `syscage dump` tests share: the test program
//! (`crates/syscage-linux/examples/install_filters.rs`) and its log, running
//! `syscage`, and checks on processes.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../../../syscage-linux/tests/example_program/mod.rs"]
mod example_program;
#[path = "../../../syscage-linux/tests/scratch/mod.rs"]
mod scratch;
pub use scratch::{Scratch, ScratchFile};

pub const SYSCAGE: &str = env!("CARGO_BIN_EXE_syscage");

/// Builds the test program (once) and returns its path.
pub fn testprog() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| example_program::build("install_filters"))
}

/// A scratch directory unique to one test, removed when dropped.
pub fn scratch(name: &str) -> Scratch {
    Scratch::new(&format!("dump-{name}"))
}

/// (pid, bytes) of each installed filter, in order.
pub type Log = Vec<(i32, Vec<u8>)>;

/// What the test program logged.
pub fn logged(log: &Path) -> Log {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|l| {
            let (pid, hex) = l.split_once(' ').unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (pid.parse().unwrap(), bytes)
        })
        .collect()
}

pub fn hex_bytes(v: &Value) -> Vec<u8> {
    let hex = v["bytes"].as_str().unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs `syscage ARGS` with stdin from /dev/null.
pub fn syscage(args: &[&str], log: Option<&Path>) -> Output {
    let mut cmd = Command::new(SYSCAGE);
    cmd.args(args).stdin(Stdio::null());
    if let Some(log) = log {
        cmd.env("SYSCAGE_TESTPROG_LOG", log);
    }
    cmd.output().expect("run syscage")
}

/// `syscage dump -f json -- install_filters MODE…` → (exit code, filters, stderr, log).
pub fn dump_json(name: &str, mode: &[&str]) -> (i32, Vec<Value>, String, Log) {
    let dir = scratch(name);
    let log = dir.join("log");
    let prog = testprog().to_str().unwrap();
    let mut args = vec!["dump", "-f", "json", "--", prog];
    args.extend_from_slice(mode);
    let out = syscage(&args, Some(&log));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?} / {stderr}", out.stdout));
    let filters = json.as_array().unwrap().clone();
    (out.status.code().unwrap(), filters, stderr, logged(&log))
}

/// Asserts the dumped filters are exactly the logged ones, in order.
pub fn assert_same(filters: &[Value], log: &[(i32, Vec<u8>)]) {
    let dumped: Vec<(i32, Vec<u8>)> = filters
        .iter()
        .map(|f| (f["pid"].as_i64().unwrap() as i32, hex_bytes(f)))
        .collect();
    assert_eq!(
        dumped, log,
        "dumped (pid, bytes) differ from what was installed"
    );
    for (i, f) in filters.iter().enumerate() {
        assert_eq!(f["order"], i + 1);
        let insns = f["instructions"].as_array().unwrap();
        assert_eq!(insns.len() * 8, hex_bytes(f).len());
    }
}

/// Starts `syscage ARGS` with a stdin pipe that stays open.
pub fn spawn_with_open_stdin(args: &[&str]) -> Child {
    Command::new(SYSCAGE)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `secs`; kills it and fails if it hangs.
pub fn wait_bounded(mut child: Child, secs: u64) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(secs) {
            child.kill().unwrap();
            panic!("syscage dump hung for more than {secs}s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

pub fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("syscage: error: "), "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}

/// `-p` needs CAP_SYS_ADMIN: under CI it must be there; elsewhere the test
/// says it did not run.
pub fn have_cap_sys_admin() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let cap = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap_or(0);
    let ok = cap & (1 << 21) != 0;
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but CAP_SYS_ADMIN is missing: `syscage dump -p` cannot be tested"
        );
        eprintln!("NOT CHECKED: `syscage dump -p` needs CAP_SYS_ADMIN (run as root)");
    }
    ok
}

pub fn proc_field(pid: u32, name: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap()
        .trim()
        .to_string()
}

pub fn assert_not_stopped(pid: u32) {
    let state = proc_field(pid, "State");
    assert!(
        !state.starts_with('t') && !state.starts_with('T'),
        "pid {pid} left {state}"
    );
    assert_eq!(proc_field(pid, "TracerPid"), "0", "pid {pid} still traced");
}

/// A running `install_filters serve`: its stdin, stdout lines and log.
pub struct Server {
    pub child: Child,
    pub lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    pub log: PathBuf,
    _dir: Scratch,
}

impl Server {
    pub fn start(name: &str, mode: &str) -> Server {
        let dir = scratch(name);
        let log = dir.join("log");
        let mut child = Command::new(testprog())
            .arg(mode)
            .env("SYSCAGE_TESTPROG_LOG", &log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(
            first.contains("ready") || first.contains("strict"),
            "{first}"
        );
        Server {
            child,
            lines,
            log,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn ping(&mut self, text: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{text}").unwrap();
        stdin.flush().unwrap();
        assert_eq!(self.lines.next().unwrap().unwrap(), format!("echo {text}"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn dump_pid_json(pid: u32) -> Vec<Value> {
    let out = syscage(&["dump", "-f", "json", "-p", &pid.to_string()], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Writes the hand-assembled static i386 program; returns its path and the
/// bytes of the filter it installs.
pub fn i386_program(name: &str) -> (ScratchFile, Vec<u8>) {
    let path = scratch(name).file("i386prog");
    let out = Command::new(testprog())
        .args(["write-i386", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let hex = String::from_utf8(out.stdout).unwrap();
    let hex = hex.trim();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    (path, bytes)
}
