//! Recording a container with the eBPF syscall counter
//! ([`crate::syscall_counter`]) instead of one audit record per call.
//!
//! The container still runs under a recording profile, so that its tasks
//! have a seccomp filter in force from the moment the runtime loads it:
//! [`counting_profile`] allows every call and logs only `execve` and
//! `execveat` (a handful of audit records, which say which process
//! handed over to the workload). The counter counts, in the kernel, the
//! calls of every task under a filter per (cgroup, process, exec
//! generation, arch, syscall); [`attribute`] keeps the container's, by
//! what the kernel guarantees, as the audit recorder does
//! ([`super::attribute::split_first_exec`]):
//!
//! - the process the runtime hands over in (the first whose `execve` is
//!   logged) is the container's init; its calls before its first
//!   successful `execve` (a lower `self_exec_id`, which `execve` raises)
//!   are the runtime's;
//! - a counted process is the container's if it descends from the command
//!   syscage started (runc, crun, podman) or was created while it ran
//!   (Docker), and it is in the init's cgroup (a container's cgroup; a
//!   systemd service with a filter of its own started meanwhile is not);
//! - every other call of the container's processes is the workload's.
//!
//! An i386 call is told apart by `TS_COMPAT`, an x32 one by its number
//! ([`Arch::classify`]), as audit's `arch=` and `syscall=` do.

use super::attribute::{is_exec, Maker};
use super::measure::collect_with_processes;
use super::ContainerError;
use crate::audit::SeccompRecord;
use crate::syscall_counter::{CountKey, CounterError, Counts, SyscallCounter};
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::process::{Command, ExitStatus};
use syscage::arch::Arch;

/// Calls per (maker, arch, syscall number), as
/// [`super::attribute::split_first_exec`] counts records.
pub type MakerCounts = BTreeMap<(Maker, Arch, u32), u64>;

/// Which container recorder `syscage record -- <runtime> run …` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorder {
    /// The eBPF syscall counter (the default).
    Ebpf,
    /// `SCMP_ACT_LOG` and the audit records (one per call).
    Audit,
}

/// The environment variable that chooses the recorder (`ebpf` or `audit`).
pub const RECORDER_VAR: &str = "SYSCAGE_CONTAINER_RECORDER";

impl Recorder {
    /// The recorder `SYSCAGE_CONTAINER_RECORDER` names: `Ok(None)` when it
    /// is unset or empty (the default: eBPF, audit if it cannot run).
    pub fn from_env() -> Result<Option<Recorder>, String> {
        match std::env::var(RECORDER_VAR).as_deref() {
            Err(_) | Ok("") => Ok(None),
            Ok("ebpf") => Ok(Some(Recorder::Ebpf)),
            Ok("audit") => Ok(Some(Recorder::Audit)),
            Ok(other) => Err(format!(
                "{RECORDER_VAR}={other}: expected `ebpf` or `audit`"
            )),
        }
    }
}

/// The counting profile: every call allowed, `execve` and `execveat`
/// logged, on the native arch and its archMap sub-arches.
pub fn counting_profile() -> String {
    format!(
        "{{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": {}, \"syscalls\": [{{\"names\": [\"execve\", \"execveat\"], \"action\": \"SCMP_ACT_LOG\", \"comment\": \"syscage record: where the runtime hands over to the workload\"}}]}}",
        super::measure::recording_architectures()
    )
}

/// The eBPF counter, started before the container runs.
pub struct CountingRecorder(SyscallCounter);

impl CountingRecorder {
    /// Loads and attaches the counter (needs CAP_BPF and CAP_PERFMON, or
    /// CAP_SYS_ADMIN, and the kernel's BTF).
    pub fn start() -> Result<CountingRecorder, CounterError> {
        SyscallCounter::start().map(CountingRecorder)
    }

    /// Runs `cmd` (its stdio inherited) under the counting profile (which
    /// `cmd` already passes to the runtime) and returns its exit status
    /// and the container's calls per (maker, arch, syscall number).
    pub fn run(
        self,
        cmd: &[OsString],
        owned_by_daemon: bool,
    ) -> Result<(ExitStatus, MakerCounts), ContainerError> {
        let (program, args) = cmd
            .split_first()
            .ok_or_else(|| ContainerError::Unsupported("an empty command".into()))?;
        let mut status = None;
        let collected = collect_with_processes(owned_by_daemon, || {
            let shown = format!("{cmd:?}");
            let mut child = Command::new(program).args(args).spawn().map_err(|source| {
                ContainerError::Start {
                    command: shown.clone(),
                    source,
                }
            })?;
            let pid = child.id();
            status = Some(child.wait().map_err(|source| ContainerError::Start {
                command: shown,
                source,
            })?);
            Ok(pid)
        });
        let counts = self.0.finish().map_err(ContainerError::Counter)?;
        let (execs, ours) = collected?;
        let status = status.ok_or_else(|| ContainerError::Unsupported("no exit status".into()))?;
        if counts.lost > 0 {
            return Err(ContainerError::Incomplete(format!(
                "the eBPF counter's map was full ({} calls not counted)",
                counts.lost
            )));
        }
        Ok((status, attribute(&counts, &execs, &ours)))
    }
}

/// The arch of a counted call, as audit would name it.
fn key_arch(k: &CountKey) -> Option<Arch> {
    let audit = if k.compat {
        Arch::X86.audit()
    } else {
        Arch::native().audit()
    };
    Arch::classify(audit, k.nr).map(|(a, _)| a)
}

/// The container's calls per (maker, arch, syscall number): see the
/// module doc. `execs`: the logged `execve`/`execveat` records of the
/// processes in `ours`.
pub fn attribute(
    counts: &Counts,
    execs: &[SeccompRecord],
    ours: &HashSet<u32>,
) -> MakerCounts {
    let init = execs
        .iter()
        .filter(|r| is_exec(r))
        .min_by_key(|r| r.serial)
        .map(|r| r.pid);
    let of_init = |k: &&(CountKey, u64)| Some(k.0.tgid) == init;
    // The init's generation before its first successful execve, and its
    // cgroup then.
    let first = counts
        .calls
        .iter()
        .filter(of_init)
        .min_by_key(|(k, _)| k.exec_id)
        .map(|(k, _)| (k.exec_id, k.cgroup_id));
    let mut out = BTreeMap::new();
    for (k, n) in &counts.calls {
        if !ours.contains(&k.tgid) {
            continue;
        }
        if let Some((_, cgroup)) = first {
            if k.cgroup_id != cgroup {
                continue;
            }
        }
        let Some(arch) = key_arch(k) else {
            continue;
        };
        let maker = match first {
            Some((exec_id, _)) if Some(k.tgid) == init && k.exec_id == exec_id => Maker::Runtime,
            _ => Maker::Workload,
        };
        *out.entry((maker, arch, k.nr)).or_insert(0) += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cgroup_id: u64, tgid: u32, exec_id: u32, nr: u32, compat: bool) -> CountKey {
        CountKey {
            cgroup_id,
            tgid,
            exec_id,
            nr,
            compat,
        }
    }

    #[test]
    fn the_inits_calls_before_its_exec_are_the_runtimes() {
        let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
        let execve = SeccompRecord {
            serial: 7,
            pid: 10,
            arch: Arch::X86_64.audit(),
            syscall: nr("execve"),
            code: super::super::measure::RET_LOG,
            ..SeccompRecord::default()
        };
        let counts = Counts {
            calls: vec![
                (key(5, 10, 3, nr("fstatfs"), false), 2),
                (key(5, 10, 3, nr("execve"), false), 1),
                (key(5, 10, 4, nr("brk"), false), 9),
                (key(5, 11, 4, nr("brk"), false), 1),
                (key(5, 11, 4, 11, true), 1),
                (key(5, 11, 4, syscage::arch::x32_nr(0), false), 1),
                // A process of ours outside the container's cgroup (the
                // runtime's parent has no filter; a service would).
                (key(6, 12, 1, nr("read"), false), 5),
                // Not ours.
                (key(5, 99, 1, nr("read"), false), 5),
            ],
            lost: 0,
        };
        let ours = HashSet::from([10, 11, 12]);
        let m = attribute(&counts, &[execve], &ours);
        let get = |mk, a, n| m.get(&(mk, a, n)).copied();
        assert_eq!(get(Maker::Runtime, Arch::X86_64, nr("fstatfs")), Some(2));
        assert_eq!(get(Maker::Runtime, Arch::X86_64, nr("execve")), Some(1));
        assert_eq!(get(Maker::Workload, Arch::X86_64, nr("brk")), Some(10));
        assert_eq!(get(Maker::Workload, Arch::X86, 11), Some(1));
        assert_eq!(
            get(Maker::Workload, Arch::X32, syscage::arch::x32_nr(0)),
            Some(1)
        );
        assert_eq!(m.len(), 5, "{m:?}");
    }

    #[test]
    fn the_counting_profile_allows_and_logs_exec_only() {
        let p = syscage::profile::parse(&counting_profile()).unwrap();
        assert_eq!(p.default_action, syscage::profile::ActionName::Allow);
        assert_eq!(p.syscalls.len(), 1);
        assert_eq!(p.syscalls[0].names, ["execve", "execveat"]);
        assert_eq!(p.syscalls[0].action, syscage::profile::ActionName::Log);
        assert!(!p.architectures.is_empty());
    }
}
