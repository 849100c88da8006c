//! Pass 3b, other arches: the number line of an arch the policy does not
//! list, from its other-arch rules ([`Policy::other_rules`], the
//! language's `arch other { … }`).
//!
//! Numbers the rules name take their [`decide`]d decision (the bad-arch
//! action as fallback, arguments 64 bits wide: the words as the kernel
//! passes them); every other number takes the bad-arch action. Without
//! other-arch rules the line is one range of the bad-arch action, and the
//! program is what it always was: unlisted arch ids return the bad-arch
//! action right after the last arch check, and bad-arch parts of a line
//! (x32's numbers when x32 is not listed) are one range of it.
//!
//! With them, the last arch check's "none of these" goes to one more
//! section (`A = nr`, a search over this line, argument checks in its
//! leaves, in the byte order of the policy's first arch), and the
//! bad-arch parts of the policy's lines take this line's ranges.

use super::decision::{decide, Decision, Decisions};
use super::ranges::{push, Range};
use crate::policy::{Policy, Rule};
use std::collections::BTreeMap;

/// The ranges of `lo..=hi` for an arch the policy does not handle.
pub fn ranges(policy: &Policy, lo: u32, hi: u32, decisions: &mut Decisions) -> Vec<Range> {
    let bad = decisions.intern(Decision::Action(policy.bad_arch_action()));
    let mut by_nr: BTreeMap<u32, Vec<&Rule>> = BTreeMap::new();
    for r in policy.other_rules() {
        if let Some(nr) = nr_of(r).filter(|n| (lo..=hi).contains(n)) {
            by_nr.entry(nr).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    let mut cur = Some(lo);
    for (nr, rules) in by_nr {
        let start = cur.expect("numbers ascend within lo..=hi");
        if nr > start {
            push(
                &mut out,
                Range {
                    lo: start,
                    hi: nr - 1,
                    decision: bad,
                },
            );
        }
        let decision = decisions.intern(decide(&rules, policy.bad_arch_action(), true));
        push(
            &mut out,
            Range {
                lo: nr,
                hi: nr,
                decision,
            },
        );
        cur = nr.checked_add(1);
    }
    if let Some(start) = cur.filter(|&s| s <= hi) {
        push(
            &mut out,
            Range {
                lo: start,
                hi,
                decision: bad,
            },
        );
    }
    out
}

/// The number an other-arch rule names.
fn nr_of(r: &Rule) -> Option<u32> {
    match r.syscall {
        crate::policy::SyscallId::Nr(n) => Some(n),
        crate::policy::SyscallId::Name(_) => None,
    }
}
