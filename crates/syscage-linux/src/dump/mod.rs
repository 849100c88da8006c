//! Extracting the seccomp filters of programs (`syscage dump`).
//!
//! Two ways in:
//!
//! - [`dump_command`] runs a program under ptrace, follows its threads,
//!   forks and execs, and catches every successful
//!   `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER|SECCOMP_MODE_STRICT, …)` and
//!   `seccomp(SECCOMP_SET_MODE_FILTER|SECCOMP_SET_MODE_STRICT, flags, …)`:
//!   the `struct sock_fprog` is read from the tracee at syscall entry and
//!   kept if the syscall returns success.
//! - [`dump_pid`] reads every filter of a live thread with
//!   `PTRACE_SECCOMP_GET_FILTER` and `PTRACE_GET_SECCOMP_METADATA`, oldest
//!   first, then detaches so the process goes on unchanged.
//!
//! Each [`DumpedFilter`] carries the arch of its target (x86_64 or i386
//! personality) so a disassembly names syscalls right.

use libc::pid_t;
use syscage::arch::Arch;
use syscage::bpf::RawInsn;

use crate::filter_flags::FilterFlags;
use crate::tracee::TraceError;

mod command;
mod pid;
mod strict;
pub use command::{dump_command, CommandDump, CommandOptions, ProgramEnd};
pub use pid::{dump_pid, PidDump};
pub use strict::strict_mode_filter;

/// `PR_SET_SECCOMP` (prctl(2) option 22).
pub const PR_SET_SECCOMP: u64 = 22;
/// `SECCOMP_MODE_STRICT` (prctl's mode argument).
pub const SECCOMP_MODE_STRICT: u64 = 1;
/// `SECCOMP_MODE_FILTER` (prctl's mode argument).
pub const SECCOMP_MODE_FILTER: u64 = 2;
/// `SECCOMP_SET_MODE_STRICT` (seccomp(2) operation 0).
pub const SECCOMP_SET_MODE_STRICT: u64 = 0;
/// `SECCOMP_SET_MODE_FILTER` (seccomp(2) operation 1).
pub const SECCOMP_SET_MODE_FILTER: u64 = 1;
/// Names of the set `SECCOMP_FILTER_FLAG_*` bits (`TSYNC`, ...; unknown
/// bits as hex).
pub fn flag_names(flags: FilterFlags) -> Vec<String> {
    flags.short_names()
}

/// How a filter got installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstallCall {
    /// `prctl(PR_SET_SECCOMP, …)`.
    Prctl,
    /// `seccomp(2)`.
    Seccomp,
    /// Read back from a live process (`PTRACE_SECCOMP_GET_FILTER` or
    /// `/proc/PID/status` for strict mode): the call is not known.
    Unknown,
}

impl InstallCall {
    /// `prctl`, `seccomp` or `unknown`.
    pub const fn name(self) -> &'static str {
        match self {
            InstallCall::Prctl => "prctl",
            InstallCall::Seccomp => "seccomp",
            InstallCall::Unknown => "unknown",
        }
    }
}

/// The seccomp mode a filter was installed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeccompMode {
    /// `SECCOMP_MODE_FILTER`: a BPF program.
    Filter,
    /// `SECCOMP_MODE_STRICT`: read, write, exit, sigreturn only; the
    /// instructions are the equivalent filter ([`strict_mode_filter`]).
    Strict,
}

impl SeccompMode {
    /// `filter` or `strict`.
    pub const fn name(self) -> &'static str {
        match self {
            SeccompMode::Filter => "filter",
            SeccompMode::Strict => "strict",
        }
    }
}

/// One filter found by a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedFilter {
    /// The thread that installed it ([`dump_command`]) or was dumped
    /// ([`dump_pid`]).
    pub pid: pid_t,
    /// 1-based position: order of installation (oldest is 1).
    pub order: usize,
    /// The syscall that installed it.
    pub call: InstallCall,
    /// Filter or strict mode.
    pub mode: SeccompMode,
    /// `SECCOMP_FILTER_FLAG_*` given to seccomp(2) (for [`dump_pid`]: only
    /// what the kernel keeps, i.e. `LOG`).
    pub flags: FilterFlags,
    /// Personality of the target process (x86_64 or i386), for naming
    /// syscalls.
    pub arch: Arch,
    /// The instructions (`struct sock_filter`), exactly as installed.
    pub insns: Vec<RawInsn>,
}

impl DumpedFilter {
    /// The filter as bytes, in the target's byte order: exactly the
    /// `struct sock_filter` array the program passed.
    pub fn to_bytes(&self) -> Vec<u8> {
        syscage::bpf::codec::encode(&self.insns, self.arch.byte_order())
    }
}

/// Errors of a dump.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// ptrace and friends.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// `-p` of a pid with no `/proc/PID`.
    #[error("no process with pid {0}")]
    NoSuchProcess(pid_t),
    /// The process exited while it was being dumped.
    #[error("process {0} exited during the dump")]
    ExitedDuringDump(pid_t),
    /// Missing privileges for `PTRACE_SECCOMP_GET_FILTER`.
    #[error("reading the filters of process {pid} needs CAP_SYS_ADMIN (run as root) and syscage itself not running under seccomp{detail}")]
    NotPermitted {
        /// The target.
        pid: pid_t,
        /// What exactly was missing.
        detail: String,
    },
    /// The kernel cannot hand filters back (`EMEDIUMTYPE`, `EIO`).
    #[error("cannot read the filters of process {pid}: the kernel cannot return them: {reason}")]
    KernelCannotDump {
        /// The target.
        pid: pid_t,
        /// Why.
        reason: &'static str,
    },
    /// The process is already traced (ptrace allows one tracer).
    #[error("cannot attach to process {pid}: it is already traced by process {tracer}")]
    AlreadyTraced {
        /// The target.
        pid: pid_t,
        /// `TracerPid` of the target.
        tracer: pid_t,
    },
    /// ptrace(PTRACE_SEIZE) refused otherwise (Yama, LSM, user namespace).
    #[error("cannot attach to process {pid}: {error} (needs CAP_SYS_PTRACE over it; see /proc/sys/kernel/yama/ptrace_scope)")]
    Attach {
        /// The target.
        pid: pid_t,
        /// The errno.
        error: std::io::Error,
    },
    /// `/proc/PID/status` could not be read or parsed.
    #[error("cannot read /proc/{pid}/status: {detail}")]
    Status {
        /// The target.
        pid: pid_t,
        /// What went wrong.
        detail: String,
    },
}
