//! What `lint` knows about syscalls: the dangerous ones, the families
//! that can do each other's job, and the flags and errnos its rules read.

use super::Severity;

/// Syscalls whose being allowed is itself a finding: name, severity, why.
pub(super) const DANGEROUS: &[(&str, Severity, &str)] = &[
    ("execve", Severity::High, "arbitrary program execution"),
    ("execveat", Severity::High, "arbitrary program execution"),
    (
        "io_uring_setup",
        Severity::High,
        "reads/writes/opens as ring operations, bypassing filters on those syscalls",
    ),
    (
        "process_vm_readv",
        Severity::High,
        "read another process's memory",
    ),
    (
        "process_vm_writev",
        Severity::High,
        "write another process's memory",
    ),
    (
        "ptrace",
        Severity::High,
        "inspect/inject into other processes",
    ),
    (
        "bpf",
        Severity::High,
        "load eBPF programs (kernel attack surface, tracing other processes)",
    ),
    ("kexec_load", Severity::High, "replace the running kernel"),
    (
        "kexec_file_load",
        Severity::High,
        "replace the running kernel",
    ),
    ("init_module", Severity::High, "load kernel code"),
    ("finit_module", Severity::High, "load kernel code"),
    (
        "mount",
        Severity::High,
        "change the filesystem view (escape confinement)",
    ),
    (
        "unshare",
        Severity::High,
        "create namespaces (kernel attack surface, privilege in a user namespace)",
    ),
    ("setns", Severity::Medium, "join other namespaces"),
    (
        "keyctl",
        Severity::Medium,
        "kernel keyrings are not namespaced",
    ),
    (
        "userfaultfd",
        Severity::Medium,
        "stall the kernel at chosen points (race exploitation)",
    ),
    (
        "perf_event_open",
        Severity::Medium,
        "kernel attack surface and side channels",
    ),
    ("connect", Severity::Medium, "network access (exfiltration)"),
    ("socket", Severity::Medium, "network access (exfiltration)"),
];

/// Families of syscalls that can do each other's job, with the fix
/// (`{}`: the allowed ones).
pub(super) const GENERIC_FIX: &str =
    "Deny every equivalent in the group: also refuse {} (or allow it only with the arguments you allow the others).";

pub(super) const FAMILIES: &[(&[&str], Severity, &str)] = &[
    (&["open", "openat", "openat2"], Severity::High, GENERIC_FIX),
    (&["execve", "execveat"], Severity::High, GENERIC_FIX),
    (
        &["fork", "vfork", "clone", "clone3"],
        Severity::Medium,
        "Filter process creation by clone's flags rather than by number (clone is also how threads start: never refuse it outright); refuse fork and vfork alike, and return ERRNO(ENOSYS) for clone3 so the C library falls back to clone (what Docker, runc and flatpak do). Allowed here: {}.",
    ),
    (
        &[
            "kill",
            "tkill",
            "tgkill",
            "pidfd_send_signal",
            "rt_sigqueueinfo",
            "rt_tgsigqueueinfo",
        ],
        Severity::Medium,
        GENERIC_FIX,
    ),
    (
        &["ptrace", "process_vm_writev", "process_vm_readv"],
        Severity::Medium,
        GENERIC_FIX,
    ),
    (&["mprotect", "pkey_mprotect"], Severity::Medium, GENERIC_FIX),
    (&["dup2", "dup3"], Severity::Low, GENERIC_FIX),
    (&["rename", "renameat", "renameat2"], Severity::Medium, GENERIC_FIX),
    (&["unlink", "unlinkat", "rmdir"], Severity::Medium, GENERIC_FIX),
    (
        &["chmod", "fchmod", "fchmodat", "fchmodat2"],
        Severity::Medium,
        GENERIC_FIX,
    ),
    (
        &[
            "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32",
        ],
        Severity::Medium,
        GENERIC_FIX,
    ),
    (
        &["link", "linkat", "symlink", "symlinkat"],
        Severity::Medium,
        GENERIC_FIX,
    ),
    (
        &["mount", "move_mount", "fsmount", "open_tree"],
        Severity::High,
        GENERIC_FIX,
    ),
    (&["socket", "socketcall", "socketpair"], Severity::Medium, GENERIC_FIX),
    (
        &["sendfile", "sendfile64", "splice", "copy_file_range"],
        Severity::Low,
        GENERIC_FIX,
    ),
];

pub(super) const OPEN_FAMILY: &[&str] = &["open", "openat", "openat2"];
pub(super) const READ_FAMILY: &[&str] = &[
    "read",
    "readv",
    "pread64",
    "preadv",
    "preadv2",
    "sendfile",
    "sendfile64",
    "mmap",
    "mmap2",
];
pub(super) const WRITE_FAMILY: &[&str] = &[
    "write",
    "writev",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "sendfile",
    "sendfile64",
    "sendto",
    "sendmsg",
];

/// `CLONE_NEW*` flags: creating namespaces with clone is `unshare`.
pub(super) const CLONE_NEW_FLAGS: u32 = 0x7e02_0080;

/// `ENOSYS`: "not implemented", the errno that makes callers fall back.
pub(super) const ENOSYS: u16 = 38;
