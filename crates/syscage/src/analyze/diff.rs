//! Semantic diff of two programs: every region of inputs where they decide
//! differently, found by lifting the second program inside each path of the
//! first; and the subset check a runtime needs to accept a pulled profile.

use super::lift::{lift, lift_within, LiftError, Limits, Region, Verdict};
use crate::action::Action;
use crate::bpf::{ByteOrder, Program};

/// A region of inputs on which two programs decide differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The inputs.
    pub region: Region,
    /// What the first program returns there.
    pub left: Verdict,
    /// What the second program returns there.
    pub right: Verdict,
    /// False when a side is an over-approximation (the difference may be spurious).
    pub exact: bool,
}

impl Difference {
    /// The actions, when both are known.
    pub fn actions(&self) -> Option<(Action, Action)> {
        Some((self.left.action()?, self.right.action()?))
    }
}

/// Whether two verdicts make the kernel do the same thing.
fn same(a: Verdict, b: Verdict) -> bool {
    match (a.action(), b.action()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Every region where `a` and `b` decide differently (empty when they are
/// equivalent), both read in `order`.
pub fn diff(
    a: &Program,
    b: &Program,
    order: ByteOrder,
    limits: &Limits,
) -> Result<Vec<Difference>, LiftError> {
    let left = lift(a, order, limits)?;
    let mut out = Vec::new();
    for la in left.leaves {
        let right = lift_within(b, order, la.region, limits)?;
        for lb in right.leaves {
            if !same(la.verdict, lb.verdict) {
                out.push(Difference {
                    region: lb.region,
                    left: la.verdict,
                    right: lb.verdict,
                    exact: la.exact && lb.exact,
                });
            }
        }
    }
    Ok(out)
}

/// The regions where `a` lets a syscall through (ALLOW or LOG) that `b`
/// does not: empty exactly when `a` is a subset of `b`.
pub fn subset_violations(
    a: &Program,
    b: &Program,
    order: ByteOrder,
    limits: &Limits,
) -> Result<Vec<Difference>, LiftError> {
    Ok(diff(a, b, order, limits)?
        .into_iter()
        .filter(|d| {
            let permits = |v: Verdict| v.action().is_none_or(Action::permits);
            permits(d.left) && !d.right.action().is_some_and(Action::permits)
        })
        .collect())
}
