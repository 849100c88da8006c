//! An eBPF syscall counter: counts, per process, exec generation, cgroup
//! and syscall, the syscalls of every task that has a seccomp filter in
//! force (`SECCOMP_MODE_FILTER`), at the cost of a map update per call
//! instead of an audit record.
//!
//! No compiler or BPF library is involved: [`insn`] builds the program
//! from typed instructions, [`program`] is the program, [`btf`] finds the
//! fields of `struct task_struct` it reads in the running kernel's BTF,
//! [`bpf_sys`] makes the `bpf(2)` calls. [`SyscallCounter::start`] loads
//! and attaches it to the raw tracepoint `sys_enter`;
//! [`SyscallCounter::finish`] detaches it and reads the counts back.
//!
//! # Why `sys_enter`, which every syscall of the machine pays for
//!
//! Attaching to `sys_enter` turns on `SYSCALL_WORK_SYSCALL_TRACEPOINT`
//! for every task, so every syscall takes the slow entry path and runs
//! the program (0.14–0.19 µs a call here, half of it the counting:
//! `tools/sys-enter-cost.sh`), not only those of tasks under a
//! filter. A hook only those tasks reach would be an fentry or fexit
//! program (`BPF_PROG_TYPE_TRACING`) on `__seccomp_filter(int
//! this_syscall, const bool recheck_after_trace)`, which the running
//! kernel's BTF has (there `__secure_computing` takes no argument;
//! fexit's return value 0 would keep counting only the calls seccomp
//! lets through). On the kernel this was built on (6.18.44-fc, a
//! Firecracker guest, root with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)
//! none loads:
//!
//! - `BPF_PROG_LOAD` fails with `EPERM` and an empty verifier log (log
//!   level 1) for every attach type that goes through a BPF trampoline:
//!   `BPF_TRACE_FENTRY`, `BPF_TRACE_FEXIT`, `BPF_MODIFY_RETURN` (on
//!   `__seccomp_filter`, `__secure_computing` or `syscall_trace_enter`,
//!   license "GPL"), `BPF_LSM_MAC` and `BPF_PROG_TYPE_EXT`, even with
//!   `attach_btf_id` 0, which upstream's verifier refuses with `EINVAL`
//!   and "Tracing programs must provide btf_id". So the refusal comes
//!   before `bpf_check` runs: upstream `bpf_prog_load` fails there with
//!   `EPERM` only on a missing capability (passed: a raw tracepoint, a
//!   `tp_btf` program and an iterator load) or from the LSM hook
//!   `security_bpf_prog_load`, and no BPF LSM program is loaded. The
//!   kernel refuses function-entry hooking as policy: writing `function`
//!   to `/sys/kernel/tracing/current_tracer` and reading
//!   `set_ftrace_filter` fail with `EPERM` too (the trampolines attach
//!   through ftrace's direct calls).
//! - kprobes are not built (`CONFIG_KPROBES` unset, no kprobe PMU).
//! - No tracepoint lies on the seccomp path (no `seccomp` event group;
//!   `tp_btf` on `sys_enter` loads, but is the same tracepoint).
//!
//! Where trampolines are allowed, an fexit on `__seccomp_filter` would be
//! the cheaper hook, with a fallback to `sys_enter` where it cannot load.

pub mod bpf_sys;
pub mod btf;
pub mod insn;
pub mod program;

use bpf_sys::Map;
pub use program::TaskAccess;
use program::{TaskOffsets, KEY_SIZE, VALUE_SIZE};
use std::os::fd::{AsRawFd, OwnedFd};

/// Why the counter could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CounterError {
    /// A `bpf(2)` command failed (`EPERM` without CAP_BPF/CAP_SYS_ADMIN,
    /// `ENOSYS` without BPF support, ...).
    #[error("bpf(2) {what}: {source}")]
    Bpf {
        /// The command.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The verifier refused the program.
    #[error("bpf(2) BPF_PROG_LOAD: {source}; verifier log: {log}")]
    Load {
        /// Why.
        source: std::io::Error,
        /// The verifier's log.
        log: String,
    },
    /// The kernel's BTF is missing or lacks a field the program reads.
    #[error("kernel BTF: {0}")]
    Btf(String),
    /// An internal error building the program.
    #[error(transparent)]
    Program(#[from] insn::UnplacedLabel),
    /// Not on this machine.
    #[error("not supported: {0}")]
    Unsupported(String),
}

/// How many distinct keys the counts map holds.
const MAX_KEYS: u32 = 1 << 16;

/// One counted (cgroup, process, exec generation, arch, syscall).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountKey {
    /// The cgroup v2 id of the caller (its cgroup directory's inode).
    pub cgroup_id: u64,
    /// The caller's thread group id.
    pub tgid: u32,
    /// The caller's `self_exec_id` (low 32 bits): one more after each
    /// successful `execve`.
    pub exec_id: u32,
    /// The syscall number as the kernel got it (x32's with bit 30 set).
    pub nr: u32,
    /// Whether it was an i386 compat call (`TS_COMPAT`).
    pub compat: bool,
}

/// The calls counted at one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    /// Whose calls.
    pub key: CountKey,
    /// How many.
    pub calls: u64,
    /// When the first was counted (`CLOCK_MONOTONIC` ns).
    pub first_ns: u64,
}

/// What the counter saw.
#[derive(Debug, Default)]
pub struct Counts {
    /// Calls per key.
    pub calls: Vec<Counted>,
    /// Calls not counted (the map was full).
    pub lost: u64,
}

/// The program attached to `sys_enter`, and its maps.
pub struct SyscallCounter {
    link: OwnedFd,
    _prog: OwnedFd,
    counts: Map,
    lost: Map,
    access: TaskAccess,
}

/// The offsets of the task fields the program reads, from the running
/// kernel's BTF (x86_64 only: elsewhere a compat call is not told apart).
pub fn task_offsets() -> Result<TaskOffsets, CounterError> {
    if !cfg!(all(target_arch = "x86_64", target_endian = "little")) {
        return Err(CounterError::Unsupported(
            "the eBPF counter tells compat calls apart on x86_64 only".into(),
        ));
    }
    let btf = btf::Btf::vmlinux()?;
    let (seccomp_mode, mode_size) = btf.offset_of("task_struct", &["seccomp", "mode"])?;
    let (self_exec_id, exec_size) = btf.offset_of("task_struct", &["self_exec_id"])?;
    let (thread_status, status_size) = btf.offset_of("task_struct", &["thread_info", "status"])?;
    if mode_size != 4 || !(exec_size == 4 || exec_size == 8) || status_size != 4 {
        return Err(CounterError::Btf(format!(
            "unexpected field sizes: seccomp.mode {mode_size}, self_exec_id {exec_size}, thread_info.status {status_size}"
        )));
    }
    Ok(TaskOffsets {
        seccomp_mode,
        self_exec_id,
        thread_status,
    })
}

/// "Dual MIT/GPL": the helpers reading the task (get_current_task,
/// probe_read_kernel) and loads through BTF pointers are for
/// GPL-compatible programs only.
const LICENSE: &str = "Dual MIT/GPL";

impl SyscallCounter {
    /// Loads the program and attaches it: from now on every syscall of a
    /// task under a seccomp filter is counted.
    pub fn start() -> Result<SyscallCounter, CounterError> {
        let offsets = task_offsets()?;
        let counts = bpf_sys::map_create(
            bpf_sys::MAP_TYPE_HASH,
            KEY_SIZE as u32,
            VALUE_SIZE as u32,
            MAX_KEYS,
            bpf_sys::F_NO_PREALLOC,
        )?;
        let lost = bpf_sys::map_create(bpf_sys::MAP_TYPE_ARRAY, 4, 8, 1, 0)?;
        let load = |access| {
            let insns = program::counting_program(
                counts.fd.as_raw_fd(),
                lost.fd.as_raw_fd(),
                offsets,
                access,
            )?;
            bpf_sys::prog_load(bpf_sys::PROG_TYPE_RAW_TRACEPOINT, &insns, LICENSE)
        };
        let (prog, access) = match load(TaskAccess::Btf) {
            Ok(prog) => (prog, TaskAccess::Btf),
            Err(CounterError::Load { .. }) => (load(TaskAccess::ProbeRead)?, TaskAccess::ProbeRead),
            Err(e) => return Err(e),
        };
        let link = bpf_sys::raw_tracepoint_open("sys_enter", &prog)?;
        Ok(SyscallCounter {
            link,
            _prog: prog,
            counts,
            lost,
            access,
        })
    }

    /// How the loaded program reads the task.
    pub fn access(&self) -> TaskAccess {
        self.access
    }

    /// Detaches the program and reads the counts.
    pub fn finish(self) -> Result<Counts, CounterError> {
        drop(self.link);
        let mut out = Counts::default();
        let mut value = [0u8; 8];
        if bpf_sys::lookup(&self.lost, &0u32.to_ne_bytes(), &mut value)? {
            out.lost = u64::from_ne_bytes(value);
        }
        let mut key = [0u8; KEY_SIZE];
        let mut value = [0u8; VALUE_SIZE];
        let mut prev: Option<[u8; KEY_SIZE]> = None;
        while bpf_sys::next_key(&self.counts, prev.as_ref().map(|k| &k[..]), &mut key)? {
            if bpf_sys::lookup(&self.counts, &key, &mut value)? {
                let u64_at =
                    |at: usize| u64::from_ne_bytes(value[at..at + 8].try_into().expect("8 bytes"));
                out.calls.push(Counted {
                    key: decode(&key),
                    calls: u64_at(0),
                    first_ns: u64_at(8),
                });
            }
            prev = Some(key);
        }
        Ok(out)
    }
}

fn decode(k: &[u8; KEY_SIZE]) -> CountKey {
    let u32_at = |at: usize| u32::from_ne_bytes(k[at..at + 4].try_into().expect("4 bytes"));
    CountKey {
        cgroup_id: u64::from_ne_bytes(k[0..8].try_into().expect("8 bytes")),
        tgid: u32_at(8),
        exec_id: u32_at(12),
        nr: u32_at(16),
        compat: u32_at(20) != 0,
    }
}

#[cfg(test)]
mod tests;
