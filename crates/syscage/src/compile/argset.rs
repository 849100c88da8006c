//! Pass 5b, value sets: a run of argument-tree arms with one action, each
//! a single comparison of the same argument ("personality is 0, 8,
//! 0x20000, 0x20008 or 0xffffffff"; "socket's domain is below 38, 39, or
//! above 40"), is one set of values: a union of intervals.
//!
//! The set is tested as libseccomp cannot: the high word is searched once
//! (most sets need one comparison there), then, for each high word whose
//! low words are only partly in the set, the low word is searched once,
//! with the same optimal search as syscall numbers ([`super::search`]),
//! or a short `JEQ` chain when the set is a few single values.
//!
//! (A set of values that is a "cube", every combination of a few bits
//! such as `{0, 8, 0x20000, 0x20008}`, could be one `JSET` of the other
//! bits; that wide mask is left out on purpose: `decompile` expands "some
//! of these 30 bits is set" into one rule per bit and its proof gives up.)

use super::decision::Arm;
use super::ranges::{self, Range};
use super::search::{self, Node};
use crate::policy::{CmpOp, Condition, Width};

/// Outcome id of a value outside the set.
pub const FAIL: usize = 0;
/// Outcome id of a value in the set.
pub const PASS: usize = 1;

/// A set of values of one argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSet {
    /// The argument (0..=5).
    pub arg: u8,
    /// Compared width.
    pub width: Width,
    /// Sorted, disjoint, non-adjacent inclusive intervals.
    pub intervals: Vec<(u64, u64)>,
}

/// The intervals where one comparison holds (`None`: not an interval
/// union, i.e. a masked comparison).
fn intervals_of(op: CmpOp, max: u64) -> Option<Vec<(u64, u64)>> {
    let mut out = Vec::with_capacity(2);
    let mut push = |a: u64, b: u64| {
        if a <= b && a <= max {
            out.push((a, b.min(max)));
        }
    };
    match op {
        CmpOp::Eq(v) => push(v, v),
        CmpOp::MaskedEq { mask, value } if mask & max == max => push(value, value),
        CmpOp::MaskedEq { .. } => return None,
        CmpOp::Ne(v) => {
            if v > 0 {
                push(0, v - 1);
            }
            if v < max {
                push(v + 1, max);
            }
        }
        CmpOp::Lt(v) => {
            if v > 0 {
                push(0, v - 1);
            }
        }
        CmpOp::Le(v) => push(0, v),
        CmpOp::Gt(v) => {
            if v < max {
                push(v + 1, max);
            }
        }
        CmpOp::Ge(v) => push(v, max),
    }
    Some(out)
}

/// The value set of `arms` when each is a single comparison of one
/// argument with one width and all share one action.
pub fn value_set(arms: &[Arm]) -> Option<ValueSet> {
    let Condition {
        arg: arg0,
        width: width0,
        ..
    } = *arms.first()?.conds.first()?;
    let max = match width0 {
        Width::Bits64 => u64::MAX,
        Width::Bits32 => u64::from(u32::MAX),
    };
    let mut all = Vec::new();
    for a in arms {
        match a.conds.as_slice() {
            [c] if c.arg == arg0 && c.width == width0 && a.action == arms[0].action => {
                all.extend(intervals_of(c.op, max)?);
            }
            _ => return None,
        }
    }
    all.sort_unstable();
    let mut intervals: Vec<(u64, u64)> = Vec::with_capacity(all.len());
    for (a, b) in all {
        match intervals.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => intervals.push((a, b)),
        }
    }
    Some(ValueSet {
        arg: arg0,
        width: width0,
        intervals,
    })
}

/// Turns `(first, outcome)` boundaries into ranges covering `0..=u32::MAX`,
/// merging neighbours of equal outcome.
fn line(points: &[(u32, usize)]) -> Vec<Range> {
    let mut out: Vec<Range> = Vec::with_capacity(points.len());
    for (i, &(lo, d)) in points.iter().enumerate() {
        let hi = points.get(i + 1).map_or(u32::MAX, |p| p.0 - 1);
        ranges::push(
            &mut out,
            Range {
                lo,
                hi,
                decision: d,
            },
        );
    }
    out
}

/// The low-word line of the values in `[base, base + 0xffff_ffff]`.
fn low_line(intervals: &[(u64, u64)], base: u64) -> Vec<Range> {
    let top = base | 0xffff_ffff;
    let mut points = vec![(0u32, FAIL)];
    for &(a, b) in intervals {
        if b < base || a > top {
            continue;
        }
        let (a, b) = (a.max(base) as u32, b.min(top) as u32);
        points.push((a, PASS));
        if b < u32::MAX {
            points.push((b + 1, FAIL));
        }
    }
    // A point at 0 replaces the initial FAIL.
    if points.len() > 1 && points[1].0 == 0 {
        points.remove(0);
    }
    line(&points)
}

/// The set as a search plan: the high-word line (`None` for a 32-bit set),
/// whose outcomes are [`FAIL`], [`PASS`] or `2 + i` for the low-word line
/// `lows[i]`.
pub struct Plan {
    /// Ranges of the high word.
    pub high: Option<Vec<Range>>,
    /// Low-word lines (outcomes [`FAIL`] / [`PASS`]).
    pub lows: Vec<Vec<Range>>,
}

/// Plans the test of `set`.
pub fn plan(set: &ValueSet) -> Plan {
    if set.width == Width::Bits32 {
        return Plan {
            high: None,
            lows: vec![low_line(&set.intervals, 0)],
        };
    }
    // The outcome of a high word changes only at the words where an
    // interval starts or ends, and right after them.
    let mut words: Vec<u32> = vec![0];
    for &(a, b) in &set.intervals {
        for w in [(a >> 32) as u32, (b >> 32) as u32] {
            words.push(w);
            if let Some(n) = w.checked_add(1) {
                words.push(n);
            }
        }
    }
    words.sort_unstable();
    words.dedup();
    let mut lows: Vec<Vec<Range>> = Vec::new();
    let mut points: Vec<(u32, usize)> = Vec::with_capacity(words.len());
    for &w in &words {
        let l = low_line(&set.intervals, u64::from(w) << 32);
        let d = if l.len() == 1 {
            l[0].decision
        } else {
            match lows.iter().position(|x| *x == l) {
                Some(i) => 2 + i,
                None => {
                    lows.push(l);
                    1 + lows.len()
                }
            }
        };
        points.push((w, d));
    }
    Plan {
        high: Some(line(&points)),
        lows,
    }
}

/// Longest `JEQ` chain for the single values of a low-word line.
pub const MAX_CHAIN: usize = 5;

/// A low-word line whose `hit` outcome is a few single values, 0 among
/// them (every other value has the other outcome): a `JEQ` chain, `0` first, then
/// `0xffffffff` (the usual "none" and "query" values, such as
/// `personality(0xffffffff)`), then ascending.
pub fn singles(ranges: &[Range]) -> Option<(usize, Vec<u32>)> {
    for hit in [PASS, FAIL] {
        let mut values = Vec::new();
        for r in ranges.iter().filter(|r| r.decision == hit) {
            if r.lo != r.hi || values.len() == MAX_CHAIN {
                values.clear();
                break;
            }
            values.push(r.lo);
        }
        // Only a chain that tests 0 first beats the 0-weighted search.
        if values.contains(&0) {
            values.sort_by_key(|&v| (v != 0, v != u32::MAX, v));
            return Some((hit, values));
        }
    }
    None
}

/// Weight of the range holding 0 in a word's search: 0 is by far the most
/// common argument value (flags, "no option"), so it resolves first.
const ZERO_WEIGHT: f64 = 8.0;

/// The search of a line, each range weighing the same but the one holding 0.
pub fn tree(ranges: &[Range]) -> Node {
    let w: Vec<f64> = ranges
        .iter()
        .map(|r| if r.lo == 0 { ZERO_WEIGHT } else { 1.0 })
        .collect();
    search::build(ranges, &w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    fn arm(op: CmpOp, width: Width) -> Arm {
        Arm {
            action: Action::Allow,
            conds: vec![Condition { arg: 0, op, width }],
        }
    }

    fn contains(p: &Plan, v: u64) -> bool {
        let find =
            |rs: &[Range], x: u32| rs.iter().find(|r| r.lo <= x && x <= r.hi).unwrap().decision;
        let d = match &p.high {
            None => 2,
            Some(h) => find(h, (v >> 32) as u32),
        };
        let d = if d >= 2 {
            find(&p.lows[d - 2], v as u32)
        } else {
            d
        };
        d == PASS
    }

    #[test]
    fn personality_set_is_one_high_test_and_a_chain() {
        let vals = [0u64, 8, 0x20000, 0x20008, 0xffff_ffff];
        let arms: Vec<Arm> = vals
            .iter()
            .map(|&v| arm(CmpOp::Eq(v), Width::Bits64))
            .collect();
        let p = plan(&value_set(&arms).unwrap());
        assert_eq!(p.high.as_ref().unwrap().len(), 2);
        let (hit, order) = singles(&p.lows[0]).unwrap();
        assert_eq!(hit, PASS);
        assert_eq!(order, vec![0, 0xffff_ffff, 8, 0x20000, 0x20008]);
        for v in [0u64, 8, 0x20000, 0x20008, 0xffff_ffff] {
            assert!(contains(&p, v));
        }
        for v in [
            1u64,
            0x20001,
            0x1_0000_0000,
            0x1_0000_0008,
            u64::MAX,
            0xffff_fffe,
        ] {
            assert!(!contains(&p, v));
        }
    }

    #[test]
    fn socket_set_is_everything_but_two_values() {
        let arms = vec![
            arm(CmpOp::Lt(38), Width::Bits64),
            arm(CmpOp::Eq(39), Width::Bits64),
            arm(CmpOp::Gt(40), Width::Bits64),
        ];
        let p = plan(&value_set(&arms).unwrap());
        for v in [0u64, 37, 39, 41, 0x1_0000_0000, u64::MAX] {
            assert!(contains(&p, v), "{v:#x}");
        }
        for v in [38u64, 40] {
            assert!(!contains(&p, v), "{v:#x}");
        }
    }

    #[test]
    fn sets_touching_the_top_and_bottom_words() {
        let arms = vec![
            arm(CmpOp::Ge(u64::MAX - 3), Width::Bits64),
            arm(CmpOp::Le(5), Width::Bits64),
            arm(CmpOp::Eq(u64::MAX << 32), Width::Bits64),
        ];
        let p = plan(&value_set(&arms).unwrap());
        for v in [0u64, 5, u64::MAX, u64::MAX - 3, u64::MAX << 32] {
            assert!(contains(&p, v), "{v:#x}");
        }
        for v in [6u64, u64::MAX - 4, (u64::MAX << 32) + 1, 1 << 32] {
            assert!(!contains(&p, v), "{v:#x}");
        }
    }

    #[test]
    fn plans_agree_with_the_comparisons_on_edge_values() {
        let edges: Vec<u64> = vec![
            0,
            1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffe,
            0xffff_ffff,
            1 << 32,
            (1 << 32) + 1,
            0x1_ffff_ffff,
            1 << 63,
            u64::MAX - 1,
            u64::MAX,
        ];
        let ops = |v: u64| {
            [
                CmpOp::Eq(v),
                CmpOp::Ne(v),
                CmpOp::Lt(v),
                CmpOp::Le(v),
                CmpOp::Gt(v),
                CmpOp::Ge(v),
            ]
        };
        let all: Vec<CmpOp> = edges.iter().flat_map(|&v| ops(v)).collect();
        for width in [Width::Bits64, Width::Bits32] {
            let max = if width == Width::Bits64 {
                u64::MAX
            } else {
                0xffff_ffff
            };
            let probes: Vec<u64> = edges.iter().copied().filter(|&v| v <= max).collect();
            for (i, &a) in all.iter().enumerate() {
                for &b in &all[i..] {
                    let (a, b) = if width == Width::Bits32 {
                        (a.low32(), b.low32())
                    } else {
                        (a, b)
                    };
                    let set = value_set(&[arm(a, width), arm(b, width)]).unwrap();
                    let p = plan(&set);
                    for &x in &probes {
                        let want = a.holds(x) || b.holds(x);
                        assert_eq!(contains(&p, x), want, "{a:?} | {b:?} at {x:#x} ({width:?})");
                    }
                }
            }
        }
    }
}
