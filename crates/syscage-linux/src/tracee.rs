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
//! A tracer loop built on it looks like this:
//!
//! ```no_run
//! use syscage_linux::tracee::{self, Stop, StdinMode};
//! let root = tracee::spawn(&["true".into()], StdinMode::Inherit)?;
//! tracee::resume_syscall(root, 0)?;
//! while let Some(stop) = tracee::wait_any()? {
//!     match stop {
//!         Stop::Exited { .. } | Stop::Signaled { .. } => {}
//!         Stop::Syscall { tid } => {
//!             let _info = tracee::syscall_stop(tid, None)?;
//!             tracee::resume_syscall(tid, 0)?;
//!         }
//!         Stop::Signal { tid, sig } => tracee::resume_syscall(tid, sig)?,
//!         Stop::Event { tid, .. } | Stop::GroupStop { tid, .. } | Stop::NewChild { tid } => {
//!             tracee::resume_syscall(tid, 0)?
//!         }
//!     }
//! }
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
use syscage::arch::Arch;

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

const PTRACE_TRACEME: libc::c_uint = 0;
const PTRACE_PEEKDATA: libc::c_uint = 2;
const PTRACE_GETREGS: libc::c_uint = 12;
const PTRACE_DETACH: libc::c_uint = 17;
const PTRACE_SYSCALL: libc::c_uint = 24;
const PTRACE_SETOPTIONS: libc::c_uint = 0x4200;
const PTRACE_GETEVENTMSG: libc::c_uint = 0x4201;
const PTRACE_GETSIGINFO: libc::c_uint = 0x4202;
const PTRACE_SEIZE: libc::c_uint = 0x4206;
const PTRACE_INTERRUPT: libc::c_uint = 0x4207;
const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
const PTRACE_GET_SECCOMP_METADATA: libc::c_uint = 0x420d;
const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;

const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
const PTRACE_SYSCALL_INFO_EXIT: u8 = 2;
const PTRACE_SYSCALL_INFO_SECCOMP: u8 = 3;

/// Errors of the ptrace plumbing; each names the request and the thread.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The program could not be started (not found, not executable, ...).
    #[error("cannot run '{program}': {source}")]
    Spawn {
        /// The program as given.
        program: String,
        /// Why execve(2) failed.
        source: io::Error,
    },
    /// An empty command line.
    #[error("no command given")]
    NoCommand,
    /// A ptrace(2) request failed.
    #[error("ptrace({request}) on {tid}: {source}")]
    Ptrace {
        /// The request name (`PTRACE_SEIZE`, ...).
        request: &'static str,
        /// The thread it was made on.
        tid: pid_t,
        /// The errno.
        source: io::Error,
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
    #[error("cannot read {len} bytes at {addr:#x} in {tid}: {source}")]
    ReadMemory {
        /// The thread.
        tid: pid_t,
        /// Address in the tracee.
        addr: u64,
        /// Bytes asked for.
        len: usize,
        /// Why both `process_vm_readv` and `PTRACE_PEEKDATA` failed.
        source: io::Error,
    },
}

impl TraceError {
    /// The errno of a failed request, if the error carries one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            TraceError::Ptrace { source, .. }
            | TraceError::Wait(source)
            | TraceError::ReadMemory { source, .. }
            | TraceError::Spawn { source, .. } => source.raw_os_error(),
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

fn ptrace_raw(
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
            source: io::Error::last_os_error(),
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
            if libc::ptrace(PTRACE_TRACEME, 0, 0usize as *mut c_void, 0usize as *mut c_void) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|source| TraceError::Spawn {
        program: program.to_string_lossy().into_owned(),
        source,
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
    if let Err(e) = ptrace_raw(PTRACE_SETOPTIONS, "PTRACE_SETOPTIONS", pid, 0, TRACE_OPTIONS as usize)
    {
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
    if matches!(sig, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU) {
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

/// A decoded syscall stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallStop {
    /// Syscall entry: the call about to run.
    Entry {
        /// `AUDIT_ARCH_*` of the calling convention (i386 for `int 0x80`
        /// from 64-bit code).
        audit_arch: u32,
        /// Syscall number.
        nr: u64,
        /// The six arguments.
        args: [u64; 6],
    },
    /// Syscall exit: the value returned (negative errno on failure).
    Exit {
        /// The return value.
        rval: i64,
        /// Whether the kernel considers it an error.
        is_error: bool,
    },
}

#[repr(C)]
#[derive(Clone, Copy)]
struct PtraceSyscallInfo {
    op: u8,
    pad: [u8; 3],
    arch: u32,
    instruction_pointer: u64,
    stack_pointer: u64,
    data: [u64; 8],
}

/// Decodes the syscall stop `tid` is in, with `PTRACE_GET_SYSCALL_INFO`
/// (Linux ≥ 5.3). On older kernels the registers are read instead; then
/// `at_entry` (tracked by the caller: stops alternate entry, exit) says
/// which kind of stop it is and is required.
pub fn syscall_stop(tid: pid_t, at_entry: Option<bool>) -> Result<SyscallStop, TraceError> {
    let mut info = PtraceSyscallInfo {
        op: 0,
        pad: [0; 3],
        arch: 0,
        instruction_pointer: 0,
        stack_pointer: 0,
        data: [0; 8],
    };
    let r = ptrace_raw(
        PTRACE_GET_SYSCALL_INFO,
        "PTRACE_GET_SYSCALL_INFO",
        tid,
        std::mem::size_of::<PtraceSyscallInfo>(),
        &mut info as *mut PtraceSyscallInfo as usize,
    );
    match r {
        Ok(_) => match info.op {
            PTRACE_SYSCALL_INFO_ENTRY | PTRACE_SYSCALL_INFO_SECCOMP => {
                let mut args = [0u64; 6];
                args.copy_from_slice(&info.data[1..7]);
                Ok(SyscallStop::Entry {
                    audit_arch: info.arch,
                    nr: info.data[0],
                    args,
                })
            }
            PTRACE_SYSCALL_INFO_EXIT => Ok(SyscallStop::Exit {
                rval: info.data[0] as i64,
                is_error: (info.data[1] & 0xff) != 0,
            }),
            _ => Err(TraceError::Ptrace {
                request: "PTRACE_GET_SYSCALL_INFO",
                tid,
                source: io::Error::from_raw_os_error(libc::EINVAL),
            }),
        },
        Err(e) if e.errno() == Some(libc::EIO) => syscall_stop_from_regs(tid, at_entry, e),
        Err(e) => Err(e),
    }
}

#[cfg(target_arch = "x86_64")]
fn syscall_stop_from_regs(
    tid: pid_t,
    at_entry: Option<bool>,
    original: TraceError,
) -> Result<SyscallStop, TraceError> {
    let Some(at_entry) = at_entry else {
        return Err(original);
    };
    let regs = get_regs(tid)?;
    if !at_entry {
        let rval = regs.rax as i64;
        return Ok(SyscallStop::Exit {
            rval,
            is_error: (-4095..0).contains(&rval),
        });
    }
    let compat = regs.cs == CS_I386;
    let (audit_arch, args) = if compat {
        let lo = |r: u64| r & 0xffff_ffff;
        (
            Arch::X86.audit(),
            [
                lo(regs.rbx),
                lo(regs.rcx),
                lo(regs.rdx),
                lo(regs.rsi),
                lo(regs.rdi),
                lo(regs.rbp),
            ],
        )
    } else {
        (
            Arch::X86_64.audit(),
            [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9],
        )
    };
    Ok(SyscallStop::Entry {
        audit_arch,
        nr: regs.orig_rax,
        args,
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn syscall_stop_from_regs(
    _tid: pid_t,
    _at_entry: Option<bool>,
    original: TraceError,
) -> Result<SyscallStop, TraceError> {
    Err(original)
}

/// `CS` of 64-bit user code on x86_64 (`__USER_CS`).
pub const CS_X86_64: u64 = 0x33;
/// `CS` of 32-bit user code on x86_64 (`__USER32_CS`).
pub const CS_I386: u64 = 0x23;

#[cfg(target_arch = "x86_64")]
fn get_regs(tid: pid_t) -> Result<libc::user_regs_struct, TraceError> {
    let mut regs = std::mem::MaybeUninit::<libc::user_regs_struct>::zeroed();
    ptrace_raw(
        PTRACE_GETREGS,
        "PTRACE_GETREGS",
        tid,
        0,
        regs.as_mut_ptr() as usize,
    )?;
    // SAFETY: PTRACE_GETREGS succeeded and filled the whole struct (and it
    // was zeroed before, so it is initialized either way).
    Ok(unsafe { regs.assume_init() })
}

/// The personality of a stopped tracee: [`Arch::X86`] for a 32-bit
/// (i386) process, [`Arch::X86_64`] for a 64-bit one, from its `CS`
/// register. On other hosts, the native arch.
pub fn personality(tid: pid_t) -> Result<Arch, TraceError> {
    #[cfg(target_arch = "x86_64")]
    {
        let regs = get_regs(tid)?;
        Ok(if regs.cs == CS_I386 {
            Arch::X86
        } else {
            Arch::X86_64
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = tid;
        Ok(Arch::native())
    }
}

/// Reads `len` bytes at `addr` in the tracee: `process_vm_readv(2)`, and
/// word by word with `PTRACE_PEEKDATA` when that fails (e.g. no
/// `CONFIG_CROSS_MEMORY_ATTACH`). The tracee must be ptrace-stopped.
pub fn read_memory(tid: pid_t, addr: u64, len: usize) -> Result<Vec<u8>, TraceError> {
    let mut buf = vec![0u8; len];
    if len == 0 {
        return Ok(buf);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut c_void,
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut c_void,
        iov_len: len,
    };
    // SAFETY: `local` points to `buf`, which holds `len` writable bytes;
    // `remote` is only dereferenced by the kernel in the other process.
    let n = unsafe { libc::process_vm_readv(tid, &local, 1, &remote, 1, 0) };
    if n == len as isize {
        return Ok(buf);
    }
    peek_memory(tid, addr, &mut buf).map_err(|source| TraceError::ReadMemory {
        tid,
        addr,
        len,
        source,
    })?;
    Ok(buf)
}

fn peek_memory(tid: pid_t, addr: u64, buf: &mut [u8]) -> Result<(), io::Error> {
    const WORD: u64 = std::mem::size_of::<c_long>() as u64;
    let start = addr & !(WORD - 1);
    let end = addr
        .checked_add(buf.len() as u64)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
    let mut word_addr = start;
    while word_addr < end {
        // SAFETY: errno is thread-local; PEEKDATA returns data, so errno is
        // the only way to tell -1 the value from -1 the error.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: PTRACE_PEEKDATA takes an address in the tracee and no
        // pointer in ours.
        let w = unsafe {
            libc::ptrace(
                PTRACE_PEEKDATA,
                tid,
                word_addr as usize as *mut c_void,
                0usize as *mut c_void,
            )
        };
        if w == -1 {
            let e = io::Error::last_os_error();
            if e.raw_os_error().unwrap_or(0) != 0 {
                return Err(e);
            }
        }
        let bytes = w.to_ne_bytes();
        for (i, b) in bytes.iter().enumerate() {
            let a = word_addr + i as u64;
            if a >= addr && a < end {
                buf[(a - addr) as usize] = *b;
            }
        }
        word_addr += WORD;
    }
    Ok(())
}

/// Attaches to a live thread without stopping it for good:
/// `PTRACE_SEIZE` (no options), then `PTRACE_INTERRUPT`, then waits for
/// the resulting `PTRACE_EVENT_STOP`. Returns `Ok(false)` if the thread
/// exited before it stopped (it is then gone, nothing to detach).
pub fn seize_and_interrupt(tid: pid_t) -> Result<bool, TraceError> {
    ptrace_raw(PTRACE_SEIZE, "PTRACE_SEIZE", tid, 0, 0)?;
    if let Err(e) = ptrace_raw(PTRACE_INTERRUPT, "PTRACE_INTERRUPT", tid, 0, 0) {
        let _ = detach(tid);
        return Err(e);
    }
    loop {
        let status = wait_tid(tid)?;
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Ok(false);
        }
        let event = (status >> 16) & 0xff;
        if event == PTRACE_EVENT_STOP {
            return Ok(true);
        }
        // A signal-delivery stop that raced with the interrupt: deliver
        // the signal unchanged and wait for the interrupt stop.
        let sig = libc::WSTOPSIG(status);
        let sig = if event == 0 { sig } else { 0 };
        ptrace_raw(libc::PTRACE_CONT, "PTRACE_CONT", tid, 0, sig as usize)?;
    }
}

/// `PTRACE_DETACH`: lets the tracee go on as before.
pub fn detach(tid: pid_t) -> Result<(), TraceError> {
    ptrace_raw(PTRACE_DETACH, "PTRACE_DETACH", tid, 0, 0).map(drop)
}

/// `PTRACE_SECCOMP_GET_FILTER`: the instructions of the seccomp filter
/// number `index` of a stopped tracee, `None` past the last (`ENOENT`).
///
/// Index 0 is the OLDEST filter (the kernel's `get_nth_filter` counts from
/// the root of the filter chain), which ptrace(2) gets backwards. Needs
/// `CAP_SYS_ADMIN` and the tracer itself not under seccomp (`EACCES`
/// otherwise); a tracee not in filter mode gives `EINVAL`. Returns raw
/// `struct sock_filter` fields in native byte order.
pub fn seccomp_filter(tid: pid_t, index: u64) -> Result<Option<Vec<[u8; 8]>>, TraceError> {
    let count = match ptrace_raw(
        PTRACE_SECCOMP_GET_FILTER,
        "PTRACE_SECCOMP_GET_FILTER",
        tid,
        index as usize,
        0,
    ) {
        Ok(n) => n as usize,
        Err(e) if e.errno() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = vec![[0u8; 8]; count];
    let n = ptrace_raw(
        PTRACE_SECCOMP_GET_FILTER,
        "PTRACE_SECCOMP_GET_FILTER",
        tid,
        index as usize,
        buf.as_mut_ptr() as usize,
    )? as usize;
    buf.truncate(n.min(count));
    Ok(Some(buf))
}

/// `PTRACE_GET_SECCOMP_METADATA`: the flags of filter `index` (same
/// numbering as [`seccomp_filter`]). The kernel reports only
/// `SECCOMP_FILTER_FLAG_LOG`; the other install flags are not kept.
pub fn seccomp_metadata(tid: pid_t, index: u64) -> Result<u64, TraceError> {
    let mut md = [index, 0u64];
    ptrace_raw(
        PTRACE_GET_SECCOMP_METADATA,
        "PTRACE_GET_SECCOMP_METADATA",
        tid,
        std::mem::size_of_val(&md),
        md.as_mut_ptr() as usize,
    )?;
    Ok(md[1])
}
