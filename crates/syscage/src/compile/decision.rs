//! Pass 2, decisions: what one (arch, syscall number) decides.
//!
//! A [`Decision`] is an action, or an [`ArgTree`]: arms tried in order of
//! decreasing severity, the first whose conditions all hold giving its
//! action, else a fallback. This is the reference semantics ("the most
//! severe matching rule wins, else the default") made sequential:
//! unconditional rules fold into the fallback, arms that cannot beat it are
//! dropped, conditions are normalised to what is really compared (a 32-bit
//! arch or a 32-bit rule compares the low words only) and always-true or
//! never-true conditions are resolved here.

use crate::action::Action;
use crate::policy::{CmpOp, Condition, Rule, Width};
use std::collections::HashMap;

/// One arm of an argument tree: `action` when every condition holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Arm {
    /// The action.
    pub action: Action,
    /// Normalised conditions, sorted by argument.
    pub conds: Vec<Condition>,
}

/// Argument checks of one syscall: the first arm that holds decides, else
/// `fallback`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArgTree {
    /// Arms, most severe action first.
    pub arms: Vec<Arm>,
    /// Action when no arm holds.
    pub fallback: Action,
}

/// What a syscall number decides.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// An action, whatever the arguments (cacheable by the kernel).
    Action(Action),
    /// An action that depends on the arguments.
    Args(ArgTree),
}

/// Index of an interned decision.
pub type DecisionId = usize;

/// Interned decisions: equal decisions share one id, so ranges can merge.
#[derive(Clone, Debug, Default)]
pub struct Decisions {
    list: Vec<Decision>,
    ids: HashMap<Decision, DecisionId>,
    /// Plain actions, the common case, found without hashing.
    actions: Vec<(Action, DecisionId)>,
}

impl Decisions {
    /// The id of `d`, interning it on first sight.
    pub fn intern(&mut self, d: Decision) -> DecisionId {
        if let Decision::Action(a) = d {
            if let Some(&(_, id)) = self.actions.iter().find(|x| x.0 == a) {
                return id;
            }
            let id = self.list.len();
            self.list.push(d);
            self.actions.push((a, id));
            return id;
        }
        if let Some(&id) = self.ids.get(&d) {
            return id;
        }
        let id = self.list.len();
        self.list.push(d.clone());
        self.ids.insert(d, id);
        id
    }

    /// The decision of an id.
    pub fn get(&self, id: DecisionId) -> &Decision {
        &self.list[id]
    }
}

/// The condition as it is really compared: on a narrow arch, or for a
/// 32-bit rule, the low words only.
pub fn normalize(c: Condition, wide: bool) -> Condition {
    if wide && c.width == Width::Bits64 {
        c
    } else {
        Condition::new32(c.arg, c.op.low32())
    }
}

/// `Some(b)` when a normalised condition holds (or fails) for every value.
pub fn constant_truth(c: &Condition) -> Option<bool> {
    let max = match c.width {
        Width::Bits64 => u64::MAX,
        Width::Bits32 => 0xffff_ffff,
    };
    match c.op {
        CmpOp::Ge(0) | CmpOp::Le(u64::MAX) => Some(true),
        CmpOp::Lt(0) | CmpOp::Gt(u64::MAX) => Some(false),
        CmpOp::Le(v) if v >= max => Some(true),
        CmpOp::Gt(v) if v >= max => Some(false),
        CmpOp::MaskedEq { mask, value } if value & !mask != 0 => Some(false),
        CmpOp::MaskedEq { mask: 0, .. } => Some(true),
        _ => None,
    }
}

/// The decision of one syscall given the rules that name it on an arch
/// whose arguments are `wide` (64-bit) or not.
pub fn decide(rules: &[&Rule], default: Action, wide: bool) -> Decision {
    let mut unconditional: Option<Action> = None;
    let mut arms: Vec<Arm> = Vec::new();
    'rules: for rule in rules {
        let mut conds = Vec::with_capacity(rule.conditions.len());
        for c in &rule.conditions {
            let n = normalize(*c, wide);
            match constant_truth(&n) {
                Some(true) => {}
                Some(false) => continue 'rules,
                None => conds.push(n),
            }
        }
        if conds.is_empty() {
            unconditional = Some(unconditional.map_or(rule.action, |u| u.max(rule.action)));
        } else {
            conds.sort_by_key(|c| (c.arg, c.width == Width::Bits32));
            conds.dedup();
            arms.push(Arm {
                action: rule.action,
                conds,
            });
        }
    }
    let fallback = unconditional.unwrap_or(default);
    // With unconditional rules, a matching arm decides max(arm, their
    // action): only more severe arms matter.
    if let Some(u) = unconditional {
        arms.retain(|a| a.action > u);
    }
    // Stable: most severe first, policy order among equals.
    arms.sort_by_key(|a| std::cmp::Reverse(a.action));
    // Without them, the most severe matching arm decides, even below the
    // default; an arm giving the fallback only matters when less severe
    // arms follow it.
    while arms.last().is_some_and(|a| a.action == fallback) {
        arms.pop();
    }
    let mut seen = Vec::new();
    arms.retain(|a| {
        let fresh = !seen.contains(a);
        if fresh {
            seen.push(a.clone());
        }
        fresh
    });
    if arms.is_empty() {
        Decision::Action(fallback)
    } else {
        Decision::Args(ArgTree { arms, fallback })
    }
}
