//! The ptrace plumbing passes on signals nix cannot name: a real-time
//! signal (`SIGRTMIN+n`, as Go and glibc threads use) stops the tracee,
//! `wait_tid` reports the stop and `cont` delivers it (the raw
//! `PTRACE_CONT` path of `tracee::cont`).

use syscage_linux::tracee::{self, StdinMode};

#[test]
fn a_real_time_signal_is_reported_and_delivered_on_resume() {
    let pid = tracee::spawn(&["sleep".into(), "30".into()], StdinMode::Null)
        .expect("spawn a traced sleep");
    tracee::cont(pid, 0).expect("PTRACE_CONT after exec");
    let rt = libc::SIGRTMIN() + 1;
    // SAFETY: a signal to our own child. Raw: nix's kill takes a Signal,
    // which has no real-time signals.
    assert_eq!(unsafe { libc::kill(pid, rt) }, 0);
    let status = tracee::wait_tid(pid).expect("the signal-delivery stop");
    assert!(
        libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == rt,
        "status {status:#x}"
    );
    tracee::cont(pid, rt).expect("PTRACE_CONT delivering the signal");
    let status = tracee::wait_tid(pid).expect("the end of the tracee");
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == rt,
        "status {status:#x}"
    );
}
