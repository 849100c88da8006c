//! What a recorded run did, and the minimal policy that allows exactly that.
//!
//! Pure data: the tracer fills a [`Recording`], [`Recording::to_policy`]
//! turns it into a [`Policy`] whose default is `ERRNO(EPERM)` and whose
//! unknown-syscall action is `ERRNO(ENOSYS)` (DESIGN.md, "Unknown
//! syscalls"), so that a syscall number newer than the tables fails the
//! way an old kernel would make it fail.

use super::args::{self, ArgSource, Match};
use crate::action::Action;
use crate::arch::Arch;
use crate::policy::{CmpOp, Condition, Policy, Rule, SyscallId};
use std::collections::{BTreeMap, BTreeSet};

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
/// (`ptrace_syscall_info.arch`, `seccomp_data.arch`) and the number, as
/// [`Arch::classify`] tells them: on x86_64's audit id, x32 numbers are
/// x32's (-1 is not one).
pub fn arch_of(audit: u32, nr: u32) -> Option<Arch> {
    Arch::classify(audit, nr).map(|(arch, _)| arch)
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
    /// What was seen on one arch is allowed on that arch only: a rule that
    /// holds on every arch of the policy that has its syscall has no arch,
    /// the others are tied to theirs ([`Rule::arch`]), so that a program
    /// that made one `int 0x80` call does not get everything else through
    /// `int 0x80` too. A Docker/OCI profile cannot say that: see
    /// [`widen_to_every_arch`].
    pub fn to_policy(&self) -> Policy {
        let mut policy = Policy::init(Action::Errno(EPERM)).expect("EPERM is a valid errno");
        let mut arches = policy.arches().to_vec();
        for arch in self.arches() {
            if !arches.contains(&arch) {
                arches.push(arch);
            }
        }
        policy
            .set_arches(arches)
            .expect("each arch is listed once")
            .set_unknown_action(Some(Action::Errno(ENOSYS)))
            .expect("ENOSYS is a valid errno");
        let mut sets: BTreeMap<Arch, RuleSet> = BTreeMap::new();
        for &(arch, nr) in self.calls.keys() {
            let set = sets.entry(arch).or_default();
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
        for arch in policy.arches() {
            let set = sets.entry(*arch).or_default();
            for name in SIGNAL_MEDIATED {
                if arch.syscall_nr(name).is_some() {
                    set.allow_when(name, Vec::new());
                }
            }
        }
        // Each rule with the arches it holds on, in first-seen order.
        let mut held: Vec<(Rule, Vec<Arch>)> = Vec::new();
        for arch in policy.arches() {
            let rules = sets.remove(arch).unwrap_or_default().into_rules();
            for rule in rules {
                match held.iter_mut().find(|(r, _)| *r == rule) {
                    Some((_, on)) => on.push(*arch),
                    None => held.push((rule, vec![*arch])),
                }
            }
        }
        for (rule, on) in held {
            let everywhere = policy.arches().iter().all(|a| {
                on.contains(a)
                    || match &rule.syscall {
                        SyscallId::Name(n) => a.syscall_nr(n).is_none(),
                        SyscallId::Nr(_) => false,
                    }
            });
            // As recorded: not rewritten for socketcall/ipc (x86's
            // multiplexed calls were recorded as what they were).
            if everywhere {
                policy.rule_add_verbatim(rule);
            } else {
                for arch in on {
                    policy.rule_add_verbatim(rule.clone().on_arch(arch));
                }
            }
        }
        policy
    }
}

/// `policy` with every arch-bound rule made to hold on every arch, as a
/// Docker/OCI profile must say it (its `includes.arches` selects rules by
/// the host's arch, not by the syscall's), and the rules that were widened.
pub fn widen_to_every_arch(policy: &Policy) -> (Policy, Vec<Rule>) {
    let mut wide = policy.clone();
    wide.rules_retain_mut(|_| false);
    let mut widened = Vec::new();
    for rule in policy.rules() {
        let mut r = rule.clone();
        if r.arch.take().is_some() {
            widened.push(rule.clone());
        }
        if !wide.rules().contains(&r) {
            wide.rule_add_verbatim(r);
        }
    }
    (wide, widened)
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
/// the profile allows, never what it does with the rest; the attributes
/// are `recorded`'s.
///
/// This is a union of what both allow on shared arches, not
/// `seccomp_merge` ([`Policy::merge`] refuses arches in common).
pub fn merge_policies(existing: &Policy, recorded: &Policy) -> Policy {
    let mut merged = existing.clone();
    merged
        .set_attributes(*recorded.attributes())
        .expect("the attributes of a built policy are valid");
    for &arch in recorded.arches() {
        if !merged.arch_exist(arch) {
            merged.arch_add(arch).expect("the arch is absent");
        }
    }
    let mut set = RuleSet::default();
    for rule in existing.rules().iter().chain(recorded.rules()) {
        set.add(rule, merged.arches());
    }
    merged.rules_retain_mut(|_| false);
    for rule in set.into_rules() {
        merged.rule_add_verbatim(rule);
    }
    merged
}

#[cfg(all(test, target_os = "linux"))]
mod tests;
