//! A policy condition as constraints on the 32-bit words of `seccomp_data`
//! (a disjunction of conjunctions), and a region restricted by one
//! conjunction. The proof computes each rule's constraints once per arch
//! and applies them to many regions, so [`apply`] first rejects, without
//! copying anything, a conjunction that one word's domain alone refutes.

use super::super::domain::{IntervalSet, WordDomain};
use super::super::lift::Region;
use crate::bpf::data::{arg_offset, Half};
use crate::bpf::ByteOrder;
use crate::policy::{CmpOp, Condition, Width};

/// One constraint on one word.
#[derive(Clone, Debug)]
pub(super) enum WordCons {
    /// The word is in the set.
    In(usize, IntervalSet),
    /// `word & mask == value`.
    Masked(usize, u32, u32),
    /// `word & mask != value`.
    NotMasked(usize, u32, u32),
}

impl WordCons {
    fn word(&self) -> usize {
        match *self {
            WordCons::In(w, _) | WordCons::Masked(w, ..) | WordCons::NotMasked(w, ..) => w,
        }
    }

    /// Whether no value of `d` satisfies the constraint, as far as a look
    /// at `d` without copying it tells (false: maybe satisfiable).
    fn refuted_by(&self, d: &WordDomain) -> bool {
        match *self {
            WordCons::In(_, ref s) => match s.as_single() {
                Some(v) => !d.contains(v),
                None => !intersects(d.intervals.intervals(), s.intervals()),
            },
            WordCons::Masked(_, m, v) => v & !m != 0 || (d.fixed_value ^ v) & d.fixed_mask & m != 0,
            WordCons::NotMasked(_, m, v) => {
                v & !m == 0 && m & !d.fixed_mask == 0 && d.fixed_value & m == v
            }
        }
    }

    /// Whether every value of `d` satisfies the constraint, as far as a
    /// look at `d` tells (false: maybe not).
    fn implied_by(&self, d: &WordDomain) -> bool {
        match *self {
            WordCons::In(_, ref s) => within(d.intervals.intervals(), s.intervals()),
            WordCons::Masked(_, m, v) => m & !d.fixed_mask == 0 && d.fixed_value & m == v,
            WordCons::NotMasked(_, m, v) => {
                v & !m != 0
                    || (d.fixed_value ^ v) & d.fixed_mask & m != 0
                    || d.excluded.contains(&(m, v))
            }
        }
    }
}

/// Whether every interval of `a` lies inside one of `b` (both sorted lists
/// of disjoint, non-adjacent inclusive intervals).
fn within(a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    a.iter().all(|&(lo, hi)| {
        let i = b.partition_point(|&(_, end)| end < lo);
        b.get(i)
            .is_some_and(|&(start, end)| start <= lo && hi <= end)
    })
}

/// Whether two sorted lists of disjoint inclusive intervals share a value
/// (a binary search in `a` for each interval of `b`).
fn intersects(a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    b.iter().any(|&(lo, hi)| {
        let i = a.partition_point(|&(_, end)| end < lo);
        a.get(i).is_some_and(|&(start, _)| start <= hi)
    })
}

/// A disjunction of conjunctions of word constraints.
pub(super) type Dnf = Vec<Vec<WordCons>>;

/// A condition's constraints where it holds and where it fails, for one
/// arch (argument width and byte order).
#[derive(Clone, Debug)]
pub(super) struct Split {
    /// Where the condition holds.
    pub holds: Dnf,
    /// Where it fails.
    pub fails: Dnf,
}

impl Split {
    /// `c` on an arch with 64-bit arguments when `wide`, laid out in `order`.
    pub fn new(c: Condition, wide: bool, order: ByteOrder) -> Split {
        Split {
            holds: condition(c, wide, order, false),
            fails: condition(c, wide, order, true),
        }
    }

    /// Whether the condition fails on every input of `region`, as far as
    /// a look at each constrained word's domain tells, without copying
    /// anything (false: it may hold somewhere).
    pub fn fails_on(&self, region: &Region) -> bool {
        self.holds
            .iter()
            .all(|conj| conj.iter().any(|c| c.refuted_by(&region[c.word()])))
    }

    /// Cuts `region` into where the condition holds (pushed to `holding`)
    /// and where it fails (pushed to `failing`), leaving out empty pieces.
    /// A region the condition decides whole is moved, not copied.
    pub fn cut(&self, region: Region, holding: &mut Vec<Region>, failing: &mut Vec<Region>) {
        let before = holding.len();
        for conj in &self.holds {
            match restrict(&region, conj) {
                Restricted::Whole => {
                    // Every input of the region satisfies the condition.
                    holding.truncate(before);
                    holding.push(region);
                    return;
                }
                Restricted::Part(r) => holding.push(r),
                Restricted::Empty => {}
            }
        }
        if holding.len() == before {
            // The condition fails on all of the region.
            failing.push(region);
            return;
        }
        for conj in &self.fails {
            match restrict(&region, conj) {
                Restricted::Whole => {
                    // Cannot happen where it also holds somewhere; keeping
                    // the whole region only checks more inputs.
                    failing.push(region);
                    return;
                }
                Restricted::Part(r) => failing.push(r),
                Restricted::Empty => {}
            }
        }
    }
}

/// A region restricted by a conjunction of word constraints.
// Returned and matched at once, never stored: boxing would only add an
// allocation per piece.
#[allow(clippy::large_enum_variant)]
enum Restricted {
    /// No input of the region satisfies it.
    Empty,
    /// Every input does.
    Whole,
    /// These inputs do (a smaller region).
    Part(Region),
}

/// `region` restricted by `conj`. Only the constrained words are copied
/// and searched for a value (the others were feasible already), and the
/// region is copied only when the result is neither empty nor the whole
/// region: most pieces a rule's conditions cut are one of those, and most
/// are told by one word's domain before anything is copied.
fn restrict(region: &Region, conj: &[WordCons]) -> Restricted {
    if conj.iter().all(|c| c.implied_by(&region[c.word()])) {
        return Restricted::Whole;
    }
    if conj.iter().any(|c| c.refuted_by(&region[c.word()])) {
        return Restricted::Empty;
    }
    let mut changed: Vec<(usize, WordDomain)> = Vec::with_capacity(2);
    for c in conj {
        let w = c.word();
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
            return Restricted::Empty;
        }
    }
    if !changed.iter().all(|(_, d)| d.is_feasible()) {
        return Restricted::Empty;
    }
    let mut r = region.clone();
    for (w, d) in changed {
        r[w] = d;
    }
    Restricted::Part(r)
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
