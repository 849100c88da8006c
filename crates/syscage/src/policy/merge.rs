//! `seccomp_merge` and `seccomp_syscall_priority`.

use super::{NumberRange, Policy, PolicyError, Rule, SyscallId};
use crate::arch::Arch;

impl Policy {
    /// `seccomp_merge(dst, src)`: takes `other`'s arches and rules into
    /// this policy. As libseccomp requires, both must have the same
    /// default action, no-new-privs and TSYNC settings
    /// ([`PolicyError::MergeAttribute`], libseccomp's `-EINVAL`), the same
    /// byte order ([`PolicyError::MergeByteOrder`], `-EDOM`) and no arch
    /// in common ([`PolicyError::ArchPresent`], `-EEXIST`); their
    /// other-arch rules must be the same too. Other
    /// attributes are this policy's. Every rule stays on the arches of
    /// its side: a rule (or number-range action) for all arches becomes
    /// one copy per arch of its policy, arch by arch.
    pub fn merge(&mut self, other: Policy) -> Result<&mut Self, PolicyError> {
        if self.default_action != other.default_action {
            return Err(PolicyError::MergeAttribute("default action"));
        }
        if self.attrs.no_new_privs != other.attrs.no_new_privs {
            return Err(PolicyError::MergeAttribute("no-new-privs"));
        }
        if self.attrs.tsync != other.attrs.tsync {
            return Err(PolicyError::MergeAttribute("TSYNC"));
        }
        if let (Some(a), Some(b)) = (self.arches.first(), other.arches.first()) {
            if a.byte_order() != b.byte_order() {
                return Err(PolicyError::MergeByteOrder);
            }
        }
        if let Some(a) = other.arches.iter().find(|a| self.arches.contains(a)) {
            return Err(PolicyError::ArchPresent(*a));
        }
        // What unlisted arches get is one fact of the merged filter.
        if self.other_rules != other.other_rules {
            return Err(PolicyError::MergeAttribute("`arch other` section"));
        }
        // Rules of either side stay on the arches they were written for
        // (libseccomp keeps one rule database per arch).
        let mine = pinned(std::mem::take(&mut self.rules), &self.arches);
        self.rules = mine;
        let theirs = other.arches.clone();
        self.rules.extend(pinned(other.rules, &theirs));
        // Number-range actions likewise (the unknown-number action of a
        // side is a range of its own arches).
        let mine = pinned_ranges(std::mem::take(&mut self.number_ranges), &self.arches);
        self.number_ranges = mine;
        self.number_ranges
            .extend(pinned_ranges(other.number_ranges, &theirs));
        self.arches.extend(theirs);
        self.priorities.extend(other.priorities);
        Ok(self)
    }

    /// `seccomp_syscall_priority`: a hint that `syscall` is frequent
    /// (higher `priority`, earlier check). Decisions never depend on it;
    /// the last priority given for a syscall counts.
    pub fn syscall_priority(&mut self, syscall: impl Into<SyscallId>, priority: u8) -> &mut Self {
        let id = syscall.into();
        self.priorities.retain(|(s, _)| *s != id);
        self.priorities.push((id, priority));
        self
    }
}

/// `rules` restricted to the arches they apply to among `arches`: for
/// each arch in order, its rules in order, a rule for every arch copied
/// onto each (rules for an arch outside `arches` decided nothing and go).
fn pinned(rules: Vec<Rule>, arches: &[Arch]) -> Vec<Rule> {
    let mut out = Vec::new();
    for &a in arches {
        for r in &rules {
            match r.arch {
                None => out.push(r.clone().on_arch(a)),
                Some(x) if x == a => out.push(r.clone()),
                Some(_) => {}
            }
        }
    }
    out
}

/// [`pinned`] for number-range actions.
fn pinned_ranges(ranges: Vec<NumberRange>, arches: &[Arch]) -> Vec<NumberRange> {
    let mut out = Vec::new();
    for &a in arches {
        for r in &ranges {
            if r.arch.is_none_or(|x| x == a) {
                out.push(NumberRange {
                    arch: Some(a),
                    ..*r
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;

    fn one(arch: Arch) -> Policy {
        let mut p = Policy::init(Action::Allow).unwrap();
        p.set_arches(vec![arch]).unwrap();
        p
    }

    #[test]
    fn merge_checks_and_keeps_rules_on_their_arch() {
        let mut a = one(Arch::X86_64);
        a.rule_add(Action::Errno(1), "read", &[]).unwrap();
        let mut b = one(Arch::X86);
        b.rule_add(Action::Errno(2), "write", &[]).unwrap();
        a.merge(b.clone()).unwrap();
        assert_eq!(a.arches, vec![Arch::X86_64, Arch::X86]);
        assert_eq!(a.rules[0].arch, Some(Arch::X86_64));
        assert_eq!(a.rules[1].arch, Some(Arch::X86));
        assert_eq!(a.merge(b).unwrap_err(), PolicyError::ArchPresent(Arch::X86));

        let mut c = one(Arch::Aarch64);
        c.set_default_action(Action::KillProcess).unwrap();
        assert!(matches!(
            one(Arch::X86_64).merge(c).unwrap_err(),
            PolicyError::MergeAttribute(_)
        ));
        let mut d = one(Arch::Aarch64);
        let mut tsync = *d.attributes();
        tsync.tsync = true;
        d.set_attributes(tsync).unwrap();
        assert!(matches!(
            one(Arch::X86_64).merge(d).unwrap_err(),
            PolicyError::MergeAttribute(_)
        ));
        assert_eq!(
            one(Arch::X86_64).merge(one(Arch::S390x)).unwrap_err(),
            PolicyError::MergeByteOrder
        );
    }

    #[test]
    fn merge_keeps_number_ranges_on_their_arch() {
        let range = |lo, action| NumberRange {
            arch: None,
            lo,
            hi: lo + 9,
            action,
        };
        let mut a = one(Arch::X86_64);
        a.add_number_range(range(500, Action::Errno(38))).unwrap();
        let mut b = one(Arch::X86);
        b.add_number_range(range(600, Action::KillProcess)).unwrap();
        a.merge(b).unwrap();
        assert_eq!(
            a.number_range_action(Arch::X86_64, 505),
            Some(Action::Errno(38))
        );
        assert_eq!(a.number_range_action(Arch::X86_64, 605), None);
        assert_eq!(
            a.number_range_action(Arch::X86, 605),
            Some(Action::KillProcess)
        );
        assert_eq!(a.number_range_action(Arch::X86, 505), None);
    }

    #[test]
    fn priority_replaces() {
        let mut p = one(Arch::X86_64);
        p.syscall_priority("read", 1).syscall_priority("read", 7);
        assert_eq!(p.priorities, vec![(SyscallId::Name("read".into()), 7)]);
    }
}
