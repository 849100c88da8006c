//! The listener's loop: every syscall of the program and of everything it
//! starts arrives as one user notification (`SECCOMP_IOCTL_NOTIF_RECV`:
//! caller, `seccomp_data`), is noted, and is let through
//! (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`). No ptrace: the program runs as
//! an ordinary child, so signals, job control and exit statuses are the
//! kernel's business, not the recorder's.
//!
//! The loop `poll`s the listener and a pidfd of the first process; it ends
//! when the listener reports `POLLHUP` (no task uses the filter any more)
//! and the first process has been reaped. A notification whose caller was
//! killed meanwhile fails with `ENOENT` and is skipped.

use super::calls::PROGRESS_PERIOD;
use super::listen::Listened;
use super::signals::Handlers;
use super::state::RunState;
use super::{ProgramExit, Progress, RecordError};
use crate::notify::{self, Response};
use crate::tracee;
use std::collections::HashSet;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// The supervisor's state over one run.
pub(crate) struct Supervisor<'p> {
    /// What both recorders keep.
    pub state: RunState<'p>,
    /// Callers seen (thread ids), for signals: a caller signalling the
    /// recorder is not passed on; after the first process has ended,
    /// a passed-on signal goes to these.
    callers: HashSet<libc::pid_t>,
}

impl<'p> Supervisor<'p> {
    pub(crate) fn new(
        root: libc::pid_t,
        with_args: bool,
        progress: Option<&'p mut dyn FnMut(&Progress)>,
    ) -> Self {
        Supervisor {
            state: RunState::new(root, with_args, progress),
            callers: HashSet::new(),
        }
    }

    /// Runs until no task uses the filter and the first process is reaped.
    pub(crate) fn run(&mut self, l: &Listened, signals: &Handlers) -> Result<(), RecordError> {
        let timeout = PROGRESS_PERIOD.as_millis() as libc::c_int;
        let mut hung_up = false;
        while !hung_up || self.state.root_exit.is_none() {
            let mut fds = [
                libc::pollfd {
                    fd: if hung_up { -1 } else { l.listener.as_raw_fd() },
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: if self.state.root_exit.is_some() {
                        -1
                    } else {
                        l.pidfd.as_raw_fd()
                    },
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a valid array of two pollfd for the call's duration.
            let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(RecordError::Listener(e));
                }
            }
            if fds[0].revents & libc::POLLIN != 0 {
                self.serve(l)?;
            } else if fds[0].revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                hung_up = true;
            }
            if fds[1].revents & libc::POLLIN != 0 || (hung_up && self.state.root_exit.is_none()) {
                self.reap_root(hung_up)?;
            }
            if super::signals::any_noted() {
                self.state.pass_on_signals(signals, &self.callers);
            }
            self.state.tick(self.callers.len());
        }
        Ok(())
    }

    /// Receives one notification, notes it and lets the call through.
    fn serve(&mut self, l: &Listened) -> Result<(), RecordError> {
        let n = match notify::recv(l.listener.as_fd()) {
            Ok(n) => n,
            // The caller was killed between poll and recv.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
            Err(e) => return Err(RecordError::Listener(io::Error::other(e))),
        };
        let pid = n.pid as libc::pid_t;
        let d = n.data;
        if pid == self.state.root && !self.state.exec_seen && is_execve(d.arch, d.nr) {
            self.state.exec_seen = true;
        }
        self.callers.insert(pid);
        self.state.calls.add(pid, d.arch, d.nr, &d.args, |addr| {
            // Read while the caller waits for our answer, then make sure
            // the id (and so the pid) was still valid when we read.
            let v = tracee::read_u64(pid, addr).ok();
            v.filter(|_| notify::id_valid(l.listener.as_fd(), n.id))
        });
        match notify::respond(l.listener.as_fd(), n.id, Response::Continue) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            Err(e) => Err(RecordError::Listener(io::Error::other(e))),
        }
    }

    /// Reaps the first process (blocking when `now` says it must be gone).
    fn reap_root(&mut self, now: bool) -> Result<(), RecordError> {
        let flags = if now { 0 } else { libc::WNOHANG };
        match tracee::wait_raw(self.state.root, flags) {
            Ok(Some((_, status))) => {
                self.state.root_exit = Some(ProgramExit::from_wait_status(status));
                Ok(())
            }
            // ECHILD: already reaped; WNOHANG: not yet.
            Ok(None) if now => {
                self.state.root_exit.get_or_insert(ProgramExit::Code(0));
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(RecordError::Wait(e)),
        }
    }
}

/// Whether (audit arch, nr) is `execve` or `execveat`.
fn is_execve(audit_arch: u32, nr: u32) -> bool {
    let Some(arch) = super::recording::arch_of(audit_arch, nr) else {
        return false;
    };
    matches!(arch.syscall_name(nr), Some("execve" | "execveat"))
}
