//! Whose syscall each logged record is: the runtime's or the workload's.
//!
//! A container's process is created by the runtime, gets the container's
//! filter from the runtime (`seccomp(2)` in runc's or crun's init), and
//! becomes the workload at its `execve`. Audit records name the calling
//! process (thread group) and carry a serial number the kernel hands out
//! in order: a process's records up to and including its last `execve` (or
//! `execveat`) are the runtime's, the later ones the workload's. A process
//! under the filter that never executes anything is the runtime's when
//! `no_exec_is_runtime` (a measuring run, whose workload starts no process),
//! else the workload's (a child the workload forked).

use crate::audit::SeccompRecord;
use std::collections::{BTreeMap, HashMap};
use syscage::arch::Arch;

/// Who made a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Maker {
    /// The container runtime, between loading the filter and executing
    /// the workload.
    Runtime,
    /// The workload (the program the container runs, and its children).
    Workload,
}

impl Maker {
    /// `runtime` or `workload`.
    pub fn name(self) -> &'static str {
        match self {
            Maker::Runtime => "runtime",
            Maker::Workload => "workload",
        }
    }
}

/// The arch of a record: its audit arch, and x32 for x32's numbers on
/// x86_64's audit arch ([`Arch::classify`]).
pub fn record_arch(r: &SeccompRecord) -> Option<Arch> {
    Arch::classify(r.arch, r.syscall).map(|(arch, _)| arch)
}

/// Whether the record is of an `execve` or `execveat`.
pub fn is_exec(r: &SeccompRecord) -> bool {
    record_arch(r)
        .and_then(|a| a.syscall_name(r.syscall))
        .is_some_and(|n| n == "execve" || n == "execveat")
}

/// Counts per (maker, arch, syscall number) of `records` (all of one
/// container; see the module doc for the rule).
pub fn split(
    records: &[SeccompRecord],
    no_exec_is_runtime: bool,
) -> BTreeMap<(Maker, Arch, u32), u64> {
    let mut last_exec: HashMap<u32, u64> = HashMap::new();
    for r in records.iter().filter(|r| is_exec(r)) {
        let e = last_exec.entry(r.pid).or_insert(r.serial);
        *e = (*e).max(r.serial);
    }
    let mut out = BTreeMap::new();
    for r in records {
        let Some(arch) = record_arch(r) else {
            continue;
        };
        let maker = match last_exec.get(&r.pid) {
            Some(&exec) if r.serial <= exec => Maker::Runtime,
            Some(_) => Maker::Workload,
            None if no_exec_is_runtime => Maker::Runtime,
            None => Maker::Workload,
        };
        *out.entry((maker, arch, r.syscall)).or_insert(0) += 1;
    }
    out
}

/// Counts per (maker, arch, syscall number) of the records of one
/// container run whose `execve`/`execveat` are all logged (`syscage
/// check`, which logs them): the runtime's process is the one whose
/// `execve` is logged first, and its records up to the end of that first
/// run of `execve` calls (a runtime that searches `$PATH` tries several)
/// are the runtime's; every other record is the workload's, so a child
/// the workload forks and that executes something is the workload's.
pub fn split_first_exec(records: &[SeccompRecord]) -> BTreeMap<(Maker, Arch, u32), u64> {
    let mut sorted: Vec<&SeccompRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.serial);
    let first = sorted.iter().find(|r| is_exec(r)).map(|r| r.pid);
    // The serial of the runtime's last execve of its first run of them.
    let mut end = None;
    if let Some(pid) = first {
        let mut in_run = false;
        for r in sorted.iter().filter(|r| r.pid == pid) {
            if is_exec(r) {
                in_run = true;
                end = Some(r.serial);
            } else if in_run {
                break;
            }
        }
    }
    let mut out = BTreeMap::new();
    for r in sorted {
        let Some(arch) = record_arch(r) else {
            continue;
        };
        let maker = match (first, end) {
            (Some(p), Some(e)) if r.pid == p && r.serial <= e => Maker::Runtime,
            _ => Maker::Workload,
        };
        *out.entry((maker, arch, r.syscall)).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage::arch::x32_nr;

    fn rec(serial: u64, pid: u32, syscall: u32) -> SeccompRecord {
        SeccompRecord {
            serial,
            pid,
            arch: Arch::X86_64.audit(),
            syscall,
            code: 0x7ffc_0000,
            ..SeccompRecord::default()
        }
    }

    #[test]
    fn calls_up_to_the_last_exec_are_the_runtimes() {
        let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
        let records = [
            rec(1, 10, nr("fstatfs")),
            rec(2, 10, nr("execve")),
            rec(3, 11, nr("futex")),
            rec(4, 10, nr("execve")),
            rec(5, 10, nr("brk")),
            rec(6, 12, nr("getpid")),
        ];
        let as_runtime = split(&records, true);
        let get = |m: &BTreeMap<_, u64>, mk, n| m.get(&(mk, Arch::X86_64, nr(n))).copied();
        assert_eq!(get(&as_runtime, Maker::Runtime, "fstatfs"), Some(1));
        assert_eq!(get(&as_runtime, Maker::Runtime, "execve"), Some(2));
        assert_eq!(get(&as_runtime, Maker::Workload, "brk"), Some(1));
        assert_eq!(get(&as_runtime, Maker::Runtime, "futex"), Some(1));
        assert_eq!(get(&as_runtime, Maker::Runtime, "getpid"), Some(1));
        let as_workload = split(&records, false);
        assert_eq!(get(&as_workload, Maker::Workload, "getpid"), Some(1));
        assert_eq!(get(&as_workload, Maker::Runtime, "getpid"), None);
    }

    #[test]
    fn the_first_process_to_exec_is_the_runtime_until_it_has() {
        let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
        let records = [
            rec(1, 10, nr("fstatfs")),
            rec(2, 10, nr("execve")),
            rec(3, 10, nr("execve")),
            rec(4, 10, nr("mkdir")),
            rec(5, 11, nr("dup2")),
            rec(6, 11, nr("execve")),
            rec(7, 10, nr("execve")),
        ];
        let m = split_first_exec(&records);
        let get = |mk, n| m.get(&(mk, Arch::X86_64, nr(n))).copied();
        assert_eq!(get(Maker::Runtime, "fstatfs"), Some(1));
        assert_eq!(get(Maker::Runtime, "execve"), Some(2));
        assert_eq!(get(Maker::Workload, "execve"), Some(2));
        assert_eq!(get(Maker::Workload, "mkdir"), Some(1));
        assert_eq!(get(Maker::Workload, "dup2"), Some(1));
        assert_eq!(get(Maker::Runtime, "dup2"), None);
    }

    #[test]
    fn x32_numbers_are_x32() {
        let mut r = rec(1, 1, x32_nr(59));
        r.arch = Arch::X86_64.audit();
        assert_eq!(record_arch(&r), Some(Arch::X32));
        assert!(is_exec(&rec(1, 1, 59)));
    }
}
