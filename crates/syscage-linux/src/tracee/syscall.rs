//! Syscall stops and the personality of a tracee.

use std::io;

use libc::pid_t;
use syscage::arch::Arch;

use super::{
    ptrace_raw, TraceError, PTRACE_GET_SYSCALL_INFO, PTRACE_SYSCALL_INFO_ENTRY,
    PTRACE_SYSCALL_INFO_EXIT, PTRACE_SYSCALL_INFO_SECCOMP,
};

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
    match syscall_info(tid) {
        Ok(info) => match info.op {
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
                error: io::Error::from_raw_os_error(libc::EINVAL),
            }),
        },
        Err(e) if e.errno() == Some(libc::EIO) => syscall_stop_from_regs(tid, at_entry, e),
        Err(e) => Err(e),
    }
}

/// `PTRACE_GET_SYSCALL_INFO` (Linux ≥ 5.3), whatever the stop.
fn syscall_info(tid: pid_t) -> Result<PtraceSyscallInfo, TraceError> {
    let mut info = PtraceSyscallInfo {
        op: 0,
        pad: [0; 3],
        arch: 0,
        instruction_pointer: 0,
        stack_pointer: 0,
        data: [0; 8],
    };
    // Raw: nix's `syscall_info` passes a buffer size of 0 (`addr` null),
    // so the kernel copies nothing into it.
    ptrace_raw(
        PTRACE_GET_SYSCALL_INFO,
        "PTRACE_GET_SYSCALL_INFO",
        tid,
        std::mem::size_of::<PtraceSyscallInfo>(),
        &mut info as *mut PtraceSyscallInfo as usize,
    )?;
    Ok(info)
}

/// The `AUDIT_ARCH_*` of the calling convention `tid` was last in, at any
/// ptrace stop (`PTRACE_GET_SYSCALL_INFO`'s `arch`, filled even where `op`
/// is `PTRACE_SYSCALL_INFO_NONE`, e.g. at `PTRACE_EVENT_EXIT`).
pub fn audit_arch(tid: pid_t) -> Result<u32, TraceError> {
    syscall_info(tid).map(|info| info.arch)
}

/// The number of the syscall `tid` is in or was last in, from its
/// registers (`orig_rax` on x86_64), at any ptrace stop; `None` on hosts
/// where it is not read.
pub fn syscall_nr_register(tid: pid_t) -> Result<Option<u64>, TraceError> {
    #[cfg(target_arch = "x86_64")]
    {
        Ok(Some(get_regs(tid)?.orig_rax))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = tid;
        Ok(None)
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
    super::named(
        "PTRACE_GETREGS",
        tid,
        nix::sys::ptrace::getregs(super::pid(tid)),
    )
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

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::tracee::{resume_syscall, spawn, wait_tid, StdinMode};

    /// The register fallback decodes the same entries and exits as
    /// `PTRACE_GET_SYSCALL_INFO`, for the first syscalls of a program.
    #[test]
    fn register_fallback_agrees_with_get_syscall_info() {
        let pid = spawn(&["true".into()], StdinMode::Null).expect("spawn traced");
        assert_eq!(personality(pid).unwrap(), Arch::X86_64);
        let mut at_entry = true;
        let mut seen = 0;
        let mut exited = false;
        for _ in 0..40 {
            resume_syscall(pid, 0).unwrap();
            let status = wait_tid(pid).unwrap();
            if !libc::WIFSTOPPED(status) {
                exited = true;
                break;
            }
            assert_eq!(libc::WSTOPSIG(status), libc::SIGTRAP | 0x80);
            let info = syscall_stop(pid, None).unwrap();
            let eio = TraceError::Ptrace {
                request: "test",
                tid: pid,
                error: io::Error::from_raw_os_error(libc::EIO),
            };
            let regs = syscall_stop_from_regs(pid, Some(at_entry), eio).unwrap();
            assert_eq!(info, regs, "stop {seen}");
            assert_eq!(matches!(info, SyscallStop::Entry { .. }), at_entry);
            at_entry = !at_entry;
            seen += 1;
        }
        assert!(seen > 4, "too few syscall stops: {seen}");
        if exited {
            return;
        }
        crate::fork_exec::kill_and_reap(pid);
    }
}
