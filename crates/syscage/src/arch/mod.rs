//! Architectures: audit arch ids (`AUDIT_ARCH_*`), arch names in every
//! vocabulary (`spelling`: seccomp-tools' `amd64`/`i386`, the
//! kernel/libseccomp `x86_64`/`x86`, `SCMP_ARCH_*`, moby's), byte order,
//! syscall name ↔ number tables, and the one x86_64/x32 classifier
//! ([`x32`], [`Arch::classify`]).
//!
//! Tables come from the `syscalls` crate; x32, which that crate lacks, is
//! built here from the x86_64 table ([`x32`]).

pub mod alternatives;
mod overrides;
pub mod params;
mod spelling;
mod tables;
pub mod x32;

use crate::bpf::ByteOrder;

pub use spelling::{is_moby_arch, is_scmp_arch, UnknownArch};
pub use tables::Syscall;
pub use x32::{x32_index, x32_nr, x86_64_class, X86_64Class, X32_NUMBERS, X86_64_CLASS_RANGES};

/// `__X32_SYSCALL_BIT`: bit 30 of `nr`, set by x32 syscalls on x86_64.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// A seccomp architecture: one calling convention, with its own audit id
/// and syscall table (libseccomp's `SCMP_ARCH_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Arch {
    /// `SCMP_ARCH_X86_64`, seccomp-tools `amd64`.
    X86_64,
    /// `SCMP_ARCH_X86`, seccomp-tools `i386` (also `int 0x80` from 64-bit code).
    X86,
    /// `SCMP_ARCH_X32`: x86_64 audit id, numbers with bit 30 set.
    X32,
    /// `SCMP_ARCH_AARCH64`.
    Aarch64,
    /// `SCMP_ARCH_ARM` (EABI).
    Arm,
    /// `SCMP_ARCH_RISCV64`.
    Riscv64,
    /// `SCMP_ARCH_S390X`.
    S390x,
    /// `SCMP_ARCH_PPC64LE`.
    Ppc64le,
    /// `SCMP_ARCH_PPC64` (big endian).
    Ppc64,
    /// `SCMP_ARCH_PPC`.
    Ppc,
    /// `SCMP_ARCH_MIPS` (o32, big endian).
    Mips,
    /// `SCMP_ARCH_MIPSEL` (o32, little endian).
    Mipsel,
    /// `SCMP_ARCH_MIPS64` (n64, big endian).
    Mips64,
    /// `SCMP_ARCH_MIPSEL64` (n64, little endian).
    Mipsel64,
    /// `SCMP_ARCH_LOONGARCH64`.
    Loongarch64,
}

/// `__AUDIT_ARCH_64BIT`.
const AUDIT_64: u32 = 0x8000_0000;
/// `__AUDIT_ARCH_LE`.
const AUDIT_LE: u32 = 0x4000_0000;

impl Arch {
    /// Every architecture syscage knows.
    pub const ALL: [Arch; 15] = [
        Arch::X86_64,
        Arch::X86,
        Arch::X32,
        Arch::Aarch64,
        Arch::Arm,
        Arch::Riscv64,
        Arch::S390x,
        Arch::Ppc64le,
        Arch::Ppc64,
        Arch::Ppc,
        Arch::Mips,
        Arch::Mipsel,
        Arch::Mips64,
        Arch::Mipsel64,
        Arch::Loongarch64,
    ];

    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`.
    pub const fn audit(self) -> u32 {
        match self {
            Arch::X86_64 | Arch::X32 => AUDIT_64 | AUDIT_LE | 62,
            Arch::X86 => AUDIT_LE | 3,
            Arch::Aarch64 => AUDIT_64 | AUDIT_LE | 183,
            Arch::Arm => AUDIT_LE | 40,
            Arch::Riscv64 => AUDIT_64 | AUDIT_LE | 243,
            Arch::S390x => AUDIT_64 | 22,
            Arch::Ppc64le => AUDIT_64 | AUDIT_LE | 21,
            Arch::Ppc64 => AUDIT_64 | 21,
            Arch::Ppc => 20,
            Arch::Mips => 8,
            Arch::Mipsel => AUDIT_LE | 8,
            Arch::Mips64 => AUDIT_64 | 8,
            Arch::Mipsel64 => AUDIT_64 | AUDIT_LE | 8,
            Arch::Loongarch64 => AUDIT_64 | AUDIT_LE | 258,
        }
    }

    /// The arch with this audit id (x86_64 for `AUDIT_ARCH_X86_64`, which x32 shares).
    pub fn from_audit(audit: u32) -> Option<Arch> {
        Arch::ALL
            .into_iter()
            .find(|a| *a != Arch::X32 && a.audit() == audit)
    }

    /// The arch of the machine syscage was built for.
    pub const fn native() -> Arch {
        if cfg!(target_arch = "x86_64") {
            if cfg!(target_pointer_width = "32") {
                Arch::X32
            } else {
                Arch::X86_64
            }
        } else if cfg!(target_arch = "x86") {
            Arch::X86
        } else if cfg!(target_arch = "aarch64") {
            Arch::Aarch64
        } else if cfg!(target_arch = "arm") {
            Arch::Arm
        } else if cfg!(target_arch = "riscv64") {
            Arch::Riscv64
        } else if cfg!(target_arch = "s390x") {
            Arch::S390x
        } else if cfg!(all(target_arch = "powerpc64", target_endian = "little")) {
            Arch::Ppc64le
        } else if cfg!(target_arch = "powerpc64") {
            Arch::Ppc64
        } else if cfg!(target_arch = "loongarch64") {
            Arch::Loongarch64
        } else {
            Arch::X86_64
        }
    }

    /// Byte order of the arch, which fixes where the halves of 64-bit
    /// fields lie in `seccomp_data` and the byte order of raw filters.
    pub const fn byte_order(self) -> ByteOrder {
        if self.audit() & AUDIT_LE != 0 {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        }
    }

    /// Whether the audit id has `__AUDIT_ARCH_64BIT` (x32 has, as x86_64's
    /// id). For argument width use [`Arch::args_64bit`].
    pub const fn is_64bit(self) -> bool {
        self.audit() & AUDIT_64 != 0
    }

    /// Whether filters see 64-bit syscall arguments on this arch. False on
    /// 32-bit arches and on x32, an ILP32 ABI whose arguments libseccomp
    /// (`arch-x32.c`, `ARCH_SIZE_32`) and so syscage compare on their low
    /// word only.
    pub const fn args_64bit(self) -> bool {
        self.is_64bit() && !matches!(self, Arch::X32)
    }

    /// Arches that share this one's audit id and tell themselves apart by
    /// syscall number (x86_64 and x32).
    pub const fn shares_audit_with(self) -> Option<Arch> {
        match self {
            Arch::X86_64 => Some(Arch::X32),
            Arch::X32 => Some(Arch::X86_64),
            _ => None,
        }
    }

    /// The syscall number of `name` as a filter sees it (x32 numbers
    /// include [`X32_SYSCALL_BIT`]; MIPS numbers include their ABI base).
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        tables::nr(self, name)
    }

    /// The name of syscall number `nr` (as a filter sees it) on this arch.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        tables::name(self, nr)
    }

    /// Every syscall of the arch, in number order.
    pub fn syscalls(self) -> &'static [Syscall] {
        tables::all(self)
    }
}

/// As JSON, an arch is its [`Arch::name`] (`x86_64`, `x86`, `x32`,
/// `aarch64`, ...): one vocabulary for every JSON output.
impl serde::Serialize for Arch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_ids() {
        assert_eq!(Arch::X86_64.audit(), 0xc000_003e);
        assert_eq!(Arch::X86.audit(), 0x4000_0003);
        assert_eq!(Arch::Aarch64.audit(), 0xc000_00b7);
        assert_eq!(Arch::S390x.audit(), 0x8000_0016);
        assert_eq!(Arch::Riscv64.audit(), 0xc000_00f3);
        assert_eq!(Arch::from_audit(0xc000_003e), Some(Arch::X86_64));
        for a in Arch::ALL {
            assert_eq!(Arch::from_name(a.name()), Some(a));
            assert_eq!(Arch::from_name(&a.oci_name()), Some(a));
        }
        assert_eq!(Arch::S390x.byte_order(), ByteOrder::Big);
        assert!(!Arch::X86.is_64bit());
    }

    #[test]
    fn lookups() {
        assert_eq!(Arch::X86_64.syscall_nr("read"), Some(0));
        assert_eq!(Arch::X86.syscall_nr("read"), Some(3));
        assert_eq!(Arch::X32.syscall_nr("read"), Some(X32_SYSCALL_BIT));
        assert_eq!(Arch::X32.syscall_nr("execve"), Some(X32_SYSCALL_BIT | 520));
        assert_eq!(Arch::X32.syscall_name(X32_SYSCALL_BIT | 59), None);
        assert_eq!(Arch::X86_64.syscall_name(59), Some("execve"));
        assert_eq!(Arch::Mips.syscall_nr("read"), Some(4003));
        assert_eq!(Arch::Aarch64.syscall_nr("open"), None);
    }
}
