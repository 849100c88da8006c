//! Pass 3, ranges: for each audit arch id of the policy, the whole 32-bit
//! number line as ranges of equal decision.
//!
//! - Numbers a rule names take their [`decide`]d decision; numbers the
//!   arch's table knows take the default action; other numbers take the
//!   unknown-syscall action if the policy sets one, else the default.
//! - On `AUDIT_ARCH_X86_64`, numbers from `0x4000_0000` up are x32's if
//!   x32 is in the policy, else the bad-arch action; numbers below are
//!   x86_64's, or the bad-arch action without x86_64; `nr == -1` goes to
//!   x32 if present, else x86_64 (libseccomp 2.5's split, the reference
//!   evaluator's [`Policy::arch_for`]). The x32 check is thus folded into
//!   the number search.
//! - Adjacent numbers with the same decision merge into one range.

use super::decision::{decide, Decision, DecisionId, Decisions};
use super::resolve::ArchRules;
use crate::arch::Arch;
use crate::bpf::ByteOrder;
use crate::policy::{x86_64_class, Policy, X86_64Class, X86_64_CLASS_RANGES};

/// Numbers `lo..=hi` share one decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// First number.
    pub lo: u32,
    /// Last number (inclusive).
    pub hi: u32,
    /// The decision.
    pub decision: DecisionId,
}

/// Numbers `lo..=hi` of a line belong to `arch` (`None`: bad-arch action).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First number.
    pub lo: u32,
    /// Last number (inclusive).
    pub hi: u32,
    /// The arch whose rules decide them.
    pub arch: Option<Arch>,
}

/// The number line of one audit arch id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberLine {
    /// `AUDIT_ARCH_*` value checked before searching this line.
    pub audit: u32,
    /// Byte order of the arch (places the argument words).
    pub order: ByteOrder,
    /// Ranges covering `0..=u32::MAX` in order.
    pub ranges: Vec<Range>,
    /// Which arch owns which numbers.
    pub windows: Vec<Window>,
}

/// Builds the number line of every audit id of `resolved`, in policy order.
pub fn number_lines(
    policy: &Policy,
    resolved: &[ArchRules<'_>],
    decisions: &mut Decisions,
) -> Vec<NumberLine> {
    let bad = decisions.intern(Decision::Action(policy.bad_arch_action()));
    let mut lines: Vec<NumberLine> = Vec::new();
    for ar in resolved {
        let audit = ar.arch.audit();
        if lines.iter().any(|l| l.audit == audit) {
            continue;
        }
        let find = |a: Arch| resolved.iter().find(|r| r.arch == a);
        let windows: Vec<Window> = if audit == Arch::X86_64.audit() {
            let native = find(Arch::X86_64).map(|_| Arch::X86_64);
            let x32 = find(Arch::X32).map(|_| Arch::X32);
            // As `Policy::arch_for`: x86_64 below 0x4000_0000, x32 from
            // there, -1 to x32 if present, else x86_64.
            X86_64_CLASS_RANGES
                .iter()
                .map(|&(lo, hi)| Window {
                    lo,
                    hi,
                    arch: match x86_64_class(lo) {
                        X86_64Class::Native => native,
                        X86_64Class::X32 => x32,
                        X86_64Class::MinusOne => x32.or(native),
                    },
                })
                .collect()
        } else {
            vec![Window {
                lo: 0,
                hi: u32::MAX,
                arch: Some(ar.arch),
            }]
        };
        let mut ranges: Vec<Range> = Vec::new();
        for w in &windows {
            match w.arch.and_then(find) {
                Some(rules) => arch_ranges(policy, rules, w.lo, w.hi, decisions, &mut ranges),
                None => push(
                    &mut ranges,
                    Range {
                        lo: w.lo,
                        hi: w.hi,
                        decision: bad,
                    },
                ),
            }
        }
        lines.push(NumberLine {
            audit,
            order: ar.arch.byte_order(),
            ranges,
            windows,
        });
    }
    lines
}

/// Appends a range, merging it into the last one when they touch and agree.
pub(super) fn push(ranges: &mut Vec<Range>, r: Range) {
    if let Some(last) = ranges.last_mut() {
        if last.decision == r.decision && last.hi.checked_add(1) == Some(r.lo) {
            last.hi = r.hi;
            return;
        }
    }
    ranges.push(r);
}

/// The ranges of `lo..=hi` on one arch.
fn arch_ranges(
    policy: &Policy,
    rules: &ArchRules<'_>,
    lo: u32,
    hi: u32,
    decisions: &mut Decisions,
    out: &mut Vec<Range>,
) {
    let default = decisions.intern(Decision::Action(policy.default_action()));
    let gap = match policy.unknown_action() {
        Some(u) if u != policy.default_action() => decisions.intern(Decision::Action(u)),
        _ => default,
    };
    // Points: named numbers (their decision) and, when unknown numbers
    // differ from known ones, the table's numbers (the default).
    let mut named: Vec<(u32, DecisionId)> = rules
        .by_nr
        .range(lo..=hi)
        .map(|(&nr, rs)| {
            (
                nr,
                decisions.intern(decide(rs, policy.default_action(), rules.wide)),
            )
        })
        .collect();
    if gap != default {
        let table = rules
            .arch
            .syscalls()
            .iter()
            .map(|s| s.nr)
            .filter(|&n| n >= lo && n <= hi);
        let mut points: Vec<(u32, DecisionId)> = Vec::with_capacity(named.len() + 512);
        let mut ni = named.iter().peekable();
        for t in table {
            while let Some(&&(n, d)) = ni.peek() {
                if n > t {
                    break;
                }
                if n < t {
                    points.push((n, d));
                }
                ni.next();
                if n == t {
                    points.push((n, d));
                    break;
                }
            }
            if points.last().map(|p| p.0) != Some(t) {
                points.push((t, default));
            }
        }
        points.extend(ni.copied());
        named = points;
    }
    let mut cur = lo;
    let mut done = false;
    for (nr, d) in named {
        if nr > cur {
            push(
                out,
                Range {
                    lo: cur,
                    hi: nr - 1,
                    decision: gap,
                },
            );
        }
        push(
            out,
            Range {
                lo: nr,
                hi: nr,
                decision: d,
            },
        );
        match nr.checked_add(1) {
            Some(n) => cur = n,
            None => done = true,
        }
    }
    if !done && cur <= hi {
        push(
            out,
            Range {
                lo: cur,
                hi,
                decision: gap,
            },
        );
    }
}
