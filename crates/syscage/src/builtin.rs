//! Built-in profiles.
//!
//! [`DEFAULT_PROFILE`] is syscage's own container-grade default (Docker
//! dialect JSON, written for syscage): an allow-list of what ordinary
//! programs use; EPERM for what container runtimes keep from containers by
//! default (mounts and namespaces, kernel modules, kexec, reboot, clocks,
//! keyrings, BPF, perf, io_uring, other processes' memory, ...); ENOSYS for
//! `clone3` (its flags are out of a filter's reach, so libc falls back to
//! `clone`, whose namespace flags are checked). Resolve it with
//! `enosys_unknown` so that numbers syscage's tables do not know get ENOSYS,
//! as runc's stub does.

/// The `default` profile, as `syscage run --profile default` uses it.
pub const DEFAULT_PROFILE: &str = include_str!("../profiles/default.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::arch::Arch;
    use crate::bpf::data::SeccompData;
    use crate::profile::{self, KernelVersion, ResolveOptions};

    fn policy() -> crate::policy::Policy {
        let p = profile::parse(DEFAULT_PROFILE).expect("the default profile parses");
        let opts = ResolveOptions {
            caps: Vec::new(),
            ..ResolveOptions::docker(vec![Arch::X86_64], KernelVersion { major: 6, minor: 1 })
        };
        profile::Profile::to_policy(&p, &opts).expect("resolves").0
    }

    fn decide(arch: Arch, name: &str, args: [u64; 6]) -> Action {
        let nr = arch
            .syscall_nr(name)
            .unwrap_or_else(|| panic!("{name} on {arch:?}"));
        policy().evaluate(&SeccompData {
            nr,
            arch: arch.audit(),
            args,
            ..Default::default()
        })
    }

    #[test]
    fn ordinary_syscalls_are_allowed_on_all_x86_abis() {
        for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
            for name in [
                "read",
                "write",
                "openat",
                "mmap",
                "execve",
                "exit_group",
                "rt_sigaction",
                "wait4",
                "getdents64",
            ] {
                assert_eq!(
                    decide(arch, name, [0; 6]),
                    Action::Allow,
                    "{name} on {arch:?}"
                );
            }
        }
        assert_eq!(decide(Arch::X86, "socketcall", [0; 6]), Action::Allow);
    }

    #[test]
    fn what_runtimes_deny_is_eperm() {
        // Hand-picked from what container runtimes deny: mounts, namespaces, modules, reboot, clocks.
        for name in [
            "mount",
            "umount2",
            "unshare",
            "setns",
            "init_module",
            "reboot",
            "kexec_load",
            "acct",
            "bpf",
            "settimeofday",
        ] {
            assert_eq!(
                decide(Arch::X86_64, name, [0; 6]),
                Action::Errno(1),
                "{name}"
            );
        }
    }

    #[test]
    fn clone_flags_and_clone3_and_personality() {
        const CLONE_NEWUSER: u64 = 0x1000_0000;
        const SIGCHLD: u64 = 17;
        assert_eq!(
            decide(Arch::X86_64, "clone", [SIGCHLD, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(
                Arch::X86_64,
                "clone",
                [SIGCHLD | CLONE_NEWUSER, 0, 0, 0, 0, 0]
            ),
            Action::Errno(1)
        );
        assert_eq!(decide(Arch::X86_64, "clone3", [0; 6]), Action::Errno(38));
        assert_eq!(
            decide(Arch::X86_64, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(Arch::X86_64, "personality", [0x0040_0000, 0, 0, 0, 0, 0]),
            Action::Errno(1)
        );
    }

    #[test]
    fn unknown_numbers_get_enosys() {
        let d = SeccompData {
            nr: 1000,
            arch: Arch::X86_64.audit(),
            ..Default::default()
        };
        assert_eq!(policy().evaluate(&d), Action::Errno(38));
    }
}
