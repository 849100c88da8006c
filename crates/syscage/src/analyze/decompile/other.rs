//! What the filter decides for the arches it does not check: one
//! bad-arch action, or, when the decision there depends on the syscall
//! number and its arguments (firejail's protocol filter tests `socket`'s
//! domain by its x86_64 number whatever the arch), the bad-arch action for
//! most numbers and other-arch rules ([`Policy::other_rule_add`], the
//! language's `arch other { … }`) for the rest.

use super::conditions::conditions_of;
use super::numbers::exact_numbers;
use super::{action_of, DecompileError, MAX_RULES_PER_PATH, MAX_UNKNOWN_NUMBERS};
use crate::action::Action;
use crate::analyze::domain::IntervalSet;
use crate::analyze::lift::{DecisionTable, Region, WORD_ARCH, WORD_NR};
use crate::arch::Arch;
use crate::bpf::ByteOrder;
use crate::policy::Policy;
use std::collections::BTreeMap;

/// Sets `policy`'s bad-arch action and other-arch rules from the leaves of
/// `table` that arch ids in `others` (those the filter does not check)
/// reach. Refused ([`DecompileError::MixedBadArch`]) when the decision
/// depends on which unchecked arch it is, or needs rules for more numbers
/// than a filter could test.
pub(super) fn other_arches(
    table: &DecisionTable,
    others: &IntervalSet,
    policy: &mut Policy,
) -> Result<(), DecompileError> {
    let mut entries: Vec<(IntervalSet, &Region, Action)> = Vec::new();
    for leaf in &table.leaves {
        let mut d = leaf.region[WORD_ARCH].clone();
        d.restrict(others);
        if !d.is_feasible() {
            continue;
        }
        let action = action_of(leaf.verdict)?;
        // The same decision for every unchecked arch, or none expressible.
        if d.intervals != *others || d.fixed_mask != 0 || !d.excluded.is_empty() {
            return Err(DecompileError::MixedBadArch);
        }
        let nr = &leaf.region[WORD_NR];
        let numbers = exact_numbers(nr, &nr.intervals).ok_or(DecompileError::MixedBadArch)?;
        if !numbers.is_empty() {
            entries.push((numbers, &leaf.region, action));
        }
    }
    // The bad-arch action: what most numbers get.
    let mut counts: BTreeMap<Action, u64> = BTreeMap::new();
    for (numbers, _, action) in &entries {
        *counts.entry(*action).or_default() += numbers.count();
    }
    let Some(bad) = counts
        .iter()
        .max_by_key(|&(a, n)| (*n, std::cmp::Reverse(*a)))
        .map(|(a, _)| *a)
    else {
        policy.set_bad_arch_action(Action::KillProcess)?;
        return Ok(());
    };
    policy.set_bad_arch_action(bad)?;
    // Arguments as the kernel passes them: 64 bits, in the table's order.
    let wide = match table.order {
        ByteOrder::Little => Arch::X86_64,
        ByteOrder::Big => Arch::S390x,
    };
    let mut rules = 0usize;
    for (numbers, region, action) in entries {
        if action == bad {
            continue;
        }
        if numbers.count() > MAX_UNKNOWN_NUMBERS {
            return Err(DecompileError::MixedBadArch);
        }
        let alternatives = conditions_of(table.order, region, wide).map_err(|e| match e {
            DecompileError::TooManyRules(_) => {
                DecompileError::TooManyRules("the arches the filter does not check".into())
            }
            e => e,
        })?;
        for &(lo, hi) in numbers.intervals() {
            for nr in lo..=hi {
                for conds in &alternatives {
                    rules += 1;
                    if rules > MAX_RULES_PER_PATH {
                        return Err(DecompileError::MixedBadArch);
                    }
                    policy.other_rule_add(action, nr, conds)?;
                }
            }
        }
    }
    Ok(())
}
