//! What a recorded run did, and the minimal policy that allows exactly that.
//!
//! Pure data: the tracer fills a [`Recording`], [`Recording::to_policy`]
//! turns it into a [`Policy`] whose default is `ERRNO(EPERM)` and whose
//! unknown-syscall action is `ERRNO(ENOSYS)` (DESIGN.md, "Unknown
//! syscalls"), so that a syscall number newer than the tables fails the
//! way an old kernel would make it fail.

use super::args::{self, ArgSource, Match};
use std::collections::{BTreeMap, BTreeSet};
use syscage::action::Action;
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::policy::{CmpOp, Condition, Policy, Rule, SyscallId};

/// `EPERM`: the errno of the profile's default action.
pub const EPERM: u16 = 1;
/// `ENOSYS`: the errno for syscall numbers unknown to the tables, and for
/// `clone3` when only `clone(2)`'s flags can be checked.
pub const ENOSYS: u16 = 38;

/// Syscalls every recorded profile allows: the kernel makes the program
/// enter them on a signal's timing, not on the program's logic, so a run
/// that happened to receive no signal (or none during a sleep) would
/// otherwise record a profile that kills the next run when one arrives.
/// `rt_sigreturn`/`sigreturn` end every signal handler; `restart_syscall`
/// resumes a sleep a handled signal interrupted. Docker's default profile
/// allows them too.
pub const SIGNAL_MEDIATED: [&str; 3] = ["rt_sigreturn", "sigreturn", "restart_syscall"];

/// How often one syscall was made, and by whom first (`strace -c`'s table
/// plus the first caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallStats {
    /// Number of calls.
    pub count: u64,
    /// The thread id (as the kernel reports it to the tracer) of the first call.
    pub first_pid: i32,
}

/// Every (arch, syscall) a run made, with counts and, with `--args`, the
/// values of the risk-deciding arguments ([`args::risk_args`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// Calls per (arch, number as `seccomp_data.nr` carries it).
    pub calls: BTreeMap<(Arch, u32), CallStats>,
    /// With argument recording: the distinct keys (the risk-deciding values,
    /// in the order of [`args::risk_args`]'s fields) per (arch, number).
    pub arg_keys: BTreeMap<(Arch, u32), BTreeSet<Vec<u64>>>,
    /// Whether argument values were recorded (`--args`).
    pub with_args: bool,
}

/// The arch a syscall was made with, from the audit id the kernel reports
/// (`ptrace_syscall_info.arch`, `seccomp_data.arch`) and the number: on
/// x86_64's audit id, numbers with bit 30 are x32's.
pub fn arch_of(audit: u32, nr: u32) -> Option<Arch> {
    let arch = Arch::from_audit(audit)?;
    if arch == Arch::X86_64 && nr & X32_SYSCALL_BIT != 0 {
        Some(Arch::X32)
    } else {
        Some(arch)
    }
}

impl Recording {
    /// An empty recording; `with_args` says whether argument keys are kept.
    pub fn new(with_args: bool) -> Self {
        Recording {
            with_args,
            ..Recording::default()
        }
    }

    /// Counts one call of `nr` on `arch` by thread `pid`.
    pub fn count(&mut self, arch: Arch, nr: u32, pid: i32, times: u64) {
        self.calls
            .entry((arch, nr))
            .and_modify(|s| s.count += times)
            .or_insert(CallStats {
                count: times,
                first_pid: pid,
            });
    }

    /// Notes the risk-deciding values of one call.
    pub fn add_key(&mut self, arch: Arch, nr: u32, key: Vec<u64>) {
        self.arg_keys.entry((arch, nr)).or_default().insert(key);
    }

    /// Total number of calls.
    pub fn total(&self) -> u64 {
        self.calls.values().map(|s| s.count).sum()
    }

    /// The arches seen, in `Arch` order.
    pub fn arches(&self) -> BTreeSet<Arch> {
        self.calls.keys().map(|(a, _)| *a).collect()
    }

    /// Calls whose number the arch's table does not know: the profile
    /// answers them with `ENOSYS` rather than allowing them.
    pub fn unknown_numbers(&self) -> Vec<(Arch, u32)> {
        self.calls
            .keys()
            .filter(|(a, nr)| a.syscall_name(*nr).is_none())
            .copied()
            .collect()
    }

    /// Adds another run's calls and keys to this one (`--append`).
    pub fn merge(&mut self, other: &Recording) {
        for (&(arch, nr), s) in &other.calls {
            self.count(arch, nr, s.first_pid, s.count);
        }
        for (&(arch, nr), keys) in &other.arg_keys {
            self.arg_keys
                .entry((arch, nr))
                .or_default()
                .extend(keys.iter().cloned());
        }
        self.with_args &= other.with_args;
    }

    /// The minimal policy: `ALLOW` for every recorded syscall (with
    /// conditions on the recorded risk-deciding values when arguments were
    /// recorded) and for [`SIGNAL_MEDIATED`], `ERRNO(EPERM)` for the rest, `ERRNO(ENOSYS)` for numbers
    /// the tables do not know; the native arch plus every recorded arch.
    ///
    /// Rules name syscalls and hold on every arch of the policy, as a
    /// Docker/OCI profile cannot tie a rule to one syscall arch.
    pub fn to_policy(&self) -> Policy {
        let mut policy = Policy::new(Action::Errno(EPERM));
        policy.unknown_action = Some(Action::Errno(ENOSYS));
        for arch in self.arches() {
            policy.add_arch(arch);
        }
        let mut set = RuleSet::default();
        for &(arch, nr) in self.calls.keys() {
            let Some(name) = arch.syscall_name(nr) else {
                continue;
            };
            let source = if self.with_args {
                args::risk_args(arch, name)
            } else {
                None
            };
            let keys = self.arg_keys.get(&(arch, nr));
            match (source, keys) {
                (Some(ArgSource::Registers(fields)), Some(keys))
                    if !args::covers_everything(fields, keys.len()) =>
                {
                    for key in keys {
                        set.allow_when(name, conditions(fields, key));
                    }
                }
                (Some(ArgSource::Clone3Flags), Some(keys)) => {
                    if keys.iter().any(|k| k.iter().any(|&v| v != 0)) {
                        // A namespace was asked for through memory a filter
                        // cannot read: allow clone3 as recorded.
                        set.allow_when(name, Vec::new());
                    } else {
                        set.enosys.insert(name.to_string());
                    }
                    if let Some(ArgSource::Registers(fields)) = args::risk_args(arch, "clone") {
                        for key in keys {
                            let ns = key[0] & args::CLONE_NAMESPACE_MASK;
                            set.allow_when("clone", conditions(fields, &[ns]));
                        }
                    }
                }
                _ => set.allow_when(name, Vec::new()),
            }
        }
        for arch in &policy.arches {
            for name in SIGNAL_MEDIATED {
                if arch.syscall_nr(name).is_some() {
                    set.allow_when(name, Vec::new());
                }
            }
        }
        policy.rules = set.into_rules();
        policy
    }
}

fn conditions(fields: &[args::ArgField], key: &[u64]) -> Vec<Condition> {
    fields
        .iter()
        .zip(key)
        .map(|(f, &v)| {
            let op = match f.matching {
                Match::Eq => CmpOp::Eq(v),
                Match::Masked(mask) => CmpOp::MaskedEq { mask, value: v },
            };
            Condition::new(f.index, op)
        })
        .collect()
}

/// Rules collected by name, deduplicated across arches and runs.
#[derive(Default)]
struct RuleSet {
    /// Per name: the condition lists of its ALLOW rules (an empty list is
    /// an unconditional rule, which makes the others redundant).
    allow: BTreeMap<String, Vec<Vec<Condition>>>,
    /// Names answered with ENOSYS (clone3 without namespaces).
    enosys: BTreeSet<String>,
    /// Any other rule, kept as it is.
    others: Vec<Rule>,
}

impl RuleSet {
    fn allow_when(&mut self, name: &str, conds: Vec<Condition>) {
        let alternatives = self.allow.entry(name.to_string()).or_default();
        if !alternatives.contains(&conds) {
            alternatives.push(conds);
        }
    }

    /// Adds a rule of an existing policy.
    fn add(&mut self, rule: &Rule, arches: &[Arch]) {
        let name = match &rule.syscall {
            SyscallId::Name(n) => Some(n.clone()),
            SyscallId::Nr(nr) => arches
                .iter()
                .find_map(|a| a.syscall_name(*nr))
                .map(str::to_string),
        };
        match (name, rule.action, rule.arch) {
            (Some(name), Action::Allow, None) => self.allow_when(&name, rule.conditions.clone()),
            (Some(name), Action::Errno(ENOSYS), None) if rule.conditions.is_empty() => {
                self.enosys.insert(name);
            }
            _ => {
                if !self.others.contains(rule) {
                    self.others.push(rule.clone());
                }
            }
        }
    }

    fn into_rules(self) -> Vec<Rule> {
        let mut rules = Vec::new();
        for (name, mut alternatives) in self.allow.clone() {
            if alternatives.contains(&Vec::new()) {
                rules.push(Rule::new(name.as_str(), Action::Allow));
                continue;
            }
            alternatives
                .sort_by_key(|conds| conds.iter().map(|c| cmp_key(c.op)).collect::<Vec<_>>());
            for conds in alternatives {
                let mut rule = Rule::new(name.as_str(), Action::Allow);
                rule.conditions = conds;
                rules.push(rule);
            }
        }
        for name in &self.enosys {
            let unconditional = self
                .allow
                .get(name)
                .is_some_and(|a| a.contains(&Vec::new()));
            if !unconditional {
                rules.push(Rule::new(name.as_str(), Action::Errno(ENOSYS)));
            }
        }
        rules.extend(self.others);
        rules
    }
}

/// `CmpOp` as an ordered key, for a deterministic rule order.
fn cmp_key(op: CmpOp) -> (u8, u64, u64) {
    match op {
        CmpOp::Eq(v) => (0, v, 0),
        CmpOp::MaskedEq { mask, value } => (1, mask, value),
        CmpOp::Ne(v) => (2, v, 0),
        CmpOp::Lt(v) => (3, v, 0),
        CmpOp::Le(v) => (4, v, 0),
        CmpOp::Gt(v) => (5, v, 0),
        CmpOp::Ge(v) => (6, v, 0),
    }
}

/// Merges two recorded policies (`--append`): the arches of both, every
/// call either allows; an unconditional `ALLOW` of a syscall absorbs its
/// conditional ones and a `clone3` `ENOSYS`. The default, bad-arch and
/// unknown-syscall actions stay `existing`'s: appending a run widens what
/// the profile allows, never what it does with the rest.
pub fn merge_policies(existing: &Policy, recorded: &Policy) -> Policy {
    let mut merged = recorded.clone();
    merged.default_action = existing.default_action;
    merged.bad_arch_action = existing.bad_arch_action;
    merged.unknown_action = existing.unknown_action;
    merged.arches = existing.arches.clone();
    for arch in &recorded.arches {
        merged.add_arch(*arch);
    }
    let mut set = RuleSet::default();
    for rule in existing.rules.iter().chain(&recorded.rules) {
        set.add(rule, &merged.arches);
    }
    merged.rules = set.into_rules();
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage::bpf::data::SeccompData;

    fn call(arch: Arch, name: &str, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr: arch.syscall_nr(name).expect("syscall in table"),
            arch: arch.audit(),
            args,
            ..Default::default()
        }
    }

    fn recording(with_args: bool, calls: &[(Arch, &str, [u64; 6])]) -> Recording {
        let mut r = Recording::new(with_args);
        for &(arch, name, a) in calls {
            let nr = arch.syscall_nr(name).expect("syscall in table");
            r.count(arch, nr, 1, 1);
            if let Some(ArgSource::Registers(f)) = args::risk_args(arch, name) {
                let wide = arch.is_64bit() || arch == Arch::X32;
                r.add_key(arch, nr, args::key_from_registers(f, &a, wide));
            }
        }
        r
    }

    #[test]
    fn names_only_allows_the_recorded_syscalls() {
        let r = recording(
            false,
            &[
                (Arch::X86_64, "read", [0; 6]),
                (Arch::X86_64, "execve", [0; 6]),
                (Arch::X86, "getpid", [0; 6]),
            ],
        );
        let p = r.to_policy();
        assert_eq!(p.arches, vec![Arch::native(), Arch::X86]);
        assert_eq!(
            p.evaluate(&call(Arch::X86_64, "read", [0; 6])),
            Action::Allow
        );
        assert_eq!(
            p.evaluate(&call(Arch::X86_64, "execve", [0; 6])),
            Action::Allow
        );
        assert_eq!(
            p.evaluate(&call(Arch::X86, "getpid", [0; 6])),
            Action::Allow
        );
        assert_eq!(
            p.evaluate(&call(Arch::X86_64, "write", [0; 6])),
            Action::Errno(EPERM)
        );
        // Signal returns and restarts, whatever the run saw.
        for name in ["rt_sigreturn", "restart_syscall"] {
            assert_eq!(p.evaluate(&call(Arch::X86_64, name, [0; 6])), Action::Allow);
            assert_eq!(p.evaluate(&call(Arch::X86, name, [0; 6])), Action::Allow);
        }
        assert_eq!(
            p.evaluate(&call(Arch::X86, "sigreturn", [0; 6])),
            Action::Allow
        );
        // A number no table knows: ENOSYS.
        let unknown = SeccompData {
            nr: 999,
            arch: Arch::X86_64.audit(),
            ..Default::default()
        };
        assert_eq!(p.evaluate(&unknown), Action::Errno(ENOSYS));
        // x32 was not recorded: bad arch.
        assert_eq!(
            p.evaluate(&call(Arch::X32, "read", [0; 6])),
            Action::KillProcess
        );
    }

    #[test]
    fn argument_conditions_let_exactly_the_recorded_values_through() {
        let (af_inet, af_packet) = (libc::AF_INET as u64, libc::AF_PACKET as u64);
        let stream = libc::SOCK_STREAM as u64;
        let cloexec = libc::SOCK_CLOEXEC as u64;
        let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let rx = (libc::PROT_READ | libc::PROT_EXEC) as u64;
        let newuser = libc::CLONE_NEWUSER as u64;
        let thread = (libc::CLONE_VM | libc::CLONE_THREAD | libc::CLONE_SIGHAND) as u64;
        let r = recording(
            true,
            &[
                (
                    Arch::X86_64,
                    "socket",
                    [af_inet, stream | cloexec, 0, 0, 0, 0],
                ),
                (Arch::X86_64, "mprotect", [0x1000, 0x1000, rw, 0, 0, 0]),
                (Arch::X86_64, "ioctl", [1, 0x5401, 0, 0, 0, 0]),
                (Arch::X86_64, "clone", [thread, 0, 0, 0, 0, 0]),
                (
                    Arch::X86_64,
                    "prctl",
                    [libc::PR_SET_NAME as u64, 0, 0, 0, 0, 0],
                ),
                (Arch::X86_64, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
                (Arch::X86_64, "mmap", [0, 4096, rx, 0x22, u64::MAX, 0]),
                (Arch::X86_64, "fcntl", [3, libc::F_GETFL as u64, 0, 0, 0, 0]),
            ],
        );
        let p = r.to_policy();
        let allow = |name, a| p.evaluate(&call(Arch::X86_64, name, a)) == Action::Allow;
        // The recorded calls, and variations in the free bits.
        assert!(allow("socket", [af_inet, stream | cloexec, 0, 0, 0, 0]));
        assert!(allow("socket", [af_inet, stream, 6, 0, 0, 0]));
        assert!(allow("mprotect", [0, 0, rw, 0, 0, 0]));
        assert!(allow("mprotect", [0, 0, 0, 0, 0, 0]));
        assert!(allow("ioctl", [7, 0x5401, 0, 0, 0, 0]));
        assert!(allow("clone", [thread | 17, 1, 2, 3, 0, 0]));
        assert!(allow("prctl", [libc::PR_SET_NAME as u64, 9, 0, 0, 0, 0]));
        assert!(allow("personality", [0xffff_ffff, 0, 0, 0, 0, 0]));
        assert!(allow("mmap", [0, 8192, libc::PROT_EXEC as u64, 0x22, 0, 0]));
        assert!(allow("fcntl", [9, libc::F_GETFL as u64, 0, 0, 0, 0]));
        // What was not recorded.
        assert!(!allow("socket", [af_packet, stream, 0, 0, 0, 0]));
        assert!(!allow(
            "socket",
            [af_inet, libc::SOCK_RAW as u64, 0, 0, 0, 0]
        ));
        assert!(!allow("mprotect", [0, 0, rx, 0, 0, 0]));
        assert!(!allow("ioctl", [1, 0x5402, 0, 0, 0, 0]));
        assert!(!allow("clone", [thread | newuser, 0, 0, 0, 0, 0]));
        assert!(!allow(
            "prctl",
            [libc::PR_SET_SECCOMP as u64, 2, 0, 0, 0, 0]
        ));
        // Not recorded at all.
        assert!(!allow("unshare", [0; 6]));
    }

    #[test]
    fn exec_and_non_exec_mprotect_seen_means_no_condition() {
        let rx = (libc::PROT_READ | libc::PROT_EXEC) as u64;
        let r = recording(
            true,
            &[
                (Arch::X86_64, "mprotect", [0, 0, rx, 0, 0, 0]),
                (Arch::X86_64, "mprotect", [0, 0, 1, 0, 0, 0]),
            ],
        );
        let p = r.to_policy();
        let rules: Vec<_> = p
            .rules
            .iter()
            .filter(|r| r.syscall == "mprotect".into())
            .collect();
        assert_eq!(rules.len(), 1);
        assert!(rules[0].conditions.is_empty());
    }

    #[test]
    fn clone3_without_namespaces_falls_back_to_a_checked_clone() {
        let mut r = Recording::new(true);
        let nr = Arch::X86_64.syscall_nr("clone3").expect("clone3");
        r.count(Arch::X86_64, nr, 1, 1);
        r.add_key(
            Arch::X86_64,
            nr,
            args::key_from_clone3_flags(libc::CLONE_VM as u64),
        );
        let p = r.to_policy();
        let d = |name, a| p.evaluate(&call(Arch::X86_64, name, a));
        assert_eq!(d("clone3", [0; 6]), Action::Errno(ENOSYS));
        assert_eq!(
            d("clone", [libc::CLONE_VM as u64, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        let newnet = (libc::CLONE_VM | libc::CLONE_NEWNET) as u64;
        assert_eq!(d("clone", [newnet, 0, 0, 0, 0, 0]), Action::Errno(EPERM));

        // A recorded clone3 into a new user namespace: clone3 allowed.
        r.add_key(
            Arch::X86_64,
            nr,
            args::key_from_clone3_flags(libc::CLONE_NEWUSER as u64),
        );
        let p = r.to_policy();
        assert_eq!(
            p.evaluate(&call(Arch::X86_64, "clone3", [0; 6])),
            Action::Allow
        );
        let newuser = libc::CLONE_NEWUSER as u64;
        let d = p.evaluate(&call(Arch::X86_64, "clone", [newuser, 0, 0, 0, 0, 0]));
        assert_eq!(d, Action::Allow);
    }

    #[test]
    fn merge_adds_counts_and_keys() {
        let mut a = recording(true, &[(Arch::X86_64, "ioctl", [0, 1, 0, 0, 0, 0])]);
        let b = recording(true, &[(Arch::X86_64, "ioctl", [0, 2, 0, 0, 0, 0])]);
        a.merge(&b);
        let nr = Arch::X86_64.syscall_nr("ioctl").expect("ioctl");
        assert_eq!(a.calls[&(Arch::X86_64, nr)].count, 2);
        assert_eq!(a.arg_keys[&(Arch::X86_64, nr)].len(), 2);
        let p = a.to_policy();
        for req in [1, 2] {
            let d = p.evaluate(&call(Arch::X86_64, "ioctl", [0, req, 0, 0, 0, 0]));
            assert_eq!(d, Action::Allow);
        }
    }

    #[test]
    fn merging_policies_allows_what_either_allowed() {
        let a = recording(true, &[(Arch::X86_64, "ioctl", [0, 1, 0, 0, 0, 0])]).to_policy();
        let mut rb = recording(false, &[(Arch::X86_64, "read", [0; 6])]);
        let clone3 = Arch::X86_64.syscall_nr("clone3").expect("clone3");
        rb.count(Arch::X86_64, clone3, 1, 1);
        let b = rb.to_policy();
        let m = merge_policies(&a, &b);
        let d = |name, a| m.evaluate(&call(Arch::X86_64, name, a));
        assert_eq!(d("ioctl", [0, 1, 0, 0, 0, 0]), Action::Allow);
        assert_eq!(d("ioctl", [0, 2, 0, 0, 0, 0]), Action::Errno(EPERM));
        assert_eq!(d("read", [0; 6]), Action::Allow);
        assert_eq!(d("clone3", [0; 6]), Action::Allow);
        assert_eq!(d("write", [0; 6]), Action::Errno(EPERM));
        // Merging is idempotent.
        assert_eq!(merge_policies(&m, &m).rules, m.rules);
        // The existing profile's default, bad-arch and unknown-syscall
        // actions stay (a KILL_PROCESS default is not relaxed to EPERM).
        let mut strict = a.clone();
        strict.default_action = Action::KillProcess;
        strict.bad_arch_action = Action::KillThread;
        strict.unknown_action = Some(Action::Errno(95));
        let kept = merge_policies(&strict, &b);
        assert_eq!(kept.default_action, Action::KillProcess);
        assert_eq!(kept.bad_arch_action, Action::KillThread);
        assert_eq!(kept.unknown_action, Some(Action::Errno(95)));
        let d = |name, a| kept.evaluate(&call(Arch::X86_64, name, a));
        assert_eq!(d("write", [0; 6]), Action::KillProcess);
        assert_eq!(d("read", [0; 6]), Action::Allow);
        // Unconditional ioctl from one run absorbs the conditional one.
        let c = recording(false, &[(Arch::X86_64, "ioctl", [0; 6])]).to_policy();
        let m2 = merge_policies(&m, &c);
        let ioctls = m2
            .rules
            .iter()
            .filter(|r| r.syscall == "ioctl".into())
            .count();
        assert_eq!(ioctls, 1);
        assert_eq!(
            m2.evaluate(&call(Arch::X86_64, "ioctl", [0, 2, 0, 0, 0, 0])),
            Action::Allow
        );
    }

    #[test]
    fn x32_numbers_are_their_own_arch() {
        assert_eq!(arch_of(Arch::X86_64.audit(), 0), Some(Arch::X86_64));
        assert_eq!(
            arch_of(Arch::X86_64.audit(), X32_SYSCALL_BIT),
            Some(Arch::X32)
        );
        assert_eq!(arch_of(Arch::X86.audit(), 20), Some(Arch::X86));
        assert_eq!(arch_of(0x1234, 0), None);
    }
}
