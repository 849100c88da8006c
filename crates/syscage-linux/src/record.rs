//! `record`: run a program and learn every (arch, syscall) it makes, from
//! its `execve` on, into a minimal [`Policy`](syscage::policy::Policy).
//!
//! Two ways to see the syscalls ([`Via`]), both a one-instruction filter
//! installed by the child before `execve`, inherited by every thread and
//! child, reporting each syscall once with its `seccomp_data` (so `int 0x80`
//! from 64-bit code is recorded under i386):
//!
//! * **notify** (default where the kernel has it): `SECCOMP_RET_USER_NOTIF`
//!   with a listener the recorder takes with `pidfd_getfd`; each call is
//!   noted and let through (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`). No ptrace:
//!   the program is an ordinary child. With synchronous wake-ups (Linux
//!   6.6) this is about 4x faster than ptrace on a VM (BENCHMARKS.md);
//! * **ptrace**: `SECCOMP_RET_TRACE` and `PTRACE_O_TRACESECCOMP`, one stop
//!   per syscall (`PTRACE_SYSCALL` would stop twice); `PTRACE_O_TRACEFORK|
//!   VFORK|CLONE|EXEC` attach every task, `PTRACE_GET_SYSCALL_INFO` gives
//!   each call's arch, `PTRACE_SEIZE` + `PTRACE_LISTEN` keep job control
//!   working, `PTRACE_O_EXITKILL` kills the traced tree if the recorder
//!   dies. The tracer is the calling thread: it must live until [`record`]
//!   returns (ptrace ties tracees to the thread that attached them).
//!
//! ```no_run
//! use syscage_linux::record::{record, Options};
//! let cmd = ["ls".into(), "/".into()];
//! let options = Options { args: true, ..Options::default() };
//! let outcome = record(&cmd, options, None)?;
//! let policy = outcome.recording.to_policy();
//! println!("{} syscalls, exit {:?}", outcome.recording.total(), outcome.exit);
//! # let _ = policy;
//! # Ok::<(), syscage_linux::record::RecordError>(())
//! ```
//!
//! Submodules: [`args`] (the risk-deciding arguments of `--args`),
//! [`recording`] (the recorded data and the policy built from it),
//! [`additions`] (what that policy decides without a recorded call, and why); the
//! children's set-up (`spawn`, `listen`), the two loops (`tracer`,
//! `supervisor`) and their shared bookkeeping (`calls`) are private. The ptrace requests,
//! waits and syscall decoding are [`crate::tracee`]'s, the fork/exec
//! plumbing [`crate::fork_exec`]'s, shared with `dump` and `run`.

mod calls;
mod listen;
pub(crate) mod signals;
mod spawn;
mod state;
mod supervisor;
mod tracer;
mod wake;

pub use syscage::record::{additions, args, recording};

pub use additions::{Reason, Unobserved};
pub use recording::{CallStats, Recording};

use crate::fork_exec;
use std::ffi::OsString;
use std::io;
use std::time::Duration;

/// What to record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Record the risk-deciding argument values too ([`args::risk_args`]).
    pub args: bool,
    /// How syscalls reach the recorder.
    pub via: Via,
}

/// How the recorder learns each syscall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Via {
    /// [`Via::Notify`] where the kernel can (Linux 5.6), else [`Via::Ptrace`].
    #[default]
    Auto,
    /// A `SECCOMP_RET_USER_NOTIF` filter and its listener: no ptrace, the
    /// program runs as an ordinary child; with synchronous wake-ups (Linux
    /// 6.6) the program and the recorder hand the CPU to each other, several
    /// times faster than ptrace stops on machines where waking another CPU
    /// is slow (virtual machines). The program cannot install a filter with
    /// its own listener (`EBUSY`: one listener per filter stack).
    ///
    /// Not fully transparent: a syscall waiting for the recorder's answer
    /// waits interruptibly, so a signal arriving then (a `SIGCHLD` while a
    /// shell closes a pipe) makes it fail with `EINTR` when the program's
    /// handler lacks `SA_RESTART`, where it would have completed untraced
    /// (busybox `sh`'s `close` then leaves the pipe open and a pipeline
    /// hangs). `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` only narrows that
    /// window to the time before the recorder receives the call. Ptrace
    /// stops do not have this problem: record such programs with
    /// [`Via::Ptrace`].
    Notify,
    /// A `SECCOMP_RET_TRACE` filter and `PTRACE_O_TRACESECCOMP`: one
    /// ptrace stop per syscall. For programs that install a listener
    /// themselves, and kernels older than 5.6.
    Ptrace,
}

/// How a long run is going, for a progress line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Syscalls recorded so far.
    pub syscalls: u64,
    /// Distinct (arch, syscall) pairs so far.
    pub distinct: usize,
    /// Threads and processes: traced at the moment ([`Via::Ptrace`]), or
    /// seen making syscalls so far ([`Via::Notify`]).
    pub tasks: usize,
    /// Time since the program started.
    pub elapsed: Duration,
}

/// How the recorded program ended (its first process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramExit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl ProgramExit {
    /// From a `waitpid` status of an ended process (exited or killed).
    pub fn from_wait_status(status: libc::c_int) -> Self {
        if libc::WIFEXITED(status) {
            ProgramExit::Code(libc::WEXITSTATUS(status))
        } else {
            ProgramExit::Signal(libc::WTERMSIG(status))
        }
    }

    /// The exit code a shell would give: the status, or 128 + signal.
    pub fn shell_code(self) -> u8 {
        match self {
            ProgramExit::Code(c) => c as u8,
            ProgramExit::Signal(s) => 128u8.wrapping_add(s as u8),
        }
    }
}

/// The result of a recorded run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What the program did.
    pub recording: Recording,
    /// How it ended.
    pub exit: ProgramExit,
    /// Signals sent to the recorder (not by the terminal or a tracee) and
    /// passed on to the program.
    pub forwarded_signals: Vec<i32>,
}

/// Why a program could not be recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// No command was given.
    #[error("no command to record")]
    NoCommand,
    /// An argument or environment variable holds a NUL byte.
    #[error("an argument or environment variable contains a NUL byte")]
    NulByte,
    /// The program is not a file and not in `$PATH`.
    #[error("{}: command not found", .0.to_string_lossy())]
    NotFound(OsString),
    /// pipe(2) or fork(2) failed.
    #[error("cannot start the program: {0}")]
    Spawn(#[source] io::Error),
    /// `PTRACE_SEIZE` was refused.
    #[error("cannot trace the program: ptrace(PTRACE_SEIZE): {0} (recording needs ptrace: CAP_SYS_PTRACE, or kernel.yama.ptrace_scope at most 1, and no seccomp filter denying ptrace)")]
    Ptrace(#[source] io::Error),
    /// The child could not install the recording filter
    /// (`SECCOMP_RET_TRACE`, or `SECCOMP_RET_USER_NOTIF` with a listener).
    #[error("cannot install the recording seccomp filter: {0}")]
    Filter(#[source] io::Error),
    /// The program ran but no syscall reached the recorder: a filter this
    /// process inherited returns an action that takes precedence over
    /// `SECCOMP_RET_TRACE` (`USER_NOTIF`, `ERRNO`, ...) for every call.
    #[error("no syscall reached the recorder: a seccomp filter this process inherited takes precedence over SECCOMP_RET_TRACE (is syscage itself being recorded or supervised?)")]
    Overridden,
    /// A filter this process inherited already has a user-notification
    /// listener: the kernel allows one per filter stack.
    #[error("a seccomp filter of this process already has a user-notification listener (one per filter stack): record with --via ptrace")]
    ListenerBusy,
    /// The recorder could not take the listener from the child
    /// (`pidfd_open`/`pidfd_getfd` refused, say by a container's own
    /// seccomp profile); the program was not started.
    #[error("cannot take the recording filter's listener from the child: {0} (record with --via ptrace)")]
    NoListener(#[source] io::Error),
    /// The listener failed while the program ran (`poll`,
    /// `SECCOMP_IOCTL_NOTIF_RECV`/`SEND`).
    #[error("the recording filter's listener failed: {0}")]
    Listener(#[source] io::Error),
    /// `execve` failed.
    #[error("{}: cannot execute: {}", .0.to_string_lossy(), .1)]
    Exec(OsString, #[source] io::Error),
    /// The child ended before exec'ing, without saying why.
    #[error("the program ended before it was executed")]
    NeverStarted,
    /// `waitpid` failed.
    #[error("waitpid: {0}")]
    Wait(#[source] io::Error),
}

/// Runs `cmd` (program and arguments, the program looked up in `$PATH`)
/// to its end and returns what it did. `progress` is called every 200 ms
/// or so during long runs.
///
/// While it runs, `SIGINT`/`SIGTERM`/`SIGHUP`/`SIGQUIT` sent to this
/// process do not kill it: from the terminal they reach the program
/// directly, from elsewhere they are passed on to it, from the program
/// itself they are dropped (see the `signals` module). The handlers are
/// process-wide: run one recording at a time per process if it must
/// receive such signals.
pub fn record(
    cmd: &[OsString],
    options: Options,
    mut progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Outcome, RecordError> {
    let via = match options.via {
        Via::Auto if listen::supported() => Via::Notify,
        Via::Auto => Via::Ptrace,
        v => v,
    };
    if via == Via::Notify {
        let reborrowed = progress
            .as_mut()
            .map(|p| &mut **p as &mut dyn FnMut(&Progress));
        match record_notified(cmd, options, reborrowed) {
            // Under a supervisor of our own (a container runtime's
            // listener, a recording of a recorder): ptrace still works.
            Err(RecordError::ListenerBusy | RecordError::NoListener(_))
                if options.via == Via::Auto =>
            {
                let ptrace = Options {
                    via: Via::Ptrace,
                    ..options
                };
                return record(cmd, ptrace, progress);
            }
            other => return other,
        }
    }
    let handlers = signals::Handlers::install();
    let child = spawn::spawn(cmd, handlers.replaced())?;
    let mut tracer = tracer::Tracer::new(child.pid, options.args, progress);
    tracer.run(&handlers)?;
    drop(handlers);
    if !tracer.state.exec_seen {
        return Err(child.failure().unwrap_or(RecordError::NeverStarted));
    }
    if tracer.state.calls.total() == 0 {
        // Not even the execve was reported: a filter this process inherited
        // answers with a stronger action than SECCOMP_RET_TRACE.
        return Err(RecordError::Overridden);
    }
    Ok(tracer.state.outcome())
}

/// [`record`] through a listener ([`Via::Notify`]).
fn record_notified(
    cmd: &[OsString],
    options: Options,
    progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Outcome, RecordError> {
    let handlers = signals::Handlers::install();
    let listened = listen::spawn(cmd, handlers.replaced())?;
    let mut supervisor = supervisor::Supervisor::new(listened.child.pid, options.args, progress);
    let ran = supervisor.run(&listened, &handlers);
    drop(handlers);
    if let Err(e) = ran {
        // Not once it is reaped: its pid may be someone else's by now.
        if supervisor.state.root_exit.is_none() {
            fork_exec::kill_and_reap(listened.child.pid);
        }
        return Err(e);
    }
    if let Some(failure) = listened.child.failure() {
        return Err(failure);
    }
    if !supervisor.state.exec_seen {
        return Err(RecordError::NeverStarted);
    }
    Ok(supervisor.state.outcome())
}

#[cfg(all(test, target_arch = "x86_64"))]
mod live_tests;
