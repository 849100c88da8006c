//! Low-level ptrace(2) plumbing, shared by `dump`, `record` and `run`.
//!
//! This module knows nothing about seccomp policies, and each command
//! keeps its own loop (`dump` stops at every syscall with
//! `PTRACE_SYSCALL`, `record` at seccomp `SECCOMP_RET_TRACE` stops, `run`
//! once at exit). It spawns a program traced with [`TRACE_OPTIONS`]
//! ([`spawn`], `PTRACE_TRACEME`) or attaches with [`seize`]; waits
//! ([`wait_raw`], [`wait_tid`], [`wait_any`]) and classifies stops
//! ([`Stop`], [`ptrace_event`], [`is_stop_signal`], [`siginfo`]); resumes
//! tracees with signal forwarding ([`resume_syscall`], [`cont`], [`listen`]
//! for group-stops); decodes syscall stops ([`syscall_stop`], using
//! `PTRACE_GET_SYSCALL_INFO` with a register-based fallback;
//! [`audit_arch`], [`syscall_nr_register`]); reads tracee memory
//! ([`read_memory`], [`read_u64`], [`read_c_string`]: `process_vm_readv`
//! with a `PTRACE_PEEKDATA` fallback); detects the personality of a
//! tracee ([`personality`]: x86_64 or i386 from the `CS` register) and
//! attaches to live processes without disturbing them
//! ([`seize_and_interrupt`], [`detach`]).
//!
//! A tracer loop built on it looks like this (it counts the syscalls of
//! `true` and of every thread and child it might start):
//!
//! ```
//! use std::collections::HashSet;
//! use syscage_linux::tracee::{self, Stop, StdinMode, SyscallStop};
//! let root = tracee::spawn(&["true".into()], StdinMode::Null)?;
//! let mut known = HashSet::from([root]);
//! let mut syscalls = 0;
//! tracee::resume_syscall(root, 0)?;
//! // `wait_any` reaps any child of this process: run a tracer loop where
//! // no other children are waited for.
//! while let Some(stop) = tracee::wait_any(|tid| !known.contains(&tid))? {
//!     match stop {
//!         Stop::Exited { tid, .. } | Stop::Signaled { tid, .. } => {
//!             known.remove(&tid);
//!         }
//!         Stop::Syscall { tid } => {
//!             if let SyscallStop::Entry { .. } = tracee::syscall_stop(tid, None)? {
//!                 syscalls += 1;
//!             }
//!             tracee::resume_syscall(tid, 0)?;
//!         }
//!         Stop::NewChild { tid } => {
//!             known.insert(tid);
//!             tracee::resume_syscall(tid, 0)?;
//!         }
//!         Stop::Signal { tid, sig } => tracee::resume_syscall(tid, sig)?,
//!         Stop::Event { tid, .. } | Stop::GroupStop { tid, .. } => {
//!             tracee::resume_syscall(tid, 0)?
//!         }
//!     }
//! }
//! assert!(syscalls > 0);
//! # Ok::<(), syscage_linux::tracee::TraceError>(())
//! ```
//!
//! Everything here works on thread ids (`tid`, the kernel's `pid` of a
//! task): ptrace is per thread.

use crate::fork_exec;
use std::ffi::OsString;
use std::io;
use std::os::fd::AsRawFd;

use libc::{c_int, c_long, c_void, pid_t};

mod attach;
mod memory;
mod resume;
mod syscall;
mod wait;
pub use attach::{detach, seccomp_filter, seccomp_metadata, seize, seize_and_interrupt};
pub use memory::{read_c_string, read_memory, read_u64};
pub use resume::{cont, event_msg, listen, resume_syscall};
pub use syscall::{
    audit_arch, personality, syscall_nr_register, syscall_stop, SyscallStop, CS_I386, CS_X86_64,
};
pub(crate) use wait::waitpid_status;
pub use wait::{
    classify, is_stop_signal, ptrace_event, siginfo, wait_any, wait_raw, wait_tid, Stop,
};

/// The `PTRACE_O_*` options, as nix types them.
pub use nix::sys::ptrace::Options;

/// The options of a traced spawn: `EXITKILL | TRACECLONE | TRACEFORK |
/// TRACEVFORK | TRACEEXEC | TRACESYSGOOD` (syscall stops report
/// `SIGTRAP | 0x80`).
pub const TRACE_OPTIONS: Options = Options::PTRACE_O_EXITKILL
    .union(Options::PTRACE_O_TRACECLONE)
    .union(Options::PTRACE_O_TRACEFORK)
    .union(Options::PTRACE_O_TRACEVFORK)
    .union(Options::PTRACE_O_TRACEEXEC)
    .union(Options::PTRACE_O_TRACESYSGOOD);

/// `PTRACE_EVENT_FORK`.
pub const PTRACE_EVENT_FORK: c_int = libc::PTRACE_EVENT_FORK;
/// `PTRACE_EVENT_VFORK`.
pub const PTRACE_EVENT_VFORK: c_int = libc::PTRACE_EVENT_VFORK;
/// `PTRACE_EVENT_CLONE`.
pub const PTRACE_EVENT_CLONE: c_int = libc::PTRACE_EVENT_CLONE;
/// `PTRACE_EVENT_EXEC`.
pub const PTRACE_EVENT_EXEC: c_int = libc::PTRACE_EVENT_EXEC;
/// `PTRACE_EVENT_STOP`: group-stop or `PTRACE_INTERRUPT` stop of a seized tracee.
pub const PTRACE_EVENT_STOP: c_int = libc::PTRACE_EVENT_STOP;

// Request numbers of the calls nix does not wrap (or wraps wrongly: see
// each call); the two seccomp ones libc lacks are defined here.
pub(crate) use libc::{
    PTRACE_GET_SYSCALL_INFO, PTRACE_SYSCALL, PTRACE_SYSCALL_INFO_ENTRY, PTRACE_SYSCALL_INFO_EXIT,
    PTRACE_SYSCALL_INFO_SECCOMP,
};
pub(crate) const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
pub(crate) const PTRACE_GET_SECCOMP_METADATA: libc::c_uint = 0x420d;

/// Errors of the ptrace plumbing; each names the request and the thread.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The program could not be started (not found, not executable, ...).
    #[error("cannot run '{program}': {error}")]
    Spawn {
        /// The program as given.
        program: String,
        /// Why execve(2) failed.
        error: io::Error,
    },
    /// An empty command line.
    #[error("no command given")]
    NoCommand,
    /// A ptrace(2) request failed.
    #[error("ptrace({request}) on {tid}: {error}")]
    Ptrace {
        /// The request name (`PTRACE_SEIZE`, ...).
        request: &'static str,
        /// The thread it was made on.
        tid: pid_t,
        /// The errno.
        error: io::Error,
    },
    /// waitpid(2) failed.
    #[error("waitpid: {0}")]
    Wait(io::Error),
    /// The traced program stopped in an unexpected way while starting.
    #[error("traced program {tid} did not stop at exec (wait status {status:#x})")]
    Startup {
        /// The thread.
        tid: pid_t,
        /// Its raw wait status.
        status: c_int,
    },
    /// Reading tracee memory failed.
    #[error("cannot read {len} bytes at {addr:#x} in {tid}: {error}")]
    ReadMemory {
        /// The thread.
        tid: pid_t,
        /// Address in the tracee.
        addr: u64,
        /// Bytes asked for.
        len: usize,
        /// Why both `process_vm_readv` and `PTRACE_PEEKDATA` failed.
        error: io::Error,
    },
}

impl TraceError {
    /// The errno of a failed request, if the error carries one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            TraceError::Ptrace { error, .. }
            | TraceError::Wait(error)
            | TraceError::ReadMemory { error, .. }
            | TraceError::Spawn { error, .. } => error.raw_os_error(),
            _ => None,
        }
    }

    /// The underlying `io::Error` (the errno of the request, wait or
    /// read), for callers with error types of their own.
    pub fn into_io(self) -> io::Error {
        match self {
            TraceError::Ptrace { error, .. }
            | TraceError::Wait(error)
            | TraceError::ReadMemory { error, .. }
            | TraceError::Spawn { error, .. } => error,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// What the traced program's standard input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StdinMode {
    /// The tracer's own stdin, passed through.
    #[default]
    Inherit,
    /// `/dev/null`: reads see end of file at once.
    Null,
}

/// The ptrace requests nix has no call for (listed with their reasons at
/// each caller): `PTRACE_SECCOMP_GET_FILTER`, `PTRACE_GET_SECCOMP_METADATA`,
/// `PTRACE_GET_SYSCALL_INFO`, `PTRACE_LISTEN`, and restarts delivering a
/// real-time signal.
pub(crate) fn ptrace_raw(
    request: libc::c_uint,
    name: &'static str,
    tid: pid_t,
    addr: usize,
    data: usize,
) -> Result<c_long, TraceError> {
    // SAFETY: every caller passes, for `addr`/`data`, either plain integers
    // or pointers to live buffers of the size the request writes; ptrace
    // does not keep the pointers after returning.
    let r = unsafe { libc::ptrace(request, tid, addr as *mut c_void, data as *mut c_void) };
    if r == -1 {
        Err(TraceError::Ptrace {
            request: name,
            tid,
            error: io::Error::last_os_error(),
        })
    } else {
        Ok(r)
    }
}

/// The thread `tid` as nix names it.
pub(crate) fn pid(tid: pid_t) -> nix::unistd::Pid {
    nix::unistd::Pid::from_raw(tid)
}

/// The result of a request made through nix, its error named
/// ([`TraceError::Ptrace`]).
pub(crate) fn named<T>(
    request: &'static str,
    tid: pid_t,
    result: nix::Result<T>,
) -> Result<T, TraceError> {
    result.map_err(|errno| TraceError::Ptrace {
        request,
        tid,
        error: errno.into(),
    })
}

/// Starts `argv` traced (`PTRACE_TRACEME` before execve(2)) and returns
/// its pid, stopped right after the exec with [`TRACE_OPTIONS`] set. The
/// caller resumes it (e.g. [`resume_syscall`]) and must reap it.
///
/// The program is found as `execvp` would ([`crate::fork_exec`]), starts
/// with the caller's signal mask and the dispositions it would get
/// untraced. A program that cannot be executed is a [`TraceError::Spawn`]
/// and leaves no process behind.
pub fn spawn(argv: &[OsString], stdin: StdinMode) -> Result<pid_t, TraceError> {
    let program = argv.first().ok_or(TraceError::NoCommand)?;
    let spawn_error = |error: io::Error| TraceError::Spawn {
        program: program.to_string_lossy().into_owned(),
        error,
    };
    // A name not found in `PATH` is `ENOENT`, as `execvp` says it.
    let path = fork_exec::find_program(program).map_err(|e| match e.raw_os_error() {
        None if e.kind() == io::ErrorKind::NotFound => {
            spawn_error(io::Error::from_raw_os_error(libc::ENOENT))
        }
        _ => spawn_error(e),
    })?;
    let image = fork_exec::ExecImage::new(path.as_os_str(), argv)
        .map_err(|_| spawn_error(io::Error::from_raw_os_error(libc::EINVAL)))?;
    let null = match stdin {
        StdinMode::Null => Some(std::fs::File::open("/dev/null").map_err(spawn_error)?),
        StdinMode::Inherit => None,
    };
    let (fail_rd, fail_wr) = fork_exec::pipe().map_err(spawn_error)?;
    // SAFETY: the child makes only async-signal-safe calls (sigaction,
    // dup2, ptrace, execve, write, _exit) on memory prepared before the
    // fork, and ends in execve or _exit.
    let pid = unsafe {
        fork_exec::fork_child(|| {
            libc::close(fail_rd.as_raw_fd());
            // The mask is fork's and execve's to pass on: the caller's.
            fork_exec::reset_signal_dispositions(&[]);
            if let Some(null) = &null {
                if libc::dup2(null.as_raw_fd(), 0) < 0 {
                    fork_exec::report_failure(fail_wr.as_raw_fd(), 0, errno());
                }
            }
            if nix::sys::ptrace::traceme().is_err() {
                fork_exec::report_failure(fail_wr.as_raw_fd(), 0, errno());
            }
            image.execve();
            fork_exec::report_failure(fail_wr.as_raw_fd(), 0, errno())
        })
    }
    .map_err(spawn_error)?;
    drop(fail_wr);
    drop(null);
    // After a successful execve a PTRACE_TRACEME child gets SIGTRAP.
    let status = wait_tid(pid)?;
    if libc::WIFEXITED(status) {
        if let Some((_, errno)) = fork_exec::read_failure(fail_rd.as_raw_fd()) {
            return Err(spawn_error(io::Error::from_raw_os_error(errno)));
        }
    }
    if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
        if libc::WIFSTOPPED(status) {
            fork_exec::kill_and_reap(pid);
        }
        return Err(TraceError::Startup { tid: pid, status });
    }
    if let Err(e) = named(
        "PTRACE_SETOPTIONS",
        pid,
        nix::sys::ptrace::setoptions(self::pid(pid), TRACE_OPTIONS),
    ) {
        fork_exec::kill_and_reap(pid);
        return Err(e);
    }
    Ok(pid)
}

/// This thread's `errno`, in a forked child (no allocation).
fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};

    /// The traced program starts with the caller's signal mask (std's
    /// spawn alone would unblock everything).
    #[test]
    fn the_program_keeps_the_callers_signal_mask() {
        let mut usr1 = SigSet::empty();
        usr1.add(Signal::SIGUSR1);
        let mut old = SigSet::empty();
        usr1.thread_swap_mask(SigmaskHow::SIG_BLOCK)
            .map(|o| old = o)
            .expect("block SIGUSR1");
        let spawned = spawn(&["sleep".into(), "31".into()], StdinMode::Null);
        old.thread_set_mask().expect("restore the mask");
        let pid = spawned.expect("spawn traced");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        crate::fork_exec::kill_and_reap(pid);
        let blocked = status
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
            .expect("SigBlk in /proc/PID/status");
        assert_ne!(
            blocked & (1 << (libc::SIGUSR1 - 1)),
            0,
            "SigBlk {blocked:#x}"
        );
    }
}
