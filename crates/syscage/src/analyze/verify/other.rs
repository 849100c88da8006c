//! Arches the policy does not handle, in the proof: an unlisted audit id,
//! or x32's numbers on x86_64's id without x32. They take the policy's
//! other-arch rules ([`Policy::other_rules`], the language's
//! `arch other { … }`), evaluated as [`Policy::other_arch_action`] does:
//! per number the most severe rule whose conditions hold (all 64 bits of
//! an argument compared), else the bad-arch action.

use super::{Checker, NrRules, VerifyError};
use crate::analyze::domain::IntervalSet;
use crate::analyze::lift::{Region, Verdict, WORD_ARCH, WORD_NR};
use crate::bpf::ByteOrder;
#[cfg(doc)]
use crate::policy::Policy;
use crate::policy::{Rule, SyscallId};
use std::collections::BTreeMap;

impl Checker<'_> {
    /// Checks `region`, of arches the policy does not handle, against its
    /// other-arch rules.
    pub(super) fn other_arches(&self, region: &Region, got: Verdict) -> Result<(), VerifyError> {
        let bad = self.policy.bad_arch_action();
        if self.policy.other_rules().is_empty() {
            return self.expect(region, bad, got);
        }
        let mut by_nr: BTreeMap<u32, Vec<&Rule>> = BTreeMap::new();
        for r in self.policy.other_rules() {
            if let SyscallId::Nr(nr) = r.syscall {
                by_nr.entry(nr).or_default().push(r);
            }
        }
        let named = IntervalSet::from_values(by_nr.keys().copied());
        let mut unnamed = region[WORD_NR].clone();
        unnamed.restrict(&named.complement());
        if got.action() != Some(bad) && unnamed.is_feasible() {
            let mut r = region.clone();
            r[WORD_NR] = unnamed;
            self.expect(&r, bad, got)?;
        }
        let order = self.order_of(region);
        for (nr, rules) in by_nr {
            if !region[WORD_NR].contains(nr) {
                continue;
            }
            let mut r = region.clone();
            r[WORD_NR].restrict(&IntervalSet::single(nr));
            // Every argument compared on all 64 bits, whatever the arch.
            let rules = NrRules::laid_out(rules, true, order);
            self.rules(&rules, r, got, bad, || VerifyError::TooComplexOther { nr })?;
        }
        Ok(())
    }

    /// The byte order of the arguments in `region`: its audit id's policy
    /// arch's (x86_64's id without x32), else the table's.
    fn order_of(&self, region: &Region) -> ByteOrder {
        match region[WORD_ARCH].intervals.intervals() {
            [(lo, hi)] if lo == hi => self
                .policy
                .arches()
                .iter()
                .find(|a| a.audit() == *lo)
                .map_or(self.order, |a| a.byte_order()),
            _ => self.order,
        }
    }
}
