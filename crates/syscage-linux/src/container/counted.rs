//! Recording a container with the eBPF syscall counter
//! ([`crate::syscall_counter`]) instead of one audit record per call.
//!
//! The container still runs under a recording profile, so that its tasks
//! have a seccomp filter in force from the moment the runtime loads it:
//! [`counting_profile`] allows every call and logs `execve` and
//! `execveat` (a handful of audit records, read under Docker only). The counter counts, in the
//! kernel, the calls of every task under a filter per (cgroup, process,
//! exec generation, arch, syscall), with when each key was first counted;
//! [`attribute`] keeps the container's, by what the kernel guarantees, and
//! splits them as the audit recorder does
//! ([`super::attribute::split_first_exec`]):
//!
//! - runc, crun, podman: a counted process is a candidate if it descends
//!   from the command syscage started (process events); the container's
//!   init is the candidate first counted, among those that executed
//!   something under the filter (a later `self_exec_id`): the runtime
//!   loads the filter in it before any other process of the container
//!   exists;
//! - Docker, whose daemon starts the container: the init is the process
//!   whose `execve` the counting profile logged first among those created
//!   while the command ran (the audit records of that one call);
//! - the init's calls before its first successful `execve` (its first
//!   exec generation) are the runtime's;
//! - the container is the init's cgroup: a candidate in another one (a
//!   systemd service with a filter of its own, started meanwhile) is not
//!   the container's;
//! - every other call of the container's processes is the workload's.
//!
//! An i386 call is told apart by `TS_COMPAT`, an x32 one by its number
//! ([`Arch::classify`]), as audit's `arch=` and `syscall=` do.

use super::attribute::{is_exec, Maker};
use super::measure::collect;
use super::ContainerError;
use crate::proc_events::ForkWatch;
use crate::syscall_counter::{CountKey, Counted, CounterError, Counts, SyscallCounter};
use std::collections::{BTreeMap, HashMap, HashSet};
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
        let shown = format!("{cmd:?}");
        let run_child = || -> std::io::Result<(u32, ExitStatus)> {
            let mut child = Command::new(program).args(args).spawn()?;
            Ok((child.id(), child.wait()?))
        };
        if owned_by_daemon {
            // Docker's daemon starts the container: which of the processes
            // created meanwhile is its init is said by the one record the
            // counting profile makes, its logged `execve`.
            let mut status = None;
            let execs = collect(true, || {
                let (pid, s) = run_child().map_err(|source| ContainerError::Start {
                    command: shown.clone(),
                    source,
                })?;
                status = Some(s);
                Ok(pid)
            });
            let counts = self.0.finish().map_err(ContainerError::Counter)?;
            let execs = execs?;
            check_complete(&counts)?;
            let status =
                status.ok_or_else(|| ContainerError::Unsupported("no exit status".into()))?;
            let init = execs
                .iter()
                .filter(|r| is_exec(r))
                .min_by_key(|r| r.serial)
                .map(|r| r.pid);
            return Ok(match init {
                Some(init) => (status, attribute(&counts, None, Some(init))),
                None => (status, BTreeMap::new()),
            });
        }
        // The forks of the command: who may be the container.
        let forks = ForkWatch::start().map_err(ContainerError::Audit)?;
        let waited = run_child();
        let log = forks.finish();
        let counts = self.0.finish().map_err(ContainerError::Counter)?;
        let (pid, status) = waited.map_err(|source| ContainerError::Start {
            command: shown,
            source,
        })?;
        if log.overflowed {
            return Err(ContainerError::Incomplete(
                "the process-events socket overflowed".into(),
            ));
        }
        check_complete(&counts)?;
        let ours = log.descendants(pid, Some(std::process::id()));
        Ok((status, attribute(&counts, Some(&ours), None)))
    }
}

/// An error if the counter's map was full.
fn check_complete(counts: &Counts) -> Result<(), ContainerError> {
    if counts.lost > 0 {
        return Err(ContainerError::Incomplete(format!(
            "the eBPF counter's map was full ({} calls not counted): it holds {} (process, exec generation, syscall) keys, some thousands of processes' worth; SYSCAGE_CONTAINER_RECORDER=audit records without that limit (and about ten times slower)",
            counts.lost,
            crate::syscall_counter::MAX_KEYS
        )));
    }
    Ok(())
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

/// The container's init: among the processes in `ours`, the one first
/// counted of those with more than one exec generation (else of all); its
/// first generation and cgroup then.
fn container_init(calls: &[&Counted]) -> Option<(u32, u32, u64)> {
    // Per process: (first counted, its generation then, its cgroup then,
    // whether it has another generation).
    let mut first: HashMap<u32, (u64, u32, u64, bool)> = HashMap::new();
    for c in calls {
        let k = &c.key;
        let e = first
            .entry(k.tgid)
            .or_insert((c.first_ns, k.exec_id, k.cgroup_id, false));
        if k.exec_id != e.1 {
            e.3 = true;
        }
        if (k.exec_id, c.first_ns) < (e.1, e.0) {
            *e = (c.first_ns, k.exec_id, k.cgroup_id, e.3);
        }
    }
    let pick = |executed: bool| {
        first
            .iter()
            .filter(|(_, f)| f.3 || !executed)
            .min_by_key(|(pid, f)| (f.0, **pid))
            .map(|(&pid, f)| (pid, f.1, f.2))
    };
    pick(true).or_else(|| pick(false))
}

/// The container's calls per (maker, arch, syscall number): see the
/// module doc. `ours`: the processes that may be the container's (`None`:
/// any); `init`: the container's init where it is known (Docker's, from
/// its logged `execve`), else it is found among `ours`.
pub fn attribute(counts: &Counts, ours: Option<&HashSet<u32>>, init: Option<u32>) -> MakerCounts {
    let candidates: Vec<&Counted> = counts
        .calls
        .iter()
        .filter(|c| ours.is_none_or(|o| o.contains(&c.key.tgid)))
        .collect();
    let mut out = BTreeMap::new();
    let found = match init {
        Some(pid) => {
            let of_init: Vec<&Counted> = candidates
                .iter()
                .copied()
                .filter(|c| c.key.tgid == pid)
                .collect();
            container_init(&of_init)
        }
        None => container_init(&candidates),
    };
    let Some((init, first_gen, cgroup)) = found else {
        return out;
    };
    for c in candidates {
        let k = &c.key;
        if k.cgroup_id != cgroup {
            continue;
        }
        let Some(arch) = key_arch(k) else {
            continue;
        };
        let maker = if k.tgid == init && k.exec_id == first_gen {
            Maker::Runtime
        } else {
            Maker::Workload
        };
        *out.entry((maker, arch, k.nr)).or_insert(0) += c.calls;
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

    fn counted(key: CountKey, calls: u64, first_ns: u64) -> Counted {
        Counted {
            key,
            calls,
            first_ns,
        }
    }

    #[test]
    fn the_inits_calls_before_its_exec_are_the_runtimes() {
        let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
        let counts = Counts {
            calls: vec![
                // The init (10): fstatfs and execve before its exec.
                counted(key(5, 10, 3, nr("fstatfs"), false), 2, 100),
                counted(key(5, 10, 3, nr("execve"), false), 1, 110),
                counted(key(5, 10, 4, nr("brk"), false), 9, 120),
                // A child of the workload: i386 and x32 calls too.
                counted(key(5, 11, 4, nr("brk"), false), 1, 130),
                counted(key(5, 11, 4, 11, true), 1, 131),
                counted(key(5, 11, 4, syscage::arch::x32_nr(0), false), 1, 132),
                // A process of ours outside the container's cgroup, first
                // counted earlier, that never executed anything.
                counted(key(6, 12, 1, nr("read"), false), 5, 50),
                // Not ours.
                counted(key(5, 99, 1, nr("read"), false), 5, 10),
            ],
            lost: 0,
        };
        let ours = HashSet::from([10, 11, 12]);
        let m = attribute(&counts, Some(&ours), None);
        // Told the init (Docker), any process in its cgroup counts.
        let told = attribute(&counts, None, Some(10));
        assert_eq!(
            told.get(&(Maker::Workload, Arch::X86_64, nr("read"))),
            Some(&5)
        );
        assert_eq!(
            told.get(&(Maker::Runtime, Arch::X86_64, nr("fstatfs"))),
            Some(&2)
        );
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
    fn without_an_exec_the_first_counted_process_is_the_runtime() {
        let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
        let counts = Counts {
            calls: vec![
                counted(key(5, 10, 3, nr("fstatfs"), false), 2, 100),
                counted(key(5, 11, 3, nr("read"), false), 1, 200),
            ],
            lost: 0,
        };
        let m = attribute(&counts, Some(&HashSet::from([10, 11])), None);
        assert_eq!(
            m.get(&(Maker::Runtime, Arch::X86_64, nr("fstatfs"))),
            Some(&2)
        );
        assert_eq!(
            m.get(&(Maker::Workload, Arch::X86_64, nr("read"))),
            Some(&1)
        );
        assert!(attribute(&counts, Some(&HashSet::new()), None).is_empty());
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
