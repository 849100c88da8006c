//! The few ptrace(2) requests the recorder makes, as safe functions.
//!
//! Every request here acts on a tracee that this thread attached with
//! `PTRACE_SEIZE` (directly or by `PTRACE_O_TRACEFORK`/`VFORK`/`CLONE`);
//! the kernel checks that and answers `ESRCH` otherwise, so none of them
//! can touch memory of this process beyond the buffers passed in.

use std::io;

/// `PTRACE_O_*` options the recorder seizes with.
pub(crate) const SEIZE_OPTIONS: libc::c_int = libc::PTRACE_O_TRACESYSGOOD
    | libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACESECCOMP
    | libc::PTRACE_O_EXITKILL;

/// `PTRACE_SYSCALL_INFO_SECCOMP`: `ptrace_syscall_info.op` at a seccomp stop.
const SYSCALL_INFO_SECCOMP: u8 = 3;

/// `struct ptrace_syscall_info` (uapi/linux/ptrace.h), seccomp variant.
#[repr(C)]
#[derive(Default)]
struct RawSyscallInfo {
    op: u8,
    pad: [u8; 3],
    arch: u32,
    instruction_pointer: u64,
    stack_pointer: u64,
    nr: u64,
    args: [u64; 6],
    ret_data: u32,
    reserved2: u32,
}

/// One syscall as seen at a seccomp stop (`PTRACE_GET_SYSCALL_INFO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SyscallStop {
    /// `AUDIT_ARCH_*` of the call (i386 for `int 0x80` from 64-bit code).
    pub arch: u32,
    /// Number as `seccomp_data.nr` carries it.
    pub nr: u32,
    /// The six argument registers.
    pub args: [u64; 6],
}

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `PTRACE_SEIZE` with [`SEIZE_OPTIONS`].
pub(crate) fn seize(pid: libc::pid_t) -> io::Result<()> {
    // SAFETY: PTRACE_SEIZE reads no memory; `data` carries the options.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_SEIZE,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            SEIZE_OPTIONS as libc::c_long as *mut libc::c_void,
        )
    };
    check(r).map(drop)
}

/// `PTRACE_CONT`, delivering signal `sig` (0 for none).
pub(crate) fn cont(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: PTRACE_CONT reads no memory; `data` is the signal number.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_CONT,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            sig as libc::c_long as *mut libc::c_void,
        )
    };
    check(r).map(drop)
}

/// `PTRACE_LISTEN`: leave a tracee in its group-stop, but let it report
/// the next stop or `SIGCONT`.
pub(crate) fn listen(pid: libc::pid_t) -> io::Result<()> {
    // SAFETY: PTRACE_LISTEN reads no memory.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_LISTEN,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    check(r).map(drop)
}

/// `PTRACE_GET_SYSCALL_INFO` at a seccomp stop.
pub(crate) fn syscall_info(pid: libc::pid_t) -> io::Result<SyscallStop> {
    let mut info = RawSyscallInfo::default();
    let size = std::mem::size_of::<RawSyscallInfo>();
    // SAFETY: the kernel writes at most `size` bytes (the `addr` argument)
    // into `info`, a live, writable, properly sized `repr(C)` struct.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_GET_SYSCALL_INFO,
            pid,
            size as *mut libc::c_void,
            &mut info as *mut RawSyscallInfo as *mut libc::c_void,
        )
    };
    check(r)?;
    if info.op != SYSCALL_INFO_SECCOMP {
        return Err(io::Error::other(format!(
            "pid {pid}: not at a seccomp stop (ptrace_syscall_info.op {})",
            info.op
        )));
    }
    Ok(SyscallStop {
        arch: info.arch,
        nr: info.nr as u32,
        args: info.args,
    })
}

/// `PTRACE_PEEKDATA`: one word of the tracee's memory at `addr`.
pub(crate) fn peek_u64(pid: libc::pid_t, addr: u64) -> io::Result<u64> {
    clear_errno();
    // SAFETY: PTRACE_PEEKDATA reads the tracee's memory, not ours, and
    // returns the word; `data` is unused.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_PEEKDATA,
            pid,
            addr as *mut libc::c_void,
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    if r == -1 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(0) {
            return Err(e);
        }
    }
    Ok(r as u64)
}

fn clear_errno() {
    // SAFETY: __errno_location returns this thread's errno, always valid.
    unsafe { *libc::__errno_location() = 0 };
}
