//! The two ways `syscage record` learns syscalls, against each other:
//! `--via notify` (a seccomp user-notification listener, the default where
//! the kernel has it) and `--via ptrace` (`SECCOMP_RET_TRACE` stops).
//! Each recording must run its program with zero denials (the checks of
//! `record_cli.rs`), and for programs whose syscalls do not depend on
//! timing both must record the same syscalls.

mod record_fixture;

use record_fixture::*;
use std::collections::BTreeSet;

fn names(profile: &std::path::Path) -> BTreeSet<String> {
    allowed_names(profile).into_iter().collect()
}

#[test]
fn both_ways_record_the_same_syscalls() {
    let data = scratch("via-ls-data");
    std::fs::write(data.join("file.txt"), "text\n").expect("write");
    let d = s(&data);
    let cases: [(&str, Vec<&str>); 4] = [
        ("forkexec", vec![probe(), "forkexec"]),
        ("int80", vec![probe(), "int80"]),
        ("ls", vec!["ls", "-lA", "--time-style=+", &d]),
        (
            "sh-pipe",
            vec!["sh", "-c", "echo a b c | tr ' ' '\\n' | sort"],
        ),
    ];
    for (name, cmd) in &cases {
        let Some(ptrace) = record_then_run(&format!("{name}-ptrace"), &["--via", "ptrace"], cmd)
        else {
            return;
        };
        let notify = record_then_run(&format!("{name}-notify"), &["--via", "notify"], cmd)
            .expect("notify works where ptrace does");
        assert_eq!(names(&ptrace), names(&notify), "{name}");
    }
}

#[test]
fn both_ways_follow_threads_and_record_arguments() {
    for via in ["ptrace", "notify"] {
        if record_then_run(
            &format!("threads-{via}"),
            &["--via", via],
            &[probe(), "threads", "8"],
        )
        .is_none()
        {
            return;
        }
        let args = record_then_run(
            &format!("socket-args-{via}"),
            &["--via", via, "--args"],
            &[probe(), "socket", "unix"],
        )
        .expect("recorded");
        let text = std::fs::read_to_string(&args).expect("profile");
        assert!(text.contains("\"socket\""), "{via}: {text}");
    }
}

#[test]
fn a_program_with_its_own_listener_needs_ptrace() {
    // One listener per filter stack: under `--via notify` the program's
    // NEW_LISTENER fails with EBUSY (16), under ptrace it succeeds.
    let dir = scratch("own-listener");
    let Some((out, _)) = record(&dir, "ptrace", &["--via", "ptrace"], &[probe(), "listener"])
    else {
        return;
    };
    assert_eq!(text(&out.stdout), "listener: ok\n", "{}", text(&out.stderr));
    let (out, _) =
        record(&dir, "notify", &["--via", "notify"], &[probe(), "listener"]).expect("recorded");
    assert_eq!(
        text(&out.stdout),
        "listener: errno 16\n",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_recorder_recorded_by_another_says_why_it_cannot_record() {
    // The outer recorder's listener takes every syscall of the inner one's
    // program (USER_NOTIF takes precedence over TRACE, and a second
    // listener is refused): the inner recorder must fail loudly, never
    // write an empty profile.
    let dir = scratch("nested");
    let inner_out = dir.join("inner.json");
    let inner = s(&inner_out);
    let Some((out, _)) = record(
        &dir,
        "outer",
        &[],
        &[SYSCAGE, "record", "-o", &inner, "--", "true"],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no syscall reached the recorder"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !inner_out.exists(),
        "no profile from a recording that saw nothing"
    );
}

#[test]
fn without_pidfd_getfd_auto_falls_back_to_ptrace() {
    // As in a container whose seccomp profile refuses pidfd_getfd: the
    // listener cannot be taken, the program has not started yet, so the
    // default way records with ptrace instead; `--via notify` says why.
    let dir = scratch("no-getfd");
    let auto_out = dir.join("auto.json");
    let notify_out = dir.join("notify.json");
    let under = |via: &str, out: &std::path::Path| {
        syscage(&[
            "run",
            "--deny",
            "pidfd_getfd",
            "--",
            SYSCAGE,
            "record",
            "--via",
            via,
            "-o",
            &s(out),
            "--",
            "true",
        ])
    };
    let auto = under("auto", &auto_out);
    if !traced(&auto) {
        return;
    }
    assert!(auto.status.success(), "{}", text(&auto.stderr));
    assert!(names(&auto_out).contains("execve"));
    let notify = under("notify", &notify_out);
    assert_eq!(notify.status.code(), Some(2), "{}", text(&notify.stderr));
    // The outer `run` names its refusals through a listener of its own
    // (denials routed to SECCOMP_RET_USER_NOTIF), so the kernel refuses a
    // second listener before pidfd_getfd is even tried; where the outer
    // filter has none, taking the listener fails. Either way `--via notify`
    // says why and points to ptrace.
    let err = text(&notify.stderr);
    assert!(
        err.contains("cannot take the recording filter's listener")
            || err.contains("already has a user-notification listener"),
        "{err}"
    );
    assert!(err.contains("--via ptrace"), "{err}");
    assert!(!notify_out.exists());
}
