//! A builder API with libseccomp's shape: [`Policy::init`] is
//! `seccomp_init`, [`Policy::arch_add`] / [`Policy::arch_remove`] are
//! `seccomp_arch_add` / `seccomp_arch_remove`, [`Policy::rule_add`] is
//! `seccomp_rule_add`, and [`arg`] / [`arg32`] build conditions like
//! `SCMP_A0(SCMP_CMP_EQ, v)` / `SCMP_A0_32(...)`.
//!
//! ```
//! use syscage::action::Action;
//! use syscage::arch::Arch;
//! use syscage::policy::{arg, arg32, Policy};
//!
//! let mut p = Policy::init(Action::Errno(1)).unwrap();
//! p.arch_remove(Arch::native()).unwrap();
//! p.arch_add(Arch::X86_64).unwrap();
//! p.rule_add(Action::Allow, "read", &[]).unwrap();
//! p.rule_add(Action::Allow, "write", &[arg(0).eq(1)]).unwrap();
//! p.rule_add(Action::KillProcess, "mmap", &[arg32(2).masked_eq(0x4, 0x4)]).unwrap();
//! assert!(p.rule_add(Action::Allow, "read", &[arg(6).eq(0)]).is_err());
//! ```

use super::{Attributes, CmpOp, Condition, Policy, Rule, SyscallId, Width};
use crate::action::Action;
use crate::arch::Arch;

/// The largest errno the kernel passes through (`MAX_ERRNO`); bigger
/// `SECCOMP_RET_ERRNO` data is clamped by the kernel.
pub const MAX_ERRNO: u16 = 4095;

/// Why the builder refuses a call (libseccomp returns `-EINVAL`,
/// `-EEXIST`, `-EDOM`... for these).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A condition names argument 6 or above (`SCMP_A6` does not exist).
    #[error("argument index {0} is out of range (syscalls have arguments 0 to 5)")]
    ArgIndex(u8),
    /// More than six conditions in one rule (libseccomp's `-EINVAL`).
    #[error("a rule has {0} conditions, more than the 6 arguments a syscall has")]
    TooManyConditions(usize),
    /// The arch is already in the policy (`seccomp_arch_add`'s `-EEXIST`).
    #[error("architecture {0} is already in the filter")]
    ArchPresent(Arch),
    /// The arch is not in the policy (`seccomp_arch_remove`'s `-EEXIST`).
    #[error("architecture {0} is not in the filter")]
    ArchAbsent(Arch),
    /// A syscall name that none of the policy's arches knows
    /// (`seccomp_syscall_resolve_name` gives `__NR_SCMP_ERROR`).
    #[error("syscall '{name}' is unknown on every architecture of the filter ({arches})")]
    UnknownSyscall {
        /// The name.
        name: String,
        /// The policy's arches, comma-separated.
        arches: String,
    },
    /// An errno above `MAX_ERRNO` (4095), which the kernel would clamp.
    #[error("errno {0} is above the kernel's MAX_ERRNO (4095)")]
    ErrnoRange(u16),
    /// `seccomp_merge` of policies whose default action, no-new-privs or
    /// TSYNC differ (libseccomp's `-EINVAL`).
    #[error("cannot merge filters whose {0} differs")]
    MergeAttribute(&'static str),
    /// `seccomp_merge` of policies of different byte order (`-EDOM`).
    #[error("cannot merge filters of different byte order")]
    MergeByteOrder,
    /// `seccomp_rule_add_exact` on a policy with several arches
    /// (`-EOPNOTSUPP`).
    #[error("an exact rule needs a filter with a single architecture")]
    ExactMultiArch,
    /// `seccomp_rule_add_exact` with conditions for a syscall that x86
    /// multiplexes (`-EINVAL`): the conditions cannot be kept as written.
    #[error("'{0}' is multiplexed through socketcall/ipc on x86: its conditions cannot be added exactly")]
    ExactMultiplexed(String),
    /// A number range whose first number is above its last.
    #[error("number range {lo:#x}..{hi:#x} is empty")]
    EmptyRange {
        /// First number.
        lo: u32,
        /// Last number.
        hi: u32,
    },
    /// An optimize level other than 1 or 2 (`SCMP_FLTATR_CTL_OPTIMIZE`'s
    /// `-EINVAL`).
    #[error("optimize level {0} is not 1 or 2")]
    Optimize(u8),
    /// A masked-equal condition whose value has bits outside its mask: it
    /// could never hold.
    #[error("masked-equal condition on argument {arg}: value {value:#x} has bits outside mask {mask:#x}, so it never holds")]
    MaskedValue {
        /// Argument index.
        arg: u8,
        /// The mask.
        mask: u64,
        /// The value.
        value: u64,
    },
}

/// One argument of a rule, to build a [`Condition`] from
/// (libseccomp's `SCMP_A0`..`SCMP_A5` / `SCMP_A0_32`..`SCMP_A5_32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgRef {
    index: u8,
    width: Width,
}

/// Argument `index` compared on all 64 bits (`SCMP_A<index>`).
pub const fn arg(index: u8) -> ArgRef {
    ArgRef {
        index,
        width: Width::Bits64,
    }
}

/// Argument `index` compared on its low 32 bits (`SCMP_A<index>_32`).
///
/// As DESIGN.md says, only the low words are compared. libseccomp 2.5's
/// `SCMP_A0_32` differs: it only truncates the datum (`seccomp.h`'s
/// `_SCMP_CMP32_1`) and still compares all 64 bits on 64-bit arches.
pub const fn arg32(index: u8) -> ArgRef {
    ArgRef {
        index,
        width: Width::Bits32,
    }
}

impl ArgRef {
    const fn cond(self, op: CmpOp) -> Condition {
        Condition {
            arg: self.index,
            op,
            width: self.width,
        }
    }
    /// `SCMP_CMP_EQ`: the argument equals `v`.
    pub const fn eq(self, v: u64) -> Condition {
        self.cond(CmpOp::Eq(v))
    }
    /// `SCMP_CMP_NE`: the argument differs from `v`.
    pub const fn ne(self, v: u64) -> Condition {
        self.cond(CmpOp::Ne(v))
    }
    /// `SCMP_CMP_LT`: the argument is below `v` (unsigned).
    pub const fn lt(self, v: u64) -> Condition {
        self.cond(CmpOp::Lt(v))
    }
    /// `SCMP_CMP_LE`: the argument is at most `v` (unsigned).
    pub const fn le(self, v: u64) -> Condition {
        self.cond(CmpOp::Le(v))
    }
    /// `SCMP_CMP_GT`: the argument is above `v` (unsigned).
    pub const fn gt(self, v: u64) -> Condition {
        self.cond(CmpOp::Gt(v))
    }
    /// `SCMP_CMP_GE`: the argument is at least `v` (unsigned).
    pub const fn ge(self, v: u64) -> Condition {
        self.cond(CmpOp::Ge(v))
    }
    /// `SCMP_CMP_MASKED_EQ`: `(arg & mask) == value`.
    pub const fn masked_eq(self, mask: u64, value: u64) -> Condition {
        self.cond(CmpOp::MaskedEq { mask, value })
    }
}

impl Policy {
    /// `seccomp_init(def_action)`: a policy for the native arch with no rule.
    pub fn init(default_action: Action) -> Result<Self, PolicyError> {
        check_action(default_action)?;
        Ok(Policy::new(default_action))
    }

    /// [`Policy::init`] without the check that an errno is at most
    /// [`MAX_ERRNO`] (libseccomp refuses it; the kernel clamps it). For
    /// producers that must keep such an errno as their input says: the
    /// OCI profile translator (syscage compiles any 16-bit `errnoRet`),
    /// and tests of the kernel's clamping. See also
    /// [`Policy::set_actions_verbatim`] and [`Policy::rule_add_verbatim`].
    pub fn init_verbatim(default_action: Action) -> Self {
        Policy::new(default_action)
    }

    /// Sets the default, bad-arch and unknown-syscall actions without the
    /// [`MAX_ERRNO`] check of [`Policy::set_default_action`] and the
    /// others, for the producers [`Policy::init_verbatim`] names.
    pub fn set_actions_verbatim(
        &mut self,
        default_action: Action,
        bad_arch_action: Action,
        unknown_action: Option<Action>,
    ) -> &mut Self {
        self.default_action = default_action;
        self.bad_arch_action = bad_arch_action;
        self.unknown_action = unknown_action;
        self
    }

    /// `seccomp_reset(ctx, def_action)`: back to what [`Policy::init`]
    /// makes (native arch, no rules, no priorities, default attributes and
    /// actions) with a new default action.
    pub fn reset(&mut self, default_action: Action) -> Result<&mut Self, PolicyError> {
        *self = Policy::init(default_action)?;
        Ok(self)
    }

    /// `seccomp_arch_add`: adds an arch; an arch already present is an error.
    pub fn arch_add(&mut self, arch: Arch) -> Result<&mut Self, PolicyError> {
        if self.arches.contains(&arch) {
            return Err(PolicyError::ArchPresent(arch));
        }
        self.arches.push(arch);
        Ok(self)
    }

    /// `seccomp_arch_remove`: removes an arch; an absent arch is an error.
    pub fn arch_remove(&mut self, arch: Arch) -> Result<&mut Self, PolicyError> {
        let before = self.arches.len();
        self.arches.retain(|&a| a != arch);
        if self.arches.len() == before {
            return Err(PolicyError::ArchAbsent(arch));
        }
        Ok(self)
    }

    /// Replaces the arch list with `arches`, in that order (the checks
    /// appear in it): [`Policy::arch_remove`] of every arch, then
    /// [`Policy::arch_add`] of each given one, so a repeated arch is
    /// [`PolicyError::ArchPresent`] and the policy is left unchanged. An
    /// empty list is allowed (every arch then gets the bad-arch action).
    /// Rules already added keep their arch restriction.
    pub fn set_arches(
        &mut self,
        arches: impl IntoIterator<Item = Arch>,
    ) -> Result<&mut Self, PolicyError> {
        let mut list: Vec<Arch> = Vec::new();
        for a in arches {
            if list.contains(&a) {
                return Err(PolicyError::ArchPresent(a));
            }
            list.push(a);
        }
        self.arches = list;
        Ok(self)
    }

    /// `seccomp_arch_exist`: whether the policy covers `arch`.
    pub fn arch_exist(&self, arch: Arch) -> bool {
        self.arches.contains(&arch)
    }

    /// `seccomp_rule_add(ctx, action, syscall, n, conds...)`: `action` for
    /// `syscall` (a name, resolved per arch, or a number) when every
    /// condition holds. Validates argument indices, the errno range, masks,
    /// and that a name exists on at least one arch of the policy. On x86 a
    /// socket or SysV IPC syscall's rule also applies to `socketcall` /
    /// `ipc`, as libseccomp rewrites it ([`super::multiplex`]).
    pub fn rule_add(
        &mut self,
        action: Action,
        syscall: impl Into<SyscallId>,
        conditions: &[Condition],
    ) -> Result<&mut Self, PolicyError> {
        let rule = Rule {
            syscall: syscall.into(),
            action,
            conditions: conditions.to_vec(),
            arch: None,
        };
        self.validate_rule(&rule)?;
        self.push_rewritten(rule);
        Ok(self)
    }

    /// Like [`Policy::rule_add_exact`] (validated, no multiplexer
    /// rewriting), for one arch of the policy only (libseccomp builds this
    /// with a single-arch filter, `seccomp_rule_add_exact` and
    /// `seccomp_merge`). Its callers state what a filter did on one arch
    /// (recorded calls, a decompiled arch section), where rewriting
    /// `socket` into `socketcall` would change what they say.
    pub fn rule_add_arch(
        &mut self,
        arch: Arch,
        action: Action,
        syscall: impl Into<SyscallId>,
        conditions: &[Condition],
    ) -> Result<&mut Self, PolicyError> {
        if !self.arches.contains(&arch) {
            return Err(PolicyError::ArchAbsent(arch));
        }
        let rule = Rule {
            syscall: syscall.into(),
            action,
            conditions: conditions.to_vec(),
            arch: Some(arch),
        };
        self.validate_rule(&rule)?;
        self.rules.push(rule);
        Ok(self)
    }

    /// Adds `rule` exactly as given: no validation and no multiplexer
    /// rewriting. For producers that reproduce an existing filter or
    /// policy rule for rule, where [`Policy::rule_add`] would change it:
    /// decompilation of a lifted filter, the OCI profile translator (which
    /// replicates libseccomp's rewriting itself), merging of recorded
    /// policies, and tests that build arbitrary policies. Everything else
    /// should use [`Policy::rule_add`]; [`Policy::validate_rule`] checks a
    /// rule as it would.
    pub fn rule_add_verbatim(&mut self, rule: Rule) -> &mut Self {
        self.rules.push(rule);
        self
    }

    /// Keeps the rules for which `keep` returns true, in order, and lets it
    /// edit them (`Vec::retain_mut`). Unchecked like
    /// [`Policy::rule_add_verbatim`], for the same producers (decompile
    /// folds per-arch copies of a rule into one).
    pub fn rules_retain_mut(&mut self, keep: impl FnMut(&mut Rule) -> bool) -> &mut Self {
        self.rules.retain_mut(keep);
        self
    }

    /// Replaces every action the policy decides with
    /// ([`Policy::decided_actions`]: default, unknown syscall, each rule's,
    /// each number range's and each other-arch rule's; not the bad-arch
    /// action) by `f` of it, e.g. to turn ALLOW into LOG. Every action `f`
    /// changes is checked like [`Policy::set_default_action`]; on error the
    /// policy is left unchanged.
    pub fn map_actions(
        &mut self,
        mut f: impl FnMut(Action) -> Action,
    ) -> Result<&mut Self, PolicyError> {
        let mut mapped = |a: Action| -> Result<Action, PolicyError> {
            let b = f(a);
            if b != a {
                check_action(b)?;
            }
            Ok(b)
        };
        // Checked all first, in decided_actions' order, then written.
        let actions = self
            .decided_actions()
            .map(&mut mapped)
            .collect::<Result<Vec<Action>, PolicyError>>()?;
        for (slot, a) in self.decided_actions_mut().zip(actions) {
            *slot = a;
        }
        Ok(self)
    }

    /// Checks one rule as [`Policy::rule_add`] does.
    pub fn validate_rule(&self, rule: &Rule) -> Result<(), PolicyError> {
        check_action(rule.action)?;
        if rule.conditions.len() > 6 {
            return Err(PolicyError::TooManyConditions(rule.conditions.len()));
        }
        check_conditions(&rule.conditions)?;
        if let SyscallId::Name(name) = &rule.syscall {
            let mut arches = self
                .arches
                .iter()
                .filter(|a| rule.arch.is_none_or(|r| r == **a));
            if !arches.any(|a| a.syscall_nr(name).is_some()) {
                let list: Vec<&str> = self.arches.iter().map(|a| a.name()).collect();
                return Err(PolicyError::UnknownSyscall {
                    name: name.clone(),
                    arches: list.join(", "),
                });
            }
        }
        Ok(())
    }

    /// `SCMP_FLTATR_ACT_DEFAULT` (read-only in libseccomp; settable here).
    pub fn set_default_action(&mut self, action: Action) -> Result<&mut Self, PolicyError> {
        check_action(action)?;
        self.default_action = action;
        Ok(self)
    }

    /// `SCMP_FLTATR_ACT_BADARCH`: action for arches the policy does not name.
    pub fn set_bad_arch_action(&mut self, action: Action) -> Result<&mut Self, PolicyError> {
        check_action(action)?;
        self.bad_arch_action = action;
        Ok(self)
    }

    /// Action for syscall numbers the arch's table does not know and no
    /// rule names (`None`: the default action), typically `Errno(ENOSYS)`.
    pub fn set_unknown_action(&mut self, action: Option<Action>) -> Result<&mut Self, PolicyError> {
        if let Some(a) = action {
            check_action(a)?;
        }
        self.unknown_action = action;
        Ok(self)
    }

    /// `seccomp_attr_set` for all attributes at once: replaces them with
    /// `attrs` (read them with [`Policy::attributes`], change what is
    /// needed, set them back). The optimize level must be 1 or 2
    /// ([`PolicyError::Optimize`], libseccomp's `-EINVAL`).
    pub fn set_attributes(&mut self, attrs: Attributes) -> Result<&mut Self, PolicyError> {
        if !(1..=2).contains(&attrs.optimize) {
            return Err(PolicyError::Optimize(attrs.optimize));
        }
        self.attrs = attrs;
        Ok(self)
    }
}

pub(super) fn check_action(a: Action) -> Result<(), PolicyError> {
    match a {
        Action::Errno(e) if e > MAX_ERRNO => Err(PolicyError::ErrnoRange(e)),
        _ => Ok(()),
    }
}

/// Checks conditions as `seccomp_rule_add` does: argument indices 0..=5,
/// masked values within their mask.
pub(super) fn check_conditions(conditions: &[Condition]) -> Result<(), PolicyError> {
    for c in conditions {
        if c.arg > 5 {
            return Err(PolicyError::ArgIndex(c.arg));
        }
        if let CmpOp::MaskedEq { mask, value } = c.op {
            if value & !mask != 0 {
                return Err(PolicyError::MaskedValue {
                    arg: c.arg,
                    mask,
                    value,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let mut p = Policy::init(Action::Allow).unwrap();
        p.set_arches(vec![Arch::X86_64]).unwrap();
        assert_eq!(
            p.arch_add(Arch::X86_64).unwrap_err(),
            PolicyError::ArchPresent(Arch::X86_64)
        );
        assert_eq!(
            p.arch_remove(Arch::X86).unwrap_err(),
            PolicyError::ArchAbsent(Arch::X86)
        );
        assert_eq!(
            p.rule_add(Action::Allow, "read", &[arg(6).eq(0)])
                .unwrap_err(),
            PolicyError::ArgIndex(6)
        );
        assert!(matches!(
            p.rule_add(Action::Allow, "no_such_call", &[]).unwrap_err(),
            PolicyError::UnknownSyscall { .. }
        ));
        assert_eq!(
            p.rule_add(Action::Errno(5000), "read", &[]).unwrap_err(),
            PolicyError::ErrnoRange(5000)
        );
        assert!(p
            .rule_add(Action::Allow, "read", &[arg32(1).masked_eq(1, 3)])
            .is_err());
        p.rule_add(Action::Allow, "read", &[arg32(1).masked_eq(3, 1)])
            .unwrap();
        assert_eq!(
            p.rules[0].conditions[0],
            Condition::new32(1, CmpOp::MaskedEq { mask: 3, value: 1 })
        );
    }
}
