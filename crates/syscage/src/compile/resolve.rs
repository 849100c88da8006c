//! Pass 1, resolution: for each arch, the rules that name each syscall
//! number. A name an arch does not have is skipped there with a
//! [`Warning::UnknownSyscall`] (runc's behaviour); a number applies on
//! every arch as `seccomp_data.nr` carries it.

use super::Warning;
use crate::arch::Arch;
use crate::policy::{Policy, Rule};
use std::collections::BTreeMap;

/// The rules of one arch, by syscall number.
#[derive(Clone, Debug)]
pub struct ArchRules<'p> {
    /// The arch.
    pub arch: Arch,
    /// Whether arguments are 64 bits wide (64-bit arches and x32); on
    /// other arches only the low word exists.
    pub wide: bool,
    /// Rules naming each number, in policy order.
    pub by_nr: BTreeMap<u32, Vec<&'p Rule>>,
}

/// Resolves every rule on every arch of `arches`.
pub fn resolve<'p>(
    policy: &'p Policy,
    arches: &[Arch],
    warnings: &mut Vec<Warning>,
) -> Vec<ArchRules<'p>> {
    for rule in policy.rules() {
        if let Some(a) = rule.arch {
            if !policy.arches().contains(&a) {
                warnings.push(Warning::RuleArchNotInPolicy { arch: a });
            }
        }
    }
    arches
        .iter()
        .map(|&arch| {
            let mut by_nr: BTreeMap<u32, Vec<&Rule>> = BTreeMap::new();
            for rule in policy.rules() {
                if rule.arch.is_some_and(|a| a != arch) {
                    continue;
                }
                match rule.syscall.resolve(arch) {
                    Some(nr) => by_nr.entry(nr).or_default().push(rule),
                    None => {
                        if let crate::policy::SyscallId::Name(name) = &rule.syscall {
                            warnings.push(Warning::UnknownSyscall {
                                arch,
                                name: name.clone(),
                            });
                        }
                    }
                }
            }
            ArchRules {
                arch,
                wide: arch.args_64bit(),
                by_nr,
            }
        })
        .collect()
}
