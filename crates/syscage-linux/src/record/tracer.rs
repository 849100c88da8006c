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

use super::signals::Handlers;
use super::state::RunState;
use super::wake::Waker;
use super::{ProgramExit, Progress, RecordError};
use crate::tracee::{self, SyscallStop};
use std::collections::HashSet;
use std::io;

/// How many stops between two looks at the clock for the progress line.
const PROGRESS_EVERY: u64 = 1024;

/// Test hook: called before each `waitpid`, where a noted signal could
/// otherwise be missed.
#[cfg(test)]
pub(crate) static BEFORE_WAIT: std::sync::Mutex<Option<fn(&Tracer<'_>)>> =
    std::sync::Mutex::new(None);

/// The tracer's state over one run.
pub(crate) struct Tracer<'p> {
    /// What both recorders keep.
    pub state: RunState<'p>,
    tracees: HashSet<libc::pid_t>,
    stops: u64,
}

impl<'p> Tracer<'p> {
    pub(crate) fn new(
        root: libc::pid_t,
        with_args: bool,
        progress: Option<&'p mut dyn FnMut(&Progress)>,
    ) -> Self {
        Tracer {
            state: RunState::new(root, with_args, progress),
            tracees: HashSet::from([root]),
            stops: 0,
        }
    }

    /// Runs until no tracee is left.
    pub(crate) fn run(&mut self, signals: &Handlers) -> Result<(), RecordError> {
        // A signal noted after the look below and before `waitpid` blocks
        // interrupts it all the same.
        let _waker = Waker::start().map_err(RecordError::Wait)?;
        loop {
            #[cfg(test)]
            if let Some(hook) = *BEFORE_WAIT.lock().unwrap_or_else(|e| e.into_inner()) {
                hook(self);
            }
            let (pid, status) = match tracee::wait_raw(-1, libc::__WALL | libc::__WNOTHREAD) {
                Ok(Some(got)) => got,
                Ok(None) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    self.state.pass_on_signals(signals, &self.tracees);
                    continue;
                }
                Err(e) => return Err(RecordError::Wait(e)),
            };
            self.on_status(pid, status);
            if super::signals::any_noted() {
                self.state.pass_on_signals(signals, &self.tracees);
            }
            self.stops += 1;
            if self.state.progress.wanted() && self.stops % PROGRESS_EVERY == 0 {
                self.state.tick(self.tracees.len());
            }
        }
    }

    fn on_status(&mut self, pid: libc::pid_t, status: libc::c_int) {
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            self.tracees.remove(&pid);
            if pid == self.state.root {
                self.state.root_exit = Some(ProgramExit::from_wait_status(status));
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
                self.state.exec_seen = true;
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
        self.state.calls.add(pid, arch, nr as u32, &args, |addr| {
            tracee::read_u64(pid, addr).ok()
        });
    }
}
