//! Named syscall groups (`@file-system`, `@network-io`, ...), in the
//! spirit of systemd's `SystemCallFilter=` sets, with our own lists.
//!
//! A group lists kernel syscall-table names across arches; on each arch a
//! rule covers the members that arch has (`open` on x86_64, `openat` on
//! both x86_64 and aarch64). `@system-service` is the union of the groups
//! an ordinary service needs.

/// One group: its name (without `@`), what it is for, its members.
pub struct Group {
    /// The name, without `@`.
    pub name: &'static str,
    /// One line saying what the group covers.
    pub about: &'static str,
    /// Member syscalls, and other groups as `@name`.
    pub members: &'static [&'static str],
}

/// Every group, in the order the documentation lists them.
#[rustfmt::skip]
pub static GROUPS: &[Group] = &[
    Group {
        name: "basic-io",
        about: "read and write open descriptors, close and duplicate them",
        members: &[
            "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
            "preadv2", "pwritev2", "close", "close_range", "dup", "dup2", "dup3", "lseek",
            "_llseek",
        ],
    },
    Group {
        name: "file-system",
        about: "open, stat, create, rename and remove files and directories",
        members: &[
            "open", "openat", "openat2", "creat", "access", "faccessat", "faccessat2", "stat",
            "lstat", "fstat", "newfstatat", "fstatat64", "stat64", "lstat64", "fstat64", "statx",
            "statfs", "fstatfs", "statfs64", "fstatfs64", "getdents", "getdents64", "readlink",
            "readlinkat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
            "renameat2", "link", "linkat", "symlink", "symlinkat", "chdir", "fchdir", "getcwd",
            "chmod", "fchmod", "fchmodat", "truncate", "ftruncate", "truncate64", "ftruncate64",
            "fallocate", "utime", "utimes", "utimensat", "futimesat", "fcntl", "fcntl64",
            "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "mknod",
            "mknodat", "umask", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
            "flistxattr", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
            "fremovexattr",
        ],
    },
    Group {
        name: "io-event",
        about: "wait for descriptors: poll, select, epoll, eventfd",
        members: &[
            "poll", "ppoll", "select", "_newselect", "pselect6", "epoll_create", "epoll_create1",
            "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
        ],
    },
    Group {
        name: "memory",
        about: "map, protect and release memory",
        members: &[
            "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
            "mlock", "mlock2", "munlock", "mlockall", "munlockall", "membarrier",
        ],
    },
    Group {
        name: "network-io",
        about: "sockets: create, connect, accept, send and receive",
        members: &[
            "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
            "getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown", "send",
            "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
            "socketcall",
        ],
    },
    Group {
        name: "process",
        about: "create, run, wait for and end processes and threads",
        members: &[
            "fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group",
            "wait4", "waitid", "waitpid", "kill", "tkill", "tgkill", "getpid", "getppid",
            "gettid", "set_tid_address", "prctl", "arch_prctl", "setpgid", "getpgid", "getpgrp",
            "setsid", "getsid", "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
            "rt_sigqueueinfo", "rt_tgsigqueueinfo", "unshare", "futex", "set_robust_list",
            "get_robust_list", "sched_yield", "rseq",
        ],
    },
    Group {
        name: "signal",
        about: "install handlers, mask and wait for signals",
        members: &[
            "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
            "rt_sigtimedwait", "sigaction", "sigprocmask", "sigreturn", "sigaltstack", "signalfd",
            "signalfd4", "pause", "sigsuspend", "sigpending",
        ],
    },
    Group {
        name: "time",
        about: "read clocks, sleep and use timers (not set the clock)",
        members: &[
            "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
            "clock_nanosleep", "alarm", "getitimer", "setitimer", "timer_create", "timer_settime",
            "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create",
            "timerfd_settime", "timerfd_gettime", "clock_gettime64", "clock_nanosleep_time64",
        ],
    },
    Group {
        name: "ipc",
        about: "System V and POSIX IPC, pipes",
        members: &[
            "pipe", "pipe2", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop",
            "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open",
            "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "ipc",
        ],
    },
    Group {
        name: "credentials",
        about: "read user, group and capability ids",
        members: &[
            "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
            "capget", "getuid32", "geteuid32", "getgid32", "getegid32", "getresuid32",
            "getresgid32", "getgroups32",
        ],
    },
    Group {
        name: "resources",
        about: "read and set resource limits, priorities and CPU affinity",
        members: &[
            "getrlimit", "setrlimit", "prlimit64", "getrusage", "getpriority", "setpriority",
            "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
            "sched_getscheduler", "sched_setscheduler", "sched_getattr", "sched_setattr",
            "ugetrlimit", "sysinfo", "uname", "getrandom",
        ],
    },
    Group {
        name: "mount",
        about: "mount and unmount file systems, change the root",
        members: &[
            "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
            "fspick", "move_mount", "open_tree", "mount_setattr",
        ],
    },
    Group {
        name: "module",
        about: "load and unload kernel modules",
        members: &[
            "init_module", "finit_module", "delete_module", "create_module",
        ],
    },
    Group {
        name: "reboot",
        about: "reboot or load a new kernel",
        members: &[
            "reboot", "kexec_load", "kexec_file_load",
        ],
    },
    Group {
        name: "swap",
        about: "enable and disable swap",
        members: &[
            "swapon", "swapoff",
        ],
    },
    Group {
        name: "clock",
        about: "set the system clock",
        members: &[
            "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime",
            "clock_settime64", "clock_adjtime64",
        ],
    },
    Group {
        name: "debug",
        about: "trace and inspect other processes",
        members: &[
            "ptrace", "process_vm_readv", "process_vm_writev", "perf_event_open", "kcmp",
            "lookup_dcookie",
        ],
    },
    Group {
        name: "raw-io",
        about: "port I/O and raw device access",
        members: &[
            "ioperm", "iopl", "pciconfig_read", "pciconfig_write", "pciconfig_iobase",
        ],
    },
    Group {
        name: "setuid",
        about: "change user, group and capability ids",
        members: &[
            "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
            "setfsgid", "setgroups", "capset", "setuid32", "setgid32", "setreuid32", "setregid32",
            "setresuid32", "setresgid32", "setfsuid32", "setfsgid32", "setgroups32",
        ],
    },
    Group {
        name: "privileged",
        about: "what only a privileged process should do",
        members: &[
            "@mount", "@module", "@reboot", "@swap", "@clock", "@raw-io", "@setuid", "acct",
            "bpf", "chown", "fchown", "fchownat", "lchown", "quotactl", "sethostname",
            "setdomainname", "vhangup", "nfsservctl", "open_by_handle_at", "syslog",
        ],
    },
    Group {
        name: "obsolete",
        about: "syscalls the kernel no longer implements or nobody should call",
        members: &[
            "_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime",
            "get_kernel_syms", "getpmsg", "gtty", "lock", "mpx", "prof", "profil", "putpmsg",
            "query_module", "security", "sgetmask", "ssetmask", "stty", "sysfs", "tuxcall",
            "uselib", "ustat", "vserver", "uselib",
        ],
    },
    Group {
        name: "system-service",
        about: "what an ordinary service needs (not @privileged, @debug or @obsolete)",
        members: &[
            "@basic-io", "@file-system", "@io-event", "@memory", "@network-io", "@process",
            "@signal", "@time", "@ipc", "@credentials", "@resources", "ioctl", "sendfile",
            "splice", "tee", "copy_file_range", "flock", "fsync", "fdatasync", "sync_file_range",
            "getcpu", "set_thread_area", "get_thread_area", "personality",
        ],
    },
];

/// Most nesting of groups in groups (the table nests two levels).
const MAX_DEPTH: usize = 4;

/// The group called `name` (without `@`).
pub fn group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.name == name)
}

/// The syscall names of a group, nested groups expanded, without repeats,
/// in table order. `None` when the group does not exist.
pub fn expand(name: &str) -> Option<Vec<&'static str>> {
    let mut out = Vec::new();
    expand_into(group(name)?, &mut out, 0);
    Some(out)
}

fn expand_into(g: &'static Group, out: &mut Vec<&'static str>, depth: usize) {
    for m in g.members {
        match m.strip_prefix('@') {
            Some(sub) if depth < MAX_DEPTH => {
                if let Some(s) = group(sub) {
                    expand_into(s, out, depth + 1);
                }
            }
            Some(_) => {}
            None if !out.contains(m) => out.push(m),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;

    #[test]
    fn every_member_is_a_syscall_or_a_group() {
        for g in GROUPS {
            for m in g.members {
                match m.strip_prefix('@') {
                    Some(sub) => assert!(group(sub).is_some(), "@{}: @{sub}", g.name),
                    None => assert!(
                        Arch::ALL.iter().any(|a| a.syscall_nr(m).is_some()),
                        "@{}: {m} is no arch's syscall",
                        g.name
                    ),
                }
            }
        }
    }

    #[test]
    fn the_guide_lists_every_member() {
        let guide = include_str!("../../../../../docs/policy-language.md");
        for g in GROUPS {
            let mut seen: Vec<&str> = Vec::new();
            for m in g.members {
                if !seen.contains(m) {
                    seen.push(m);
                }
            }
            let list: Vec<String> = seen.iter().map(|m| format!("`{m}`")).collect();
            let line = format!("- `@{}`: {}\n", g.name, list.join(", "));
            assert!(
                guide.contains(&line),
                "docs/policy-language.md lacks {line}"
            );
        }
    }

    #[test]
    fn nested_groups_expand() {
        let s = expand("system-service").unwrap();
        assert!(s.contains(&"read") && s.contains(&"openat") && s.contains(&"ioctl"));
        assert!(!s.contains(&"mount") && !s.contains(&"ptrace"));
        assert!(expand("privileged").unwrap().contains(&"mount"));
        assert!(expand("nope").is_none());
    }
}
