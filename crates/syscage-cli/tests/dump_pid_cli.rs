//! Acceptance tests of `syscage dump -p PID`, on the real kernel: live
//! processes are dumped and keep running, unchanged.

mod dump_fixture;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dump_fixture::*;
use serde_json::Value;

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
    // The stop takes effect when the process next runs: wait for it.
    let start = std::time::Instant::now();
    while !proc_field(pid, "State").starts_with('T') {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "SIGSTOP not taken"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
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

/// A process already traced (here by `syscage dump -- …`) cannot be
/// attached to: one line naming the tracer, and it goes on.
#[test]
fn pid_mode_of_an_already_traced_process() {
    if !have_cap_sys_admin() {
        return;
    }
    let prog = testprog().to_str().unwrap();
    let dir = scratch("traced");
    let mut tracer = Command::new(SYSCAGE)
        .args(["dump", "-f", "raw", "-o"])
        .arg(dir.join("out"))
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
