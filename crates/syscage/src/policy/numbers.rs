//! Number-range actions: "numbers `lo..=hi` that no rule names take this
//! action", on one arch of the policy or on all of them. They say what a
//! filter decides for whole stretches of the number line (x32's numbers on
//! a filter that refuses them, every number above a table's last one),
//! which rules, one number at a time, cannot.
//!
//! Evaluation: a number some rule of its arch names is decided by its rules
//! (and the default); an unnamed number inside ranges takes the most severe
//! of their actions; other numbers take the unknown-syscall action or the
//! default as before.

use super::builder::PolicyError;
use super::Policy;
use crate::action::Action;
use crate::arch::Arch;

/// Numbers `lo..=hi` that no rule names take `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NumberRange {
    /// The arch it applies to (`None`: every arch of the policy).
    pub arch: Option<Arch>,
    /// First number.
    pub lo: u32,
    /// Last number (inclusive).
    pub hi: u32,
    /// The action.
    pub action: Action,
}

impl NumberRange {
    /// Whether the range covers `nr` on `arch`.
    pub fn covers(&self, arch: Arch, nr: u32) -> bool {
        self.arch.is_none_or(|a| a == arch) && self.lo <= nr && nr <= self.hi
    }
}

impl Policy {
    /// Adds a number-range action (checked: `lo <= hi`, the arch in the
    /// policy, the errno in range).
    pub fn add_number_range(&mut self, range: NumberRange) -> Result<&mut Self, PolicyError> {
        if let Action::Errno(e) = range.action {
            if e > super::MAX_ERRNO {
                return Err(PolicyError::ErrnoRange(e));
            }
        }
        if let Some(a) = range.arch {
            if !self.arches.contains(&a) {
                return Err(PolicyError::ArchAbsent(a));
            }
        }
        if range.lo > range.hi {
            return Err(PolicyError::EmptyRange {
                lo: range.lo,
                hi: range.hi,
            });
        }
        self.number_ranges.push(range);
        Ok(self)
    }

    /// The number-range actions, in the order they were added.
    pub fn number_ranges(&self) -> &[NumberRange] {
        &self.number_ranges
    }

    /// The action ranges give an unnamed `nr` on `arch`: the most severe
    /// of those covering it.
    pub fn number_range_action(&self, arch: Arch, nr: u32) -> Option<Action> {
        self.number_ranges
            .iter()
            .filter(|r| r.covers(arch, nr))
            .map(|r| r.action)
            .max()
    }
}
