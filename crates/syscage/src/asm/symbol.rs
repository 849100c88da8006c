//! Names for the constants of seccomp-tools' syntax: syscall names
//! (`write`, `x32_read`, `i386.fork`), audit arch names (`ARCH_X86_64`) and
//! filter return values (`ALLOW`, `ERRNO(1)`).

use crate::action::{
    SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE,
    SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF,
};
use crate::arch::{params::syscall_params, x32_index, x32_nr, Arch};

/// The arch whose names a disassembly for `arch` uses: x32 filters run on
/// x86_64's audit id, so `-a x32` reads like `-a amd64` (x32 numbers print
/// as `x32_*`).
pub fn display_arch(arch: Arch) -> Arch {
    match arch {
        Arch::X32 => Arch::X86_64,
        a => a,
    }
}

/// The short name of an arch in a `<arch>.<syscall>` prefix: seccomp-tools'
/// spelling (`amd64`, `i386`, ...) where it has one, else the kernel's.
pub fn arch_prefix(arch: Arch) -> &'static str {
    arch.seccomp_tools_name().unwrap_or(arch.name())
}

/// The `ARCH_*` name of an `AUDIT_ARCH_*` value (`ARCH_X86_64`), if syscage
/// knows the arch.
pub fn audit_arch_name(audit: u32) -> Option<String> {
    Arch::from_audit(audit).map(|a| format!("ARCH_{}", a.audit_name()))
}

/// Syscalls that seccomp-tools 1.7.1 names differently from the kernel's
/// syscall tables (its tables keep older names): `(arch, nr, its name)`.
/// The disassembler prints these names so its output matches seccomp-tools;
/// an assembler should accept them besides the kernel's.
pub const SECCOMP_TOOLS_NAMES: &[(Arch, u32, &str)] = &[
    (Arch::X86_64, 283, "timerfd"),  // kernel: timerfd_create
    (Arch::X86, 219, "madvise1"),    // kernel: madvise
    (Arch::X86, 322, "timerfd"),     // kernel: timerfd_create
    (Arch::Aarch64, 80, "newfstat"), // kernel: fstat (entry point sys_newfstat)
];

/// The seccomp-tools name of `nr` on `arch`, where it differs from the kernel's.
fn seccomp_tools_name(arch: Arch, nr: u32) -> Option<&'static str> {
    SECCOMP_TOOLS_NAMES
        .iter()
        .find(|&&(a, n, _)| a == arch && n == nr)
        .map(|&(_, _, name)| name)
}

/// The name of syscall number `nr` (as `seccomp_data.nr` carries it) on
/// `arch`, without any arch prefix, as seccomp-tools spells it. On x86_64,
/// numbers with bit 30 set are x32 syscalls and are named `x32_<name>`
/// from the x32 table.
pub fn syscall_name(arch: Arch, nr: u32) -> Option<String> {
    match display_arch(arch) {
        a @ Arch::X86_64 if a.is_x32_nr(nr) => {
            let name = seccomp_tools_name(Arch::X86_64, x32_index(nr))
                .filter(|_| Arch::X32.syscall_name(nr).is_some())
                .or_else(|| Arch::X32.syscall_name(nr))?;
            Some(format!("x32_{name}"))
        }
        a => seccomp_tools_name(a, nr)
            .or_else(|| a.syscall_name(nr))
            .map(str::to_string),
    }
}

/// The inverse of the names this module prints, for an assembler: the
/// number of `write`, `x32_write` (on x86_64), `i386.write` (any arch
/// spelling [`Arch::from_name`] accepts before the dot), or one of
/// [`SECCOMP_TOOLS_NAMES`], as a filter for `arch` compares it.
pub fn resolve_syscall(arch: Arch, text: &str) -> Option<u32> {
    let (arch, name) = match text.split_once('.') {
        Some((prefix, name)) => (Arch::from_name(prefix)?, name),
        None => (arch, text),
    };
    let arch = display_arch(arch);
    let plain = |a: Arch, name: &str| {
        SECCOMP_TOOLS_NAMES
            .iter()
            .find(|&&(x, _, n)| x == a && n == name)
            .map(|&(_, nr, _)| nr)
            .or_else(|| a.syscall_nr(name))
    };
    if arch == Arch::X86_64 {
        if let Some(rest) = name.strip_prefix("x32_") {
            return Arch::X32.syscall_nr(rest).or_else(|| {
                let nr = x32_nr(plain(Arch::X86_64, rest)?);
                Arch::X32.syscall_name(nr).map(|_| nr)
            });
        }
    }
    plain(arch, name)
}

/// The `AUDIT_ARCH_*` value of an `ARCH_*` name (`ARCH_X86_64`), the
/// inverse of [`audit_arch_name`].
pub fn resolve_audit_arch(name: &str) -> Option<u32> {
    let bare = name.strip_prefix("ARCH_")?;
    Arch::ALL
        .into_iter()
        .find(|a| *a != Arch::X32 && a.audit_name() == bare)
        .map(Arch::audit)
}

/// The parameter names of a syscall as [`syscall_name`] spells it
/// (`x32_mmap` has `mmap`'s).
pub fn syscall_params_of(name: &str) -> Option<&'static [&'static str]> {
    syscall_params(name).or_else(|| syscall_params(name.strip_prefix("x32_")?))
}

/// The name seccomp-tools gives an action value (the `SECCOMP_RET_ACTION_FULL`
/// bits of a return value), if it has one. 0 is `KILL` (the old name of
/// `KILL_THREAD`, which seccomp-tools prints).
pub fn action_name(action: u32) -> Option<&'static str> {
    Some(match action {
        SECCOMP_RET_KILL_PROCESS => "KILL_PROCESS",
        SECCOMP_RET_KILL_THREAD => "KILL",
        SECCOMP_RET_TRAP => "TRAP",
        SECCOMP_RET_ERRNO => "ERRNO",
        SECCOMP_RET_USER_NOTIF => "USER_NOTIF",
        SECCOMP_RET_TRACE => "TRACE",
        SECCOMP_RET_LOG => "LOG",
        SECCOMP_RET_ALLOW => "ALLOW",
        _ => return None,
    })
}

/// A filter return value as `return` prints it: `ALLOW`, `ERRNO(1)`,
/// `TRACE(7)`, `KILL_PROCESS`.
///
/// `ERRNO` always shows its data; other actions show it when it is not
/// zero (`KILL(59)`, which seccomp-tools prints as `KILL`, dropping the
/// data); a value whose action bits name no action prints in hex
/// (seccomp-tools prints nothing there). Every form reads back with
/// `syscage asm` (and seccomp-tools' `asm`) to the same 32-bit value.
pub fn ret_value(k: u32) -> String {
    let data = k & SECCOMP_RET_DATA;
    match action_name(k & SECCOMP_RET_ACTION_FULL) {
        Some(name) if data != 0 || name == "ERRNO" => format!("{name}({data})"),
        Some(name) => name.to_string(),
        None => format!("0x{k:x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_names_per_arch() {
        assert_eq!(syscall_name(Arch::X86_64, 1).as_deref(), Some("write"));
        assert_eq!(syscall_name(Arch::X86, 1).as_deref(), Some("exit"));
        assert_eq!(
            syscall_name(Arch::X86_64, x32_nr(0)).as_deref(),
            Some("x32_read")
        );
        // x32's own execve is 520; 59 | bit 30 is not a syscall on x32.
        assert_eq!(
            syscall_name(Arch::X86_64, x32_nr(520)).as_deref(),
            Some("x32_execve")
        );
        assert_eq!(syscall_name(Arch::X86_64, x32_nr(59)), None);
        assert_eq!(
            syscall_name(Arch::X32, x32_nr(1)).as_deref(),
            Some("x32_write")
        );
        assert_eq!(syscall_name(Arch::S390x, 0), None);
        assert_eq!(syscall_name(Arch::X86_64, 0x3e7), None);
    }

    #[test]
    fn resolving_inverts_naming() {
        for arch in Arch::ALL {
            for s in arch.syscalls() {
                let name = syscall_name(arch, s.nr).expect("named");
                assert_eq!(resolve_syscall(arch, &name), Some(s.nr), "{arch} {name}");
                let prefixed = format!("{}.{name}", arch_prefix(display_arch(arch)));
                assert_eq!(
                    resolve_syscall(Arch::S390x, &prefixed),
                    Some(s.nr),
                    "{prefixed}"
                );
            }
            if arch != Arch::X32 {
                let name = audit_arch_name(arch.audit()).expect("arch named");
                assert_eq!(resolve_audit_arch(&name), Some(arch.audit()));
            }
        }
        assert_eq!(resolve_syscall(Arch::X86, "timerfd"), Some(322));
        assert_eq!(resolve_syscall(Arch::X86, "timerfd_create"), Some(322));
        assert_eq!(
            resolve_syscall(Arch::X86_64, "x32_timerfd"),
            Some(x32_nr(283))
        );
        assert_eq!(
            resolve_syscall(Arch::X86_64, "x32_execve"),
            Some(x32_nr(520))
        );
        assert_eq!(resolve_syscall(Arch::X86_64, "amd64.write"), Some(1));
        assert_eq!(resolve_syscall(Arch::X86_64, "i386.write"), Some(4));
        assert_eq!(resolve_syscall(Arch::X86_64, "vax.write"), None);
        assert_eq!(resolve_syscall(Arch::X86_64, "no_such_syscall"), None);
        assert_eq!(resolve_audit_arch("ARCH_I386"), Some(0x4000_0003));
        assert_eq!(resolve_audit_arch("X86_64"), None);
    }

    #[test]
    fn params_strip_the_x32_prefix() {
        assert_eq!(
            syscall_params_of("write"),
            Some(&["fd", "buf", "count"][..])
        );
        assert_eq!(
            syscall_params_of("x32_write"),
            Some(&["fd", "buf", "count"][..])
        );
        assert_eq!(syscall_params_of("no_such_syscall"), None);
    }

    #[test]
    fn arch_names() {
        assert_eq!(audit_arch_name(0xc000_003e).as_deref(), Some("ARCH_X86_64"));
        assert_eq!(audit_arch_name(0x4000_0003).as_deref(), Some("ARCH_I386"));
        assert_eq!(audit_arch_name(0x8000_0016).as_deref(), Some("ARCH_S390X"));
        assert_eq!(audit_arch_name(0x1234), None);
        assert_eq!(arch_prefix(Arch::X86_64), "amd64");
        assert_eq!(arch_prefix(Arch::Arm), "arm");
    }

    #[test]
    fn return_values() {
        // Facts from include/uapi/linux/seccomp.h.
        assert_eq!(ret_value(0x7fff_0000), "ALLOW");
        assert_eq!(ret_value(0x0000_0000), "KILL");
        assert_eq!(ret_value(0x8000_0000), "KILL_PROCESS");
        assert_eq!(ret_value(0x0005_0000), "ERRNO(0)");
        assert_eq!(ret_value(0x0005_0539), "ERRNO(1337)");
        assert_eq!(ret_value(0x7ff0_0000), "TRACE");
        assert_eq!(ret_value(0x7ff0_0001), "TRACE(1)");
        assert_eq!(ret_value(0x0003_0002), "TRAP(2)");
        assert_eq!(ret_value(0x7fc0_0000), "USER_NOTIF");
        assert_eq!(ret_value(0x7ffc_0000), "LOG");
        // data bits are kept
        assert_eq!(ret_value(0x0000_003b), "KILL(59)");
        assert_eq!(ret_value(0x1234_5678), "0x12345678");
    }
}

#[cfg(test)]
mod seccomp_tools_tables {
    use super::*;
    use std::collections::BTreeMap;

    /// seccomp-tools' number → name map for one arch (later names of a
    /// number win, as Ruby's `Hash#invert` does).
    pub(crate) fn theirs(arch: &str) -> BTreeMap<u32, String> {
        let path = format!(
            "{}/../../testdata/seccomp-tools/tables/sys_nr_{arch}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut map = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim().trim_end_matches(',');
            if let Some((name, nr)) = line.split_once(':') {
                let name = name.trim().trim_matches('"').to_string();
                let nr: u32 = nr.trim().parse().expect("number");
                map.insert(nr, name);
            }
        }
        map
    }

    /// Every syscall number of seccomp-tools' five arches has the same name
    /// here, and there is no number seccomp-tools does not know.
    #[test]
    fn names_match_seccomp_tools_tables() {
        for (st, arch) in [
            ("amd64", Arch::X86_64),
            ("i386", Arch::X86),
            ("aarch64", Arch::Aarch64),
            ("riscv64", Arch::Riscv64),
            ("s390x", Arch::S390x),
        ] {
            let t = theirs(st);
            for (nr, name) in &t {
                let ours = syscall_name(arch, *nr);
                assert_eq!(ours.as_deref(), Some(name.as_str()), "{st} {nr}");
            }
            for s in arch.syscalls() {
                assert!(
                    t.contains_key(&s.nr),
                    "{st}: {} {} unknown to seccomp-tools",
                    s.nr,
                    s.name
                );
            }
        }
    }

    /// Our generated parameter table (arch/params.rs) gives every syscall
    /// seccomp-tools names the parameter names seccomp-tools' own table does
    /// (no names and an empty list print the same).
    #[test]
    fn params_match_seccomp_tools_table() {
        let path = format!(
            "{}/../../testdata/seccomp-tools/tables/sys_arg.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let args: BTreeMap<String, Vec<String>> =
            serde_json::from_str(&text).expect("sys_arg.json");
        let mut checked = 0;
        for st in ["amd64", "i386", "aarch64", "riscv64", "s390x"] {
            for name in theirs(st).values() {
                let want = args.get(name).filter(|v| !v.is_empty());
                let got = syscall_params_of(name).filter(|v| !v.is_empty());
                let got: Option<Vec<String>> =
                    got.map(|v| v.iter().map(|s| s.to_string()).collect());
                assert_eq!(got.as_ref(), want, "{st} {name}");
                checked += 1;
            }
        }
        assert!(checked > 1500, "{checked}");
    }
}
