//! Corrections to the `syscalls` crate's tables (0.8.1), applied when the
//! tables are built. Each entry was checked against the kernel's own
//! syscall tables (`arch/*/entry/syscalls/*.tbl`, `scripts/syscall.tbl`)
//! and libseccomp's `scmp_sys_resolver`; the newest syscalls against
//! seccomp-tools 1.7.1's Linux 7.1 tables.

use super::{Arch, Syscall, X32_SYSCALL_BIT};

/// Names the crate gets wrong: `(arch, nr, kernel name)`.
const RENAMES: &[(Arch, u32, &str)] = &[
    // The crate leaks its Rust raw identifier `r#break`.
    (Arch::X86, 17, "break"),
    // scripts/syscall.tbl: `79 64 newfstatat sys_newfstatat`.
    (Arch::Aarch64, 79, "newfstatat"),
];

/// Numbers the crate lists but the arch does not have: `(arch, first, last)`.
const REMOVED: &[(Arch, u32, u32)] = &[
    // scripts/syscall.tbl gives 403-423 (clock_gettime64 ... ) the ABI `32`:
    // 64-bit arches such as aarch64 have no such syscalls.
    (Arch::Aarch64, 403, 423),
    // The same for loongarch64 (asm-generic numbering, 64-bit).
    (Arch::Loongarch64, 403, 423),
];

/// Syscalls newer than the crate, at their unified number (Linux 6.17+).
const NEWER: &[(&str, u32)] = &[
    ("file_getattr", 468),
    ("file_setattr", 469),
    ("listns", 470),
    ("rseq_slice_yield", 471),
];

/// ARM's private syscalls (`__ARM_NR_BASE` 0xf0000, arch/arm/include/uapi/
/// asm/unistd.h), which the crate lacks; libseccomp knows them by these names.
const ARM_PRIVATE: &[(&str, u32)] = &[
    ("breakpoint", 0xf0001),
    ("cacheflush", 0xf0002),
    ("usr26", 0xf0003),
    ("usr32", 0xf0004),
    ("set_tls", 0xf0005),
    ("get_tls", 0xf0006),
];

/// What the unified syscall numbers (424 and up) are offset by on `arch`,
/// or `None` if it does not follow them.
fn unified_base(arch: Arch) -> Option<u32> {
    Some(match arch {
        Arch::X32 => X32_SYSCALL_BIT,
        Arch::Mips | Arch::Mipsel => 4000,
        Arch::Mips64 | Arch::Mipsel64 => 5000,
        _ => 0,
    })
}

/// Applies the corrections for `arch` to a table built from the crate.
pub(super) fn apply(arch: Arch, table: &mut Vec<Syscall>) {
    for &(a, nr, name) in RENAMES {
        if a == arch {
            for s in table.iter_mut().filter(|s| s.nr == nr) {
                s.name = name;
            }
        }
    }
    table.retain(|s| {
        !REMOVED
            .iter()
            .any(|&(a, first, last)| a == arch && (first..=last).contains(&s.nr))
    });
    if arch == Arch::Arm {
        table.extend(ARM_PRIVATE.iter().map(|&(name, nr)| Syscall { name, nr }));
    }
    if let Some(base) = unified_base(arch) {
        for &(name, nr) in NEWER {
            let nr = base + nr;
            if !table.iter().any(|s| s.nr == nr || s.name == name) {
                table.push(Syscall { name, nr });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_are_visible() {
        assert_eq!(Arch::X86.syscall_name(17), Some("break"));
        assert_eq!(Arch::X86.syscall_nr("break"), Some(17));
        assert_eq!(Arch::Aarch64.syscall_name(79), Some("newfstatat"));
        assert_eq!(Arch::Aarch64.syscall_name(80), Some("fstat"));
        assert_eq!(Arch::Aarch64.syscall_name(403), None);
        assert_eq!(Arch::Arm.syscall_name(403), Some("clock_gettime64"));
        assert_eq!(Arch::Arm.syscall_nr("set_tls"), Some(0xf0005));
        assert_eq!(Arch::Arm.syscall_name(0xf0002), Some("cacheflush"));
        for a in [
            Arch::X86_64,
            Arch::X86,
            Arch::Aarch64,
            Arch::Riscv64,
            Arch::S390x,
        ] {
            assert_eq!(a.syscall_nr("listns"), Some(470), "{a}");
        }
        assert_eq!(Arch::X32.syscall_nr("listns"), Some(X32_SYSCALL_BIT | 470));
        assert_eq!(Arch::Mips.syscall_nr("listns"), Some(4470));
    }
}
