//! Pass 5c, shared conditions: a run of consecutive argument-tree arms
//! that all begin with the same condition tests it once.
//!
//! ```text
//!   allow openat if dfd == AT_FDCWD && path == 0x…7000
//!   allow openat if dfd == AT_FDCWD && path == 0x…7030     (×600)
//! ```
//!
//! is emitted as "`dfd == AT_FDCWD`, else the next run; then the rest of
//! each arm", not as one `dfd` test per arm. The arms' rests are arms of
//! their own and go through the same passes again: here they are one
//! [value set](super::argset) of `path`, searched once instead of tested
//! one by one. Tor's relay sandbox (609 such rules, and 300 `rename`
//! rules of two paths) compiles to 7535 instructions without this pass,
//! 4935 with it, and 3776 once laid out with shared trampolines
//! ([`super::compact`]); the kernel takes 4096.
//!
//! It is sound because the arms are tried in order and the first that
//! holds decides: where `c` fails no arm of the run can hold, so the next
//! run is tried, as it was arm after arm; where `c` holds, the rests are
//! tried in the arms' order, each giving its own arm's action. A run
//! counts only arms with a condition after the shared one, so an arm that
//! is the shared condition alone ends the run (it is emitted as it is).

use super::decision::Arm;
use crate::policy::Condition;

/// Fewest arms a run must have to share its first condition.
pub const MIN_RUN: usize = 2;

/// A run at the start of `arms` sharing its first condition: the
/// condition and the arms' rests (each with the first condition taken
/// off), or `None` when fewer than [`MIN_RUN`] arms start such a run.
pub fn shared_run(arms: &[Arm]) -> Option<(Condition, Vec<Arm>)> {
    let first = arms.first()?;
    let (&c, _) = first.conds.split_first()?;
    let len = arms
        .iter()
        .take_while(|a| a.conds.len() >= 2 && a.conds[0] == c)
        .count();
    if len < MIN_RUN {
        return None;
    }
    let rests = arms[..len]
        .iter()
        .map(|a| Arm {
            action: a.action,
            conds: a.conds[1..].to_vec(),
        })
        .collect();
    Some((c, rests))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::policy::{CmpOp, Width};

    fn cond(arg: u8, v: u64) -> Condition {
        Condition {
            arg,
            op: CmpOp::Eq(v),
            width: Width::Bits64,
        }
    }

    fn arm(action: Action, conds: &[Condition]) -> Arm {
        Arm {
            action,
            conds: conds.to_vec(),
        }
    }

    #[test]
    fn a_run_ends_at_another_condition_or_a_lone_condition() {
        let c = cond(0, 7);
        let arms = vec![
            arm(Action::Log, &[c, cond(1, 1)]),
            arm(Action::Allow, &[c, cond(1, 2), cond(2, 3)]),
            arm(Action::Allow, &[c]),
            arm(Action::Allow, &[c, cond(1, 4)]),
        ];
        let (shared, rests) = shared_run(&arms).unwrap();
        assert_eq!(shared, c);
        assert_eq!(rests.len(), 2);
        assert_eq!(rests[0].action, Action::Log);
        assert_eq!(rests[1].conds, vec![cond(1, 2), cond(2, 3)]);
        let differ = vec![
            arm(Action::Allow, &[c, cond(1, 1)]),
            arm(Action::Allow, &[cond(0, 8), cond(1, 2)]),
        ];
        assert_eq!(shared_run(&differ), None);
        assert_eq!(shared_run(&arms[2..]), None);
    }
}
