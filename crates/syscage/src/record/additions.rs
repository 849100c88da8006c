//! What a recorded policy decides for syscalls the run did not make (or
//! made but gets another answer), and why: [`Recording::to_policy`] adds
//! them so that the next run does not fail where this one happened not
//! to, and `syscage record` lists them with their reasons.

use super::args::{self, ArgSource};
use super::recording::{Recording, ENOSYS, SIGNAL_MEDIATED};
use crate::action::Action;
use crate::arch::Arch;
use std::fmt;

/// Why the recorder decides a syscall it did not observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The kernel makes the program enter it on a signal's timing
    /// ([`SIGNAL_MEDIATED`]): a signal handler returns through
    /// `rt_sigreturn`/`sigreturn`, a sleep a handled signal interrupted
    /// resumes through `restart_syscall`.
    Signal,
    /// `clone3` was made without namespace flags: its flags are in memory
    /// a filter cannot read, so `clone3` answers `ENOSYS` and the C
    /// library falls back to `clone(2)`, allowed with the recorded
    /// namespace flags.
    Clone3Fallback,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Signal => {
                "signal delivery: a handler returns through rt_sigreturn/sigreturn, a sleep a handled signal interrupted resumes through restart_syscall, on a signal's timing rather than the program's logic"
            }
            Reason::Clone3Fallback => {
                "clone3's flags are in memory a filter cannot read: clone3 answers ENOSYS and the C library falls back to clone, whose namespace flags the filter checks"
            }
        })
    }
}

/// One decision of the recorded policy that no recorded call asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unobserved {
    /// The arch of the syscall.
    pub arch: Arch,
    /// The syscall.
    pub name: &'static str,
    /// What the policy does with it.
    pub action: Action,
    /// Why.
    pub reason: Reason,
}

impl Recording {
    /// Every decision [`Recording::to_policy`] makes without a recorded call
    /// behind it: the signal-mediated syscalls of each arch of the policy
    /// that the run did not make, and, for a `clone3` recorded without
    /// namespace flags (`--args`), its `ENOSYS` and the `clone` fallback.
    pub fn unobserved(&self) -> Vec<Unobserved> {
        let mut out = Vec::new();
        let made = |arch: Arch, name: &str| {
            arch.syscall_nr(name)
                .is_some_and(|nr| self.calls.contains_key(&(arch, nr)))
        };
        let mut arches = vec![Arch::native()];
        for arch in self.arches() {
            if !arches.contains(&arch) {
                arches.push(arch);
            }
        }
        for &arch in &arches {
            for name in SIGNAL_MEDIATED {
                if arch.syscall_nr(name).is_some() && !made(arch, name) {
                    out.push(Unobserved {
                        arch,
                        name,
                        action: Action::Allow,
                        reason: Reason::Signal,
                    });
                }
            }
        }
        if self.with_args {
            for (&(arch, nr), keys) in &self.arg_keys {
                let Some(name) = arch.syscall_name(nr) else {
                    continue;
                };
                if args::risk_args(arch, name) != Some(ArgSource::Clone3Flags)
                    || keys.iter().any(|k| k.iter().any(|&v| v != 0))
                {
                    continue;
                }
                out.push(Unobserved {
                    arch,
                    name: "clone3",
                    action: Action::Errno(ENOSYS),
                    reason: Reason::Clone3Fallback,
                });
                if !made(arch, "clone") {
                    out.push(Unobserved {
                        arch,
                        name: "clone",
                        action: Action::Allow,
                        reason: Reason::Clone3Fallback,
                    });
                }
            }
        }
        out
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn signal_returns_and_restarts_are_listed_unless_made() {
        let mut r = Recording::new(false);
        let sigreturn = Arch::X86_64
            .syscall_nr("rt_sigreturn")
            .expect("rt_sigreturn");
        r.count(Arch::X86_64, sigreturn, 1, 1);
        let getpid = Arch::X86.syscall_nr("getpid").expect("getpid");
        r.count(Arch::X86, getpid, 1, 1);
        let u = r.unobserved();
        let on = |arch: Arch| -> Vec<&str> {
            u.iter()
                .filter(|x| x.arch == arch)
                .map(|x| x.name)
                .collect()
        };
        assert_eq!(on(Arch::X86_64), vec!["restart_syscall"]);
        assert_eq!(
            on(Arch::X86),
            vec!["rt_sigreturn", "sigreturn", "restart_syscall"]
        );
        assert!(u
            .iter()
            .all(|x| x.reason == Reason::Signal && x.action == Action::Allow));
        // And the policy does allow them.
        let p = r.to_policy();
        for x in &u {
            let d = crate::bpf::data::SeccompData {
                nr: x.arch.syscall_nr(x.name).expect("nr"),
                arch: x.arch.audit(),
                ..Default::default()
            };
            assert_eq!(p.evaluate(&d), Action::Allow, "{x:?}");
        }
    }

    #[test]
    fn clone3_without_namespaces_lists_its_enosys_and_the_clone_fallback() {
        let mut r = Recording::new(true);
        let nr = Arch::X86_64.syscall_nr("clone3").expect("clone3");
        r.count(Arch::X86_64, nr, 1, 1);
        r.add_key(
            Arch::X86_64,
            nr,
            args::key_from_clone3_flags(libc::CLONE_VM as u64),
        );
        let u: Vec<_> = r
            .unobserved()
            .into_iter()
            .filter(|x| x.reason == Reason::Clone3Fallback)
            .map(|x| (x.name, x.action))
            .collect();
        assert_eq!(
            u,
            vec![("clone3", Action::Errno(ENOSYS)), ("clone", Action::Allow)]
        );
        // A clone3 into a new namespace is allowed as recorded: nothing to list.
        r.add_key(
            Arch::X86_64,
            nr,
            args::key_from_clone3_flags(libc::CLONE_NEWUSER as u64),
        );
        assert!(r
            .unobserved()
            .iter()
            .all(|x| x.reason != Reason::Clone3Fallback));
    }
}
