//! Regions of inputs in words: `fd == 0x1`, `0x10 <= len <= 0x20`,
//! `(flags & 0x7e020000) == 0x0`, `(prot & 0xfffffffffffffffc) == 0x0`.
//!
//! Every condition is built as a [`Cond`] from the lifted region, then
//! lowered back into word constraints and compared with the region it was
//! read from: a rendering is only used when it denotes exactly the same set
//! of 64-bit values (otherwise the plain per-word form is used, which is a
//! direct transcription). So what `explain`, `lint` and `diff` print is
//! proven equal to the decision table on all 64 bits of every field.

use super::domain::{IntervalSet, WordDomain};
use super::lift::Region;
use crate::bpf::data::{arg_offset, ip_offset, Half, SeccompData};
use crate::bpf::ByteOrder;
use std::fmt;

/// A field of `struct seccomp_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `nr`.
    Nr,
    /// `arch`.
    Arch,
    /// `args[i]`.
    Arg(u8),
    /// `instruction_pointer`.
    Ip,
}

impl Field {
    /// The field's value in `data` (32-bit fields zero-extended).
    pub fn value(self, data: &SeccompData) -> u64 {
        match self {
            Field::Nr => data.nr as u64,
            Field::Arch => data.arch as u64,
            Field::Arg(i) => data.args[i as usize],
            Field::Ip => data.instruction_pointer,
        }
    }
}

/// Which bits of the field a condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// A 32-bit quantity, printed by its name: `nr`, `arch`, or an argument
    /// on an arch whose arguments are 32 bits wide (its low word).
    Word,
    /// All 64 bits: `fd`.
    Whole,
    /// The low word: `(u32)fd`.
    Low,
    /// The high word: `(fd >> 32)`.
    High,
}

/// What a condition requires of the part it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// The value lies in one of these inclusive ranges (sorted, disjoint).
    In(Vec<(u64, u64)>),
    /// `(value & mask) == value`.
    Masked {
        /// The mask.
        mask: u64,
        /// The required bits.
        value: u64,
    },
    /// `(value & mask) != value`.
    NotMasked {
        /// The mask.
        mask: u64,
        /// The excluded bits.
        value: u64,
    },
}

/// One printed condition, e.g. `(prot & 0xfffffffffffffffc) == 0x0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    /// The field it tests.
    pub field: Field,
    /// The name it is printed with (`fd`, `args[0]`, `sys_number`).
    pub name: String,
    /// The bits it reads.
    pub part: Part,
    /// What it requires.
    pub test: Test,
}

impl Cond {
    /// The bits this condition reads, from the field's 64-bit value.
    fn operand(&self, v: u64) -> u64 {
        match self.part {
            Part::Word | Part::Low => v & 0xffff_ffff,
            Part::Whole => v,
            Part::High => v >> 32,
        }
    }

    /// Whether the condition holds for `data`.
    pub fn holds(&self, data: &SeccompData) -> bool {
        let x = self.operand(self.field.value(data));
        match self.test {
            Test::In(ref r) => r.iter().any(|&(a, b)| a <= x && x <= b),
            Test::Masked { mask, value } => x & mask == value,
            Test::NotMasked { mask, value } => x & mask != value,
        }
    }

    fn top(&self) -> u64 {
        if self.part == Part::Whole {
            u64::MAX
        } else {
            u32::MAX as u64
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = match self.part {
            Part::Word | Part::Whole => self.name.clone(),
            Part::Low => format!("(u32){}", self.name),
            Part::High => format!("({} >> 32)", self.name),
        };
        let top = self.top();
        match &self.test {
            Test::Masked { mask, value } if *mask == top => write!(f, "{e} == {value:#x}"),
            Test::NotMasked { mask, value } if *mask == top => write!(f, "{e} != {value:#x}"),
            Test::Masked { mask, value } => write!(f, "({e} & {mask:#x}) == {value:#x}"),
            Test::NotMasked { mask, value } => write!(f, "({e} & {mask:#x}) != {value:#x}"),
            Test::In(r) => match r.as_slice() {
                [(a, b)] if a == b => write!(f, "{e} == {a:#x}"),
                [(0, b), (c, t)] if *t == top && b.checked_add(2) == Some(*c) => {
                    write!(f, "{e} != {:#x}", b + 1)
                }
                [(0, b)] => write!(f, "{e} <= {b:#x}"),
                [(a, t)] if *t == top => write!(f, "{e} >= {a:#x}"),
                [(a, b)] => write!(f, "{a:#x} <= {e} <= {b:#x}"),
                parts => write!(f, "{e} in {{{}}}", super::domain::ranges_text(parts)),
            },
        }
    }
}

/// The same set, written one way: a mask of all 32 bits is an interval,
/// excluded patterns sorted.
fn canonical(d: &WordDomain) -> WordDomain {
    let mut c = d.clone();
    if c.fixed_mask == u32::MAX {
        let v = c.fixed_value;
        c.intervals = c.intervals.intersect(&IntervalSet::single(v));
        if c.excluded.iter().any(|&(m, x)| v & m == x) {
            c.intervals = IntervalSet::empty();
        }
        c.fixed_mask = 0;
        c.fixed_value = 0;
        c.excluded.clear();
    }
    let mut kept = Vec::new();
    for &(m, x) in &c.excluded {
        if m == u32::MAX {
            c.intervals = c.intervals.minus(&IntervalSet::single(x));
        } else {
            kept.push((m, x));
        }
    }
    kept.sort_unstable();
    kept.dedup();
    c.excluded = kept;
    c
}

/// Conditions on one word, read as `part`.
fn word(field: Field, name: &str, part: Part, d: &WordDomain) -> Vec<Cond> {
    let cond = |test| Cond {
        field,
        name: name.to_string(),
        part,
        test,
    };
    let mut out = Vec::new();
    if !d.intervals.is_full() {
        let r = d.intervals.intervals();
        out.push(cond(Test::In(
            r.iter().map(|&(a, b)| (a as u64, b as u64)).collect(),
        )));
    }
    if d.fixed_mask != 0 {
        out.push(cond(Test::Masked {
            mask: d.fixed_mask as u64,
            value: d.fixed_value as u64,
        }));
    }
    for &(m, x) in &d.excluded {
        out.push(cond(Test::NotMasked {
            mask: m as u64,
            value: x as u64,
        }));
    }
    out
}

/// The per-word form: the high word's conditions, then the low word's.
fn split(field: Field, name: &str, lo: &WordDomain, hi: &WordDomain, wide: bool) -> Vec<Cond> {
    if !wide && hi.is_any() {
        return word(field, name, Part::Word, lo);
    }
    let mut out = word(field, name, Part::High, hi);
    out.extend(word(field, name, Part::Low, lo));
    out
}

/// The readable form: when the high word is one value, the low word's
/// conditions become 64-bit ones that include it.
fn readable(field: Field, name: &str, lo: &WordDomain, hi: &WordDomain, wide: bool) -> Vec<Cond> {
    let h = hi
        .intervals
        .as_single()
        .filter(|_| hi.fixed_mask == 0 && hi.excluded.is_empty());
    let Some(h) = h.filter(|_| !lo.is_any()) else {
        return split(field, name, lo, hi, wide);
    };
    let base = (h as u64) << 32;
    let cond = |test| Cond {
        field,
        name: name.to_string(),
        part: Part::Whole,
        test,
    };
    let mut out = Vec::new();
    if !lo.intervals.is_full() {
        let r = lo.intervals.intervals();
        out.push(cond(Test::In(
            r.iter()
                .map(|&(a, b)| (base | a as u64, base | b as u64))
                .collect(),
        )));
    }
    if lo.fixed_mask != 0 {
        out.push(cond(Test::Masked {
            mask: 0xffff_ffff_0000_0000 | lo.fixed_mask as u64,
            value: base | lo.fixed_value as u64,
        }));
    }
    if out.is_empty() {
        // Only excluded patterns, which say nothing of the high word.
        out.push(Cond {
            field,
            name: name.to_string(),
            part: Part::High,
            test: Test::In(vec![(h as u64, h as u64)]),
        });
    }
    for &(m, x) in &lo.excluded {
        out.push(cond(Test::NotMasked {
            mask: m as u64,
            value: x as u64,
        }));
    }
    out
}

/// The word constraints a list of conditions on one field denotes: the
/// inverse of rendering. `None` when a condition is not a constraint on
/// each word separately.
pub fn lower(conds: &[Cond]) -> Option<(WordDomain, WordDomain)> {
    let (mut lo, mut hi) = (WordDomain::any(), WordDomain::any());
    let w32 = |v: u64| u32::try_from(v).ok();
    for c in conds {
        let ok = match (c.part, &c.test) {
            (Part::Whole, Test::In(r)) => {
                let h = (r.first()?.0 >> 32) as u32;
                if r.iter()
                    .any(|&(a, b)| (a >> 32) as u32 != h || (b >> 32) as u32 != h)
                {
                    return None;
                }
                hi.restrict(&IntervalSet::single(h));
                let mut set = IntervalSet::empty();
                for &(a, b) in r {
                    set = set.union(&IntervalSet::range(a as u32, b as u32));
                }
                lo.restrict(&set);
                true
            }
            (Part::Whole, &Test::Masked { mask, value }) => {
                lo.require_masked(mask as u32, value as u32)
                    && hi.require_masked((mask >> 32) as u32, (value >> 32) as u32)
            }
            (Part::Whole, &Test::NotMasked { mask, value }) => {
                if mask >> 32 == 0 {
                    lo.exclude_masked(mask as u32, value as u32)
                } else if mask as u32 == 0 {
                    hi.exclude_masked((mask >> 32) as u32, (value >> 32) as u32)
                } else {
                    return None;
                }
            }
            (part, test) => {
                let d = if part == Part::High { &mut hi } else { &mut lo };
                match *test {
                    Test::In(ref r) => {
                        let mut set = IntervalSet::empty();
                        for &(a, b) in r {
                            set = set.union(&IntervalSet::range(w32(a)?, w32(b)?));
                        }
                        d.restrict(&set);
                        true
                    }
                    Test::Masked { mask, value } => d.require_masked(w32(mask)?, w32(value)?),
                    Test::NotMasked { mask, value } => d.exclude_masked(w32(mask)?, w32(value)?),
                }
            }
        };
        if !ok {
            return None;
        }
    }
    Some((lo, hi))
}

/// Whether `conds` denote exactly the values `lo`/`hi` allow.
fn proven(conds: &[Cond], lo: &WordDomain, hi: &WordDomain) -> bool {
    lower(conds)
        .is_some_and(|(l, h)| canonical(&l) == canonical(lo) && canonical(&h) == canonical(hi))
}

/// Conditions on a field made of a low and a high word, proven equal to
/// them. `wide`: the arch's arguments are 64 bits (else the high word is
/// shown only when the filter tests it).
pub fn field_conds(
    field: Field,
    name: &str,
    lo: &WordDomain,
    hi: &WordDomain,
    wide: bool,
) -> Vec<Cond> {
    let (lo, hi) = (canonical(lo), canonical(hi));
    let nice = readable(field, name, &lo, &hi, wide);
    if proven(&nice, &lo, &hi) {
        return nice;
    }
    // The per-word form transcribes the domains one constraint each.
    let plain = split(field, name, &lo, &hi, true);
    debug_assert!(proven(&plain, &lo, &hi), "{plain:?} for {lo:?} / {hi:?}");
    plain
}

/// The conditions a region puts on the arguments and the instruction
/// pointer, with argument names from `params` where given.
pub fn arg_conds(
    region: &Region,
    order: ByteOrder,
    params: Option<&[&str]>,
    wide: bool,
) -> Vec<Cond> {
    let mut out = Vec::new();
    for i in 0..6u8 {
        let lo = &region[(arg_offset(i, Half::Low, order) / 4) as usize];
        let hi = &region[(arg_offset(i, Half::High, order) / 4) as usize];
        let name = params
            .and_then(|p| p.get(i as usize))
            .map_or_else(|| format!("args[{i}]"), |s| s.to_string());
        out.extend(field_conds(Field::Arg(i), &name, lo, hi, wide));
    }
    let lo = &region[(ip_offset(Half::Low, order) / 4) as usize];
    let hi = &region[(ip_offset(Half::High, order) / 4) as usize];
    out.extend(field_conds(Field::Ip, "instruction_pointer", lo, hi, true));
    out
}

/// [`arg_conds`], printed.
pub fn arg_conditions(
    region: &Region,
    order: ByteOrder,
    params: Option<&[&str]>,
    wide: bool,
) -> Vec<String> {
    arg_conds(region, order, params, wide)
        .iter()
        .map(Cond::to_string)
        .collect()
}

/// Conditions on a 32-bit field (`nr`, `arch`), printed as `expr`.
pub fn word_conds(field: Field, expr: &str, d: &WordDomain) -> Vec<Cond> {
    word(field, expr, Part::Word, &canonical(d))
}

/// The conditions on one 32-bit word, joined with `&&`.
pub fn describe_word(expr: &str, d: &WordDomain) -> String {
    word(Field::Nr, expr, Part::Word, &canonical(d))
        .iter()
        .map(Cond::to_string)
        .collect::<Vec<_>>()
        .join(" && ")
}

#[cfg(test)]
mod tests;
