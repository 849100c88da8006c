//! Pass 3, ranges: for each audit arch id of the policy, the whole 32-bit
//! number line as ranges of equal decision.
//!
//! - Numbers a rule names take their [`decide`]d decision; numbers the
//!   arch's table knows take the default action; other numbers take the
//!   unknown-syscall action if the policy sets one, else the default.
//! - On `AUDIT_ARCH_X86_64`, the arch module's [`x86_64_class`] splits the
//!   numbers: x32's numbers go to x32 if it is in the policy, else the
//!   bad-arch action; x86_64's to x86_64, or the bad-arch action without
//!   it (the bad-arch parts take the [`other`](super::other) arches'
//!   ranges when the policy has other-arch rules); `nr == -1` to x32 if present, else x86_64 ([`X86_64Class::owner`],
//!   libseccomp 2.5's split, the reference evaluator's [`Policy::arch_for`]). The x32 check is thus folded into
//!   the number search.
//! - Unnamed numbers inside the policy's number ranges
//!   ([`crate::policy::NumberRange`]) take the most severe of their actions.
//! - Adjacent numbers with the same decision merge into one range.

use super::decision::{decide, Decision, DecisionId, Decisions};
use super::resolve::ArchRules;
#[cfg(doc)]
use crate::arch::X86_64Class;
use crate::arch::{x86_64_class, Arch, X86_64_CLASS_RANGES};
use crate::bpf::ByteOrder;
use crate::policy::Policy;

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
            // As `Policy::arch_for`: the arch module's classes and owners.
            X86_64_CLASS_RANGES
                .iter()
                .map(|&(lo, hi)| Window {
                    lo,
                    hi,
                    arch: x86_64_class(lo).owner(native, x32),
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
                Some(rules) => {
                    let mut local = Vec::new();
                    arch_ranges(policy, rules, w.lo, w.hi, decisions, &mut local);
                    for r in overlay_number_ranges(policy, rules, local, decisions) {
                        push(&mut ranges, r);
                    }
                }
                None if policy.other_rules().is_empty() => push(
                    &mut ranges,
                    Range {
                        lo: w.lo,
                        hi: w.hi,
                        decision: bad,
                    },
                ),
                // Numbers of an arch the policy does not list.
                None => {
                    for r in super::other::ranges(policy, w.lo, w.hi, decisions) {
                        push(&mut ranges, r);
                    }
                }
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

/// `local` (one window of one arch) with the policy's number ranges laid
/// over its unnamed numbers.
fn overlay_number_ranges(
    policy: &Policy,
    rules: &ArchRules<'_>,
    local: Vec<Range>,
    decisions: &mut Decisions,
) -> Vec<Range> {
    let applies: Vec<_> = policy
        .number_ranges()
        .iter()
        .filter(|r| r.arch.is_none_or(|a| a == rules.arch))
        .collect();
    if applies.is_empty() {
        return local;
    }
    // Every number where the decision may change: range ends and the
    // named numbers (kept as single points).
    let mut cuts: Vec<u32> = Vec::new();
    for r in &applies {
        cuts.push(r.lo);
        cuts.extend(r.hi.checked_add(1));
    }
    for &nr in rules.by_nr.keys() {
        cuts.push(nr);
        cuts.extend(nr.checked_add(1));
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    for r in local {
        let mut lo = r.lo;
        let inner = cuts.partition_point(|&c| c <= r.lo);
        let ends = cuts[inner..]
            .iter()
            .take_while(|&&c| c <= r.hi)
            .map(|&c| c - 1)
            .chain(std::iter::once(r.hi));
        for hi in ends {
            let decision = match policy.number_range_action(rules.arch, lo) {
                Some(a) if !rules.by_nr.contains_key(&lo) => decisions.intern(Decision::Action(a)),
                _ => r.decision,
            };
            push(&mut out, Range { lo, hi, decision });
            if hi == r.hi {
                break;
            }
            lo = hi + 1;
        }
    }
    out
}
