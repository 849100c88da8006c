//! Acceptance tests of `syscage dump`, on the real kernel.
//!
//! The filters come from `crates/syscage-linux/examples/install_filters.rs`,
//! which logs every filter it installed (pid and bytes) to the file named by
//! `$SYSCAGE_TESTPROG_LOG`: `dump` must return exactly those bytes, in order.
//! Filters are only ever installed in child processes.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const SYSCAGE: &str = env!("CARGO_BIN_EXE_syscage");

/// Builds the test program (once) and returns its path.
fn testprog() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "syscage-linux",
                "--example",
                "install_filters",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for the test program");
        assert!(status.success(), "building install_filters failed");
        // target/<profile>/deps/dump_cli-HASH -> target/debug/examples/
        let exe = std::env::current_exe().unwrap();
        let target = exe.parent().unwrap().parent().unwrap().parent().unwrap();
        let path = target.join("debug/examples/install_filters");
        assert!(path.exists(), "{} missing", path.display());
        path
    })
}

/// A scratch directory unique to one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("syscage-dump-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// (pid, bytes) of each installed filter, in order.
type Log = Vec<(i32, Vec<u8>)>;

/// What the test program logged.
fn logged(log: &Path) -> Log {
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

fn hex_bytes(v: &Value) -> Vec<u8> {
    let hex = v["bytes"].as_str().unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs `syscage ARGS` with stdin from /dev/null.
fn syscage(args: &[&str], log: Option<&Path>) -> Output {
    let mut cmd = Command::new(SYSCAGE);
    cmd.args(args).stdin(Stdio::null());
    if let Some(log) = log {
        cmd.env("SYSCAGE_TESTPROG_LOG", log);
    }
    cmd.output().expect("run syscage")
}

/// `syscage dump -f json -- install_filters MODE…` → (exit code, filters, stderr, log).
fn dump_json(name: &str, mode: &[&str]) -> (i32, Vec<Value>, String, Log) {
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
fn assert_same(filters: &[Value], log: &[(i32, Vec<u8>)]) {
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

#[test]
fn stacked_filters_exact_bytes_in_order() {
    let (code, filters, stderr, log) = dump_json("stacked", &["stacked", "3"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 3);
    assert_same(&filters, &log);
    for f in &filters {
        assert_eq!(f["call"], "seccomp");
        assert_eq!(f["mode"], "filter");
        assert_eq!(f["arch"], "x86_64");
    }
}

#[test]
fn prctl_install_is_caught() {
    let (code, filters, stderr, log) = dump_json("prctl", &["prctl"]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&filters, &log);
    assert_eq!(filters[0]["call"], "prctl");
}

#[test]
fn seccomp_flags_are_reported() {
    let (code, filters, stderr, log) = dump_json("log", &["log"]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&filters, &log);
    assert_eq!(filters[0]["flags"], serde_json::json!(["LOG"]));
}

#[test]
fn tsync_from_a_multithreaded_process() {
    let (code, filters, stderr, log) = dump_json("tsync", &["tsync"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 1);
    assert_same(&filters, &log);
    assert_eq!(filters[0]["flags"], serde_json::json!(["TSYNC"]));
}

#[test]
fn filter_in_a_forked_child() {
    let (code, filters, stderr, log) = dump_json("fork", &["fork"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 2);
    assert_ne!(log[0].0, log[1].0, "second filter comes from the child");
    assert_same(&filters, &log);
}

#[test]
fn filters_across_exec() {
    let (code, filters, stderr, log) = dump_json("exec", &["exec"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 2);
    assert_same(&filters, &log);
    assert_eq!(filters[0]["call"], "seccomp");
    assert_eq!(filters[1]["call"], "prctl");
}

#[test]
fn rejected_install_is_not_reported() {
    let (code, filters, stderr, log) = dump_json("rejected", &["rejected"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 1);
    assert_same(&filters, &log);
}

#[test]
fn int80_install_from_64_bit_code() {
    let (code, filters, stderr, log) = dump_json("int80", &["int80"]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&filters, &log);
    // The process is 64-bit: syscalls are named for x86_64.
    assert_eq!(filters[0]["arch"], "x86_64");
}

/// Strict mode, via prctl and seccomp(2): one filter file (the program's
/// own stdout is mixed with syscage's, so `-o`) whose decisions are strict
/// mode's, checked in the emulator against hand-derived syscall numbers.
#[test]
fn strict_mode_is_shown_as_its_equivalent_filter() {
    for (mode, call) in [("strict", "prctl"), ("strict-seccomp", "seccomp")] {
        let dir = scratch(mode);
        let out_dir = dir.join("out");
        let prog = testprog().to_str().unwrap();
        let out = syscage(
            &[
                "dump",
                "-f",
                "json",
                "-o",
                out_dir.to_str().unwrap(),
                "--",
                prog,
                mode,
            ],
            None,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let files: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let f: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
        assert_eq!(f["mode"], "strict");
        assert_eq!(f["call"], call);
        let raw =
            syscage::bpf::codec::decode(&hex_bytes(&f), syscage::bpf::ByteOrder::Little).unwrap();
        let prog = syscage::bpf::validate(&raw).unwrap();
        let decide = |nr: u32| {
            let data = syscage::bpf::data::SeccompData {
                nr: nr as _,
                arch: syscage::arch::Arch::X86_64.audit(),
                ..Default::default()
            };
            syscage::emu::run(&prog, &data, syscage::bpf::ByteOrder::Little)
                .unwrap()
                .action
        };
        use syscage::action::Action;
        // read, write, exit, rt_sigreturn (asm/unistd_64.h)
        for nr in [0, 1, 60, 15] {
            assert_eq!(decide(nr), Action::Allow, "{mode}: nr {nr}");
        }
        // open, execve, exit_group, prctl
        for nr in [2, 59, 231, 157] {
            assert_eq!(decide(nr), Action::KillThread, "{mode}: nr {nr}");
        }
    }
}

#[test]
fn raw_output_dir_has_one_file_per_filter_named_by_pid_and_order() {
    let dir = scratch("rawdir");
    let log = dir.join("log");
    let out_dir = dir.join("out");
    let prog = testprog().to_str().unwrap();
    let out = syscage(
        &[
            "dump",
            "-f",
            "raw",
            "-o",
            out_dir.to_str().unwrap(),
            "--",
            prog,
            "fork",
        ],
        Some(&log),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = logged(&log);
    assert_eq!(log.len(), 2);
    for (i, (pid, bytes)) in log.iter().enumerate() {
        let file = out_dir.join(format!("{pid}-{}.bpf", i + 1));
        assert_eq!(&std::fs::read(&file).unwrap(), bytes, "{}", file.display());
    }
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 2);
}

#[test]
fn program_without_filter_is_reported() {
    let (code, filters, stderr, _) = dump_json("none", &["none"]);
    assert_eq!(code, 1);
    assert!(filters.is_empty());
    assert!(
        stderr.contains("exited with status 3 without installing a seccomp filter"),
        "{stderr}"
    );
}

/// Starts `syscage ARGS` with a stdin pipe that stays open.
fn spawn_with_open_stdin(args: &[&str]) -> Child {
    Command::new(SYSCAGE)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `secs`; kills it and fails if it hangs.
fn wait_bounded(mut child: Child, secs: u64) -> Output {
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

#[test]
fn limit_stops_after_n_filters_and_kills_the_program() {
    // `serve` would wait on stdin forever after its filters.
    let prog = testprog().to_str().unwrap();
    let child = spawn_with_open_stdin(&["dump", "-f", "json", "-l", "2", "--", prog, "serve"]);
    let out = wait_bounded(child, 20);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
}

#[test]
fn timeout_kills_a_program_that_never_ends() {
    let prog = testprog().to_str().unwrap();
    let child =
        spawn_with_open_stdin(&["dump", "-f", "raw", "--timeout", "1", "--", prog, "serve"]);
    let out = wait_bounded(child, 20);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("timeout"), "{stderr}");
    assert_eq!(stderr.matches("filter ").count(), 4, "{stderr}");
}

#[test]
fn no_stdin_lets_a_stdin_reader_finish() {
    let prog = testprog().to_str().unwrap();
    let child = spawn_with_open_stdin(&["dump", "--no-stdin", "-f", "json", "--", prog, "stdin"]);
    let out = wait_bounded(child, 20);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
}

#[test]
fn stdin_is_passed_through() {
    let prog = testprog().to_str().unwrap();
    let mut child = spawn_with_open_stdin(&["dump", "-f", "json", "--", prog, "stdin"]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"some input\n")
        .unwrap(); // then closed
    let out = wait_bounded(child, 20);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
}

fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("syscage: error: "), "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}

#[test]
fn command_that_does_not_exist() {
    let out = syscage(
        &["dump", "--", "/nonexistent/syscage-no-such-program"],
        None,
    );
    assert_one_line_error(&out, "cannot run '/nonexistent/syscage-no-such-program'");
    let out = syscage(&["dump", "--", "syscage-no-such-program-in-path"], None);
    assert_one_line_error(&out, "No such file or directory");
}

// ---- -p PID ----------------------------------------------------------------

/// `-p` needs CAP_SYS_ADMIN: under CI it must be there; elsewhere the test
/// says it did not run.
fn have_cap_sys_admin() -> bool {
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
        eprintln!("NOT RUN: needs CAP_SYS_ADMIN (run as root)");
    }
    ok
}

fn proc_field(pid: u32, name: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap()
        .trim()
        .to_string()
}

fn assert_not_stopped(pid: u32) {
    let state = proc_field(pid, "State");
    assert!(
        !state.starts_with('t') && !state.starts_with('T'),
        "pid {pid} left {state}"
    );
    assert_eq!(proc_field(pid, "TracerPid"), "0", "pid {pid} still traced");
}

/// A running `install_filters serve`: its stdin, stdout lines and log.
struct Server {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    log: PathBuf,
}

impl Server {
    fn start(name: &str, mode: &str) -> Server {
        let log = scratch(name).join("log");
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
        Server { child, lines, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn ping(&mut self, text: &str) {
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

fn dump_pid_json(pid: u32) -> Vec<Value> {
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

#[test]
fn pid_mode_dumps_live_process_oldest_first_and_leaves_it_running() {
    if !have_cap_sys_admin() {
        return;
    }
    let mut server = Server::start("serve", "serve");
    let pid = server.pid();
    let log = logged(&server.log);
    assert_eq!(log.len(), 4);
    assert_eq!(proc_field(pid, "Seccomp_filters"), "4");

    let first = dump_pid_json(pid);
    assert_not_stopped(pid);
    server.ping("one");
    let second = dump_pid_json(pid);
    assert_not_stopped(pid);
    server.ping("two");

    assert_eq!(first, second, "filters changed between two dumps");
    let expected: Vec<_> = log.iter().map(|(_, b)| (pid as i32, b.clone())).collect();
    assert_same(&first, &expected);
    // The kernel keeps only LOG among the install flags.
    let flags: Vec<_> = first.iter().map(|f| f["flags"].clone()).collect();
    assert_eq!(flags[1], serde_json::json!(["LOG"]));
    assert_eq!(flags[0], serde_json::json!([]));
    assert_eq!(proc_field(pid, "Seccomp_filters"), "4");
}

#[test]
fn pid_mode_leaves_a_stopped_process_stopped() {
    if !have_cap_sys_admin() {
        return;
    }
    let mut server = Server::start("stopped", "serve");
    let pid = server.pid();
    // Job control through the shell's kill builtin: no unsafe here.
    let sig = |s: &str| {
        assert!(Command::new("sh")
            .args(["-c", &format!("kill {s} {pid}")])
            .status()
            .unwrap()
            .success())
    };
    sig("-STOP");
    std::thread::sleep(Duration::from_millis(100));
    assert!(proc_field(pid, "State").starts_with('T'));
    let filters = dump_pid_json(pid);
    assert_eq!(filters.len(), 4);
    std::thread::sleep(Duration::from_millis(100));
    assert!(proc_field(pid, "State").starts_with('T'), "stop state lost");
    sig("-CONT");
    server.ping("after");
    assert_not_stopped(pid);
}

#[test]
fn pid_mode_strict_process() {
    if !have_cap_sys_admin() {
        return;
    }
    let server = Server::start("strictp", "strict-wait");
    let pid = server.pid();
    let filters = dump_pid_json(pid);
    assert_eq!(filters.len(), 1);
    assert_eq!(filters[0]["mode"], "strict");
    assert_not_stopped(pid);
}

#[test]
fn pid_mode_process_without_filter() {
    if !have_cap_sys_admin() {
        return;
    }
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let out = syscage(&["dump", "-p", &child.id().to_string()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has no seccomp filter"), "{stderr}");
    assert_not_stopped(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn pid_that_does_not_exist() {
    // A pid that just ended and was reaped.
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let out = syscage(&["dump", "-p", &pid.to_string()], None);
    assert_one_line_error(&out, &format!("no process with pid {pid}"));
    let out = syscage(&["dump", "-p", "0"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn process_that_exited_during_the_dump() {
    if !have_cap_sys_admin() {
        return;
    }
    // A process that installed a filter and exited, not yet reaped: a zombie.
    let mut child = Command::new(testprog())
        .args(["stacked", "1"])
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    while !proc_field(pid, "State").starts_with('Z') {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "child did not exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = syscage(&["dump", "-p", &pid.to_string()], None);
    assert_one_line_error(&out, &format!("process {pid} exited during the dump"));
    child.wait().unwrap();
}

#[test]
fn pid_mode_without_cap_sys_admin_says_what_is_needed() {
    if !have_cap_sys_admin() {
        return;
    }
    let server = Server::start("nocap", "serve");
    // Drop CAP_SYS_ADMIN from syscage's capability sets.
    let out = Command::new("setpriv")
        .args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"])
        .arg(SYSCAGE)
        .args(["dump", "-p", &server.pid().to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("setpriv (util-linux)");
    assert_one_line_error(&out, "needs CAP_SYS_ADMIN");
    assert_not_stopped(server.pid());
}

#[test]
fn pid_and_command_together_is_a_usage_error() {
    let out = syscage(&["dump", "-p", "1", "--", "true"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = syscage(&["dump"], None);
    assert_one_line_error(&out, "give -p PID or -- CMD");
}

/// A process that ends while `-p` runs again and again: every dump either
/// succeeds with all its filters or fails with one line and exit 2.
#[test]
fn process_exiting_while_being_dumped_repeatedly() {
    if !have_cap_sys_admin() {
        return;
    }
    for round in 0..4u64 {
        let mut server = Server::start(&format!("race{round}"), "serve");
        let pid = server.pid();
        let stdin = server.child.stdin.take().unwrap();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5 + 15 * round));
            drop(stdin); // `serve` exits at end of file
        });
        let (mut ok, mut failed) = (0, 0);
        loop {
            let out = syscage(&["dump", "-f", "json", "-p", &pid.to_string()], None);
            match out.status.code() {
                Some(0) => {
                    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_eq!(v.as_array().unwrap().len(), 4);
                    ok += 1;
                }
                _ => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert_eq!(out.status.code(), Some(2), "{stderr}");
                    assert_eq!(stderr.lines().count(), 1, "{stderr}");
                    assert!(
                        stderr.contains(&format!("process {pid} exited during the dump"))
                            || stderr.contains(&format!("no process with pid {pid}")),
                        "{stderr}"
                    );
                    failed += 1;
                    break;
                }
            }
            assert!(ok < 10_000, "process never exited");
        }
        closer.join().unwrap();
        let status = server.child.wait().unwrap();
        assert!(
            status.success(),
            "serve ended with {status} (ok {ok}, failed {failed})"
        );
    }
}

/// Writes the hand-assembled static i386 program; returns its path and the
/// bytes of the filter it installs.
fn i386_program(name: &str) -> (PathBuf, Vec<u8>) {
    let path = scratch(name).join("i386prog");
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

/// Arch detection: a 32-bit process's filter is read through the i386
/// `struct sock_fprog` layout and named for i386, in both modes.
#[test]
fn i386_process_is_detected_in_both_modes() {
    let (prog, bytes) = i386_program("i386");
    // -- CMD (its "ready" goes to stdout, so the filter goes to a file)
    let out_dir = prog.parent().unwrap().join("out");
    let out = syscage(
        &[
            "dump",
            "-f",
            "json",
            "-o",
            out_dir.to_str().unwrap(),
            "--no-stdin",
            "--",
            prog.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(hex_bytes(&f), bytes);
    assert_eq!(f["arch"], "x86");
    assert_eq!(f["call"], "seccomp");

    // -p PID
    if !have_cap_sys_admin() {
        return;
    }
    let mut child = Command::new(&prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let filters = dump_pid_json(child.id());
    assert_not_stopped(child.id());
    drop(child.stdin.take()); // end of file: the program exits 0
    assert!(child.wait().unwrap().success());
    assert_eq!(filters.len(), 1);
    assert_eq!(hex_bytes(&filters[0]), bytes);
    assert_eq!(filters[0]["arch"], "x86");
}

#[test]
fn pid_mode_from_a_seccomp_confined_syscage_says_what_is_needed() {
    if !have_cap_sys_admin() {
        return;
    }
    let server = Server::start("confined", "serve");
    let out = Command::new(testprog())
        .args(["wrap", SYSCAGE, "dump", "-p", &server.pid().to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_one_line_error(&out, "not running under seccomp");
    assert!(String::from_utf8_lossy(&out.stderr).contains("runs under a seccomp filter"));
    assert_not_stopped(server.pid());
}

/// The default output is the disassembler's, for the target's arch (in a
/// file per filter with `-o`: the program's own stdout would interleave).
#[test]
fn default_output_is_the_disassembly_for_the_targets_arch() {
    use syscage::arch::Arch;
    use syscage::asm::print::{disasm, DisasmOptions};
    let (prog, bytes) = i386_program("disasm");
    let out_dir = prog.parent().unwrap().join("out");
    let out = syscage(
        &[
            "dump",
            "-o",
            out_dir.to_str().unwrap(),
            "--no-stdin",
            "--",
            prog.to_str().unwrap(),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("arch x86,"), "{stderr}");
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].to_str().unwrap().ends_with("-1.asm"), "{files:?}");
    let raw = syscage::bpf::codec::decode(&bytes, syscage::bpf::ByteOrder::Little).unwrap();
    let expected = disasm(&raw, Arch::X86, &DisasmOptions::default());
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(text, expected);
    // The filter compares with 8..=15: on i386 (asm/unistd_32.h) 11 is
    // execve and 15 chmod; on x86_64 they would be munmap and rt_sigreturn.
    assert!(text.contains("execve") && text.contains("chmod"), "{text}");
    assert!(
        !text.contains("munmap") && !text.contains("rt_sigreturn"),
        "{text}"
    );
}

/// A process already traced (here by `syscage dump -- …`) cannot be
/// attached to: one line naming the tracer, and it goes on.
#[test]
fn pid_mode_of_an_already_traced_process() {
    if !have_cap_sys_admin() {
        return;
    }
    let prog = testprog().to_str().unwrap();
    let mut tracer = Command::new(SYSCAGE)
        .args(["dump", "-f", "raw", "-o"])
        .arg(scratch("traced").join("out"))
        .args(["--", prog, "serve"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(tracer.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let children =
        std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", tracer.id())).unwrap();
    let traced: u32 = children.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(proc_field(traced, "TracerPid"), tracer.id().to_string());

    let out = syscage(&["dump", "-p", &traced.to_string()], None);
    assert_one_line_error(&out, &format!("already traced by process {}", tracer.id()));

    let stdin = tracer.stdin.as_mut().unwrap();
    writeln!(stdin, "still there").unwrap();
    stdin.flush().unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "echo still there");
    drop(tracer.stdin.take());
    assert!(tracer.wait().unwrap().success());
}
