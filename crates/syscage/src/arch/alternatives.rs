//! Syscalls that do the same thing: denying one of a group leaves the
//! others doing its work (`--deny open` with `openat` allowed denies
//! nothing glibc does). Pure data: groups of names as the syscall tables
//! spell them; a name may sit in several groups (`unlinkat` removes files
//! and directories). libseccomp has no such table; the groups follow the
//! kernel's own `do_*` helpers shared by each family (e.g. `do_mkdirat`
//! behind `mkdir` and `mkdirat`, `do_sys_open` behind `open`, `openat`,
//! `openat2` and `creat`) and the multiplexers (`socketcall`, `ipc`).

/// The groups. Not every name exists on every arch.
pub const GROUPS: &[&[&str]] = &[
    &["open", "openat", "openat2", "creat"],
    &["mkdir", "mkdirat"],
    &["mknod", "mknodat"],
    &["access", "faccessat", "faccessat2"],
    &["execve", "execveat"],
    &["rename", "renameat", "renameat2"],
    &["unlink", "unlinkat"],
    &["rmdir", "unlinkat"],
    &[
        "stat",
        "lstat",
        "fstat",
        "newfstatat",
        "fstatat64",
        "stat64",
        "lstat64",
        "fstat64",
        "statx",
        "oldstat",
        "oldlstat",
        "oldfstat",
    ],
    &["dup", "dup2", "dup3"],
    &["chmod", "fchmod", "fchmodat", "fchmodat2"],
    &[
        "chown", "lchown", "fchown", "fchownat", "chown32", "lchown32", "fchown32",
    ],
    &["link", "linkat"],
    &["symlink", "symlinkat"],
    &["readlink", "readlinkat"],
    &["fork", "vfork", "clone", "clone3"],
    &["poll", "ppoll", "ppoll_time64"],
    &["select", "_newselect", "pselect6", "pselect6_time64"],
    &["epoll_wait", "epoll_pwait", "epoll_pwait2"],
    &["epoll_create", "epoll_create1"],
    &["eventfd", "eventfd2"],
    &["signalfd", "signalfd4"],
    &["inotify_init", "inotify_init1"],
    &["pipe", "pipe2"],
    &["accept", "accept4"],
    &[
        "utime",
        "utimes",
        "utimensat",
        "futimesat",
        "utimensat_time64",
    ],
    &["getdents", "getdents64", "readdir"],
    &["sendfile", "sendfile64"],
    &["read", "readv", "pread64", "preadv", "preadv2"],
    &["write", "writev", "pwrite64", "pwritev", "pwritev2"],
    &["truncate", "truncate64"],
    &["ftruncate", "ftruncate64"],
    &["wait4", "waitid", "waitpid"],
    &["kill", "tkill", "tgkill"],
    &["umount", "umount2"],
    &[
        "mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "move_mount",
        "open_tree",
        "mount_setattr",
    ],
    &["getrlimit", "ugetrlimit", "prlimit64"],
    &["setrlimit", "prlimit64"],
    &["rt_sigaction", "sigaction", "signal"],
    &["nanosleep", "clock_nanosleep", "clock_nanosleep_time64"],
    &["statfs", "fstatfs", "statfs64", "fstatfs64"],
    &["getxattr", "lgetxattr", "fgetxattr", "getxattrat"],
    &["setxattr", "lsetxattr", "fsetxattr", "setxattrat"],
    &["listxattr", "llistxattr", "flistxattr", "listxattrat"],
    &[
        "removexattr",
        "lremovexattr",
        "fremovexattr",
        "removexattrat",
    ],
    &["mmap", "mmap2"],
    &[
        "setuid",
        "setuid32",
        "setreuid",
        "setreuid32",
        "setresuid",
        "setresuid32",
    ],
    &[
        "setgid",
        "setgid32",
        "setregid",
        "setregid32",
        "setresgid",
        "setresgid32",
    ],
    &["seccomp", "prctl"],
    &["chdir", "fchdir"],
    &["fadvise64", "fadvise64_64", "arm_fadvise64_64"],
    &["sync_file_range", "sync_file_range2", "arm_sync_file_range"],
    &["pidfd_send_signal", "kill"],
    &["process_vm_readv", "ptrace"],
    &["process_vm_writev", "ptrace"],
    &["socket", "socketcall"],
    &["bind", "socketcall"],
    &["connect", "socketcall"],
    &["listen", "socketcall"],
    &["accept", "socketcall"],
    &["accept4", "socketcall"],
    &["getsockname", "socketcall"],
    &["getpeername", "socketcall"],
    &["socketpair", "socketcall"],
    &["send", "sendto", "sendmsg", "sendmmsg", "socketcall"],
    &[
        "recv",
        "recvfrom",
        "recvmsg",
        "recvmmsg",
        "recvmmsg_time64",
        "socketcall",
    ],
    &["shutdown", "socketcall"],
    &["setsockopt", "socketcall"],
    &["getsockopt", "socketcall"],
    &["shmget", "shmat", "shmdt", "shmctl", "ipc"],
    &["semget", "semop", "semtimedop", "semctl", "ipc"],
    &["msgget", "msgsnd", "msgrcv", "msgctl", "ipc"],
];

/// The syscalls that do what `name` does (each once, `name` left out, in
/// table order); empty when `name` is in no group.
pub fn alternatives(name: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for group in GROUPS.iter().filter(|g| g.contains(&name)) {
        for &other in group.iter() {
            if other != name && !out.contains(&other) {
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;

    #[test]
    fn the_families_from_the_issue_are_there() {
        assert_eq!(alternatives("open"), ["openat", "openat2", "creat"]);
        assert_eq!(alternatives("mkdir"), ["mkdirat"]);
        assert_eq!(alternatives("mkdirat"), ["mkdir"]);
        assert!(alternatives("access").contains(&"faccessat2"));
        assert_eq!(alternatives("execve"), ["execveat"]);
        assert!(alternatives("unlinkat").contains(&"rmdir"));
        assert!(alternatives("unlinkat").contains(&"unlink"));
        assert!(alternatives("fork").contains(&"clone3"));
        assert!(alternatives("connect").contains(&"socketcall"));
        assert!(alternatives("getdents").contains(&"getdents64"));
        assert!(alternatives("nosuchcall").is_empty());
        assert!(alternatives("getpid").is_empty());
    }

    #[test]
    fn every_name_exists_on_some_arch_and_groups_have_no_duplicates() {
        for group in GROUPS {
            assert!(group.len() >= 2, "{group:?}");
            for (i, name) in group.iter().enumerate() {
                assert!(
                    Arch::ALL.iter().any(|a| a.syscall_nr(name).is_some()),
                    "{name} is no syscall on any arch"
                );
                assert!(!group[i + 1..].contains(name), "{name} twice in {group:?}");
            }
        }
    }

    #[test]
    fn alternatives_are_symmetric() {
        for group in GROUPS {
            for a in group.iter() {
                for b in group.iter().filter(|b| *b != a) {
                    assert!(alternatives(a).contains(b), "{a} -> {b}");
                    assert!(alternatives(b).contains(a), "{b} -> {a}");
                }
            }
        }
    }
}
