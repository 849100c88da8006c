//! Syscall names as seccomp-tools' assembly language spells them, read the
//! way the disassembler ([`super::symbol`]) writes them.

use super::symbol::{display_arch, SECCOMP_TOOLS_NAMES};
use crate::arch::{x32_nr, Arch};

/// Older names that seccomp-tools' tables list besides the kernel's (both
/// spellings are in its tables; the disassembler prints the kernel's).
/// Looked up only when the name itself is not a syscall of the arch, so
/// `getdents` stays 78 on x86_64.
const OLDER_NAMES: [(&str, &str); 3] = [
    ("pread", "pread64"),
    ("pwrite", "pwrite64"),
    ("getdents", "getdents64"),
];

/// The number of syscall `name` on `arch` alone, kernel or seccomp-tools
/// spelling.
fn own_nr(arch: Arch, name: &str) -> Option<u32> {
    if let Some(nr) = arch.syscall_nr(name) {
        return Some(nr);
    }
    if let Some(&(_, nr, _)) = SECCOMP_TOOLS_NAMES
        .iter()
        .find(|&&(a, _, n)| a == arch && n == name)
    {
        return Some(nr);
    }
    let &(_, canonical) = OLDER_NAMES.iter().find(|(old, _)| *old == name)?;
    arch.syscall_nr(canonical)
}

/// The number a syscall name stands for in a filter for `arch`, as
/// seccomp-tools' assembler and syscage's disassembler use names:
///
/// - names resolve on the arch the disassembler names syscalls by (x32
///   filters run under x86_64's audit id, so `-a x32` reads like `-a amd64`);
/// - seccomp-tools' own spellings are accepted (`timerfd`, `madvise1`,
///   `newfstat`, `pread`, ...);
/// - on x86_64, `x32_NAME` is x32's number of `NAME` (bit 30 set), as the
///   disassembler prints it. For a name x32 does not have, it is the x86_64
///   number with bit 30 set, which is what seccomp-tools means by it.
pub fn syscall_nr(arch: Arch, name: &str) -> Option<u32> {
    prefixed_syscall_nr(display_arch(arch), name)
}

/// The number of `arch.name` (`amd64.write`, `x32.execve`): the name on
/// that arch's own table (and `x32_NAME` on x86_64, as above).
pub fn prefixed_syscall_nr(arch: Arch, name: &str) -> Option<u32> {
    if let Some(nr) = own_nr(arch, name) {
        return Some(nr);
    }
    let base = name.strip_prefix("x32_")?;
    if arch != Arch::X86_64 || base.starts_with("x32_") {
        return None;
    }
    own_nr(Arch::X32, base).or_else(|| own_nr(Arch::X86_64, base).map(x32_nr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seccomp_tools_spellings() {
        // <asm/unistd_x32.h>: __NR_read (bit 30 + 0),
        // __NR_execve (bit 30 + 520).
        assert_eq!(syscall_nr(Arch::X86_64, "x32_read"), Some(x32_nr(0)));
        assert_eq!(syscall_nr(Arch::X86_64, "x32_execve"), Some(0x4000_0208));
        assert_eq!(syscall_nr(Arch::X86_64, "x32_timerfd"), Some(0x4000_011b));
        assert_eq!(syscall_nr(Arch::X86_64, "x32_x32_read"), None);
        assert_eq!(syscall_nr(Arch::X86, "x32_read"), None);
        assert_eq!(syscall_nr(Arch::X86_64, "getdents"), Some(78));
        assert_eq!(syscall_nr(Arch::Aarch64, "getdents"), Some(61));
        assert_eq!(syscall_nr(Arch::X86_64, "pread"), Some(17));
        assert_eq!(syscall_nr(Arch::X86, "madvise1"), Some(219));
        assert_eq!(syscall_nr(Arch::X32, "read"), Some(0));
        assert_eq!(syscall_nr(Arch::X32, "x32_read"), Some(x32_nr(0)));
        assert_eq!(prefixed_syscall_nr(Arch::X32, "execve"), Some(0x4000_0208));
        assert_eq!(
            prefixed_syscall_nr(Arch::X86_64, "x32_read"),
            Some(x32_nr(0))
        );
    }
}
