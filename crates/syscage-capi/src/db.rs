//! libseccomp 2.5's per-arch rule database (`db_rule_add` / `_db_tree_add`
//! in its `src/db.c`), as far as it decides what the filter enforces:
//!
//! - once a syscall has an unconditional rule, later rules for it are
//!   dropped, whatever their action (success is returned);
//! - an unconditional rule added after conditional ones replaces them;
//! - a conditional rule whose conditions extend an earlier rule's (same
//!   leading arguments and comparisons) is dropped: the earlier one is more
//!   general; with another action and the *same* conditions, or an earlier
//!   rule extending the new one with another action, `seccomp_rule_add`
//!   fails with `-EEXIST`.
//!
//! syscage's `profile::translate` models the same for runc's profiles.

use std::collections::BTreeMap;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::policy::Condition;

/// The rules kept for one syscall on one arch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// One unconditional rule.
    Unconditional(Action),
    /// Conditional rules (conditions sorted by argument), in order.
    Chains(Vec<(Vec<Condition>, Action)>),
}

/// One arch's filter of a context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchDb {
    /// The arch.
    pub arch: Arch,
    /// Rules per syscall number on this arch (`seccomp_data.nr`).
    pub rules: BTreeMap<u32, Entry>,
}

/// `EEXIST`: the rule conflicts with one already in the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conflict;

/// A rule's conditions as libseccomp 2.5 compiles them on `arch`
/// (`_db_rule_gen_64` / `_db_rule_gen_32`, see
/// [`syscage::profile::translate::libseccomp_conditions`]: on a 32-bit
/// arch, x32 included, only the low words are compared; `MASKED_EQ`
/// compares with `datum & mask`, and one with mask 0 always holds and
/// disappears), in argument order.
pub fn libseccomp_conditions(conds: &[Condition], arch: Arch) -> Vec<Condition> {
    let mut out = syscage::profile::translate::libseccomp_conditions(conds, arch);
    out.sort_by_key(|c| c.arg);
    out
}

impl ArchDb {
    /// An empty filter for `arch`.
    pub fn new(arch: Arch) -> Self {
        ArchDb {
            arch,
            rules: BTreeMap::new(),
        }
    }

    /// Adds `action` for syscall `nr` when `conds` (already in
    /// [`libseccomp_conditions`] form) hold.
    pub fn add(&mut self, nr: u32, conds: Vec<Condition>, action: Action) -> Result<(), Conflict> {
        let entry = self.rules.entry(nr);
        let entry = match entry {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(if conds.is_empty() {
                    Entry::Unconditional(action)
                } else {
                    Entry::Chains(vec![(conds, action)])
                });
                return Ok(());
            }
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
        };
        match entry {
            Entry::Unconditional(_) => Ok(()),
            Entry::Chains(_) if conds.is_empty() => {
                *entry = Entry::Unconditional(action);
                Ok(())
            }
            Entry::Chains(chains) => {
                let mut i = 0;
                while i < chains.len() {
                    let (c, a) = &chains[i];
                    let a = *a;
                    if conds.starts_with(c) {
                        // The kept rule is as general or more.
                        if a != action && c.len() == conds.len() {
                            return Err(Conflict);
                        }
                        return Ok(());
                    }
                    if c.starts_with(&conds) {
                        if a != action {
                            return Err(Conflict);
                        }
                        chains.remove(i);
                        continue;
                    }
                    i += 1;
                }
                chains.push((conds, action));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage::policy::CmpOp;

    #[test]
    fn libseccomp_tree_rules() {
        let mut db = ArchDb::new(Arch::X86_64);
        let c0 = vec![Condition::new(0, CmpOp::Eq(1))];
        let c01 = vec![
            Condition::new(0, CmpOp::Eq(1)),
            Condition::new(1, CmpOp::Eq(2)),
        ];
        db.add(1, c01.clone(), Action::Errno(1)).unwrap();
        // A prefix with another action conflicts; with the same, replaces.
        assert_eq!(db.add(1, c0.clone(), Action::Errno(2)), Err(Conflict));
        db.add(1, c0.clone(), Action::Errno(1)).unwrap();
        assert_eq!(
            db.rules[&1],
            Entry::Chains(vec![(c0.clone(), Action::Errno(1))])
        );
        // An extension is dropped (different action, longer): success.
        db.add(1, c01, Action::Errno(3)).unwrap();
        assert_eq!(db.add(1, c0, Action::Errno(3)), Err(Conflict));
        db.add(1, vec![], Action::Log).unwrap();
        db.add(1, vec![], Action::Trap(0)).unwrap();
        assert_eq!(db.rules[&1], Entry::Unconditional(Action::Log));
    }

    #[test]
    fn narrow_arches_compare_low_words() {
        let c = [
            Condition::new(
                2,
                CmpOp::MaskedEq {
                    mask: 0x1_0000_0000,
                    value: 3,
                },
            ),
            Condition::new(0, CmpOp::Gt(0x1_0000_0005)),
        ];
        assert_eq!(
            libseccomp_conditions(&c, Arch::X32),
            vec![Condition::new32(0, CmpOp::Gt(5))]
        );
        assert_eq!(libseccomp_conditions(&c, Arch::X86_64).len(), 2);
    }
}
