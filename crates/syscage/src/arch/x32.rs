//! x32, the ILP32 ABI that shares x86_64's audit id: the one classifier of
//! numbers on that id, and x32's syscall table, which the `syscalls` crate
//! lacks.
//!
//! x32's numbers carry bit 30 ([`super::X32_SYSCALL_BIT`]). It has every
//! x86_64 syscall of the `common` ABI at the same number, none of the `64` ABI ones below, and its
//! own entry points at 512–547 (`arch/x86/entry/syscalls/syscall_64.tbl`).
//!
//! Everything that tells x86_64 and x32 numbers apart asks this module
//! ([`Arch::classify`], [`x86_64_class`], [`x32_nr`]) rather than testing
//! the bit itself, so that `nr == -1` is handled one way everywhere.

use super::{Arch, X32_SYSCALL_BIT};

/// The class of a syscall number on x86_64's audit id
/// (`AUDIT_ARCH_X86_64`); see [`x86_64_class`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X86_64Class {
    /// Below bit 30: an x86_64 number.
    Native,
    /// Bit 30 set, up to `0xfffffffe`: an x32 number.
    X32,
    /// `0xffffffff` (-1): no syscall at all. A tracer sets it to skip a
    /// syscall, and seccomp (Linux >= 4.8) runs the filter again on it.
    MinusOne,
}

impl X86_64Class {
    /// Which of a filter's arches decides numbers of this class, given what
    /// the filter has for x86_64 (`native`) and x32 (`x32`), `None` where
    /// it lacks one (then the bad-arch action applies).
    ///
    /// -1 goes to x32 when the filter has it, else to x86_64. That is
    /// libseccomp's split (`gen_bpf.c`, "additional ABI filtering"): an
    /// x86_64-only filter lets -1 through to its x86_64 rules (`JEQ -1`
    /// after `JGE X32_SYSCALL_BIT`, so tracers can skip a syscall), an
    /// x32-only one sends every number from bit 30 up, -1 included, to its
    /// x32 rules. No rule names -1 on either, so it gets the default (or
    /// unknown-syscall) action whichever arch takes it.
    pub fn owner<T>(self, native: Option<T>, x32: Option<T>) -> Option<T> {
        match self {
            X86_64Class::Native => native,
            X86_64Class::X32 => x32,
            X86_64Class::MinusOne => x32.or(native),
        }
    }
}

/// The first and last x32 number on x86_64's audit id: bit 30 up to
/// `0xfffffffe` (-1 is not an x32 number, see [`x86_64_class`]).
pub const X32_NUMBERS: (u32, u32) = (X32_SYSCALL_BIT, u32::MAX - 1);

/// The number ranges on which [`x86_64_class`] is constant, in order:
/// native, x32, -1.
pub const X86_64_CLASS_RANGES: [(u32, u32); 3] =
    [(0, X32_SYSCALL_BIT - 1), X32_NUMBERS, (u32::MAX, u32::MAX)];

/// The class of `nr` on x86_64's audit id.
///
/// -1 (`0xffffffff`) has bit 30 set but is not an x32 syscall: the kernel
/// (`do_syscall_64`) finds it in neither table and returns `-ENOSYS`, and
/// libseccomp's x86_64 filter lets it through to the x86_64 rules rather
/// than treating it as x32. It is its own class.
pub const fn x86_64_class(nr: u32) -> X86_64Class {
    if nr == u32::MAX {
        X86_64Class::MinusOne
    } else if nr >= X32_SYSCALL_BIT {
        X86_64Class::X32
    } else {
        X86_64Class::Native
    }
}

/// The number `seccomp_data.nr` carries for x32's syscall `index`
/// (`__X32_SYSCALL_BIT + index`, as `<asm/unistd_x32.h>` defines them).
pub const fn x32_nr(index: u32) -> u32 {
    index | X32_SYSCALL_BIT
}

/// The index of an x32 number in x32's own numbering: `nr` without bit 30
/// (the x86_64 number of a `common` syscall).
pub const fn x32_index(nr: u32) -> u32 {
    nr & !X32_SYSCALL_BIT
}

impl Arch {
    /// The one classifier of a syscall as the kernel reports it
    /// (`seccomp_data.arch`/`.nr`, `ptrace_syscall_info`, audit records):
    /// the arch it was made with and its number on that arch's table, or
    /// `None` for an audit id syscage does not know.
    ///
    /// On x86_64's audit id, x32 numbers ([`X86_64Class::X32`]) are x32's;
    /// the rest, -1 included, are x86_64's (see [`x86_64_class`]). The
    /// number is returned as is: syscage's x32 table spells numbers with
    /// bit 30, as the kernel's `<asm/unistd_x32.h>` and libseccomp do
    /// ([`x32_index`] strips it).
    pub fn classify(audit: u32, nr: u32) -> Option<(Arch, u32)> {
        let arch = Arch::from_audit(audit)?;
        let arch = match (arch, x86_64_class(nr)) {
            (Arch::X86_64, X86_64Class::X32) => Arch::X32,
            (a, _) => a,
        };
        Some((arch, nr))
    }

    /// Whether `nr` is an x32 number on this arch's audit id: true for
    /// x86_64 and x32 and [`X86_64Class::X32`] numbers only.
    pub const fn is_x32_nr(self, nr: u32) -> bool {
        matches!(self, Arch::X86_64 | Arch::X32) && matches!(x86_64_class(nr), X86_64Class::X32)
    }
}

/// x86_64 syscalls of the `64` ABI only: x32 has no syscall at these numbers.
pub const X86_64_ONLY: [u32; 49] = [
    13, 15, 16, 19, 20, 45, 46, 47, 54, 55, 59, 101, 127, 128, 129, 131, 134, 156, 174, 177, 178,
    180, 205, 206, 209, 211, 214, 215, 222, 236, 244, 246, 247, 273, 274, 278, 279, 295, 296, 297,
    299, 307, 310, 311, 322, 327, 328, 335, 453,
];

/// The x32-only entry points, numbers 512 to 547 (without bit 30).
pub const X32_SPECIFIC: [(&str, u32); 36] = [
    ("rt_sigaction", 512),
    ("rt_sigreturn", 513),
    ("ioctl", 514),
    ("readv", 515),
    ("writev", 516),
    ("recvfrom", 517),
    ("sendmsg", 518),
    ("recvmsg", 519),
    ("execve", 520),
    ("ptrace", 521),
    ("rt_sigpending", 522),
    ("rt_sigtimedwait", 523),
    ("rt_sigqueueinfo", 524),
    ("sigaltstack", 525),
    ("timer_create", 526),
    ("mq_notify", 527),
    ("kexec_load", 528),
    ("waitid", 529),
    ("set_robust_list", 530),
    ("get_robust_list", 531),
    ("vmsplice", 532),
    ("move_pages", 533),
    ("preadv", 534),
    ("pwritev", 535),
    ("rt_tgsigqueueinfo", 536),
    ("recvmmsg", 537),
    ("sendmmsg", 538),
    ("process_vm_readv", 539),
    ("process_vm_writev", 540),
    ("setsockopt", 541),
    ("getsockopt", 542),
    ("io_setup", 543),
    ("io_submit", 544),
    ("execveat", 545),
    ("preadv2", 546),
    ("pwritev2", 547),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifier() {
        let x86_64 = Arch::X86_64.audit();
        let on = |nr: u32| Arch::classify(x86_64, nr);
        assert_eq!(on(0), Some((Arch::X86_64, 0)));
        assert_eq!(on(0x3fff_ffff), Some((Arch::X86_64, 0x3fff_ffff)));
        assert_eq!(on(1 << 30), Some((Arch::X32, 1 << 30)));
        assert_eq!(on(0x4000_01ff), Some((Arch::X32, 0x4000_01ff)));
        assert_eq!(on(0x7fff_ffff), Some((Arch::X32, 0x7fff_ffff)));
        assert_eq!(on(0xffff_fffe), Some((Arch::X32, 0xffff_fffe)));
        // -1 is no x32 syscall (kernel and libseccomp agree).
        assert_eq!(on(u32::MAX), Some((Arch::X86_64, u32::MAX)));
        // Other arches never split.
        assert_eq!(
            Arch::classify(Arch::X86.audit(), 1 << 30),
            Some((Arch::X86, 1 << 30))
        );
        assert_eq!(Arch::classify(0x1234, 0), None);

        assert_eq!(x86_64_class(0x3fff_ffff), X86_64Class::Native);
        assert_eq!(x86_64_class(1 << 30), X86_64Class::X32);
        assert_eq!(x86_64_class(0x4000_01ff), X86_64Class::X32);
        assert_eq!(x86_64_class(0x7fff_ffff), X86_64Class::X32);
        assert_eq!(x86_64_class(u32::MAX), X86_64Class::MinusOne);
        for (lo, hi) in X86_64_CLASS_RANGES {
            assert_eq!(x86_64_class(lo), x86_64_class(hi));
        }
        assert!(Arch::X86_64.is_x32_nr(0x4000_01ff));
        assert!(Arch::X32.is_x32_nr(1 << 30));
        assert!(!Arch::X86_64.is_x32_nr(u32::MAX));
        assert!(!Arch::X86_64.is_x32_nr(0x3fff_ffff));
        assert!(!Arch::X86.is_x32_nr(0x4000_01ff));

        assert_eq!(x32_nr(520), 0x4000_0208);
        assert_eq!(x32_index(0x4000_0208), 520);
    }

    #[test]
    fn owner_of_minus_one() {
        use X86_64Class::*;
        assert_eq!(MinusOne.owner(Some(1), Some(2)), Some(2));
        assert_eq!(MinusOne.owner(Some(1), None), Some(1));
        assert_eq!(X32.owner(Some(1), None), None);
        assert_eq!(Native.owner(None, Some(2)), None);
    }
}
