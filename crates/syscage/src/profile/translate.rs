//! From the resolved OCI profile to a [`Policy`], as runc and libseccomp 2.5
//! build the filter, so that syscage enforces what they enforce.
//!
//! runc (`libcontainer/seccomp/seccomp_linux.go`):
//! - the default action is `defaultAction` with `defaultErrnoRet`
//!   (ERRNO, TRAP and TRACE without a number carry EPERM);
//! - a rule whose action equals the default action is not added at all;
//! - a name libseccomp does not know is skipped (syscage: a name an arch's
//!   table lacks is skipped on that arch, with a warning);
//! - when two conditions of a rule name the same argument, each condition
//!   becomes a rule of its own (so they are OR'ed); otherwise the
//!   conditions form one rule (AND);
//! - `MASKED_EQ` takes `value` as the mask and `valueTwo` as the datum.
//!
//! libseccomp (`db_rule_add` in `src/db.c`), per syscall:
//! - once an unconditional rule is in, later rules for the syscall are
//!   dropped, whatever their action;
//! - an unconditional rule added after conditional ones replaces them.
//!
//! syscage enforces exactly that and reports every dropped rule whose
//! action differed as a [`Warning`].
//!
//! libseccomp treats x32 as a 32-bit arch: its argument comparisons look
//! at the low word only, so syscage's x32 rules compare 32 bits. Conditions
//! are normalized as libseccomp compiles them ([`libseccomp_conditions`]),
//! per arch, and rules are restricted to an arch where the result differs.
//!
//! The filter covers the native arch plus `architectures`
//! (`seccomp_arch_add`); other arches get libseccomp's default bad-arch
//! action, `SCMP_ACT_KILL` (kill the thread).

use super::error::{ProfileError, Warning};
use super::model::ActionName;
use super::names;
use super::select::OciSeccomp;
use crate::action::Action;
use crate::arch::Arch;
use crate::policy::{CmpOp, Condition, Policy, Rule, SyscallId, Width};
use std::collections::BTreeMap;

/// Options of the translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslateOptions {
    /// The arch the runtime runs on; libseccomp's filter always covers it.
    pub native: Arch,
    /// Return ENOSYS for syscall numbers the arch's table does not know,
    /// as runc's ENOSYS stub does for syscalls newer than the profile
    /// (skipped when the default action permits or already is ENOSYS).
    pub enosys_unknown: bool,
}

/// `ENOSYS`.
const ENOSYS: u16 = 38;

/// The rules libseccomp ends up with for one syscall name on one arch.
#[derive(Clone, PartialEq, Eq)]
enum Entry {
    /// An unconditional rule: (action, source rule).
    Unconditional(Action, usize),
    /// Conditional rules, in order: (conditions, action, source rule).
    Chains(Vec<(Vec<Condition>, Action, usize)>),
}

/// A rule's conditions as libseccomp 2.5 compiles them for `arch`
/// (`_db_rule_gen_64` / `_db_rule_gen_32`): on a 32-bit arch (x32
/// included) only the low words are compared; `MASKED_EQ` compares with
/// `datum & mask` (bits of the datum outside the mask are ignored, not
/// "never equal"); a `MASKED_EQ` with mask 0 is always true and
/// disappears, and a rule left without conditions is unconditional.
fn libseccomp_conditions(conds: &[Condition], arch: Arch) -> Vec<Condition> {
    let narrow = !arch.is_64bit() || arch == Arch::X32;
    let mut out = Vec::new();
    for c in conds {
        let mut c = *c;
        if narrow {
            c.op = c.op.low32();
            c.width = Width::Bits32;
        }
        if let CmpOp::MaskedEq { mask, value } = c.op {
            if mask == 0 {
                continue;
            }
            c.op = CmpOp::MaskedEq {
                mask,
                value: value & mask,
            };
        }
        out.push(c);
    }
    out
}

fn path(source: usize) -> String {
    format!("syscalls[{source}]")
}

/// Adds one rule the way libseccomp's `db_rule_add` does.
fn add(
    entry: &mut Option<Entry>,
    name: &str,
    conds: Vec<Condition>,
    action: Action,
    src: usize,
    warnings: &mut Vec<Warning>,
) {
    match entry {
        None if conds.is_empty() => *entry = Some(Entry::Unconditional(action, src)),
        None => *entry = Some(Entry::Chains(vec![(conds, action, src)])),
        Some(Entry::Unconditional(kept, first)) => {
            if *kept != action {
                warnings.push(Warning {
                    path: path(src),
                    message: format!(
                        "rule {action} for '{name}' is dropped: {} already has an unconditional {kept} rule for it, and libseccomp keeps the first",
                        path(*first)
                    ),
                });
            }
        }
        Some(Entry::Chains(chains)) if conds.is_empty() => {
            for (_, a, s) in chains.iter() {
                if *a != action {
                    warnings.push(Warning {
                        path: path(*s),
                        message: format!(
                            "conditional rule {a} for '{name}' is dropped: the unconditional {action} rule of {} replaces it, as libseccomp does",
                            path(src)
                        ),
                    });
                }
            }
            *entry = Some(Entry::Unconditional(action, src));
        }
        Some(Entry::Chains(chains)) => chains.push((conds, action, src)),
    }
}

impl OciSeccomp {
    /// The arches of the filter: native first, then `architectures`
    /// (arches syscage cannot compile for are left out with a warning;
    /// their syscalls then get the bad-arch action).
    pub fn policy_arches(&self, native: Arch, warnings: &mut Vec<Warning>) -> Vec<Arch> {
        let mut arches = vec![native];
        for (i, name) in self.architectures.iter().enumerate() {
            match names::scmp_arch(name) {
                Some(a) if !arches.contains(&a) => arches.push(a),
                Some(_) => {}
                None => warnings.push(Warning {
                    path: format!("architectures[{i}]"),
                    message: format!("architecture {name} is not supported by syscage: its syscalls get the bad-arch action"),
                }),
            }
        }
        arches
    }

    /// Translates to a policy, as runc + libseccomp would build the filter.
    pub fn to_policy(
        &self,
        opts: &TranslateOptions,
    ) -> Result<(Policy, Vec<Warning>), ProfileError> {
        let mut warnings = Vec::new();
        let default_action = self.default_action.to_action(self.default_errno_ret);
        let arches = self.policy_arches(opts.native, &mut warnings);
        let mut policy = Policy::new(default_action);
        policy.arches = arches.clone();
        policy.bad_arch_action = Action::KillThread;
        if opts.enosys_unknown
            && !default_action.permits()
            && default_action != Action::Errno(ENOSYS)
        {
            policy.unknown_action = Some(Action::Errno(ENOSYS));
        }
        for f in &self.flags {
            match f {
                super::model::FlagName::Tsync => policy.attrs.tsync = true,
                super::model::FlagName::Log => policy.attrs.log = true,
                super::model::FlagName::SpecAllow => policy.attrs.spec_allow = true,
                super::model::FlagName::WaitKillableRecv => warnings.push(Warning {
                    path: "flags".to_string(),
                    message: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is a loader flag; the filter itself is unchanged".to_string(),
                }),
            }
        }
        if self.default_action == ActionName::Notify
            || self.syscalls.iter().any(|s| s.action == ActionName::Notify)
        {
            if self.listener_path.is_none() {
                warnings.push(Warning {
                    path: "$".to_string(),
                    message:
                        "SCMP_ACT_NOTIFY without listenerPath: nobody will answer the notifications"
                            .to_string(),
                });
            }
        }

        // Per arch and name, what libseccomp keeps; names in first-seen order.
        let mut order: Vec<String> = Vec::new();
        let mut per_arch: Vec<BTreeMap<String, Option<Entry>>> =
            vec![BTreeMap::new(); arches.len()];
        let mut missing: BTreeMap<String, (usize, Vec<Arch>)> = BTreeMap::new();
        for call in &self.syscalls {
            let action = call.action.to_action(call.errno_ret);
            if action == default_action {
                continue;
            }
            let conds: Vec<Condition> = call
                .args
                .iter()
                .map(|a| Condition::new(a.index, a.op.to_cmp(a.value, a.value_two)))
                .collect();
            let repeated = (0..6u8).any(|i| conds.iter().filter(|c| c.arg == i).count() > 1);
            let rules: Vec<Vec<Condition>> = if repeated {
                conds.iter().map(|c| vec![*c]).collect()
            } else {
                vec![conds]
            };
            for name in &call.names {
                let absent: Vec<Arch> = arches
                    .iter()
                    .copied()
                    .filter(|a| a.syscall_nr(name).is_none())
                    .collect();
                if !absent.is_empty() {
                    missing
                        .entry(name.clone())
                        .or_insert((call.source, absent.clone()));
                }
                if absent.len() == arches.len() {
                    continue;
                }
                if !order.contains(name) {
                    order.push(name.clone());
                }
                for (i, &arch) in arches.iter().enumerate() {
                    if arch.syscall_nr(name).is_none() {
                        continue;
                    }
                    let entry = per_arch[i].entry(name.clone()).or_insert(None);
                    for conds in &rules {
                        let conds = libseccomp_conditions(conds, arch);
                        add(entry, name, conds, action, call.source, &mut warnings);
                    }
                }
            }
        }
        for (name, (src, absent)) in &missing {
            let list: Vec<&str> = absent.iter().map(|a| a.name()).collect();
            warnings.push(Warning {
                path: path(*src),
                message: format!(
                    "syscall '{name}' does not exist on {}: skipped there",
                    list.join(", ")
                ),
            });
        }
        let mut seen = Vec::new();
        warnings.retain(|w| {
            let new = !seen.contains(w);
            if new {
                seen.push(w.clone());
            }
            new
        });
        for name in order {
            let entries: Vec<(Arch, Entry)> = arches
                .iter()
                .zip(per_arch.iter_mut())
                .filter_map(|(&a, m)| m.remove(&name).flatten().map(|e| (a, e)))
                .collect();
            let uniform =
                entries.len() == arches.len() && entries.iter().all(|(_, e)| *e == entries[0].1);
            let emit = |policy: &mut Policy, e: &Entry, arch: Option<Arch>| {
                let rules: Vec<(Vec<Condition>, Action)> = match e {
                    Entry::Unconditional(action, _) => vec![(Vec::new(), *action)],
                    Entry::Chains(chains) => {
                        chains.iter().map(|(c, a, _)| (c.clone(), *a)).collect()
                    }
                };
                for (conds, action) in rules {
                    let mut rule = Rule::new(SyscallId::Name(name.clone()), action);
                    rule.conditions = conds;
                    rule.arch = arch;
                    policy.add_rule(rule);
                }
            };
            if uniform {
                emit(&mut policy, &entries[0].1, None);
            } else {
                for (arch, e) in &entries {
                    emit(&mut policy, e, Some(*arch));
                }
            }
        }
        Ok((policy, warnings))
    }
}
