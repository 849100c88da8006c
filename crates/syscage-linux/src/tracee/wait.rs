//! Waiting for tracees and telling their stops apart.

use std::io;

use libc::{c_int, pid_t};

use super::{event_msg, named, pid, TraceError, PTRACE_EVENT_STOP};

/// One `waitpid(2)` call, every error returned (`ECHILD` too):
/// `Ok(None)` when, with `WNOHANG`, no child has changed state.
///
/// The one raw `waitpid` of syscage: `nix::sys::wait::waitpid` decodes the
/// status into a `WaitStatus` whose `Signal` has no real-time signals, so
/// a tracee stopped or killed by one (`SIGRTMIN+n`, as Go and glibc's
/// threads use) would be an `EINVAL` with the status lost.
pub(crate) fn waitpid_status(pid: pid_t, flags: c_int) -> io::Result<Option<(pid_t, c_int)>> {
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer for the call's duration.
    // Raw: nix's WaitStatus cannot hold real-time signals (see above).
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    match r {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        _ => Ok(Some((r, status))),
    }
}

/// One `waitpid(2)` call: `Ok(Some((pid, raw status)))`, `Ok(None)` when
/// there is no child to wait for (`ECHILD`) or, with `WNOHANG`, none has
/// changed state. `EINTR` is returned (`io::ErrorKind::Interrupted`) for
/// the caller to decide: retry, or look at a signal first.
pub fn wait_raw(pid: pid_t, flags: c_int) -> io::Result<Option<(pid_t, c_int)>> {
    match waitpid_status(pid, flags) {
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(None),
        r => r,
    }
}

/// waitpid(2) for one thread, retrying on EINTR; returns the raw status.
pub fn wait_tid(tid: pid_t) -> Result<c_int, TraceError> {
    loop {
        match wait_raw(tid, libc::__WALL) {
            Ok(Some((_, status))) => return Ok(status),
            Ok(None) => return Err(TraceError::Wait(io::Error::from_raw_os_error(libc::ECHILD))),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(TraceError::Wait(e)),
        }
    }
}

/// The `PTRACE_EVENT_*` of a stopped tracee's raw wait status
/// (`status >> 16`), 0 for a plain signal or syscall stop.
pub fn ptrace_event(status: c_int) -> c_int {
    (status >> 16) & 0xffff
}

/// Whether `sig` is one of the stop signals a group-stop is made of
/// (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`).
pub fn is_stop_signal(sig: c_int) -> bool {
    matches!(
        sig,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

/// One ptrace stop or end of a tracee, as [`wait_any`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The thread exited with this code (`WIFEXITED`).
    Exited {
        /// The thread.
        tid: pid_t,
        /// Its exit code.
        code: i32,
    },
    /// The thread was killed by a signal (`WIFSIGNALED`).
    Signaled {
        /// The thread.
        tid: pid_t,
        /// The signal.
        sig: i32,
    },
    /// A syscall-entry or syscall-exit stop (`SIGTRAP | 0x80`).
    Syscall {
        /// The thread.
        tid: pid_t,
    },
    /// A `PTRACE_EVENT_*` stop other than [`PTRACE_EVENT_STOP`].
    Event {
        /// The thread.
        tid: pid_t,
        /// `PTRACE_EVENT_FORK`, `_CLONE`, `_EXEC`, ...
        event: c_int,
        /// `PTRACE_GETEVENTMSG`: the new tid for fork/clone, the former tid for exec.
        msg: u64,
    },
    /// A signal-delivery stop: resume with `sig` to deliver it.
    Signal {
        /// The thread.
        tid: pid_t,
        /// The pending signal.
        sig: i32,
    },
    /// A group-stop (job control) or, for seized tracees, a
    /// `PTRACE_EVENT_STOP`: resume without a signal.
    GroupStop {
        /// The thread.
        tid: pid_t,
        /// The stop signal.
        sig: i32,
    },
    /// The first stop of a thread created by a traced fork/clone (its
    /// initial `SIGSTOP`): resume without a signal.
    NewChild {
        /// The new thread.
        tid: pid_t,
    },
}

/// Waits for the next stop of any tracee (`waitpid(-1, __WALL)`); `None`
/// when there are no children left (`ECHILD`).
///
/// `is_new(tid)` tells whether `tid` has not been seen before; its first
/// `SIGSTOP` is then reported as [`Stop::NewChild`] (threads created by a
/// traced clone start with it).
pub fn wait_any(mut is_new: impl FnMut(pid_t) -> bool) -> Result<Option<Stop>, TraceError> {
    let (tid, status) = loop {
        match wait_raw(-1, libc::__WALL) {
            Ok(Some(got)) => break got,
            Ok(None) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(TraceError::Wait(e)),
        }
    };
    Ok(Some(classify(tid, status, &mut is_new)))
}

/// What a raw `waitpid` status of tracee `tid` means (as [`wait_any`]
/// reports it), for callers that wait themselves.
pub fn classify(tid: pid_t, status: c_int, is_new: &mut impl FnMut(pid_t) -> bool) -> Stop {
    if libc::WIFEXITED(status) {
        return Stop::Exited {
            tid,
            code: libc::WEXITSTATUS(status),
        };
    }
    if libc::WIFSIGNALED(status) {
        return Stop::Signaled {
            tid,
            sig: libc::WTERMSIG(status),
        };
    }
    let sig = libc::WSTOPSIG(status);
    let event = ptrace_event(status);
    if sig == libc::SIGTRAP | 0x80 {
        return Stop::Syscall { tid };
    }
    if event == PTRACE_EVENT_STOP {
        return Stop::GroupStop { tid, sig };
    }
    if sig == libc::SIGTRAP && event != 0 {
        let msg = event_msg(tid).unwrap_or(0);
        return Stop::Event { tid, event, msg };
    }
    if sig == libc::SIGSTOP && is_new(tid) {
        return Stop::NewChild { tid };
    }
    if is_stop_signal(sig) {
        // Without PTRACE_SEIZE a group-stop looks like a signal-delivery
        // stop of the stop signal; PTRACE_GETSIGINFO fails with EINVAL only
        // for the former (ptrace(2), "Group-stop").
        if matches!(siginfo(tid), Err(e) if e.errno() == Some(libc::EINVAL)) {
            return Stop::GroupStop { tid, sig };
        }
    }
    Stop::Signal { tid, sig }
}

/// `PTRACE_GETSIGINFO`: the siginfo of the signal `tid` is stopped with
/// (`EINVAL` at a group-stop of a tracee that was not seized).
pub fn siginfo(tid: pid_t) -> Result<libc::siginfo_t, TraceError> {
    named(
        "PTRACE_GETSIGINFO",
        tid,
        nix::sys::ptrace::getsiginfo(pid(tid)),
    )
}
