//! The reference evaluator: DESIGN.md's rule semantics and nothing else.

use super::Policy;
use crate::action::Action;
use crate::arch::Arch;
/// The x86_64/x32 split, which the arch module owns (re-exported here for
/// the compiler passes that mirror [`Policy::arch_for`]).
pub use crate::arch::{x86_64_class, X86_64Class, X86_64_CLASS_RANGES};
use crate::bpf::data::SeccompData;

impl Policy {
    /// The arch of the policy that handles `data`, or `None` for the
    /// bad-arch action.
    ///
    /// On x86_64's audit id the arch module's [`x86_64_class`] splits
    /// numbers between x86_64 and x32 (as libseccomp does), and
    /// [`X86_64Class::owner`] picks the arch: `nr == -1` (a tracer's "skip
    /// this syscall") goes to x32 if the policy has it, else stays with
    /// x86_64 rather than taking the bad-arch action.
    pub fn arch_for(&self, data: &SeccompData) -> Option<Arch> {
        let has = |a: Arch| self.arches.contains(&a);
        if data.arch != Arch::X86_64.audit() {
            return self.arches.iter().copied().find(|a| a.audit() == data.arch);
        }
        x86_64_class(data.nr).owner(
            has(Arch::X86_64).then_some(Arch::X86_64),
            has(Arch::X32).then_some(Arch::X32),
        )
    }

    /// The action the policy decides for one syscall: the most severe action
    /// among the matching rules of its arch, else the unknown-syscall action
    /// for a number the arch's table lacks (if set), else the default. An
    /// arch the policy does not handle gets
    /// [`Policy::other_arch_action`] (the bad-arch action without
    /// other-arch rules).
    pub fn evaluate(&self, data: &SeccompData) -> Action {
        let Some(arch) = self.arch_for(data) else {
            return self.other_arch_action(data);
        };
        let wide = arch.args_64bit();
        let mut named = false;
        let mut best: Option<Action> = None;
        for rule in &self.rules {
            if rule.arch.is_some_and(|a| a != arch) || rule.syscall.resolve(arch) != Some(data.nr) {
                continue;
            }
            named = true;
            let all = rule
                .conditions
                .iter()
                .all(|c| c.holds(data.args[c.arg as usize], wide));
            if all {
                best = Some(best.map_or(rule.action, |b| b.max(rule.action)));
            }
        }
        if let Some(action) = best {
            return action;
        }
        if let Some(action) = (!named)
            .then(|| self.number_range_action(arch, data.nr))
            .flatten()
        {
            return action;
        }
        match self.unknown_action {
            Some(unknown) if !named && arch.syscall_name(data.nr).is_none() => unknown,
            _ => self.default_action,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::action::Action;
    use crate::arch::{x32_nr, Arch};
    use crate::bpf::data::SeccompData;
    use crate::policy::{CmpOp, Condition, Policy, Rule};

    fn data(arch: Arch, nr: u32, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr,
            arch: arch.audit(),
            instruction_pointer: 0,
            args,
        }
    }

    #[test]
    fn most_severe_match_wins() {
        let mut p = Policy::init(Action::Allow).unwrap();
        p.set_arches(vec![Arch::X86_64]).unwrap();
        p.rule_add_verbatim(Rule::new("write", Action::Errno(1)));
        p.rule_add_verbatim(
            Rule::new("write", Action::KillThread).with(Condition::new(0, CmpOp::Eq(1 << 32))),
        );
        assert_eq!(p.evaluate(&data(Arch::X86_64, 1, [0; 6])), Action::Errno(1));
        assert_eq!(
            p.evaluate(&data(Arch::X86_64, 1, [1 << 32, 0, 0, 0, 0, 0])),
            Action::KillThread
        );
        assert_eq!(p.evaluate(&data(Arch::X86_64, 0, [0; 6])), Action::Allow);
        // i386 and x32 are other arches here.
        assert_eq!(p.evaluate(&data(Arch::X86, 4, [0; 6])), Action::KillProcess);
        assert_eq!(
            p.evaluate(&data(Arch::X86_64, 0x4000_0001, [0; 6])),
            Action::KillProcess
        );
        assert_eq!(
            p.evaluate(&data(Arch::X86_64, 0x8000_0000, [0; 6])),
            Action::KillProcess
        );
        // -1 stays with x86_64 (libseccomp 2.5 does the same).
        assert_eq!(
            p.evaluate(&data(Arch::X86_64, u32::MAX, [0; 6])),
            Action::Allow
        );
    }

    #[test]
    fn x32_and_unknown() {
        let mut p = Policy::init(Action::Errno(1)).unwrap();
        p.set_arches(vec![Arch::X86_64, Arch::X32]).unwrap();
        p.set_unknown_action(Some(Action::Errno(38))).unwrap();
        p.rule_add_verbatim(Rule::new("read", Action::Allow));
        assert_eq!(
            p.evaluate(&data(Arch::X86_64, x32_nr(0), [0; 6])),
            Action::Allow
        );
        assert_eq!(p.evaluate(&data(Arch::X86_64, 0, [0; 6])), Action::Allow);
        assert_eq!(p.evaluate(&data(Arch::X86_64, 1, [0; 6])), Action::Errno(1));
        assert_eq!(
            p.evaluate(&data(Arch::X86_64, 9999, [0; 6])),
            Action::Errno(38)
        );
        // 32-bit arch: only the low word of args and constants exists.
        let mut q = Policy::init(Action::Allow).unwrap();
        q.set_arches(vec![Arch::X86]).unwrap();
        q.rule_add_verbatim(
            Rule::new("write", Action::Errno(2)).with(Condition::new(0, CmpOp::Eq(0x1_0000_0001))),
        );
        assert_eq!(
            q.evaluate(&data(Arch::X86, 4, [1, 0, 0, 0, 0, 0])),
            Action::Errno(2)
        );
    }
}
