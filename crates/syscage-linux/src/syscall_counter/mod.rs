//! An eBPF syscall counter: counts, per process, exec generation, cgroup
//! and syscall, the syscalls of every task that has a seccomp filter in
//! force (`SECCOMP_MODE_FILTER`), at the cost of a few loads and an add
//! in a per-CPU slot per call ([`program`]) instead of an audit record.
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
//! the program, not only those of tasks under a filter. For a task under
//! a filter, which takes the slow path anyway, the counter costs
//! 0.06–0.08 µs a call here, most of it the tracepoint's own cost (an
//! empty program: 0.06 µs; `tools/sys-enter-cost.sh`). A hook only those
//! tasks reach would be an fentry or fexit
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
use program::{MapFds, TaskOffsets, KEY_SIZE, SLOTS, SLOT_SIZE, VALUE_SIZE};
use std::collections::HashMap;
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

/// How many distinct keys the counts map holds (a process makes one per
/// syscall it calls in an exec generation: a busybox applet about 15,
/// python3 about 60; some thousands of processes). More costs more to create: the
/// map's bucket array is made with it (0.8 ms for these, 0.2 ms for a
/// quarter).
pub const MAX_KEYS: u32 = 1 << 16;

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
    prog: OwnedFd,
    counts: Map,
    slots: Map,
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
    // (struct, member path, the sizes it may have; 0: a pointer).
    let field = |root: &str, path: &[&str], sizes: &[u32]| {
        let (at, size) = btf.offset_of(root, path)?;
        if !sizes.contains(&size) {
            return Err(CounterError::Btf(format!(
                "{root}.{} is {size} bytes, expected {sizes:?}",
                path.join(".")
            )));
        }
        Ok(at)
    };
    Ok(TaskOffsets {
        seccomp_mode: field("task_struct", &["seccomp", "mode"], &[4])?,
        self_exec_id: field("task_struct", &["self_exec_id"], &[4, 8])?,
        thread_status: field("task_struct", &["thread_info", "status"], &[4])?,
        tgid: field("task_struct", &["tgid"], &[4])?,
        cgroups: field("task_struct", &["cgroups"], &[0])?,
        dfl_cgrp: field("css_set", &["dfl_cgrp"], &[0])?,
        cgroup_kn: field("cgroup", &["kn"], &[0])?,
        kn_id: field("kernfs_node", &["id"], &[8])?,
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
        SyscallCounter::start_reading(None)
    }

    /// [`SyscallCounter::start`], reading the task as `access` says, else
    /// directly where the verifier lets the program, else through helpers.
    fn start_reading(access: Option<TaskAccess>) -> Result<SyscallCounter, CounterError> {
        // Reading the kernel's BTF (1.5 ms here) while the maps are made.
        let (offsets, maps) = std::thread::scope(|scope| {
            let offsets = scope.spawn(task_offsets);
            let maps = SyscallCounter::maps();
            let offsets = offsets
                .join()
                .unwrap_or_else(|_| Err(CounterError::Btf("reading the BTF panicked".into())));
            (offsets, maps)
        });
        let (offsets, (counts, slots, lost)) = (offsets?, maps?);
        let maps = MapFds {
            counts: counts.fd.as_raw_fd(),
            slots: slots.fd.as_raw_fd(),
            lost: lost.fd.as_raw_fd(),
        };
        let load = |access| {
            let insns = program::counting_program(maps, offsets, access)?;
            bpf_sys::prog_load(bpf_sys::PROG_TYPE_RAW_TRACEPOINT, &insns, LICENSE)
        };
        let (prog, access) = match access {
            Some(access) => (load(access)?, access),
            None => match load(TaskAccess::Btf) {
                Ok(prog) => (prog, TaskAccess::Btf),
                Err(CounterError::Load { .. }) => {
                    (load(TaskAccess::ProbeRead)?, TaskAccess::ProbeRead)
                }
                Err(e) => return Err(e),
            },
        };
        let link = bpf_sys::raw_tracepoint_open("sys_enter", &prog)?;
        Ok(SyscallCounter {
            link,
            prog,
            counts,
            slots,
            lost,
            access,
        })
    }

    /// The counts map, the slots, the lost map.
    fn maps() -> Result<(Map, Map, Map), CounterError> {
        let counts = bpf_sys::map_create(
            bpf_sys::MAP_TYPE_HASH,
            KEY_SIZE as u32,
            VALUE_SIZE as u32,
            MAX_KEYS,
            bpf_sys::F_NO_PREALLOC,
        )?;
        let slots = bpf_sys::map_create(
            bpf_sys::MAP_TYPE_PERCPU_ARRAY,
            4,
            SLOT_SIZE as u32,
            SLOTS,
            0,
        )?;
        let lost = bpf_sys::map_create(bpf_sys::MAP_TYPE_ARRAY, 4, 8, 1, 0)?;
        Ok((counts, slots, lost))
    }

    /// How the loaded program reads the task.
    pub fn access(&self) -> TaskAccess {
        self.access
    }

    /// Detaches the program and reads the counts: the counts map's, plus
    /// what every CPU's slots still hold.
    ///
    /// The program stops when the last descriptor of its link is closed:
    /// a process forked meanwhile that has not executed anything yet
    /// holds one (the descriptors are `O_CLOEXEC`), and keeps it counting
    /// (and moving counts from the slots to the map while they are read)
    /// until it executes or exits.
    pub fn finish(self) -> Result<Counts, CounterError> {
        drop(self.link);
        let mut out = Counts::default();
        let mut value = [0u8; 8];
        if bpf_sys::lookup(&self.lost, &0u32.to_ne_bytes(), &mut value)? {
            out.lost = u64::from_ne_bytes(value);
        }
        // A run the kernel skipped (the program was already running on
        // that CPU) is a call not counted.
        out.lost += bpf_sys::prog_info(&self.prog)?.recursion_misses;
        let mut key = [0u8; KEY_SIZE];
        let mut value = [0u8; VALUE_SIZE];
        let mut prev: Option<[u8; KEY_SIZE]> = None;
        while bpf_sys::next_key(&self.counts, prev.as_ref().map(|k| &k[..]), &mut key)? {
            if bpf_sys::lookup(&self.counts, &key, &mut value)? {
                out.calls.push(decode(&key, &value));
            }
            prev = Some(key);
        }
        let mut pending = Vec::new();
        for element in bpf_sys::per_cpu_array_values(&self.slots, SLOTS)? {
            for slot in element {
                let (key, value) = slot.split_at(KEY_SIZE);
                let c = decode(key.try_into().expect("a key"), value);
                if c.calls > 0 {
                    pending.push(c);
                }
            }
        }
        merge_pending(&mut out.calls, pending);
        Ok(out)
    }
}

/// Adds the calls the slots still held to the counts map's: to the same
/// key's (the earlier first time kept), or as a key of their own.
pub fn merge_pending(calls: &mut Vec<Counted>, pending: Vec<Counted>) {
    let mut at: HashMap<CountKey, usize> =
        calls.iter().enumerate().map(|(i, c)| (c.key, i)).collect();
    for p in pending {
        match at.get(&p.key) {
            Some(&i) => {
                calls[i].calls += p.calls;
                calls[i].first_ns = calls[i].first_ns.min(p.first_ns);
            }
            None => {
                at.insert(p.key, calls.len());
                calls.push(p);
            }
        }
    }
}

/// A counted key and value (calls, first counted) as the maps hold them.
fn decode(k: &[u8; KEY_SIZE], value: &[u8]) -> Counted {
    let u32_at = |at: usize| u32::from_ne_bytes(k[at..at + 4].try_into().expect("4 bytes"));
    let u64_in =
        |b: &[u8], at: usize| u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    Counted {
        key: CountKey {
            cgroup_id: u64_in(k, 0),
            tgid: u32_at(8),
            exec_id: u32_at(12),
            nr: u32_at(16),
            compat: u32_at(20) != 0,
        },
        calls: u64_in(value, 0),
        first_ns: u64_in(value, 8),
    }
}

#[cfg(test)]
mod tests;
