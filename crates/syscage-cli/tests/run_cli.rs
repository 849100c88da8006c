//! `syscage run` and `syscage status` on the real kernel (every filter is
//! installed in syscage's child, never in the test process).

mod seccomp_support;
use seccomp_support::require_seccomp;

mod run_refusal;
mod syscage_bin;
use run_refusal::{assert_refused, temp};
use syscage_bin::{stderr, syscage};

use std::process::{Command, Output, Stdio};

#[test]
fn ordinary_programs_run_under_the_default_profile() {
    if !require_seccomp() {
        return;
    }
    let c = temp("hello.c");
    std::fs::write(&c, "int main(void) { return 0; }\n").unwrap();
    let exe = temp("hello");
    let cases: Vec<Vec<String>> = vec![
        vec!["sh".into(), "-c".into(), "echo hi | cat".into()],
        vec!["ls".into(), "-l".into(), "/".into()],
        vec!["cat".into(), "/proc/self/status".into()],
        vec!["python3".into(), "-c".into(), "import os, subprocess, threading; subprocess.run(['true'], check=True); print(os.getpid())".into()],
        vec!["gcc".into(), "-o".into(), exe.to_string_lossy().into(), c.to_string_lossy().into()],
    ];
    for cmd in cases {
        let mut args = vec!["run", "--"];
        args.extend(cmd.iter().map(String::as_str));
        let o = syscage(&args);
        assert_eq!(o.status.code(), Some(0), "{cmd:?}: {}", stderr(&o));
    }
    assert!(exe.exists());
    // Under the default profile, the program really is filtered.
    let o = syscage(&["run", "--", "cat", "/proc/self/status"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Seccomp:\t2") && out.contains("NoNewPrivs:\t1"),
        "{out}"
    );
    // ... and what runtimes deny gets EPERM (errno 1): unshare(CLONE_NEWUTS), as root.
    let py = "import ctypes; c = ctypes.CDLL(None, use_errno=True); print(c.unshare(0x04000000), ctypes.get_errno())";
    let o = syscage(&["run", "--", "python3", "-c", py]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "-1 1",
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_file(exe);
    let _ = std::fs::remove_file(c);
}

#[test]
fn deny_with_errno_fails_the_syscall() {
    if !require_seccomp() {
        return;
    }
    let d = temp("dir");
    let o = syscage(&[
        "run",
        "--deny",
        "mkdir,mkdirat",
        "--",
        "mkdir",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Operation not permitted"));
    assert!(!d.exists());
    let o = syscage(&[
        "run",
        "--deny",
        "mkdir,mkdirat",
        "--action",
        "errno:38",
        "--",
        "mkdir",
        d.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("Function not implemented"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn allow_list_refuses_the_rest() {
    if !require_seccomp() {
        return;
    }
    // With execve, exit_group, read (syscage checks the filter is in force
    // with it after installing) and write allowed, the kernel runs the
    // program up to its first refused syscall, the loader's.
    let o = syscage(&[
        "run",
        "--allow",
        "execve,exit_group,read,write",
        "--action",
        "kill",
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(128 + 31), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("was killed by seccomp (SIGSYS) at "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_kill_names_the_syscall_and_exits_like_a_shell() {
    if !require_seccomp() {
        return;
    }
    let o = syscage(&[
        "run",
        "--deny",
        "mkdir",
        "--action",
        "kill",
        "--",
        "mkdir",
        "/nonexistent-syscage/x",
    ]);
    assert_eq!(o.status.code(), Some(128 + libc::SIGSYS));
    let err = stderr(&o);
    assert!(err.contains("mkdir (83, x86_64)"), "{err}");
    let o = syscage(&[
        "run",
        "--deny",
        "getppid",
        "--action",
        "trap:7",
        "--",
        "sh",
        "-c",
        "echo $PPID",
    ]);
    // dash reads $PPID with getppid at start-up.
    assert_eq!(o.status.code(), Some(128 + libc::SIGSYS), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("SECCOMP_RET_TRAP (data 7) at getppid (110, x86_64)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn exit_status_is_passed_through() {
    if !require_seccomp() {
        return;
    }
    assert_eq!(
        syscage(&["run", "--", "sh", "-c", "exit 42"]).status.code(),
        Some(42)
    );
    assert_eq!(
        syscage(&["run", "--deny", "mkdir", "--", "sh", "-c", "kill -TERM $$"])
            .status
            .code(),
        Some(128 + 15)
    );
}

#[test]
fn bad_input_is_one_line_exit_2_and_the_program_never_starts() {
    if !require_seccomp() {
        return;
    }
    let marker = temp("marker");
    let m = marker.to_str().unwrap();
    assert_refused(
        &syscage(&["run", "--", "/nonexistent/program"]),
        "/nonexistent/program",
        &marker,
    );
    assert_refused(
        &syscage(&["run", "--deny", "nosuchsyscall", "--", "touch", m]),
        "nosuchsyscall",
        &marker,
    );
    assert_refused(
        &syscage(&[
            "run", "--deny", "mkdir", "--action", "explode", "--", "touch", m,
        ]),
        "explode",
        &marker,
    );
    let bad = temp("bad.json");
    std::fs::write(&bad, "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscalls\": [{\"names\": [\"read\"], \"action\": 7}]}").unwrap();
    let o = syscage(&["run", "--profile", bad.to_str().unwrap(), "--", "touch", m]);
    assert_refused(&o, &format!("{}:2:", bad.display()), &marker);
    assert_refused(
        &syscage(&["run", "--profile", "/nonexistent.json", "--", "touch", m]),
        "/nonexistent.json",
        &marker,
    );
    // A kernel without seccomp, as an inner syscage sees it when prctl(2)
    // and seccomp(2) fail with ENOSYS (the outer one passes its status on).
    // Where an outer filter refuses them with EPERM instead, that is said.
    let exe = env!("CARGO_BIN_EXE_syscage");
    for (errno, said) in [
        ("errno:38", "this kernel has no seccomp"),
        (
            "errno:1",
            "seccomp is refused here (prctl(PR_GET_SECCOMP): Operation not permitted",
        ),
    ] {
        let inner = [exe, "run", "--", "touch", m];
        let mut args = vec!["run", "--deny", "seccomp,prctl", "--action", errno, "--"];
        args.extend(inner);
        assert_refused(&syscage(&args), said, &marker);
    }
    let _ = std::fs::remove_file(bad);
}

#[test]
fn log_counts_every_syscall() {
    if !require_seccomp() {
        return;
    }
    // /bin/true's last syscall is exit_group and its first, under the filter, execve.
    let o = syscage(&["run", "--log", "--", "true"]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.contains("syscalls logged"), "{err}");
    if err.contains("audit netlink") {
        assert_eq!(logged(&err, "execve"), Some(1), "{err}");
        assert_eq!(logged(&err, "exit_group"), Some(1), "{err}");
    } else {
        assert!(err.contains("lost"), "{err}");
    }
}

/// Audit records come from every process of the machine. While another
/// program keeps logging (a loop of `uname`, each a new process started
/// after ours), `--log` still ends, and counts only its program's calls.
/// (The noise loops until the test kills its syscage, whose ptrace
/// `EXITKILL` takes the shell with it.)
#[test]
fn log_counts_only_the_programs_syscalls_while_others_log() {
    if !require_seccomp() {
        return;
    }
    let marker = temp("noise-started");
    let noise = Command::new(env!("CARGO_BIN_EXE_syscage"))
        .args([
            "run", "--deny", "uname", "--action", "log", "--", "sh", "-c",
        ])
        .arg(format!(
            "touch {}; while :; do uname >/dev/null; done",
            marker.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut noise = KillOnDrop(noise);
    while !marker.exists() {
        assert!(
            noise.0.try_wait().unwrap().is_none(),
            "the noise ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut run = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_syscage"))
            .args(["run", "--log", "--", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = run.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "--log never ended while another process kept logging"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        noise.0.try_wait().unwrap().is_none(),
        "the noise was not logging the whole time"
    );
    let _ = std::fs::remove_file(&marker);
    assert_eq!(status.code(), Some(0));
    let mut err = Vec::new();
    std::io::Read::read_to_end(&mut run.0.stderr.take().unwrap(), &mut err).unwrap();
    let err = String::from_utf8_lossy(&err).into_owned();
    let ci = std::env::var("CI").as_deref() == Ok("true");
    assert!(
        !ci || (err.contains("audit netlink") && !err.contains("without the process-events")),
        "CI runs as root: netlink and process events: {err}"
    );
    if err.contains("without the process-events") {
        eprintln!(
            "NOT CHECKED: --log of a process tree needs the process-events connector (root): {err}"
        );
        return;
    }
    assert_eq!(
        logged(&err, "uname"),
        None,
        "another process's calls counted: {err}"
    );
    if err.contains("audit netlink") {
        assert_eq!(logged(&err, "execve"), Some(1), "{err}");
        assert_eq!(logged(&err, "exit_group"), Some(1), "{err}");
    }
}

/// With an audit daemon registered (auditd on a server; here the test
/// process registers itself), `--log` reads the copy the kernel multicasts
/// to the read-only log group: every record still counts.
#[test]
fn log_reads_beside_a_registered_audit_daemon() {
    if !require_seccomp() {
        return;
    }
    let ci = std::env::var("CI").as_deref() == Ok("true");
    // Another test's `syscage run --log` may be the daemon for a moment; a
    // daemon registered for longer (auditd) is what this test wants anyway.
    let start = std::time::Instant::now();
    let daemon = loop {
        match syscage_linux::audit::Collector::start_netlink() {
            Ok(c) => break Some(c),
            Err(e) if start.elapsed() > std::time::Duration::from_secs(20) => {
                if e.to_string().contains("another audit daemon is registered") {
                    break None;
                }
                assert!(!ci, "CI runs as root, which may be the audit daemon: {e}");
                eprintln!("NOT CHECKED: cannot register as the audit daemon (needs root): {e}");
                return;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    };
    let o = syscage(&["run", "--log", "--", "true"]);
    drop(daemon);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.contains("read-only log group; none lost"), "{err}");
    assert_eq!(logged(&err, "execve"), Some(1), "{err}");
    assert_eq!(logged(&err, "exit_group"), Some(1), "{err}");
}

/// In a pid namespace, audit records carry the outer pids: `--log` cannot
/// tell whose a record is, says so, and still ends promptly with the
/// program's records among those it counts.
#[test]
fn log_in_a_pid_namespace_says_every_record_counts() {
    if !require_seccomp() {
        return;
    }
    let o = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "--"])
        .arg(env!("CARGO_BIN_EXE_syscage"))
        .args(["run", "--log", "--", "true"])
        .output()
        .expect("unshare (util-linux)");
    let err = stderr(&o);
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if !o.status.success() && !ci && err.contains("unshare") {
        eprintln!("NOT CHECKED: unshare --pid needs CAP_SYS_ADMIN (run as root): {err}");
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("in a pid namespace, records of every process count"),
        "{err}"
    );
    assert!(logged(&err, "execve").is_some_and(|n| n >= 1), "{err}");
}

/// Without root, `--log` can only read the kernel log: where the kernel
/// does not let it (`kernel.dmesg_restrict`), the program never starts and
/// the one-line error says what would let it.
#[test]
fn log_without_privileges_reads_the_kernel_log_or_refuses() {
    if !require_seccomp() {
        return;
    }
    let marker = temp("log-unprivileged");
    let _ = std::fs::remove_file(&marker);
    // The marker's directory must be writable by nobody, and the binary
    // reachable by nobody wherever the checkout lives: a copy in /tmp.
    let dir = std::env::temp_dir();
    let exe = temp("syscage-for-nobody");
    std::fs::copy(env!("CARGO_BIN_EXE_syscage"), &exe).unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // A concurrent test's fork may still hold the copy's write descriptor
    // until its child execs: setpriv's execve then fails with ETXTBSY.
    let mut tries = 0;
    let o = loop {
        let o = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&exe)
            .args(["run", "--log", "--", "touch"])
            .arg(&marker)
            .current_dir(&dir)
            .output()
            .expect("setpriv (util-linux)");
        if tries < 50 && stderr(&o).contains("Text file busy") {
            tries += 1;
            std::thread::sleep(std::time::Duration::from_millis(20));
            continue;
        }
        break o;
    };
    let _ = std::fs::remove_file(&exe);
    let restricted =
        std::fs::read_to_string("/proc/sys/kernel/dmesg_restrict").is_ok_and(|v| v.trim() != "0");
    if restricted {
        assert_refused(&o, "sysctl kernel.dmesg_restrict=0", &marker);
    } else {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(err.contains("(kernel log, rate-limited; "), "{err}");
        assert!(marker.exists());
        let _ = std::fs::remove_file(&marker);
    }
}

/// The count `syscage run --log` printed for x86_64 syscall `name`.
fn logged(err: &str, name: &str) -> Option<u64> {
    let nr = syscage::arch::Arch::X86_64.syscall_nr(name).unwrap();
    err.lines()
        .find(|l| l.trim_end().ends_with(&format!("{name} ({nr}, x86_64)")))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
}

/// A child killed (and reaped) when the test ends, passing or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn status_shows_a_filtered_process() {
    if !require_seccomp() {
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_syscage"))
        .args(["run", "--deny", "mkdir", "--", "sleep", "5"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let parent = child.id();
    let mut pid = None;
    for _ in 0..200 {
        let kids = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        if let Some(p) = kids.split_whitespace().next() {
            let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            if comm.trim() == "sleep" {
                pid = Some(p.to_string());
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pid = pid.expect("sleep started");
    let o = syscage(&["status", "--json", &pid]);
    child.kill().ok();
    child.wait().ok();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["command"], "sleep");
    assert_eq!(v[0]["mode"], "filter");
    assert_eq!(v[0]["filters"], 1);
    assert_eq!(v[0]["no_new_privs"], true);
    let o = syscage(&["status"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().next().unwrap().contains("PID"));
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().next() == Some("1")),
        "{out}"
    );
    let o = syscage(&["status", "999999999"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `sh -c CMD` as a shell would start it, with `SIGPIPE` left as the
/// launcher got it, or ignored first (`trap '' PIPE`, inherited on exec).
fn sh_with_sigpipe(ignored: bool, cmd: &str) -> Output {
    let trap = if ignored { "trap '' PIPE; " } else { "" };
    Command::new("sh")
        .arg("-c")
        .arg(format!("{trap}exec {cmd}"))
        .output()
        .unwrap()
}

/// Rust's runtime ignores `SIGPIPE`; the program must not inherit that:
/// `yes | head -1` ends with `yes` killed by `SIGPIPE`, quietly, as it
/// does without syscage. A `SIGPIPE` the launcher had ignored stays
/// ignored (then `yes` sees `EPIPE` and says so), again as without syscage.
#[test]
fn program_gets_the_sigpipe_disposition_it_would_get_untraced() {
    if !require_seccomp() {
        return;
    }
    let pipeline = "sh -c 'yes | head -1'";
    let o = syscage(&["run", "--", "sh", "-c", "yes | head -1"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "y\n");
    assert_eq!(stderr(&o), "", "stderr not empty");
    assert_eq!(o.status.code(), Some(0));

    let exe = env!("CARGO_BIN_EXE_syscage");
    for ignored in [false, true] {
        let plain = sh_with_sigpipe(ignored, pipeline);
        for mode in [&["run", "--"][..], &["run", "--deny", "acct", "--"][..]] {
            let under = sh_with_sigpipe(ignored, &format!("{exe} {} {pipeline}", mode.join(" ")));
            assert_eq!(under.stdout, plain.stdout, "ignored={ignored} {mode:?}");
            assert_eq!(stderr(&under), stderr(&plain), "ignored={ignored} {mode:?}");
            assert_eq!(under.status.code(), plain.status.code());
        }
    }
    // The shell's `trap '' PIPE` case really differs from the default one
    // (else the comparison above would prove nothing about it).
    assert!(stderr(&sh_with_sigpipe(true, pipeline)).contains("Broken pipe"));
}
