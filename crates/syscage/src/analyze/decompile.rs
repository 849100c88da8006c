//! `decompile`: a [`Policy`] whose compilation is equivalent to a program.
//!
//! Built from the lifted table (per arch: the most common verdict becomes
//! the default, every other verdict becomes rules, argument regions become
//! conditions), then checked with [`super::verify::verify`]: a policy is
//! only returned when it is proven to decide exactly like the program.

use super::domain::IntervalSet;
use super::lift::{DecisionTable, Verdict, WORD_NR};
use super::verify::{verify, VerifyError};
use super::view::{arch_views, ArchView};
use crate::action::Action;
use crate::arch::{Arch, X32_NUMBERS};
use crate::bpf::data::SeccompData;
use crate::bpf::ByteOrder;
use crate::policy::{
    Condition, NumberRange, Policy, PolicyError, Rule, SyscallId, X86_64_CLASS_RANGES,
};
use std::collections::BTreeMap;

mod conditions;
mod numbers;
mod other;
use conditions::{conditions_of, merge_ranges, range_alternatives, range_rules, single_arg_ranges};
use numbers::exact_numbers;

/// Why a program has no equivalent policy (or none syscage can find).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecompileError {
    /// The program never checks the arch, so its decisions for other
    /// arches depend on numbers that mean other syscalls there.
    #[error("the filter never checks the architecture; a policy always does (decompile with -a to pick the arch it was written for, and other arches get its bad-arch action)")]
    NoArchCheck,
    /// Unchecked arches get different actions in a way other-arch rules
    /// (`arch other`: by number and argument) cannot say: depending on
    /// which unchecked arch it is, or for too many numbers.
    #[error("architectures the filter does not check get different actions depending on the architecture or on too many syscall numbers; a policy gives them one bad-arch action and rules by number (`arch other`)")]
    MixedBadArch,
    /// A path returns a value that depends on the input (`RET A`).
    #[error("a path returns an input-dependent value (RET A), which no policy can express")]
    InputDependent,
    /// A path decides on the instruction pointer.
    #[error("a path depends on the instruction pointer, which policies cannot test")]
    InstructionPointer,
    /// A region needs too many rules.
    #[error("{0}: one path's argument checks need more rules than the 4096 instructions a filter may have")]
    TooManyRules(String),
    /// Numbers no table knows, in a set too large to list.
    #[error("arch {0}: numbers unknown to the syscall tables decide differently in a way that would need too many rules")]
    Unknown(String),
    /// An action of the filter that the policy builder refuses (an errno
    /// above 4095).
    #[error("the filter decides with an action no policy can hold: {0}")]
    Policy(#[from] PolicyError),
    /// The built policy is not equivalent (a bug or an inexpressible region).
    #[error("the reconstructed policy is not equivalent: {0}")]
    NotEquivalent(#[from] VerifyError),
}

/// Most rules one path may turn into: every rule costs the compiled
/// filter at least one instruction, so more than the kernel's limit
/// (`BPF_MAXINSNS`, 4096) could never compile.
const MAX_RULES_PER_PATH: usize = crate::bpf::insn::BPF_MAXINSNS;
/// Most unknown numbers listed one by one.
const MAX_UNKNOWN_NUMBERS: u64 = 4096;

fn action_of(v: Verdict) -> Result<Action, DecompileError> {
    v.action().ok_or(DecompileError::InputDependent)
}

/// Decompiles a lifted program. `arches` names the arches to use when the
/// program does not check any (ignored otherwise).
pub fn decompile(table: &DecisionTable, fallback: &[Arch]) -> Result<Policy, DecompileError> {
    let extra: Vec<u32> = fallback.iter().map(|a| a.audit()).collect();
    let views = arch_views(table, &extra);
    let checked: Vec<&ArchView> = views.iter().filter(|v| v.checked).collect();
    let views: Vec<&ArchView> = if checked.is_empty() {
        return Err(DecompileError::NoArchCheck);
    } else {
        checked
    };
    if table.leaves.iter().any(|l| l.verdict == Verdict::Unknown) {
        return Err(DecompileError::InputDependent);
    }
    // The bad-arch action: what every unchecked arch id gets.
    let mut others = IntervalSet::full();
    for v in &views {
        others = others.minus(&IntervalSet::single(v.audit));
    }
    // The global default: the most common unconditional refusal when
    // refusals are common enough to be the policy's intent (an allowlist,
    // as profiles are written), else the most common action.
    let mut counts: BTreeMap<Action, usize> = BTreeMap::new();
    for v in &views {
        // x32 numbers count for x32 only when the policy has it: leave them out.
        let native = |nr: u32| !v.arch.is_some_and(|a| a.is_x32_nr(nr));
        for (_, d) in v.known.iter().filter(|(&nr, _)| native(nr)) {
            if let Some(a) = d.unconditional().and_then(|x| x.action()) {
                *counts.entry(a).or_default() += 1;
            }
        }
    }
    let total: usize = counts.values().sum();
    let refusals: usize = counts
        .iter()
        .filter(|(a, _)| !a.permits())
        .map(|(_, n)| n)
        .sum();
    // Candidates: the refusals when they are common enough to be the
    // intent (an allowlist, as profiles are written), else every action.
    let candidates: Vec<Action> = counts
        .keys()
        .copied()
        .filter(|a| refusals * 20 < total || !a.permits())
        .collect();
    // Among them, the one that needs the fewest rules, counting a rule that
    // must test one argument twice (which profiles cannot say) as many.
    let cost = |default: Action| -> usize {
        let mut cost = 0;
        for v in &views {
            let Some(arch) = v.arch else { continue };
            for (&nr, d) in &v.known {
                if arch.is_x32_nr(nr) {
                    continue;
                }
                let mut ranges: BTreeMap<(Action, u8), Vec<(u64, u64)>> = BTreeMap::new();
                for leaf in &d.paths {
                    match leaf.verdict.action() {
                        Some(a) if a == default => {}
                        Some(a) => match single_arg_ranges(table.order, &leaf.region, arch) {
                            Some((arg, mut set)) => {
                                ranges.entry((a, arg)).or_default().append(&mut set)
                            }
                            None => cost += 1,
                        },
                        None => cost += 1,
                    }
                }
                for set in ranges.into_values() {
                    for (lo, hi) in merge_ranges(set) {
                        // Two comparisons of one argument: not a profile rule.
                        cost += range_rules(lo, hi).unwrap_or(1000);
                    }
                }
            }
        }
        cost
    };
    // A filter that lets numbers it does not know through (a kill list,
    // default ALLOW) stays a kill list: its default is what those get.
    let mut unknown_actions = views.iter().flat_map(|v| {
        v.unknown.iter().filter_map(move |(numbers, leaf)| {
            let native = if v.arch == Some(Arch::X86_64) {
                numbers.minus(&IntervalSet::range(X32_NUMBERS.0, X32_NUMBERS.1))
            } else {
                numbers.clone()
            };
            (!native.is_empty()).then(|| leaf.verdict.action())
        })
    });
    let open_default = match unknown_actions.next() {
        Some(Some(a)) if a.permits() && counts.contains_key(&a) => {
            unknown_actions.all(|b| b == Some(a)).then_some(a)
        }
        _ => None,
    };
    let default = open_default.unwrap_or_else(|| {
        candidates
            .iter()
            .copied()
            .min_by_key(|&a| (cost(a), std::cmp::Reverse(counts[&a])))
            .unwrap_or(Action::KillProcess)
    });
    let mut policy = Policy::init(default)?;
    policy.set_arches([])?;
    // The bad-arch action, and other-arch rules where unchecked arches'
    // decisions depend on the number and arguments.
    other::other_arches(table, &others, &mut policy)?;
    for v in &views {
        let Some(arch) = v.arch else {
            return Err(DecompileError::Unknown(format!("{:#x}", v.audit)));
        };
        arch_rules(table.order, v, arch, &mut policy)?;
    }
    merge_across_arches(&mut policy);
    verify(&policy, table)?;
    Ok(policy)
}

fn arch_rules(
    order: ByteOrder,
    v: &ArchView<'_>,
    arch: Arch,
    policy: &mut Policy,
) -> Result<(), DecompileError> {
    let default = policy.default_action();
    if !policy.arch_exist(arch) {
        policy.arch_add(arch)?;
    }
    let x32_split = arch == Arch::X86_64;
    if x32_split {
        // x32 numbers: their own arch unless they all get the bad-arch action.
        let x32_bad = v
            .known
            .iter()
            .filter(|(&n, _)| arch.is_x32_nr(n))
            .all(|(_, d)| {
                d.unconditional().and_then(|x| x.action()) == Some(policy.bad_arch_action())
            })
            && v.unknown.iter().all(|(numbers, leaf)| {
                let x32 =
                    IntervalSet::range(crate::arch::X32_NUMBERS.0, crate::arch::X32_NUMBERS.1);
                numbers.intersect(&x32).is_empty()
                    || (leaf.verdict.action() == Some(policy.bad_arch_action())
                        && !super::view::has_arg_constraints(&leaf.region))
            });
        if !x32_bad && !policy.arch_exist(Arch::X32) {
            policy.arch_add(Arch::X32)?;
        }
    }
    for (&nr, d) in &v.known {
        let on = if x32_split && arch.is_x32_nr(nr) {
            if !policy.arches().contains(&Arch::X32) {
                continue;
            }
            Arch::X32
        } else {
            arch
        };
        let id = on
            .syscall_name(nr)
            .map_or(SyscallId::Nr(nr), |n| SyscallId::Name(n.to_string()));
        // Paths that test one argument only, against ranges: merged per
        // action into 64-bit ranges (`fd != 5` comes back as `fd <= 4` and
        // `fd >= 6`, not as four word-level pieces).
        let mut ranges: BTreeMap<(Action, u8), Vec<(u64, u64)>> = BTreeMap::new();
        for leaf in &d.paths {
            let action = action_of(leaf.verdict)?;
            if action == default {
                continue;
            }
            if let Some((arg, mut set)) = single_arg_ranges(order, &leaf.region, on) {
                ranges.entry((action, arg)).or_default().append(&mut set);
                continue;
            }
            for conditions in conditions_of(order, &leaf.region, on)? {
                let mut rule = Rule::new(id.clone(), action).on_arch(on);
                rule.conditions = conditions;
                policy.rule_add_verbatim(rule);
            }
        }
        for ((action, arg), set) in ranges {
            for (lo, hi) in merge_ranges(set) {
                for conditions in range_alternatives(arg, lo, hi) {
                    let mut rule = Rule::new(id.clone(), action).on_arch(on);
                    rule.conditions = conditions;
                    policy.rule_add_verbatim(rule);
                }
            }
        }
    }
    // Numbers the tables do not know: the action of most of them becomes
    // the unknown-syscall action (shared by every arch), the rest rules.
    let mut entries = Vec::new();
    for (numbers, leaf) in &v.unknown {
        let mut numbers = exact_numbers(&leaf.region[WORD_NR], numbers)
            .ok_or_else(|| DecompileError::Unknown(arch.to_string()))?;
        if x32_split && !policy.arches().contains(&Arch::X32) {
            // Those are bad-arch numbers for the policy already.
            numbers = numbers.minus(&IntervalSet::range(X32_NUMBERS.0, X32_NUMBERS.1));
        }
        if !numbers.is_empty() {
            entries.push((numbers, *leaf, action_of(leaf.verdict)?));
        }
    }
    let mut unknown_action = policy.unknown_action();
    if unknown_action.is_none() {
        let biggest = entries.iter().max_by_key(|(n, _, _)| n.count());
        unknown_action = biggest.map(|e| e.2).filter(|a| *a != default);
    }
    let expected = unknown_action.unwrap_or(default);
    for (numbers, leaf, action) in entries {
        if action == expected {
            continue;
        }
        if numbers.count() > MAX_UNKNOWN_NUMBERS {
            if super::view::has_arg_constraints(&leaf.region) {
                return Err(DecompileError::Unknown(arch.to_string()));
            }
            // Whole stretches of the number line: number ranges, split
            // where the arch that owns the numbers changes (x86_64 / x32).
            for &(lo, hi) in numbers.intervals() {
                for (on, lo, hi) in owners(policy, arch, lo, hi) {
                    policy
                        .add_number_range(NumberRange {
                            arch: Some(on),
                            lo,
                            hi,
                            action,
                        })
                        .map_err(|e| DecompileError::Unknown(format!("{arch}: {e}")))?;
                }
            }
            continue;
        }
        for &(lo, hi) in numbers.intervals() {
            for nr in lo..=hi {
                let probe = SeccompData {
                    nr,
                    arch: arch.audit(),
                    ..Default::default()
                };
                let on = policy.arch_for(&probe).unwrap_or(arch);
                for conditions in conditions_of(order, &leaf.region, on)? {
                    let mut rule = Rule::new(SyscallId::Nr(nr), action).on_arch(on);
                    rule.conditions = conditions;
                    policy.rule_add_verbatim(rule);
                }
            }
        }
    }
    policy.set_unknown_action(unknown_action)?;
    Ok(())
}

/// `lo..=hi` on `arch`'s audit id, split by the policy arch that owns
/// each part (x86_64 and x32 share one id; numbers with the bad-arch
/// action are left out).
fn owners(policy: &Policy, arch: Arch, lo: u32, hi: u32) -> Vec<(Arch, u32, u32)> {
    let mut out = Vec::new();
    let bounds: &[(u32, u32)] = if arch.audit() == Arch::X86_64.audit() {
        &X86_64_CLASS_RANGES
    } else {
        &[(0, u32::MAX)]
    };
    for &(a, b) in bounds {
        let (l, h) = (lo.max(a), hi.min(b));
        if l > h {
            continue;
        }
        let probe = SeccompData {
            nr: l,
            arch: arch.audit(),
            ..Default::default()
        };
        if let Some(on) = policy.arch_for(&probe) {
            out.push((on, l, h));
        }
    }
    out
}

/// Rules that say the same for every arch of the policy that has the
/// syscall become one rule for all arches (what profiles can express).
fn merge_across_arches(policy: &mut Policy) {
    type Key = (Action, Vec<Condition>);
    let mut by_name: BTreeMap<String, BTreeMap<Arch, Vec<Key>>> = BTreeMap::new();
    for r in policy.rules() {
        if let (SyscallId::Name(n), Some(a)) = (&r.syscall, r.arch) {
            let mut conds = r.conditions.clone();
            conds.sort_by_key(|c| format!("{c:?}"));
            by_name
                .entry(n.clone())
                .or_default()
                .entry(a)
                .or_default()
                .push((r.action, conds));
        }
    }
    for (name, per_arch) in by_name {
        let having: Vec<Arch> = policy
            .arches()
            .iter()
            .copied()
            .filter(|a| a.syscall_nr(&name).is_some())
            .collect();
        let mut sets = having.iter().map(|a| {
            let mut v = per_arch.get(a).cloned().unwrap_or_default();
            v.sort_by_key(|k| format!("{k:?}"));
            v
        });
        let Some(first) = sets.next() else { continue };
        if first.is_empty() || !sets.all(|s| s == first) {
            continue;
        }
        let mut kept = false;
        policy.rules_retain_mut(|r| {
            if r.syscall != SyscallId::Name(name.clone()) || r.arch.is_none() {
                return true;
            }
            // Keep one arch's copies, made arch-independent.
            if r.arch == Some(having[0]) {
                r.arch = None;
                kept = true;
                return true;
            }
            false
        });
        debug_assert!(kept);
    }
}
