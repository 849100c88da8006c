//! `syscage run` and `syscage dump -- CMD` under SIGINT, SIGTERM, SIGHUP and
//! SIGQUIT sent to syscage (kill(2), as a container runtime or a
//! supervisor would): each is passed on to the program, which can shut
//! down cleanly, and syscage exits with the program's status.

mod seccomp_support;
use seccomp_support::require_seccomp;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

/// Runs `syscage SUB -- python3 -c SCRIPT` where the script handles
/// `sig` (printing `bye`, exiting 7), says `ready`, then sleeps; sends
/// `sig` to syscage once ready. Returns (stdout after ready, exit code).
fn signalled(sub: &[&str], sig: &str) -> (String, Option<i32>) {
    let script = format!(
        "import signal, sys, time\n\
         signal.signal(signal.SIG{sig}, lambda *a: (print('bye', flush=True), sys.exit(7)))\n\
         print('ready', flush=True)\n\
         time.sleep(30)"
    );
    signalled_program(sub, &["python3", "-c", &script], sig)
}

fn signalled_program(sub: &[&str], program: &[&str], sig: &str) -> (String, Option<i32>) {
    let mut args: Vec<&str> = sub.to_vec();
    args.push("--");
    args.extend(program);
    let mut child = Command::new(env!("CARGO_BIN_EXE_syscage"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n", "{sub:?} {sig}");
    let killed = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    (rest, status.code())
}

#[test]
fn run_passes_termination_signals_to_the_program() {
    if !require_seccomp() {
        return;
    }
    for sig in ["TERM", "HUP", "INT", "QUIT"] {
        let (out, code) = signalled(&["run"], sig);
        assert_eq!(out, "bye\n", "{sig}");
        assert_eq!(code, Some(7), "{sig}");
    }
    // Under a filter too (the default profile).
    let (out, code) = signalled(&["run", "--profile", "default"], "TERM");
    assert_eq!((out.as_str(), code), ("bye\n", Some(7)));
    // A shell waiting for its child runs its trap (the case). A
    // signal that comes between `echo ready` and `wait` is run by sh once
    // `sleep` ends; without forwarding, syscage's death takes the program
    // with it and no `bye` ever comes.
    let (out, _) = signalled_program(
        &["run"],
        &[
            "sh",
            "-c",
            "trap 'echo bye; kill $!' TERM; sleep 5 & echo ready; wait",
        ],
        "TERM",
    );
    assert_eq!(out, "bye\n");
}

#[test]
fn dump_passes_termination_signals_to_the_program() {
    if !require_seccomp() {
        return;
    }
    for sig in ["TERM", "HUP", "INT", "QUIT"] {
        let (out, _) = signalled(&["dump"], sig);
        assert_eq!(out, "bye\n", "{sig}");
    }
}
