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
//! - a conditional rule whose conditions extend those of an earlier rule
//!   (same leading arguments, same comparisons) is dropped: the earlier one
//!   is more general; the same conditions with another action, or an
//!   earlier rule extending the new one with another action, make
//!   `seccomp_rule_add` fail with EEXIST, so runc refuses the profile
//!   (syscage too: [`ProfileErrorKind::Rejected`]);
//! - on x86, a socket or SysV IPC syscall's rule also applies to
//!   `socketcall` / `ipc` with argument 0 equal to the call number.
//!
//! syscage enforces exactly that and reports every dropped rule whose
//! action differed as a [`Warning`]. Not modelled (a warning says so):
//! where conditional rules of different actions for one syscall overlap,
//! libseccomp decides by the order of its decision tree, syscage by
//! severity. libseccomp 2.5.4 also mis-merges some OR'ed rules (range
//! comparisons whose constants differ in the high word, multi-argument
//! chains with NE), and loses an arch's load of `nr` when that arch's
//! first syscall block is a name the arch lacks; syscage enforces the
//! rules as written there.
//!
//! libseccomp treats x32 as a 32-bit arch: its argument comparisons look
//! at the low word only, so syscage's x32 rules compare 32 bits. Conditions
//! are normalized as libseccomp compiles them (`libseccomp_conditions`),
//! per arch, and rules are restricted to an arch where the result differs.
//!
//! The filter covers the native arch plus `architectures`
//! (`seccomp_arch_add`); other arches get libseccomp's default bad-arch
//! action, `SCMP_ACT_KILL` (kill the thread).

use super::error::{ProfileError, ProfileErrorKind, Warning};
use super::model::ActionName;
use super::names;
use super::select::OciSeccomp;
use crate::action::Action;
use crate::arch::Arch;
use crate::policy::{multiplex, CmpOp, Condition, Policy, PolicyError, Rule, SyscallId, Width};
use std::collections::{BTreeMap, HashMap};

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
pub fn libseccomp_conditions(conds: &[Condition], arch: Arch) -> Vec<Condition> {
    let narrow = !arch.args_64bit();
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
) -> Result<(), ProfileError> {
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
        Some(Entry::Chains(chains)) => {
            // libseccomp's `_db_tree_add`: chains are sorted by argument.
            let mut conds = conds;
            conds.sort_by_key(|c| c.arg);
            let mut i = 0;
            while i < chains.len() {
                let (c, a, s) = &chains[i];
                let (a, s) = (*a, *s);
                if *c == conds && a == action {
                    return Ok(());
                }
                if c.len() <= conds.len() && conds.starts_with(c) && a != action {
                    if c.len() == conds.len() {
                        return Err(rejected(src, format!("rule {action} for '{name}' has the same conditions as the {a} rule of {}: libseccomp refuses it (EEXIST), so runc fails", path(s))));
                    }
                    warnings.push(Warning {
                        path: path(src),
                        message: format!("rule {action} for '{name}' is dropped: the {a} rule of {} checks a prefix of its conditions, and libseccomp keeps the more general one", path(s)),
                    });
                    return Ok(());
                }
                if c.len() <= conds.len() && conds.starts_with(c) {
                    return Ok(());
                }
                if c.starts_with(&conds) {
                    if a != action {
                        return Err(rejected(src, format!("rule {action} for '{name}' checks a prefix of the conditions of the {a} rule of {}: libseccomp refuses it (EEXIST), so runc fails", path(s))));
                    }
                    chains.remove(i);
                    continue;
                }
                i += 1;
            }
            chains.push((conds, action, src));
        }
    }
    Ok(())
}

fn rejected(src: usize, message: String) -> ProfileError {
    ProfileError {
        path: path(src),
        pos: None,
        kind: ProfileErrorKind::Rejected(message),
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
    pub fn to_policy<'a>(
        &'a self,
        opts: &TranslateOptions,
    ) -> Result<(Policy, Vec<Warning>), ProfileError> {
        let mut warnings = Vec::new();
        let default_action = self.default_action.to_action(self.default_errno_ret);
        let arches = self.policy_arches(opts.native, &mut warnings);
        // Unchecked errno: libseccomp takes any 16-bit errno, the kernel
        // clamps it.
        let mut policy = Policy::init_verbatim(default_action);
        let built = |e: PolicyError| ProfileError {
            path: "$".to_string(),
            pos: None,
            kind: ProfileErrorKind::Rejected(e.to_string()),
        };
        policy
            .set_arches(arches.iter().copied())
            .map_err(built)?
            .set_bad_arch_action(Action::KillThread)
            .map_err(built)?;
        if opts.enosys_unknown
            && !default_action.permits()
            && default_action != Action::Errno(ENOSYS)
        {
            policy
                .set_unknown_action(Some(Action::Errno(ENOSYS)))
                .map_err(built)?;
        }
        let mut attrs = *policy.attributes();
        for f in &self.flags {
            match f {
                super::model::FlagName::Tsync => attrs.tsync = true,
                super::model::FlagName::Log => attrs.log = true,
                super::model::FlagName::SpecAllow => attrs.spec_allow = true,
                super::model::FlagName::WaitKillableRecv => warnings.push(Warning {
                    path: "flags".to_string(),
                    message: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is a loader flag; the filter itself is unchanged".to_string(),
                }),
            }
        }
        policy.set_attributes(attrs).map_err(built)?;
        let notifies = self.default_action == ActionName::Notify
            || self.syscalls.iter().any(|s| s.action == ActionName::Notify);
        if notifies && self.listener_path.is_none() {
            warnings.push(Warning {
                path: "$".to_string(),
                message:
                    "SCMP_ACT_NOTIFY without listenerPath: nobody will answer the notifications"
                        .to_string(),
            });
        }

        // Per arch and name, what libseccomp keeps; names in first-seen
        // order, each with an id indexing `per_arch[arch]`.
        let mut order: Vec<&str> = Vec::new();
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let mut per_arch: Vec<Vec<Option<Entry>>> = vec![Vec::new(); arches.len()];
        let mut id_of = |name: &'a str, per_arch: &mut Vec<Vec<Option<Entry>>>| -> usize {
            *ids.entry(name).or_insert_with(|| {
                order.push(name);
                for m in per_arch.iter_mut() {
                    m.push(None);
                }
                order.len() - 1
            })
        };
        let mut missing: BTreeMap<&str, (usize, Vec<Arch>)> = BTreeMap::new();
        let mut nrs: Vec<Option<u32>> = Vec::with_capacity(arches.len());
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
            // Each rule's conditions as libseccomp compiles them, per arch.
            let arch_rules: Vec<Vec<Vec<Condition>>> = arches
                .iter()
                .map(|&arch| {
                    rules
                        .iter()
                        .map(|c| libseccomp_conditions(c, arch))
                        .collect()
                })
                .collect();
            for name in &call.names {
                let name = name.as_str();
                let mux = multiplex::multiplexer(name).filter(|_| arches.contains(&Arch::X86));
                nrs.clear();
                nrs.extend(arches.iter().map(|a| a.syscall_nr(name)));
                let absent: Vec<Arch> = arches
                    .iter()
                    .zip(&nrs)
                    .filter(|(a, nr)| nr.is_none() && !(mux.is_some() && **a == Arch::X86))
                    .map(|(a, _)| *a)
                    .collect();
                if !absent.is_empty() {
                    missing
                        .entry(name)
                        .or_insert_with(|| (call.source, absent.clone()));
                }
                if absent.len() == arches.len() {
                    continue;
                }
                let id = id_of(name, &mut per_arch);
                for (i, &arch) in arches.iter().enumerate() {
                    for conds in &arch_rules[i] {
                        let muxed = multiplex::multiplexed_conditions(name, conds)
                            // As before the shared rewriting: x86 only (runc on
                            // the other multiplexing arches is not modelled yet).
                            .filter(|_| mux.is_some() && arch == Arch::X86);
                        if let Some((muxer, muxed)) = muxed {
                            let mid = id_of(muxer, &mut per_arch);
                            add(
                                &mut per_arch[i][mid],
                                muxer,
                                muxed,
                                action,
                                call.source,
                                &mut warnings,
                            )?;
                        }
                        if nrs[i].is_some() {
                            add(
                                &mut per_arch[i][id],
                                name,
                                conds.clone(),
                                action,
                                call.source,
                                &mut warnings,
                            )?;
                        }
                    }
                }
            }
        }
        // One warning per set of arches, listing the names they lack (runc
        // skips such names silently; a list per arch is what a reader needs).
        let mut by_arches: BTreeMap<String, (usize, Vec<&str>)> = BTreeMap::new();
        for (name, (src, absent)) in &missing {
            let list: Vec<&str> = absent.iter().map(|a| a.name()).collect();
            let e = by_arches
                .entry(list.join(", "))
                .or_insert((*src, Vec::new()));
            e.0 = e.0.min(*src);
            e.1.push(name);
        }
        for (arches, (src, names)) in by_arches {
            warnings.push(Warning {
                path: path(src),
                message: format!(
                    "{} syscall(s) do not exist on {arches}, skipped there: {}",
                    names.len(),
                    names.join(", ")
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
        let mut by_name: Vec<usize> = (0..order.len()).collect();
        by_name.sort_unstable_by_key(|&id| order[id]);
        for m in &per_arch {
            for &id in &by_name {
                let name = order[id];
                if let Some(Entry::Chains(chains)) = &m[id] {
                    let first = chains[0].1;
                    if let Some((_, other, src)) = chains.iter().find(|c| c.1 != first) {
                        let w = Warning {
                            path: path(*src),
                            message: format!(
                                "'{name}' has conditional rules of different actions ({first}, {other}): where they overlap, libseccomp 2.5 decides by the order of its decision tree, syscage by severity"
                            ),
                        };
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                    }
                }
            }
        }
        for (id, &name) in order.iter().enumerate() {
            let entries: Vec<(Arch, Entry)> = arches
                .iter()
                .zip(per_arch.iter_mut())
                .filter_map(|(&a, m)| m[id].take().map(|e| (a, e)))
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
                    let mut rule = Rule::new(SyscallId::Name(name.to_string()), action);
                    rule.conditions = conds;
                    rule.arch = arch;
                    // Rewritten for socketcall/ipc here already, as runc's
                    // libseccomp would.
                    policy.rule_add_verbatim(rule);
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
