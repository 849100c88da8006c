//! Low-level ptrace(2) plumbing, shared by `dump` and `record`.
//!
//! This module knows nothing about seccomp policies: it spawns a program
//! traced with [`TRACE_OPTIONS`], waits for and classifies ptrace stops
//! ([`wait_any`], [`Stop`]), resumes tracees with signal forwarding
//! ([`resume_syscall`]), decodes syscall stops ([`syscall_stop`], using
//! `PTRACE_GET_SYSCALL_INFO` with a register-based fallback), reads tracee
//! memory ([`read_memory`]: `process_vm_readv` with a `PTRACE_PEEKDATA`
//! fallback), detects the personality of a tracee ([`personality`]: x86_64
//! or i386 from the `CS` register) and attaches to live processes without
//! disturbing them ([`seize_and_interrupt`], [`detach`]).
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

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use libc::{c_int, c_long, c_void, pid_t};

mod attach;
mod memory;
mod syscall;
pub use attach::{detach, seccomp_filter, seccomp_metadata, seize_and_interrupt};
pub use memory::{read_c_string, read_memory};
pub use syscall::{personality, syscall_stop, SyscallStop, CS_I386, CS_X86_64};

/// `PTRACE_O_TRACESYSGOOD`: syscall stops report `SIGTRAP | 0x80`.
pub const PTRACE_O_TRACESYSGOOD: c_int = 0x01;
/// `PTRACE_O_TRACEFORK`: follow fork(2).
pub const PTRACE_O_TRACEFORK: c_int = 0x02;
/// `PTRACE_O_TRACEVFORK`: follow vfork(2).
pub const PTRACE_O_TRACEVFORK: c_int = 0x04;
/// `PTRACE_O_TRACECLONE`: follow clone(2) (threads).
pub const PTRACE_O_TRACECLONE: c_int = 0x08;
/// `PTRACE_O_TRACEEXEC`: stop at execve(2) with `PTRACE_EVENT_EXEC`.
pub const PTRACE_O_TRACEEXEC: c_int = 0x10;
/// `PTRACE_O_EXITKILL`: SIGKILL every tracee if the tracer exits.
pub const PTRACE_O_EXITKILL: c_int = 0x10_0000;

/// The options of a traced spawn: `EXITKILL | TRACECLONE | TRACEFORK |
/// TRACEVFORK | TRACEEXEC | TRACESYSGOOD`.
pub const TRACE_OPTIONS: c_int = PTRACE_O_EXITKILL
    | PTRACE_O_TRACECLONE
    | PTRACE_O_TRACEFORK
    | PTRACE_O_TRACEVFORK
    | PTRACE_O_TRACEEXEC
    | PTRACE_O_TRACESYSGOOD;

/// `PTRACE_EVENT_FORK`.
pub const PTRACE_EVENT_FORK: c_int = 1;
/// `PTRACE_EVENT_VFORK`.
pub const PTRACE_EVENT_VFORK: c_int = 2;
/// `PTRACE_EVENT_CLONE`.
pub const PTRACE_EVENT_CLONE: c_int = 3;
/// `PTRACE_EVENT_EXEC`.
pub const PTRACE_EVENT_EXEC: c_int = 4;
/// `PTRACE_EVENT_STOP`: group-stop or `PTRACE_INTERRUPT` stop of a seized tracee.
pub const PTRACE_EVENT_STOP: c_int = 128;

pub(crate) const PTRACE_TRACEME: libc::c_uint = 0;
pub(crate) const PTRACE_PEEKDATA: libc::c_uint = 2;
pub(crate) const PTRACE_GETREGS: libc::c_uint = 12;
pub(crate) const PTRACE_DETACH: libc::c_uint = 17;
pub(crate) const PTRACE_SYSCALL: libc::c_uint = 24;
pub(crate) const PTRACE_SETOPTIONS: libc::c_uint = 0x4200;
pub(crate) const PTRACE_GETEVENTMSG: libc::c_uint = 0x4201;
pub(crate) const PTRACE_GETSIGINFO: libc::c_uint = 0x4202;
pub(crate) const PTRACE_SEIZE: libc::c_uint = 0x4206;
pub(crate) const PTRACE_INTERRUPT: libc::c_uint = 0x4207;
pub(crate) const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
pub(crate) const PTRACE_GET_SECCOMP_METADATA: libc::c_uint = 0x420d;
pub(crate) const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;

pub(crate) const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
pub(crate) const PTRACE_SYSCALL_INFO_EXIT: u8 = 2;
pub(crate) const PTRACE_SYSCALL_INFO_SECCOMP: u8 = 3;

/// Errors of the ptrace plumbing; each names the request and the thread.
#[derive(Debug, thiserror::Error)]
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

/// Starts `argv` traced (`PTRACE_TRACEME` before execve(2)) and returns
/// its pid, stopped right after the exec with [`TRACE_OPTIONS`] set. The
/// caller resumes it (e.g. [`resume_syscall`]) and must reap it.
///
/// A program that cannot be executed is a [`TraceError::Spawn`] and leaves
/// no process behind.
pub fn spawn(argv: &[OsString], stdin: StdinMode) -> Result<pid_t, TraceError> {
    let (program, args) = argv.split_first().ok_or(TraceError::NoCommand)?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    if stdin == StdinMode::Null {
        cmd.stdin(Stdio::null());
    }
    // SAFETY: the closure runs in the forked child before execve and only
    // calls ptrace(PTRACE_TRACEME), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::ptrace(
                PTRACE_TRACEME,
                0,
                std::ptr::null_mut::<c_void>(),
                std::ptr::null_mut::<c_void>(),
            ) == -1
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|source| TraceError::Spawn {
        program: program.to_string_lossy().into_owned(),
        error: source,
    })?;
    let pid = child.id() as pid_t;
    // The child is reaped by waitpid below and by the caller, never by std.
    drop(child);
    // After a successful execve a PTRACE_TRACEME child gets SIGTRAP.
    let status = wait_tid(pid)?;
    if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
        if libc::WIFSTOPPED(status) {
            kill_and_reap(pid);
        }
        return Err(TraceError::Startup { tid: pid, status });
    }
    if let Err(e) = ptrace_raw(
        PTRACE_SETOPTIONS,
        "PTRACE_SETOPTIONS",
        pid,
        0,
        TRACE_OPTIONS as usize,
    ) {
        kill_and_reap(pid);
        return Err(e);
    }
    Ok(pid)
}

fn kill_and_reap(pid: pid_t) {
    // SAFETY: plain syscalls on a child we own; errors are irrelevant here.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut st = 0;
        libc::waitpid(pid, &mut st, libc::__WALL);
    }
}

/// waitpid(2) for one thread, retrying on EINTR; returns the raw status.
pub fn wait_tid(tid: pid_t) -> Result<c_int, TraceError> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer for the call's duration.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(TraceError::Wait(e));
        }
        return Ok(status);
    }
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
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer for the call's duration.
        let r = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if r == -1 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(None),
                _ => return Err(TraceError::Wait(e)),
            }
        }
        break (r, status);
    };
    Ok(Some(classify(tid, status, &mut is_new)))
}

fn classify(tid: pid_t, status: c_int, is_new: &mut impl FnMut(pid_t) -> bool) -> Stop {
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
    let event = (status >> 16) & 0xff;
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
    if matches!(
        sig,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    ) {
        // Without PTRACE_SEIZE a group-stop looks like a signal-delivery
        // stop of the stop signal; PTRACE_GETSIGINFO fails with EINVAL only
        // for the former (ptrace(2), "Group-stop").
        let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
        let r = ptrace_raw(
            PTRACE_GETSIGINFO,
            "PTRACE_GETSIGINFO",
            tid,
            0,
            info.as_mut_ptr() as usize,
        );
        if matches!(&r, Err(e) if e.errno() == Some(libc::EINVAL)) {
            return Stop::GroupStop { tid, sig };
        }
    }
    Stop::Signal { tid, sig }
}

/// `PTRACE_GETEVENTMSG`.
pub fn event_msg(tid: pid_t) -> Result<u64, TraceError> {
    let mut msg: libc::c_ulong = 0;
    ptrace_raw(
        PTRACE_GETEVENTMSG,
        "PTRACE_GETEVENTMSG",
        tid,
        0,
        &mut msg as *mut libc::c_ulong as usize,
    )?;
    Ok(msg as u64)
}

/// `PTRACE_SYSCALL`: resumes `tid` until its next syscall stop, delivering
/// signal `sig` (0 for none). A tracee that died meanwhile (`ESRCH`) is not
/// an error: its exit is reported by the next wait.
pub fn resume_syscall(tid: pid_t, sig: i32) -> Result<(), TraceError> {
    match ptrace_raw(PTRACE_SYSCALL, "PTRACE_SYSCALL", tid, 0, sig as usize) {
        Err(e) if e.errno() == Some(libc::ESRCH) => Ok(()),
        r => r.map(drop),
    }
}
