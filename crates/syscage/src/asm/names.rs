//! Syscall names as seccomp-tools' assembly language spells them.

use crate::arch::{Arch, X32_SYSCALL_BIT};

/// Names seccomp-tools' tables use where the kernel's current syscall
/// tables (and the `syscalls` crate) spell them differently: older or
/// alternative names of the same syscall. Looked up only when the name
/// itself is not a syscall of the arch (so `getdents` stays 78 on x86_64).
const SECCOMP_TOOLS_ALIASES: [(&str, &str); 8] = [
    ("pread", "pread64"),
    ("pwrite", "pwrite64"),
    ("timerfd", "timerfd_create"),
    ("getdents", "getdents64"),
    ("newfstat", "fstat"),
    ("newfstatat", "fstatat"),
    ("madvise1", "madvise"),
    // The `syscalls` crate names i386's syscall 17 with Rust's raw identifier.
    ("break", "r#break"),
];

/// Syscalls newer than the `syscalls` crate's tables, with their number in
/// the kernel's unified numbering (`include/uapi/asm-generic/unistd.h`, used
/// by every arch for syscalls 424 and later, shifted by the arch's base).
const NEWER_SYSCALLS: [(&str, u32); 3] = [
    ("file_setattr", 469),
    ("listns", 470),
    ("rseq_slice_yield", 471),
];

/// A syscall number by seccomp-tools' naming: the arch's own table, the
/// older names seccomp-tools still uses, and on x86_64 also `x32_NAME`,
/// which seccomp-tools defines as the x86_64 number of `NAME` with
/// `__X32_SYSCALL_BIT` set.
pub fn syscall_nr(arch: Arch, name: &str) -> Option<u32> {
    if let Some(nr) = arch.syscall_nr(name) {
        return Some(nr);
    }
    if let Some(&(_, canonical)) = SECCOMP_TOOLS_ALIASES.iter().find(|(a, _)| *a == name) {
        if let Some(nr) = arch.syscall_nr(canonical) {
            return Some(nr);
        }
    }
    if let Some(&(_, unified)) = NEWER_SYSCALLS.iter().find(|(n, _)| *n == name) {
        // pidfd_open is 434 in the unified numbering on every arch.
        let base = arch.syscall_nr("pidfd_open")?.checked_sub(434)?;
        return Some(base + unified);
    }
    let base = name.strip_prefix("x32_")?;
    if arch != Arch::X86_64 || base.starts_with("x32_") {
        return None;
    }
    syscall_nr(arch, base).map(|nr| nr | X32_SYSCALL_BIT)
}
