//! Arch names, every vocabulary in one place: the kernel/libseccomp names
//! (`x86_64`, `x86`, `x32`, as `uname -m` and libseccomp's tools spell
//! them), seccomp-tools' (`amd64`, `i386`), the kernel's `AUDIT_ARCH_*`
//! macro names, libseccomp's and the OCI runtime-spec's `SCMP_ARCH_*`, and
//! moby's (`amd64`, `arm64`, `loong64`) for Docker profiles'
//! `includes.arches`. Profiles and the CLI ask here.

use super::Arch;
use std::fmt;
use std::str::FromStr;

impl Arch {
    /// The kernel's `AUDIT_ARCH_*` macro name without the prefix, as
    /// seccomp-tools prints it (`ARCH_X86_64`, `ARCH_I386`, ...).
    pub const fn audit_name(self) -> &'static str {
        match self {
            Arch::X86_64 | Arch::X32 => "X86_64",
            Arch::X86 => "I386",
            Arch::Aarch64 => "AARCH64",
            Arch::Arm => "ARM",
            Arch::Riscv64 => "RISCV64",
            Arch::S390x => "S390X",
            Arch::Ppc64le => "PPC64LE",
            Arch::Ppc64 => "PPC64",
            Arch::Ppc => "PPC",
            Arch::Mips => "MIPS",
            Arch::Mipsel => "MIPSEL",
            Arch::Mips64 => "MIPS64",
            Arch::Mipsel64 => "MIPSEL64",
            Arch::Loongarch64 => "LOONGARCH64",
        }
    }

    /// The kernel / libseccomp name (`x86_64`, `x86`, `x32`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::X86 => "x86",
            Arch::X32 => "x32",
            Arch::Aarch64 => "aarch64",
            Arch::Arm => "arm",
            Arch::Riscv64 => "riscv64",
            Arch::S390x => "s390x",
            Arch::Ppc64le => "ppc64le",
            Arch::Ppc64 => "ppc64",
            Arch::Ppc => "ppc",
            Arch::Mips => "mips",
            Arch::Mipsel => "mipsel",
            Arch::Mips64 => "mips64",
            Arch::Mipsel64 => "mipsel64",
            Arch::Loongarch64 => "loongarch64",
        }
    }

    /// seccomp-tools' name, for the five arches it supports.
    pub const fn seccomp_tools_name(self) -> Option<&'static str> {
        match self {
            Arch::X86_64 => Some("amd64"),
            Arch::X86 => Some("i386"),
            Arch::Aarch64 => Some("aarch64"),
            Arch::Riscv64 => Some("riscv64"),
            Arch::S390x => Some("s390x"),
            _ => None,
        }
    }

    /// The OCI runtime-spec name (`SCMP_ARCH_X86_64`, ...).
    pub fn oci_name(self) -> String {
        format!("SCMP_ARCH_{}", self.name().to_ascii_uppercase())
    }

    /// The arch of an `SCMP_ARCH_*` name, libseccomp's and the OCI
    /// runtime-spec's vocabulary only (`None` for other spellings and for
    /// arches libseccomp knows and syscage does not: S390, MIPS n32,
    /// PA-RISC, M68K, SuperH).
    pub fn from_scmp_name(name: &str) -> Option<Arch> {
        if !is_scmp_arch(name) {
            return None;
        }
        Arch::from_name(name)
    }

    /// moby's name (`amd64` for x86_64, `arm64` for aarch64, ...), as
    /// `includes.arches` in Docker profiles spells it.
    pub const fn moby_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
            Arch::Loongarch64 => "loong64",
            // Every other arch: moby spells it as the kernel does.
            _ => self.name(),
        }
    }

    /// Parses any spelling: seccomp-tools (`amd64`, `i386`), kernel /
    /// libseccomp (`x86_64`, `x86`, `x32`, `arm64` too), or OCI
    /// (`SCMP_ARCH_X86_64`). Case-insensitive.
    pub fn from_name(name: &str) -> Option<Arch> {
        let lower = name.to_ascii_lowercase();
        let bare = lower.strip_prefix("scmp_arch_").unwrap_or(&lower);
        let arch = match bare {
            "amd64" | "x86_64" | "x86-64" => Arch::X86_64,
            "i386" | "x86" | "i686" | "ia32" => Arch::X86,
            "x32" => Arch::X32,
            "aarch64" | "arm64" => Arch::Aarch64,
            "arm" | "armhf" | "armel" => Arch::Arm,
            "riscv64" => Arch::Riscv64,
            "s390x" => Arch::S390x,
            "ppc64le" => Arch::Ppc64le,
            "ppc64" => Arch::Ppc64,
            "ppc" => Arch::Ppc,
            "mips" => Arch::Mips,
            "mipsel" => Arch::Mipsel,
            "mips64" => Arch::Mips64,
            "mipsel64" | "mips64el" => Arch::Mipsel64,
            "loongarch64" => Arch::Loongarch64,
            _ => return None,
        };
        Some(arch)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An arch name no spelling matches.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown architecture '{0}' (expected one of: amd64, i386, x86_64, x86, x32, aarch64, arm, riscv64, s390x, ppc64le, ppc64, ppc, mips, mipsel, mips64, mipsel64, loongarch64)")]
pub struct UnknownArch(pub String);

impl FromStr for Arch {
    type Err = UnknownArch;
    fn from_str(s: &str) -> Result<Arch, UnknownArch> {
        Arch::from_name(s).ok_or_else(|| UnknownArch(s.to_string()))
    }
}

/// Every `SCMP_ARCH_*` name libseccomp 2.5 and the runtime-spec define.
const SCMP_ARCHES: &[&str] = &[
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// Whether `name` is an `SCMP_ARCH_*` name libseccomp knows.
pub fn is_scmp_arch(name: &str) -> bool {
    SCMP_ARCHES.contains(&name)
}

/// moby's arch names, as `includes.arches` / `excludes.arches` use them
/// (the `nativeToSeccomp` keys of moby's `seccomp_linux.go`).
const MOBY_ARCHES: &[&str] = &[
    "x86",
    "amd64",
    "x32",
    "arm",
    "arm64",
    "mips",
    "mipsel",
    "mips64",
    "mips64n32",
    "mipsel64",
    "mipsel64n32",
    "mipsn32",
    "mipseln32",
    "ppc",
    "ppc64",
    "ppc64le",
    "s390",
    "s390x",
    "parisc",
    "parisc64",
    "riscv64",
    "loong64",
    "loongarch64",
    "m68k",
    "sh",
    "sheb",
];

/// Whether `name` is an arch name moby matches in `includes.arches`.
pub fn is_moby_arch(name: &str) -> bool {
    MOBY_ARCHES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies() {
        for a in Arch::ALL {
            assert_eq!(Arch::from_name(a.name()), Some(a));
            assert_eq!(a.name().parse::<Arch>(), Ok(a));
            assert_eq!(Arch::from_scmp_name(&a.oci_name()), Some(a));
            assert!(is_scmp_arch(&a.oci_name()));
            assert!(is_moby_arch(a.moby_name()));
        }
        assert_eq!(Arch::from_name("amd64"), Some(Arch::X86_64));
        assert_eq!(Arch::from_name("arm64"), Some(Arch::Aarch64));
        assert_eq!(Arch::from_name("i386"), Some(Arch::X86));
        assert_eq!(Arch::from_name("SCMP_ARCH_X32"), Some(Arch::X32));
        assert_eq!(Arch::from_scmp_name("x86_64"), None);
        assert_eq!(Arch::from_scmp_name("SCMP_ARCH_S390"), None);
        assert_eq!(Arch::Loongarch64.moby_name(), "loong64");
        assert_eq!(Arch::X86_64.seccomp_tools_name(), Some("amd64"));
        assert_eq!(Arch::X86.audit_name(), "I386");
        assert!("vax".parse::<Arch>().is_err());
    }
}
