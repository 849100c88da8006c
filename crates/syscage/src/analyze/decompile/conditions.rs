//! A region of argument values as policy conditions: 64-bit ranges,
//! masks joined per argument, one rule per value of a small set.

use super::{DecompileError, MAX_RULES_PER_PATH};
use crate::analyze::domain::WordDomain;
use crate::analyze::lift::Region;
use crate::arch::Arch;
use crate::bpf::data::{arg_offset, ip_offset, Half};
use crate::bpf::ByteOrder;
use crate::policy::{CmpOp, Condition};

/// When a region tests exactly one argument, and only against ranges: that
/// argument and its values as 64-bit ranges.
pub(super) fn single_arg_ranges(
    order: ByteOrder,
    region: &Region,
    arch: Arch,
) -> Option<(u8, Vec<(u64, u64)>)> {
    let wide = arch.args_64bit();
    let words = |i: u8| {
        (
            &region[(arg_offset(i, Half::Low, order) / 4) as usize],
            &region[(arg_offset(i, Half::High, order) / 4) as usize],
        )
    };
    let mut tested = (0..6u8).filter(|&i| {
        let (lo, hi) = words(i);
        !lo.is_any() || (wide && !hi.is_any())
    });
    let arg = tested.next()?;
    if tested.next().is_some() {
        return None;
    }
    for half in [Half::Low, Half::High] {
        if !region[(ip_offset(half, order) / 4) as usize].is_any() {
            return None;
        }
    }
    let (lo, hi) = words(arg);
    let plain = |d: &WordDomain| d.fixed_mask == 0 && d.excluded.is_empty();
    if !plain(lo) || !plain(hi) {
        return None;
    }
    let his: &[(u32, u32)] = if wide {
        hi.intervals.intervals()
    } else {
        &[(0, 0)]
    };
    let mut out = Vec::new();
    if lo.intervals.is_full() {
        for &(a, b) in his {
            out.push(((a as u64) << 32, ((b as u64) << 32) | 0xffff_ffff));
        }
    } else {
        for &(ha, hb) in his {
            if hb - ha > 16 {
                return None;
            }
            for h in ha..=hb {
                for &(a, b) in lo.intervals.intervals() {
                    out.push((((h as u64) << 32) | a as u64, ((h as u64) << 32) | b as u64));
                }
            }
        }
    }
    if !wide {
        // Only the low word exists: its top is the top of the argument.
        for r in &mut out {
            if r.1 == 0xffff_ffff && r.0 != r.1 {
                r.1 = u64::MAX;
            }
        }
    }
    Some((arg, out))
}

/// Sorts ranges and joins the ones that touch.
pub(super) fn merge_ranges(mut set: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    set.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (a, b) in set {
        match out.last_mut() {
            Some((_, hi)) if hi.checked_add(1).is_none_or(|n| n >= a) => *hi = (*hi).max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Most values of a bounded range written one rule per value (a profile
/// tests an argument once per rule: `fd` in 1..=2 is two `EQ` rules).
const MAX_VALUES_AS_RULES: u64 = 16;

/// How many one-comparison rules say `lo <= arg <= hi` (None: it needs
/// two comparisons of the argument in one rule).
pub(super) fn range_rules(lo: u64, hi: u64) -> Option<usize> {
    if lo == hi || lo == 0 || hi == u64::MAX {
        Some(1)
    } else if hi - lo < MAX_VALUES_AS_RULES {
        Some((hi - lo + 1) as usize)
    } else {
        None
    }
}

/// `lo <= arg <= hi` as alternative rules' conditions: one comparison per
/// rule where few rules do it, else the two bounds in one rule.
pub(super) fn range_alternatives(arg: u8, lo: u64, hi: u64) -> Vec<Vec<Condition>> {
    match range_rules(lo, hi) {
        Some(n) if n > 1 => (lo..=hi)
            .map(|v| vec![Condition::new(arg, CmpOp::Eq(v))])
            .collect(),
        _ => vec![range_conditions(arg, lo, hi)],
    }
}

/// `lo <= arg <= hi` in as few 64-bit comparisons as possible.
pub(super) fn range_conditions(arg: u8, lo: u64, hi: u64) -> Vec<Condition> {
    match (lo, hi) {
        (l, h) if l == h => vec![Condition::new(arg, CmpOp::Eq(l))],
        (0, h) => vec![Condition::new(arg, CmpOp::Le(h))],
        (l, u64::MAX) => vec![Condition::new(arg, CmpOp::Ge(l))],
        (l, h) => vec![
            Condition::new(arg, CmpOp::Ge(l)),
            Condition::new(arg, CmpOp::Le(h)),
        ],
    }
}

/// The conditions (alternatives, each an AND) that select a region's
/// argument values.
pub(super) fn conditions_of(
    order: ByteOrder,
    region: &Region,
    arch: Arch,
) -> Result<Vec<Vec<Condition>>, DecompileError> {
    for half in [Half::Low, Half::High] {
        if !region[(ip_offset(half, order) / 4) as usize].is_any() {
            return Err(DecompileError::InstructionPointer);
        }
    }
    let wide = arch.args_64bit();
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
            _ if wide => word_conditions(i, lo, false)
                .zip(word_conditions(i, hi, true))
                .and_then(|(l, h)| product(&l, &h))
                .ok_or_else(|| DecompileError::TooManyRules(arch.to_string()))?,
            _ => word_conditions(i, lo, false)
                .ok_or_else(|| DecompileError::TooManyRules(arch.to_string()))?,
        };
        alternatives = product(&alternatives, &per_arg)
            .ok_or_else(|| DecompileError::TooManyRules(arch.to_string()))?;
        for conj in &mut alternatives {
            merge_masks(conj);
        }
        if !wide {
            // Only the low word exists: a 64-bit comparison is the same test.
            for c in alternatives.iter_mut().flatten() {
                c.width = crate::policy::Width::Bits64;
            }
        }
        if alternatives.len() > MAX_RULES_PER_PATH {
            return Err(DecompileError::TooManyRules(arch.to_string()));
        }
    }
    Ok(alternatives)
}

/// Joins 64-bit masked compares of one argument whose masks do not
/// overlap: `(x & m1) == v1 && (x & m2) == v2` is `(x & (m1|m2)) ==
/// (v1|v2)`, one condition (what profiles can say: one per argument). A
/// high word of 0 and a low-word mask become OpenSSH's one 64-bit
/// `MASKED_EQ`.
fn merge_masks(conj: &mut Vec<Condition>) {
    let masked = |c: &Condition| match (c.width, c.op) {
        (crate::policy::Width::Bits64, CmpOp::MaskedEq { mask, value }) => Some((mask, value)),
        (crate::policy::Width::Bits64, CmpOp::Eq(v)) => Some((u64::MAX, v)),
        _ => None,
    };
    let mut i = 0;
    while i < conj.len() {
        let mut j = i + 1;
        while j < conj.len() {
            match (masked(&conj[i]), masked(&conj[j])) {
                (Some((m1, v1)), Some((m2, v2))) if conj[i].arg == conj[j].arg && m1 & m2 == 0 => {
                    let (mask, value) = (m1 | m2, v1 | v2);
                    conj[i].op = if mask == u64::MAX {
                        CmpOp::Eq(value)
                    } else {
                        CmpOp::MaskedEq { mask, value }
                    };
                    conj.remove(j);
                }
                _ => j += 1,
            }
        }
        i += 1;
    }
}

/// Every conjunction of one alternative of `a` and one of `b`; `None`
/// past [`MAX_RULES_PER_PATH`] (an exclusion per bit multiplies them: a
/// few masks on one argument would otherwise take all memory).
fn product(a: &[Vec<Condition>], b: &[Vec<Condition>]) -> Option<Vec<Vec<Condition>>> {
    if a.len().saturating_mul(b.len()) > MAX_RULES_PER_PATH {
        return None;
    }
    let mut out = Vec::new();
    for x in a {
        for y in b {
            out.push(x.iter().chain(y).copied().collect());
        }
    }
    Some(out)
}

/// Most value ranges one word's excluded patterns may become.
const MAX_WORD_RANGES: usize = 64;

/// Conditions on one word of argument `i` (the high word when `high`):
/// its intervals and bit patterns as masks, or, when the patterns exclude
/// values (`x & m != v`, a rule per bit of `m`), as the ranges of values
/// they leave, whichever needs fewer rules.
fn word_conditions(i: u8, d: &WordDomain, high: bool) -> Option<Vec<Vec<Condition>>> {
    let by_masks = pattern_conditions(i, d, high);
    if d.excluded.is_empty() {
        return by_masks;
    }
    let by_ranges = super::numbers::exact_numbers(d, &d.intervals)
        .filter(|s| s.intervals().len() <= MAX_WORD_RANGES)
        .and_then(|exact| {
            let plain = WordDomain {
                intervals: exact,
                fixed_mask: 0,
                fixed_value: 0,
                excluded: Vec::new(),
            };
            pattern_conditions(i, &plain, high)
        });
    match (by_masks, by_ranges) {
        (Some(m), Some(r)) if r.len() < m.len() => Some(r),
        (Some(m), _) => Some(m),
        (None, r) => r,
    }
}

/// [`word_conditions`] through masks.
fn pattern_conditions(i: u8, d: &WordDomain, high: bool) -> Option<Vec<Vec<Condition>>> {
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
    // A mask on one word is a 64-bit mask with the other word's bits clear:
    // the same test, and one profiles can express.
    let masked = |m: u32, v: u32| {
        Condition::new(
            i,
            CmpOp::MaskedEq {
                mask: (m as u64) << shift,
                value: (v as u64) << shift,
            },
        )
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
        alts = product(&alts, &[vec![masked(d.fixed_mask, d.fixed_value)]])?;
    }
    for &(m, v) in &d.excluded {
        // x & m != v: some bit of m differs from v.
        let bits: Vec<Vec<Condition>> = (0..32)
            .filter(|b| m & (1 << b) != 0)
            .map(|b| vec![masked(1 << b, !v & (1 << b))])
            .collect();
        alts = product(&alts, &bits)?;
    }
    Some(alts)
}
