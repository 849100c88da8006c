//! The event loop: one `waitpid(-1, __WALL)` per stop, one seccomp stop
//! per syscall, every other stop answered so the program runs as it
//! would untraced.
//!
//! | stop | answer |
//! | --- | --- |
//! | `PTRACE_EVENT_SECCOMP` | record (arch, nr[, key]); `PTRACE_CONT` |
//! | `PTRACE_EVENT_FORK/VFORK/CLONE/EXEC` | `PTRACE_CONT` (new tasks are attached by the kernel) |
//! | `PTRACE_EVENT_STOP`, stop signal | group-stop: `PTRACE_LISTEN` |
//! | `PTRACE_EVENT_STOP`, other | new task's first stop, or a `SIGCONT`ed listener: `PTRACE_CONT` |
//! | signal-delivery-stop | `PTRACE_CONT` with the signal (forwarded) |
//!
//! A restart that fails with `ESRCH` means the tracee was killed in the
//! meantime; its exit is reported by a later `waitpid`. The loop ends when
//! `waitpid` says there is nobody left (`ECHILD`).

use super::calls::{Calls, Reporter};
use super::recording::Recording;
use super::signals::Handlers;
use super::{ProgramExit, Progress, RecordError};
use crate::tracee::{self, SyscallStop};
use std::collections::HashSet;
use std::io;

/// How many stops between two looks at the clock for the progress line.
const PROGRESS_EVERY: u64 = 1024;

/// The tracer's state over one run.
pub(crate) struct Tracer<'p> {
    root: libc::pid_t,
    calls: Calls,
    tracees: HashSet<libc::pid_t>,
    exec_seen: bool,
    root_exit: Option<ProgramExit>,
    stops: u64,
    progress: Reporter<'p>,
    /// Signals the recorder received and passed on, for the caller to report.
    pub forwarded: Vec<libc::c_int>,
}

impl<'p> Tracer<'p> {
    pub(crate) fn new(
        root: libc::pid_t,
        with_args: bool,
        progress: Option<&'p mut dyn FnMut(&Progress)>,
    ) -> Self {
        Tracer {
            root,
            calls: Calls::new(with_args),
            tracees: HashSet::from([root]),
            exec_seen: false,
            root_exit: None,
            stops: 0,
            progress: Reporter::new(progress),
            forwarded: Vec::new(),
        }
    }

    /// Whether the first program image was exec'd.
    pub(crate) fn exec_seen(&self) -> bool {
        self.exec_seen
    }

    /// How the first program ended.
    pub(crate) fn root_exit(&self) -> Option<ProgramExit> {
        self.root_exit
    }

    /// Runs until no tracee is left.
    pub(crate) fn run(&mut self, signals: &Handlers) -> Result<(), RecordError> {
        loop {
            let (pid, status) = match tracee::wait_raw(-1, libc::__WALL | libc::__WNOTHREAD) {
                Ok(Some(got)) => got,
                Ok(None) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    self.pass_on_signals(signals);
                    continue;
                }
                Err(e) => return Err(RecordError::Wait(e)),
            };
            self.on_status(pid, status);
            if super::signals::any_noted() {
                self.pass_on_signals(signals);
            }
            self.stops += 1;
            if self.progress.wanted() && self.stops % PROGRESS_EVERY == 0 {
                self.progress.tick(&self.calls, self.tracees.len());
            }
        }
    }

    fn on_status(&mut self, pid: libc::pid_t, status: libc::c_int) {
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            self.tracees.remove(&pid);
            if pid == self.root {
                self.root_exit = Some(if libc::WIFEXITED(status) {
                    ProgramExit::Code(libc::WEXITSTATUS(status))
                } else {
                    ProgramExit::Signal(libc::WTERMSIG(status))
                });
            }
            return;
        }
        if !libc::WIFSTOPPED(status) {
            return;
        }
        self.tracees.insert(pid);
        let sig = libc::WSTOPSIG(status);
        let restarted = match tracee::ptrace_event(status) {
            libc::PTRACE_EVENT_SECCOMP => {
                self.on_syscall(pid);
                tracee::cont(pid, 0)
            }
            libc::PTRACE_EVENT_EXEC => {
                self.exec_seen = true;
                tracee::cont(pid, 0)
            }
            libc::PTRACE_EVENT_STOP => {
                if tracee::is_stop_signal(sig) {
                    tracee::listen(pid)
                } else {
                    tracee::cont(pid, 0)
                }
            }
            0 if sig == libc::SIGTRAP | 0x80 => tracee::cont(pid, 0),
            0 => tracee::cont(pid, sig),
            _ => tracee::cont(pid, 0),
        };
        // An error is ESRCH: the tracee was killed meanwhile, and its exit
        // comes with a later waitpid.
        drop(restarted);
    }

    fn on_syscall(&mut self, pid: libc::pid_t) {
        // At a seccomp stop `PTRACE_GET_SYSCALL_INFO` reports the call
        // (op SECCOMP), decoded as an entry.
        let Ok(SyscallStop::Entry {
            audit_arch: arch,
            nr,
            args,
        }) = tracee::syscall_stop(pid, None)
        else {
            return;
        };
        self.calls.add(pid, arch, nr as u32, &args, |addr| {
            tracee::read_u64(pid, addr).ok()
        });
    }

    fn pass_on_signals(&mut self, signals: &Handlers) {
        let passed =
            super::signals::pass_on(signals, self.root, self.root_exit.is_none(), &self.tracees);
        self.forwarded.extend(passed);
    }

    /// The recording so far.
    pub(crate) fn recording(&self) -> Recording {
        self.calls.recording()
    }
}
