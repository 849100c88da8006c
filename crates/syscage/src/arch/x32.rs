//! The x32 syscall table, which the `syscalls` crate lacks.
//!
//! x32 shares x86_64's audit id; its numbers carry bit 30
//! ([`super::X32_SYSCALL_BIT`]). It has every x86_64 syscall of the
//! `common` ABI at the same number, none of the `64` ABI ones below, and its
//! own entry points at 512–547 (`arch/x86/entry/syscalls/syscall_64.tbl`).

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
