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
use crate::policy::{CmpOp, Condition, Policy, Rule, Width, X86_64_CLASS_RANGES};
use std::collections::BTreeMap;

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

struct ArchRules<'p> {
    /// Rules per number, most severe first.
    by_nr: BTreeMap<u32, Vec<&'p Rule>>,
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

fn arch_rules(policy: &Policy, arch: Arch) -> ArchRules<'_> {
    let mut by_nr: BTreeMap<u32, Vec<&Rule>> = BTreeMap::new();
    for r in policy.rules() {
        if r.arch.is_some_and(|a| a != arch) {
            continue;
        }
        if let Some(nr) = r.syscall.resolve(arch) {
            by_nr.entry(nr).or_default().push(r);
        }
    }
    for rules in by_nr.values_mut() {
        rules.sort_by_key(|r| std::cmp::Reverse(r.action));
    }
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
    per_arch: Vec<(Arch, ArchRules<'p>)>,
    order: ByteOrder,
}

/// One constraint on one word.
#[derive(Clone, Debug)]
enum WordCons {
    In(usize, IntervalSet),
    Masked(usize, u32, u32),
    NotMasked(usize, u32, u32),
}

/// A disjunction of conjunctions of word constraints.
type Dnf = Vec<Vec<WordCons>>;

/// `region` restricted by `conj`, or none when that is empty. Only the
/// constrained words are copied and searched for a value (the others were
/// feasible already), and the region is copied only when the result is
/// not empty: most pieces a rule's conditions cut are empty.
fn apply(region: &Region, conj: &[WordCons]) -> Option<Region> {
    let mut changed: Vec<(usize, WordDomain)> = Vec::with_capacity(2);
    for c in conj {
        let w = match *c {
            WordCons::In(w, _) | WordCons::Masked(w, ..) | WordCons::NotMasked(w, ..) => w,
        };
        let i = match changed.iter().position(|&(x, _)| x == w) {
            Some(i) => i,
            None => {
                changed.push((w, region[w].clone()));
                changed.len() - 1
            }
        };
        let d = &mut changed[i].1;
        let ok = match *c {
            WordCons::In(_, ref s) => {
                d.restrict(s);
                true
            }
            WordCons::Masked(_, m, v) => d.require_masked(m, v),
            WordCons::NotMasked(_, m, v) => d.exclude_masked(m, v),
        };
        if !ok {
            return None;
        }
    }
    if !changed.iter().all(|(_, d)| d.is_feasible()) {
        return None;
    }
    let mut r = region.clone();
    for (w, d) in changed {
        r[w] = d;
    }
    Some(r)
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
    fn arch_with_audit(&self, audit: u32) -> Option<&(Arch, ArchRules<'_>)> {
        self.per_arch.iter().find(|(a, _)| a.audit() == audit)
    }

    fn arch(
        &self,
        arch: Option<&(Arch, ArchRules<'_>)>,
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
            if nr_rules.iter().all(|r| r.conditions.is_empty())
                && got.action() == Some(nr_rules[0].action)
            {
                continue;
            }
            let mut r = region.clone();
            r[WORD_NR].restrict(&IntervalSet::single(nr));
            let mut pieces = 0;
            self.rules(*arch, nr, nr_rules, r, got, &mut pieces)?;
        }
        Ok(())
    }

    /// Most severe rule first: where it matches, its action; elsewhere the
    /// next rule decides; past the last, the default. Iterative (a work
    /// list of pieces and the rule that decides next), so thousands of
    /// rules on one syscall do not grow the call stack.
    fn rules(
        &self,
        arch: Arch,
        nr: u32,
        rules: &[&Rule],
        region: Region,
        got: Verdict,
        pieces: &mut usize,
    ) -> Result<(), VerifyError> {
        let wide = arch.args_64bit();
        let order = arch.byte_order();
        let mut work: Vec<(usize, Region)> = vec![(0, region)];
        while let Some((next, region)) = work.pop() {
            *pieces += 1;
            if *pieces > MAX_PIECES {
                return Err(VerifyError::TooComplex { arch, nr });
            }
            let Some(rule) = rules.get(next) else {
                self.expect(&region, self.policy.default_action(), got)?;
                continue;
            };
            // The rest decides `got` everywhere: nothing left to split.
            if got.action() == Some(self.policy.default_action())
                && rules[next..].iter().all(|r| got.action() == Some(r.action))
            {
                continue;
            }
            // Split the piece into where conditions 1..i hold and i fails
            // (for each i: disjoint pieces, so conditions on the same
            // argument in later rules do not split overlapping copies again,
            // which grew the pieces exponentially in the number of rules),
            // and where every condition holds.
            let mut holding = vec![region];
            let mut failing = Vec::new();
            for c in &rule.conditions {
                let (holds, fails) = (
                    condition(*c, wide, order, false),
                    condition(*c, wide, order, true),
                );
                let mut next_holding = Vec::new();
                for h in holding {
                    let before = next_holding.len();
                    next_holding.extend(holds.iter().filter_map(|conj| apply(&h, conj)));
                    if next_holding.len() == before {
                        // The condition fails on all of `h`.
                        failing.push(h);
                    } else {
                        failing.extend(fails.iter().filter_map(|conj| apply(&h, conj)));
                    }
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

/// A condition (or its negation) as word constraints, the argument laid
/// out in `order`.
fn condition(c: Condition, wide: bool, order: ByteOrder, negate: bool) -> Dnf {
    let lo = (arg_offset(c.arg, Half::Low, order) / 4) as usize;
    let hi = (arg_offset(c.arg, Half::High, order) / 4) as usize;
    let full = wide && c.width == Width::Bits64;
    let op = if full { c.op } else { c.op.low32() };
    let op: Cmp = if negate { negation(op) } else { op.into() };
    let one = |w: usize, s: IntervalSet| vec![vec![WordCons::In(w, s)]];
    if !full {
        const MAX32: u64 = u32::MAX as u64;
        return match op {
            Cmp::Range(l, _) if l > MAX32 => Vec::new(),
            Cmp::Range(l, h) => one(lo, IntervalSet::range(l as u32, h.min(MAX32) as u32)),
            Cmp::NotEq(v) => one(lo, IntervalSet::single(v as u32).complement()),
            Cmp::Masked(m, v) => vec![vec![WordCons::Masked(lo, m as u32, v as u32)]],
            Cmp::NotMasked(m, v) => vec![vec![WordCons::NotMasked(lo, m as u32, v as u32)]],
        };
    }
    let split = |v: u64| ((v >> 32) as u32, v as u32);
    match op {
        Cmp::Range(l, h) => range64(lo, hi, l, h),
        Cmp::NotEq(v) => {
            let (vh, vl) = split(v);
            vec![
                vec![WordCons::In(hi, IntervalSet::single(vh).complement())],
                vec![
                    WordCons::In(hi, IntervalSet::single(vh)),
                    WordCons::In(lo, IntervalSet::single(vl).complement()),
                ],
            ]
        }
        Cmp::Masked(m, v) => {
            let ((mh, ml), (vh, vl)) = (split(m), split(v));
            vec![vec![
                WordCons::Masked(hi, mh, vh),
                WordCons::Masked(lo, ml, vl),
            ]]
        }
        Cmp::NotMasked(m, v) => {
            let ((mh, ml), (vh, vl)) = (split(m), split(v));
            vec![
                vec![WordCons::NotMasked(hi, mh, vh)],
                vec![
                    WordCons::Masked(hi, mh, vh),
                    WordCons::NotMasked(lo, ml, vl),
                ],
            ]
        }
    }
}

/// A comparison in normal form: an inclusive range, or (not) masked-equal.
#[derive(Clone, Copy)]
enum Cmp {
    Range(u64, u64),
    NotEq(u64),
    Masked(u64, u64),
    NotMasked(u64, u64),
}

fn negation(op: CmpOp) -> Cmp {
    match op {
        CmpOp::Eq(v) => Cmp::NotEq(v),
        CmpOp::Ne(v) => Cmp::Range(v, v),
        CmpOp::Lt(v) => Cmp::Range(v, u64::MAX),
        CmpOp::Le(v) => range_above(v),
        CmpOp::Gt(v) => Cmp::Range(0, v),
        CmpOp::Ge(v) => range_below(v),
        CmpOp::MaskedEq { mask, value } => Cmp::NotMasked(mask, value),
    }
}

fn range_above(v: u64) -> Cmp {
    match v.checked_add(1) {
        Some(l) => Cmp::Range(l, u64::MAX),
        None => Cmp::Range(1, 0),
    }
}

fn range_below(v: u64) -> Cmp {
    match v.checked_sub(1) {
        Some(h) => Cmp::Range(0, h),
        None => Cmp::Range(1, 0),
    }
}

impl From<CmpOp> for Cmp {
    fn from(op: CmpOp) -> Cmp {
        match op {
            CmpOp::Eq(v) => Cmp::Range(v, v),
            CmpOp::Ne(v) => Cmp::NotEq(v),
            CmpOp::Lt(v) => range_below(v),
            CmpOp::Le(v) => Cmp::Range(0, v),
            CmpOp::Gt(v) => range_above(v),
            CmpOp::Ge(v) => Cmp::Range(v, u64::MAX),
            CmpOp::MaskedEq { mask, value } => Cmp::Masked(mask, value),
        }
    }
}

/// `l..=h` over 64 bits as word constraints.
fn range64(lo: usize, hi: usize, l: u64, h: u64) -> Dnf {
    if l > h {
        return Vec::new();
    }
    let (lh, ll, hh, hl) = ((l >> 32) as u32, l as u32, (h >> 32) as u32, h as u32);
    if lh == hh {
        return vec![vec![
            WordCons::In(hi, IntervalSet::single(lh)),
            WordCons::In(lo, IntervalSet::range(ll, hl)),
        ]];
    }
    let mut out = vec![
        vec![
            WordCons::In(hi, IntervalSet::single(lh)),
            WordCons::In(lo, IntervalSet::range(ll, u32::MAX)),
        ],
        vec![
            WordCons::In(hi, IntervalSet::single(hh)),
            WordCons::In(lo, IntervalSet::range(0, hl)),
        ],
    ];
    if hh - lh > 1 {
        out.push(vec![WordCons::In(hi, IntervalSet::range(lh + 1, hh - 1))]);
    }
    out
}

mod other;
#[cfg(test)]
mod tests;
