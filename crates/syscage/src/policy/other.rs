//! Rules for the arches a policy does not list (the language's
//! `arch other { … }` section).
//!
//! A filter's decision for an arch it does not check is usually one
//! action, the bad-arch action (`SCMP_FLTATR_ACT_BADARCH`). Some filters
//! decide more there: firejail's protocol filter lets every syscall of an
//! unchecked arch through but tests `socket`'s domain by its x86_64 number
//! whatever the arch. Other-arch rules say that: for a number (syscall
//! names mean nothing on an arch the policy does not know), an action when
//! every condition holds.
//!
//! Evaluation, for an input whose arch the policy does not handle
//! ([`Policy::arch_for`] gives none: an unlisted audit id, or x32's numbers
//! on x86_64's id when x32 is not listed): the most severe action among
//! the other-arch rules of its number whose conditions hold, else the
//! bad-arch action. Conditions compare the argument words as the kernel
//! passes them (`seccomp_data.args` is 64 bits wide on every arch), so a
//! 64-bit condition compares all 64 bits.

use super::builder::PolicyError;
use super::{Condition, Policy, Rule, SyscallId};
use crate::action::Action;
use crate::bpf::data::SeccompData;

impl Policy {
    /// Adds an other-arch rule: `action` for syscall number `nr` of an arch
    /// the policy does not list, when every condition holds. Checked as
    /// [`Policy::rule_add`] checks a rule (argument indices, masks, the
    /// errno range); the number of conditions is not limited to six (a
    /// filter's path may test both words of several arguments).
    pub fn other_rule_add(
        &mut self,
        action: Action,
        nr: u32,
        conditions: &[Condition],
    ) -> Result<&mut Self, PolicyError> {
        super::builder::check_action(action)?;
        super::builder::check_conditions(conditions)?;
        let mut rule = Rule::new(SyscallId::Nr(nr), action);
        rule.conditions = conditions.to_vec();
        self.other_rules.push(rule);
        Ok(self)
    }

    /// The other-arch rules, in the order added: each names a number
    /// ([`SyscallId::Nr`]) and no arch.
    pub fn other_rules(&self) -> &[Rule] {
        &self.other_rules
    }

    /// What an input of an arch the policy does not handle gets: the most
    /// severe matching other-arch rule of its number, else the bad-arch
    /// action.
    pub fn other_arch_action(&self, data: &SeccompData) -> Action {
        self.other_rules
            .iter()
            .filter(|r| r.syscall == SyscallId::Nr(data.nr))
            .filter(|r| {
                r.conditions
                    .iter()
                    .all(|c| c.holds(data.args[c.arg as usize], true))
            })
            .map(|r| r.action)
            .max()
            .unwrap_or(self.bad_arch_action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::policy::arg;

    #[test]
    fn unlisted_arches_take_number_rules_then_the_bad_arch_action() {
        let mut p = Policy::init(Action::Errno(1)).unwrap();
        p.set_arches(vec![Arch::X86_64]).unwrap();
        p.set_bad_arch_action(Action::Allow).unwrap();
        p.other_rule_add(Action::Errno(95), 0x167, &[]).unwrap();
        p.other_rule_add(Action::KillThread, 0x167, &[arg(0).eq(1 << 32)])
            .unwrap();
        let d = |arch: Arch, nr: u32, a0: u64| SeccompData {
            nr,
            arch: arch.audit(),
            args: [a0, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        assert_eq!(p.evaluate(&d(Arch::X86, 0x167, 0)), Action::Errno(95));
        // All 64 bits compared, whatever the arch.
        assert_eq!(
            p.evaluate(&d(Arch::X86, 0x167, 1 << 32)),
            Action::KillThread
        );
        assert_eq!(p.evaluate(&d(Arch::X86, 3, 0)), Action::Allow);
        // x32's numbers on x86_64's id, x32 not listed: an other arch.
        assert_eq!(p.evaluate(&d(Arch::X86_64, 0x167, 0)), Action::Errno(1));
        assert_eq!(
            p.evaluate(&d(Arch::X86_64, crate::arch::X32_SYSCALL_BIT, 0)),
            Action::Allow
        );
        assert_eq!(
            p.other_rule_add(Action::Allow, 1, &[arg(6).eq(0)])
                .unwrap_err(),
            PolicyError::ArgIndex(6)
        );
        assert_eq!(
            p.other_rule_add(Action::Errno(5000), 1, &[]).unwrap_err(),
            PolicyError::ErrnoRange(5000)
        );
        assert_eq!(p.other_rules().len(), 2);
    }

    #[test]
    fn map_actions_reaches_every_decided_action_but_bad_arch() {
        use crate::policy::NumberRange;
        let mut p = Policy::init(Action::Allow).unwrap();
        p.set_arches(vec![Arch::X86_64]).unwrap();
        p.set_bad_arch_action(Action::Allow).unwrap();
        p.rule_add_exact(Action::Allow, SyscallId::Name("read".into()), &[])
            .unwrap();
        p.add_number_range(NumberRange {
            arch: None,
            lo: 1000,
            hi: 1100,
            action: Action::Allow,
        })
        .unwrap();
        p.other_rule_add(Action::Allow, 3, &[]).unwrap();
        let to_log = |a: Action| if a == Action::Allow { Action::Log } else { a };
        p.map_actions(to_log).unwrap();
        assert!(p.decided_actions().all(|a| a == Action::Log));
        assert_eq!(p.decided_actions().count(), 4);
        assert_eq!(p.bad_arch_action(), Action::Allow);
        // A refused change leaves the policy as it was.
        assert!(p.map_actions(|_| Action::Errno(5000)).is_err());
        assert!(p.decided_actions().all(|a| a == Action::Log));
    }
}
