//! Recording real programs on the running kernel. The tracee is a child
//! process; nothing is installed in the test runner itself. Without
//! ptrace these tests say so and stop, except under `CI=true`, where
//! they fail.

use super::*;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;

fn cmd(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// One recording at a time: the signal notes are process-wide, and one
/// test sends a handled signal to this process.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Records `args`, or returns `None` when ptrace is unavailable here
/// (and panics instead under CI=true).
fn try_record(args: &[&str], options: Options) -> Option<Outcome> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    match record(&cmd(args), options, None) {
        Ok(o) => Some(o),
        Err(RecordError::Ptrace(e)) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("NOT CHECKED: ptrace is unavailable here: {e}");
            None
        }
        Err(e) => panic!("recording {args:?}: {e}"),
    }
}

fn names(r: &Recording, arch: Arch) -> Vec<&'static str> {
    r.calls
        .keys()
        .filter(|(a, _)| *a == arch)
        .filter_map(|&(a, nr)| a.syscall_name(nr))
        .collect()
}

#[test]
fn records_from_execve_on_and_passes_the_exit_status() {
    let Some(o) = try_record(&["sh", "-c", "exit 3"], Options::default()) else {
        return;
    };
    assert_eq!(o.exit, ProgramExit::Code(3));
    let n = names(&o.recording, Arch::X86_64);
    for expected in ["execve", "exit_group", "mmap", "brk"] {
        assert!(n.contains(&expected), "{expected} missing from {n:?}");
    }
    // The setup before execve (read of the sync pipe, prctl) is not recorded.
    assert!(!n.contains(&"prctl"), "{n:?}");
    let execve = Arch::X86_64.syscall_nr("execve").expect("execve");
    assert_eq!(o.recording.calls[&(Arch::X86_64, execve)].count, 1);
}

#[test]
fn follows_forks_and_execs() {
    let Some(o) = try_record(
        &["sh", "-c", "/bin/true; mkdir -p /tmp; exit 0"],
        Options::default(),
    ) else {
        return;
    };
    assert_eq!(o.exit, ProgramExit::Code(0));
    let n = names(&o.recording, Arch::X86_64);
    // mkdir(1) calls mkdir(2) in a forked child after a second execve.
    assert!(n.contains(&"mkdir"), "{n:?}");
    let execve = Arch::X86_64.syscall_nr("execve").expect("execve");
    assert!(o.recording.calls[&(Arch::X86_64, execve)].count >= 3);
}

#[test]
fn a_signal_death_is_reported_as_such() {
    let Some(o) = try_record(&["sh", "-c", "kill -USR1 $$"], Options::default()) else {
        return;
    };
    assert_eq!(o.exit, ProgramExit::Signal(libc::SIGUSR1));
    assert_eq!(o.exit.shell_code(), 128 + libc::SIGUSR1 as u8);
}

#[test]
fn a_missing_program_is_an_error() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let e = record(
        &cmd(&["/nonexistent/syscage-test"]),
        Options::default(),
        None,
    );
    assert!(matches!(e, Err(RecordError::Exec(..))), "{e:?}");
    let e = record(&cmd(&["syscage-no-such-command"]), Options::default(), None);
    assert!(matches!(e, Err(RecordError::NotFound(_))), "{e:?}");
}

#[test]
fn recorded_arguments_become_exact_conditions() {
    // python3 is not needed: sh's fcntl/ioctl calls are enough.
    let Some(o) = try_record(
        &["sh", "-c", "echo hi > /dev/null"],
        Options {
            args: true,
            ..Options::default()
        },
    ) else {
        return;
    };
    let policy = o.recording.to_policy();
    let fcntl = Arch::X86_64.syscall_nr("fcntl").expect("fcntl");
    let keys = &o.recording.arg_keys[&(Arch::X86_64, fcntl)];
    for key in keys {
        let mut args = [0u64; 6];
        args[1] = key[0];
        let d = SeccompData {
            nr: fcntl,
            arch: Arch::X86_64.audit(),
            args,
            ..Default::default()
        };
        assert_eq!(policy.evaluate(&d), Action::Allow);
    }
    // F_SETSIG (10, <asm-generic/fcntl.h>) is nothing a shell does.
    let d = SeccompData {
        nr: fcntl,
        arch: Arch::X86_64.audit(),
        args: [0, 10, 0, 0, 0, 0],
        ..Default::default()
    };
    assert_eq!(policy.evaluate(&d), Action::Errno(1));
}

/// The marker in the command line of the program
/// [`a_signal_noted_just_before_the_wait_is_passed_on`] records.
const SLEEPER: &str = "29.75";

/// Sends SIGTERM to this process once, in the tracer's window between its
/// look at the notes and its `waitpid`, once the sleeper has started its
/// sleep (so no further stop would wake the tracer).
fn term_before_the_wait(tracer: &tracer::Tracer<'_>) {
    static SENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let root = tracer.state.root;
    let cmdline = std::fs::read(format!("/proc/{root}/cmdline")).unwrap_or_default();
    if !String::from_utf8_lossy(&cmdline).contains(SLEEPER) {
        return;
    }
    let recording = tracer.state.calls.recording();
    let sleeping = ["nanosleep", "clock_nanosleep"].iter().any(|name| {
        Arch::X86_64
            .syscall_nr(name)
            .is_some_and(|nr| recording.calls.contains_key(&(Arch::X86_64, nr)))
    });
    if sleeping && !SENT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGTERM)
            .expect("kill");
    }
}

#[test]
fn a_signal_noted_just_before_the_wait_is_passed_on() {
    // Before the waker, the tracer blocked in waitpid until the sleep
    // ended (30 s) and the program exited 0.
    let started = std::time::Instant::now();
    *tracer::BEFORE_WAIT
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(term_before_the_wait);
    let o = try_record(
        &["sleep", SLEEPER],
        Options {
            via: Via::Ptrace,
            ..Options::default()
        },
    );
    *tracer::BEFORE_WAIT
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = None;
    let Some(o) = o else {
        return;
    };
    assert_eq!(o.exit, ProgramExit::Signal(libc::SIGTERM));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
