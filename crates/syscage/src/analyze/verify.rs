//! Proof of compilation: a lifted program is checked against the policy it
//! was compiled from, region by region, by evaluating the policy
//! symbolically over each region (no second compiler involved).
//!
//! A lifted region constrains the 32-bit words the program loads; which
//! words hold an argument's low and high halves depends on the byte order
//! the kernel lays `seccomp_data` out in, which is the arch's own. So the
//! words of a policy arch's region are read in that arch's byte order
//! (x86_64 and s390x in one filter each in its own), and only arches the
//! policy does not name use the table's (see [`data_order`]).
//!
//! For every leaf of the [`DecisionTable`]: the arch word is split by the
//! policy's arches (and x86_64's audit id by bit 30 of `nr`); the number
//! word by the numbers rules name, the numbers the arch's table knows and
//! the rest; and for a named number the argument words by the rules'
//! conditions, most severe rule first. Every non-empty piece must decide
//! what the leaf returns.

use super::domain::{Feasibility, IntervalSet, WordDomain};
use super::lift::{region_feasible, DecisionTable, Leaf, Region, Verdict, WORD_ARCH, WORD_NR};
use crate::action::Action;
use crate::arch::Arch;
use crate::bpf::data::{arg_offset, Half, SeccompData};
use crate::bpf::ByteOrder;
use crate::policy::{Policy, Rule, X86_64_CLASS_RANGES};
use constraints::Split;
use std::collections::BTreeMap;

mod constraints;

/// A region where the program and the policy disagree, with one input in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the program returns {got} where the policy decides {expected}, e.g. for arch {:#x}, nr {:#x}, args {:x?}",
    example.arch,
    example.nr,
    example.args
)]
pub struct Mismatch {
    /// What the policy decides.
    pub expected: String,
    /// What the program returns.
    pub got: String,
    /// One input in the region.
    pub example: SeccompData,
}

/// Why a program could not be shown equivalent to its policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The program and the policy disagree.
    #[error(transparent)]
    Mismatch(Box<Mismatch>),
    /// A path could not be lifted exactly, so nothing is proven about it.
    #[error("path through instructions {0:?} is not lifted exactly: equivalence is not proven")]
    Inexact(Vec<usize>),
    /// A piece of a region could not be shown empty or given an input
    /// (the witness search ran out of budget).
    #[error("a region's feasibility could not be decided: equivalence is not proven")]
    Undecided,
    /// The policy's conditions split a region into too many pieces.
    #[error(
        "too many condition combinations for syscall {nr} on {arch}: equivalence is not proven"
    )]
    TooComplex {
        /// The arch.
        arch: Arch,
        /// The syscall number.
        nr: u32,
    },
    /// The policy's other-arch rules split a region into too many pieces.
    #[error("too many condition combinations for syscall number {nr} of the arches the policy does not list: equivalence is not proven")]
    TooComplexOther {
        /// The syscall number.
        nr: u32,
    },
}

/// Most pieces one syscall's rules may split a region into.
const MAX_PIECES: usize = 100_000;

/// A rule with its conditions as word constraints for one arch.
struct PreparedRule {
    action: Action,
    /// Each condition, in the rule's order.
    conditions: Vec<Split>,
}

/// The rules of one syscall number on one arch, most severe first.
struct NrRules {
    rules: Vec<PreparedRule>,
    /// `uniform[i]`: the action every rule from `i` on takes, when they all
    /// take the same.
    uniform: Vec<Option<Action>>,
    /// Whether no rule has a condition (the first decides everywhere).
    unconditional: bool,
}

impl NrRules {
    fn new(arch: Arch, rules: Vec<&Rule>) -> NrRules {
        NrRules::laid_out(rules, arch.args_64bit(), arch.byte_order())
    }

    /// `rules`, most severe first, with arguments of 64 bits when `wide`,
    /// laid out in `order`.
    fn laid_out(mut rules: Vec<&Rule>, wide: bool, order: ByteOrder) -> NrRules {
        rules.sort_by_key(|r| std::cmp::Reverse(r.action));
        let rules: Vec<PreparedRule> = rules
            .into_iter()
            .map(|r| PreparedRule {
                action: r.action,
                conditions: r
                    .conditions
                    .iter()
                    .map(|&c| Split::new(c, wide, order))
                    .collect(),
            })
            .collect();
        let mut uniform = vec![None; rules.len()];
        let mut same = rules.last().map(|r| r.action);
        for (i, r) in rules.iter().enumerate().rev() {
            if same != Some(r.action) {
                same = None;
            }
            uniform[i] = same;
        }
        let unconditional = rules.iter().all(|r| r.conditions.is_empty());
        NrRules {
            rules,
            uniform,
            unconditional,
        }
    }
}

struct ArchRules {
    /// Rules per number.
    by_nr: BTreeMap<u32, NrRules>,
    /// Numbers no rule names, by the action they take (the default for
    /// known ones, the unknown-syscall action for others, a number range's
    /// where one covers them).
    unnamed: Vec<(IntervalSet, Action)>,
}

/// Why a compiled program is not proven equivalent to its policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The program could not be lifted.
    #[error(transparent)]
    Lift(#[from] super::lift::LiftError),
    /// The lifted program and the policy disagree, or could not be compared.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// Lifts `program` and checks it against `policy`: the proof that a
/// compiled filter does what its policy says. `order` is the byte order of
/// the filter's own arches, used for the arches the policy does not name
/// (each named arch's input is read in that arch's order).
pub fn prove(
    policy: &Policy,
    program: &crate::bpf::Program,
    order: ByteOrder,
) -> Result<(), ProofError> {
    let table = super::lift::lift(program, order, &super::lift::Limits::default())?;
    Ok(verify(policy, &table)?)
}

/// The byte order in which `seccomp_data` for audit id `audit` is laid
/// out when checking `table` against `policy`: the order of the policy's
/// arch of that id, else the table's. An input built in this order (and
/// emulated in it) is what [`verify`] reasons about, so a mismatch's
/// example is built in it.
pub fn data_order(policy: &Policy, table: &DecisionTable, audit: u32) -> ByteOrder {
    policy
        .arches()
        .iter()
        .find(|a| a.audit() == audit)
        .map_or(table.order, |a| a.byte_order())
}

/// Checks that `table` (a lifted program) decides like `policy` on every
/// input, each laid out in its arch's byte order ([`data_order`]).
pub fn verify(policy: &Policy, table: &DecisionTable) -> Result<(), VerifyError> {
    let per_arch: Vec<(Arch, ArchRules)> = policy
        .arches()
        .iter()
        .map(|&a| (a, arch_rules(policy, a)))
        .collect();
    let checker = Checker {
        policy,
        per_arch,
        order: table.order,
    };
    for leaf in &table.leaves {
        if !leaf.exact {
            return Err(VerifyError::Inexact(leaf.path.clone()));
        }
        checker.leaf(leaf)?;
    }
    Ok(())
}

fn arch_rules(policy: &Policy, arch: Arch) -> ArchRules {
    let mut rules_by_nr: BTreeMap<u32, Vec<&Rule>> = BTreeMap::new();
    for r in policy.rules() {
        if r.arch.is_some_and(|a| a != arch) {
            continue;
        }
        if let Some(nr) = r.syscall.resolve(arch) {
            rules_by_nr.entry(nr).or_default().push(r);
        }
    }
    let by_nr: BTreeMap<u32, NrRules> = rules_by_nr
        .into_iter()
        .map(|(nr, rules)| (nr, NrRules::new(arch, rules)))
        .collect();
    let known = IntervalSet::from_values(arch.syscalls().iter().map(|s| s.nr));
    let named = IntervalSet::from_values(by_nr.keys().copied());
    let unknown = policy.unknown_action().unwrap_or(policy.default_action());
    let mut unnamed = vec![
        (known.minus(&named), policy.default_action()),
        (known.complement().minus(&named), unknown),
    ];
    // Number ranges, least severe first: a more severe one laid over wins.
    let mut ranges: Vec<_> = policy
        .number_ranges()
        .iter()
        .filter(|r| r.arch.is_none_or(|a| a == arch))
        .collect();
    ranges.sort_by_key(|r| r.action);
    for r in ranges {
        let covered = IntervalSet::range(r.lo, r.hi).minus(&named);
        for (set, _) in &mut unnamed {
            *set = set.minus(&covered);
        }
        unnamed.push((covered, r.action));
    }
    ArchRules { by_nr, unnamed }
}

struct Checker<'p> {
    policy: &'p Policy,
    per_arch: Vec<(Arch, ArchRules)>,
    order: ByteOrder,
}

impl Checker<'_> {
    /// The mismatch on `region`, with an input in it; none when the region
    /// turns out empty (a word no value satisfies), an error when that
    /// cannot be decided.
    fn mismatch(&self, region: &Region, expected: Action, got: Verdict) -> Result<(), VerifyError> {
        let mut words = [0u32; 16];
        for (w, d) in region.iter().enumerate() {
            words[w] = match d.witness() {
                Feasibility::Yes(v) => v,
                Feasibility::No => return Ok(()),
                Feasibility::Unknown => return Err(VerifyError::Undecided),
            };
        }
        let order = self
            .per_arch
            .iter()
            .find(|(a, _)| a.audit() == words[WORD_ARCH])
            .map_or(self.order, |(a, _)| a.byte_order());
        let word64 = |lo_w: usize, hi_w: usize| (words[hi_w] as u64) << 32 | words[lo_w] as u64;
        let off = |i: u8, h: Half| (arg_offset(i, h, order) / 4) as usize;
        let ip = match order {
            ByteOrder::Little => word64(2, 3),
            ByteOrder::Big => word64(3, 2),
        };
        let example = SeccompData {
            nr: words[WORD_NR],
            arch: words[WORD_ARCH],
            instruction_pointer: ip,
            args: std::array::from_fn(|i| {
                word64(off(i as u8, Half::Low), off(i as u8, Half::High))
            }),
        };
        let got = match got {
            Verdict::Ret(r) => format!("{} ({r:#010x})", Action::from_ret(r)),
            Verdict::Unknown => "an input-dependent value".to_string(),
        };
        Err(VerifyError::Mismatch(Box::new(Mismatch {
            expected: expected.to_string(),
            got,
            example,
        })))
    }

    fn expect(&self, region: &Region, expected: Action, got: Verdict) -> Result<(), VerifyError> {
        if got.action() == Some(expected) {
            Ok(())
        } else {
            self.mismatch(region, expected, got)
        }
    }

    fn leaf(&self, leaf: &Leaf) -> Result<(), VerifyError> {
        let region = &leaf.region;
        let mut audits = IntervalSet::empty();
        for &(arch, _) in &self.per_arch {
            audits = audits.union(&IntervalSet::single(arch.audit()));
        }
        // Arches the policy does not name.
        let mut other_arch = region[WORD_ARCH].clone();
        other_arch.restrict(&audits.complement());
        let uniform = self.policy.other_rules().is_empty();
        if (!uniform || leaf.verdict.action() != Some(self.policy.bad_arch_action()))
            && other_arch.is_feasible()
        {
            let mut other = region.clone();
            other[WORD_ARCH] = other_arch;
            self.other_arches(&other, leaf.verdict)?;
        }
        let audit_values = self.per_arch.iter().map(|(a, _)| a.audit());
        let mut seen = Vec::new();
        for audit in audit_values {
            if seen.contains(&audit) || !region[WORD_ARCH].contains(audit) {
                continue;
            }
            seen.push(audit);
            let mut r = region.clone();
            r[WORD_ARCH].restrict(&IntervalSet::single(audit));
            let shared = Arch::from_audit(audit)
                .and_then(Arch::shares_audit_with)
                .is_some();
            if !shared {
                let arch = self.arch_with_audit(audit);
                self.arch(arch, &r, leaf.verdict)?;
                continue;
            }
            // x86_64's audit id: the evaluator's number classes.
            for (lo, hi) in X86_64_CLASS_RANGES {
                let mut part = r.clone();
                part[WORD_NR].restrict(&IntervalSet::range(lo, hi));
                if region_feasible(&part) {
                    let probe = SeccompData {
                        nr: lo,
                        arch: audit,
                        ..Default::default()
                    };
                    let arch = self.policy.arch_for(&probe);
                    let entry = arch.and_then(|a| self.per_arch.iter().find(|(b, _)| *b == a));
                    self.arch(entry, &part, leaf.verdict)?;
                }
            }
        }
        Ok(())
    }

    /// The policy arch for an audit id no other arch shares.
    fn arch_with_audit(&self, audit: u32) -> Option<&(Arch, ArchRules)> {
        self.per_arch.iter().find(|(a, _)| a.audit() == audit)
    }

    fn arch(
        &self,
        arch: Option<&(Arch, ArchRules)>,
        region: &Region,
        got: Verdict,
    ) -> Result<(), VerifyError> {
        let Some((arch, rules)) = arch else {
            return self.other_arches(region, got);
        };
        let nr_dom: &WordDomain = &region[WORD_NR];
        for &(ref set, action) in &rules.unnamed {
            // Only the number word changes, and the others are feasible.
            let mut nr = region[WORD_NR].clone();
            nr.restrict(set);
            if got.action() != Some(action) && nr.is_feasible() {
                let mut r = region.clone();
                r[WORD_NR] = nr;
                self.expect(&r, action, got)?;
            }
        }
        let named = nr_dom
            .intervals
            .intervals()
            .iter()
            .flat_map(|&(lo, hi)| rules.by_nr.range(lo..=hi));
        for (&nr, nr_rules) in named {
            if !nr_dom.contains(nr) {
                continue;
            }
            // Unconditional rules only: the most severe (first) decides.
            if nr_rules.unconditional && got.action() == Some(nr_rules.rules[0].action) {
                continue;
            }
            let mut r = region.clone();
            r[WORD_NR].restrict(&IntervalSet::single(nr));
            let too_complex = || VerifyError::TooComplex { arch: *arch, nr };
            self.rules(nr_rules, r, got, self.policy.default_action(), too_complex)?;
        }
        Ok(())
    }

    /// Most severe rule first: where it matches, its action; elsewhere the
    /// next rule decides; past the last, `default`. Iterative (a work
    /// list of pieces and the rule that decides next), so thousands of
    /// rules on one syscall do not grow the call stack; more than
    /// [`MAX_PIECES`] pieces give `too_complex()`.
    fn rules(
        &self,
        rules: &NrRules,
        region: Region,
        got: Verdict,
        default: Action,
        too_complex: impl Fn() -> VerifyError,
    ) -> Result<(), VerifyError> {
        let mut pieces = 0;
        let mut work: Vec<(usize, Region)> = vec![(0, region)];
        while let Some((mut next, region)) = work.pop() {
            // Rules with a condition that fails on the whole piece pass it
            // on whole (as cutting would): skip them without moving it.
            while rules
                .rules
                .get(next)
                .is_some_and(|r| r.conditions.iter().any(|c| c.fails_on(&region)))
            {
                next += 1;
            }
            pieces += 1;
            if pieces > MAX_PIECES {
                return Err(too_complex());
            }
            let Some(rule) = rules.rules.get(next) else {
                self.expect(&region, default, got)?;
                continue;
            };
            // The rest decides `got` everywhere: nothing left to split.
            if got.action() == Some(default) && got.action() == rules.uniform[next] {
                continue;
            }
            // Split the piece into where conditions 1..i hold and i fails
            // (for each i: disjoint pieces, so conditions on the same
            // argument in later rules do not split overlapping copies again,
            // which grew the pieces exponentially in the number of rules),
            // and where every condition holds.
            let mut holding = vec![region];
            let mut failing = Vec::new();
            for condition in &rule.conditions {
                let mut next_holding = Vec::new();
                for h in holding {
                    condition.cut(h, &mut next_holding, &mut failing);
                }
                holding = next_holding;
            }
            for r in &holding {
                self.expect(r, rule.action, got)?;
            }
            work.extend(failing.into_iter().rev().map(|r| (next + 1, r)));
        }
        Ok(())
    }
}

mod other;
#[cfg(test)]
mod tests;
