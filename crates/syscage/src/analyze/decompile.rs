//! `decompile`: a [`Policy`] whose compilation is equivalent to a program.
//!
//! Built from the lifted table (per arch: the most common verdict becomes
//! the default, every other verdict becomes rules, argument regions become
//! conditions), then checked with [`super::verify::verify`]: a policy is
//! only returned when it is proven to decide exactly like the program.

use super::domain::{IntervalSet, WordDomain};
use super::lift::{DecisionTable, Region, Verdict, WORD_ARCH};
use super::verify::{verify, VerifyError};
use super::view::{arch_views, ArchView};
use crate::action::Action;
use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::bpf::data::{arg_offset, ip_offset, Half, SeccompData};
use crate::bpf::ByteOrder;
use crate::policy::{CmpOp, Condition, Policy, Rule, SyscallId};
use std::collections::BTreeMap;

/// Why a program has no equivalent policy (or none syscage can find).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecompileError {
    /// The program never checks the arch, so its decisions for other
    /// arches depend on numbers that mean other syscalls there.
    #[error("the filter never checks the architecture; a policy always does (decompile with -a to pick the arch it was written for, and other arches get its bad-arch action)")]
    NoArchCheck,
    /// Unchecked arches do not all get one action.
    #[error("architectures the filter does not check get different actions depending on the syscall; a policy gives them one bad-arch action")]
    MixedBadArch,
    /// A path returns a value that depends on the input (`RET A`).
    #[error("a path returns an input-dependent value (RET A), which no policy can express")]
    InputDependent,
    /// A path decides on the instruction pointer.
    #[error("a path depends on the instruction pointer, which policies cannot test")]
    InstructionPointer,
    /// A region needs too many rules.
    #[error("{0}: the argument checks need more rules than syscage will write")]
    TooManyRules(String),
    /// Numbers no table knows, in a set too large to list.
    #[error("arch {0}: numbers unknown to the syscall tables decide differently in a way that would need too many rules")]
    Unknown(String),
    /// The built policy is not equivalent (a bug or an inexpressible region).
    #[error("the reconstructed policy is not equivalent: {0}")]
    NotEquivalent(#[from] VerifyError),
}

/// Most rules one path may turn into.
const MAX_RULES_PER_PATH: usize = 256;
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
    let mut bad: Option<Action> = None;
    for leaf in &table.leaves {
        let mut d = leaf.region[WORD_ARCH].clone();
        d.restrict(&others);
        if d.is_feasible() {
            let a = action_of(leaf.verdict)?;
            if bad.is_some_and(|b| b != a) {
                return Err(DecompileError::MixedBadArch);
            }
            bad = Some(a);
        }
    }
    // The global default: the most common unconditional action.
    let mut counts: BTreeMap<Action, usize> = BTreeMap::new();
    for v in &views {
        for d in v.known.values() {
            if let Some(a) = d.unconditional().and_then(|x| x.action()) {
                *counts.entry(a).or_default() += 1;
            }
        }
    }
    let default = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or(Action::KillProcess, |(a, _)| *a);
    let mut policy = Policy::new(default);
    policy.arches.clear();
    policy.bad_arch_action = bad.unwrap_or(Action::KillProcess);
    for v in &views {
        let Some(arch) = v.arch else {
            return Err(DecompileError::Unknown(format!("{:#x}", v.audit)));
        };
        arch_rules(table.order, v, arch, &mut policy)?;
    }
    verify(&policy, table)?;
    Ok(policy)
}

fn arch_rules(
    order: ByteOrder,
    v: &ArchView<'_>,
    arch: Arch,
    policy: &mut Policy,
) -> Result<(), DecompileError> {
    let default = policy.default_action;
    policy.add_arch(arch);
    let x32_split = arch == Arch::X86_64;
    if x32_split {
        // x32 numbers: their own arch unless they all get the bad-arch action.
        let x32_bad = v
            .known
            .iter()
            .filter(|(&n, _)| n & X32_SYSCALL_BIT != 0)
            .all(|(_, d)| {
                d.unconditional().and_then(|x| x.action()) == Some(policy.bad_arch_action)
            });
        if !x32_bad {
            policy.add_arch(Arch::X32);
        }
    }
    for (&nr, d) in &v.known {
        let on = if x32_split && nr & X32_SYSCALL_BIT != 0 {
            if !policy.arches.contains(&Arch::X32) {
                continue;
            }
            Arch::X32
        } else {
            arch
        };
        let id = on
            .syscall_name(nr)
            .map_or(SyscallId::Nr(nr), |n| SyscallId::Name(n.to_string()));
        for leaf in &d.paths {
            let action = action_of(leaf.verdict)?;
            if action == default {
                continue;
            }
            for conditions in conditions_of(order, &leaf.region, on)? {
                let mut rule = Rule::new(id.clone(), action).on_arch(on);
                rule.conditions = conditions;
                policy.add_rule(rule);
            }
        }
    }
    // Numbers the tables do not know.
    let mut unknown_action: Option<Action> = policy.unknown_action;
    for (numbers, leaf) in &v.unknown {
        let action = action_of(leaf.verdict)?;
        let mut numbers = numbers.clone();
        if x32_split && !policy.arches.contains(&Arch::X32) {
            // Those are bad-arch numbers for the policy already.
            numbers = numbers.minus(&IntervalSet::range(X32_SYSCALL_BIT, u32::MAX - 1));
        }
        if numbers.is_empty() || action == default && unknown_action.is_none() {
            continue;
        }
        if numbers.count() > MAX_UNKNOWN_NUMBERS {
            match unknown_action {
                None if action != default => unknown_action = Some(action),
                Some(u) if u != action => return Err(DecompileError::Unknown(arch.to_string())),
                _ => {}
            }
            continue;
        }
        if action == default {
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
                    policy.add_rule(rule);
                }
            }
        }
    }
    policy.unknown_action = unknown_action;
    Ok(())
}

/// The conditions (alternatives, each an AND) that select a region's
/// argument values.
fn conditions_of(
    order: ByteOrder,
    region: &Region,
    arch: Arch,
) -> Result<Vec<Vec<Condition>>, DecompileError> {
    for half in [Half::Low, Half::High] {
        if !region[(ip_offset(half, order) / 4) as usize].is_any() {
            return Err(DecompileError::InstructionPointer);
        }
    }
    let wide = arch.is_64bit() || arch == Arch::X32;
    let mut alternatives: Vec<Vec<Condition>> = vec![Vec::new()];
    for i in 0..6u8 {
        let lo = &region[(arg_offset(i, Half::Low, order) / 4) as usize];
        let hi = &region[(arg_offset(i, Half::High, order) / 4) as usize];
        let plain = |d: &WordDomain| d.fixed_mask == 0 && d.excluded.is_empty();
        let per_arg = match (lo.intervals.intervals(), hi.intervals.as_single()) {
            // One 64-bit range: one or two 64-bit comparisons.
            ([(a, b)], Some(h)) if wide && plain(lo) && plain(hi) => {
                let base = (h as u64) << 32;
                let (l, u) = (base | *a as u64, base | *b as u64);
                vec![if l == u {
                    vec![Condition::new(i, CmpOp::Eq(l))]
                } else {
                    vec![
                        Condition::new(i, CmpOp::Ge(l)),
                        Condition::new(i, CmpOp::Le(u)),
                    ]
                }]
            }
            _ if wide => product(
                &word_conditions(i, lo, false),
                &word_conditions(i, hi, true),
            ),
            _ => word_conditions(i, lo, false),
        };
        alternatives = product(&alternatives, &per_arg);
        if alternatives.len() > MAX_RULES_PER_PATH {
            return Err(DecompileError::TooManyRules(arch.to_string()));
        }
    }
    Ok(alternatives)
}

fn product(a: &[Vec<Condition>], b: &[Vec<Condition>]) -> Vec<Vec<Condition>> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            out.push(x.iter().chain(y).copied().collect());
        }
    }
    out
}

/// Conditions on one word of argument `i` (the high word when `high`).
fn word_conditions(i: u8, d: &WordDomain, high: bool) -> Vec<Vec<Condition>> {
    let shift = if high { 32 } else { 0 };
    // A 32-bit comparison of the low word, or a 64-bit one of the high word
    // (whose low word is then free: the bounds span it).
    let ge = |v: u32| {
        if high {
            Condition::new(i, CmpOp::Ge((v as u64) << 32))
        } else {
            Condition::new32(i, CmpOp::Ge(v as u64))
        }
    };
    let le = |v: u32| {
        if high {
            Condition::new(i, CmpOp::Le(((v as u64) << 32) | 0xffff_ffff))
        } else {
            Condition::new32(i, CmpOp::Le(v as u64))
        }
    };
    let masked = |m: u32, v: u32| {
        let op = CmpOp::MaskedEq {
            mask: (m as u64) << shift,
            value: (v as u64) << shift,
        };
        if high {
            Condition::new(i, op)
        } else {
            Condition::new32(i, op)
        }
    };
    let mut alts: Vec<Vec<Condition>> = Vec::new();
    for &(a, b) in d.intervals.intervals() {
        let mut c = Vec::new();
        if a == b {
            c.push(masked(u32::MAX, a));
        } else {
            if a > 0 {
                c.push(ge(a));
            }
            if b < u32::MAX {
                c.push(le(b));
            }
        }
        alts.push(c);
    }
    if d.fixed_mask != 0 {
        alts = product(&alts, &[vec![masked(d.fixed_mask, d.fixed_value)]]);
    }
    for &(m, v) in &d.excluded {
        // x & m != v: some bit of m differs from v.
        let bits: Vec<Vec<Condition>> = (0..32)
            .filter(|b| m & (1 << b) != 0)
            .map(|b| vec![masked(1 << b, !v & (1 << b))])
            .collect();
        alts = product(&alts, &bits);
    }
    alts
}
