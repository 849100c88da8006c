//! The loader and the counter on the running kernel (root needed: without
//! it, `NOT CHECKED`, or a failure under `CI=true`).

use super::*;
use insn::{Program, Reg};

/// Whether this run may skip what the machine cannot do (not under CI).
fn may_skip(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("under CI=true this must run: {why}");
    }
    println!("NOT CHECKED: {why}");
    true
}

#[test]
fn a_trivial_program_loads() {
    let mut p = Program::new();
    p.mov_imm(Reg::R0, 0).exit();
    let insns = p.finish().unwrap();
    match bpf_sys::prog_load(bpf_sys::PROG_TYPE_SOCKET_FILTER, &insns, "Dual MIT/GPL") {
        Ok(_) => {}
        Err(e) => {
            may_skip(&format!("cannot load an eBPF program: {e}"));
        }
    }
    // And one the verifier refuses (r0 never set) names why.
    let mut bad = Program::new();
    bad.exit();
    if let Err(CounterError::Load { log, .. }) = bpf_sys::prog_load(
        bpf_sys::PROG_TYPE_SOCKET_FILTER,
        &bad.finish().unwrap(),
        "Dual MIT/GPL",
    ) {
        assert!(log.contains("R0"), "{log}");
    }
}

/// The counter, started; `None` (said) where the machine cannot run it.
fn started() -> Option<SyscallCounter> {
    match SyscallCounter::start() {
        Ok(c) => Some(c),
        Err(e) => {
            may_skip(&format!("cannot start the eBPF counter: {e}"));
            None
        }
    }
}

/// Forks a child that installs an allow-all classic BPF seccomp filter
/// and calls `getppid` `n` times; returns its pid once it has exited.
fn filtered_child_calling_getppid(n: usize) -> u32 {
    filtered_child(n, false, None).expect("no i386 calls")
}

/// The i386 `getpid` (20) through `int 0x80` from 64-bit code: the kernel
/// runs it as a compat call (`TS_COMPAT`), as audit's `arch=i386` says.
#[cfg(target_arch = "x86_64")]
fn i386_getpid() {
    // SAFETY: `int 0x80` with eax = 20 (i386 getpid) takes no pointer and
    // only writes eax (the result); r8-r11 are zeroed by the kernel on
    // this path, so they are declared clobbered.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inout("eax") 20u32 => _,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
}

/// Forks a child that installs an allow-all classic BPF seccomp filter,
/// runs `calls` (raw syscalls only: it runs between fork and exit in a
/// multi-threaded process) and exits 0; its pid and how it ended.
fn filtered_child_running(calls: impl Fn()) -> (u32, nix::sys::wait::WaitStatus) {
    let allow = libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    };
    let prog = libc::sock_fprog {
        len: 1,
        filter: &allow as *const libc::sock_filter as *mut libc::sock_filter,
    };
    // SAFETY: the child only makes raw syscalls (close_range, prctl, what
    // `calls` makes, _exit), which are async-signal-safe, before it exits;
    // `prog` outlives them.
    let pid = unsafe {
        crate::fork_exec::fork_child(|| {
            // Not another test's counter's link: a descriptor of it held
            // here would keep that program attached after its test
            // detaches it (the child never executes, so `O_CLOEXEC` does
            // not close it).
            libc::syscall(libc::SYS_close_range, 3, libc::c_uint::MAX, 0);
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) != 0
            {
                libc::_exit(3);
            }
            calls();
            libc::_exit(0)
        })
    }
    .expect("fork");
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).expect("waitpid");
    (pid as u32, status)
}

/// A child under an allow-all filter that calls each number of `nrs`
/// once (numbers no syscall has: `ENOSYS`); its pid once it has exited.
fn filtered_child_calling(nrs: std::ops::Range<libc::c_long>) -> u32 {
    let (pid, status) = filtered_child_running(|| {
        for nr in nrs.clone() {
            // SAFETY: a syscall number no syscall has, without arguments.
            unsafe { libc::syscall(nr) };
        }
    });
    assert!(
        matches!(status, nix::sys::wait::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    pid
}

/// [`filtered_child_calling_getppid`], and with `i386`, as many i386
/// `getpid` calls; with `also`, as many calls of that number (no
/// arguments) too, each after a `getppid`.
/// `None` if the child died of the i386 calls (no IA32 emulation).
fn filtered_child(n: usize, i386: bool, also: Option<libc::c_long>) -> Option<u32> {
    let (pid, status) = filtered_child_running(|| {
        for _ in 0..n {
            // SAFETY: getppid and a number without arguments take no
            // pointer.
            unsafe {
                libc::syscall(libc::SYS_getppid);
                if let Some(nr) = also {
                    libc::syscall(nr);
                }
            }
            #[cfg(target_arch = "x86_64")]
            if i386 {
                i386_getpid();
            }
        }
    });
    match status {
        // `int 0x80` faults where the kernel has no IA32 emulation.
        nix::sys::wait::WaitStatus::Signaled(..) if i386 => None,
        nix::sys::wait::WaitStatus::Exited(_, 0) => Some(pid),
        other => panic!("the filtered child ended with {other:?}"),
    }
}

#[test]
fn counts_the_calls_of_a_filtered_process_only() {
    let Some(counter) = started() else {
        return;
    };
    let child = filtered_child_calling_getppid(1000);
    let counts = counter.finish().unwrap();
    assert_eq!(counts.lost, 0);
    let getppid = libc::SYS_getppid as u32;
    let of_child: Vec<_> = counts
        .calls
        .iter()
        .filter(|c| c.key.tgid == child)
        .collect();
    let n: u64 = of_child
        .iter()
        .filter(|c| c.key.nr == getppid && !c.key.compat)
        .map(|c| c.calls)
        .sum();
    assert_eq!(n, 1000, "{of_child:?}");
    assert!(of_child.iter().all(|c| c.first_ns > 0));
    // Nothing of a process without a filter is counted.
    let me = std::process::id();
    assert!(
        !counts.calls.iter().any(|c| c.key.tgid == me),
        "the test runner has no filter"
    );
}

/// Two numbers that share a slot (equal modulo 256), called in turn:
/// every call takes the slot from the other number, so each flushes the
/// other's pending call into the counts map (inserting it the first time,
/// adding to it after). The counts are exact.
#[test]
fn calls_that_share_a_slot_are_each_counted() {
    let Some(counter) = started() else {
        return;
    };
    // No syscall has this number (ENOSYS): it shares getppid's slot.
    let other = libc::SYS_getppid + 4 * 256;
    let child = filtered_child(500, false, Some(other)).expect("no i386 calls");
    let counts = counter.finish().unwrap();
    assert_eq!(counts.lost, 0);
    let of = |nr: libc::c_long| -> Vec<&Counted> {
        counts
            .calls
            .iter()
            .filter(|c| c.key.tgid == child && c.key.nr == nr as u32)
            .collect()
    };
    let (getppid, other) = (of(libc::SYS_getppid), of(other));
    assert_eq!(getppid.len(), 1, "one key: {getppid:?}");
    assert_eq!(getppid[0].calls, 500);
    assert_eq!(other.len(), 1, "{other:?}");
    assert_eq!(other[0].calls, 500);
    // getppid came first, and keeps its first time through the flushes.
    assert!(getppid[0].first_ns < other[0].first_ns);
}

/// This process's cgroup v2 id, as the file system says it: the inode of
/// its cgroup directory where a cgroup2 file system is mounted; 1 in the
/// root cgroup (`0::/`), the default hierarchy's root; `None` otherwise.
fn own_cgroup_id() -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE ...
    let cgroup2 = mounts.lines().find_map(|l| {
        let (fields, fs) = l.split_once(" - ")?;
        let f: Vec<&str> = fields.split(' ').collect();
        (fs.starts_with("cgroup2 ") && f.get(3) == Some(&"/")).then(|| f[4].to_string())
    });
    match cgroup2 {
        Some(at) => Some(
            std::fs::metadata(format!("{at}{}", path.trim_end_matches('/')))
                .ok()?
                .ino(),
        ),
        None => (path == "/").then_some(1),
    }
}

/// Both ways of reading the task (direct loads, `task->cgroups->dfl_cgrp
/// ->kn->id` for the cgroup; helpers) count the same calls under the same
/// key, and the cgroup id is the child's cgroup directory's inode.
#[test]
fn both_ways_of_reading_the_task_count_alike() {
    let mut seen = Vec::new();
    for access in [TaskAccess::Btf, TaskAccess::ProbeRead] {
        let counter = match SyscallCounter::start_reading(Some(access)) {
            Ok(c) => c,
            Err(e) => {
                may_skip(&format!(
                    "cannot start the eBPF counter reading as {access:?}: {e}"
                ));
                return;
            }
        };
        let child = filtered_child_calling_getppid(200);
        let counts = counter.finish().unwrap();
        let getppid: Vec<_> = counts
            .calls
            .iter()
            .filter(|c| c.key.tgid == child && c.key.nr == libc::SYS_getppid as u32)
            .collect();
        assert_eq!(getppid.len(), 1, "{access:?}: {getppid:?}");
        assert_eq!(getppid[0].calls, 200, "{access:?}");
        seen.push(getppid[0].key);
    }
    assert_eq!(seen[0].cgroup_id, seen[1].cgroup_id);
    assert_eq!(seen[0].exec_id, seen[1].exec_id);
    assert!(!seen[0].compat && !seen[1].compat);
    match own_cgroup_id() {
        // The child was forked from this process: the same cgroup.
        Some(id) => assert_eq!(seen[0].cgroup_id, id),
        None => {
            may_skip("no cgroup2 file system mounted to read this process's cgroup id from");
        }
    }
}

/// More keys than the map holds: the calls that found no room are
/// reported lost, not dropped unsaid, and no key is counted twice.
#[test]
fn a_full_map_says_how_many_calls_it_lost() {
    let Some(counter) = started() else {
        return;
    };
    let n = MAX_KEYS as libc::c_long + 1000;
    let child = filtered_child_calling(1000..1000 + n);
    let counts = counter.finish().unwrap();
    let of_child: Vec<&Counted> = counts
        .calls
        .iter()
        .filter(|c| c.key.tgid == child)
        .collect();
    let counted: u64 = of_child.iter().map(|c| c.calls).sum();
    let cpus = bpf_sys::possible_cpus().unwrap();
    assert!(of_child.len() <= MAX_KEYS as usize + SLOTS as usize * cpus);
    assert!(of_child.iter().all(|c| c.calls == 1), "one call each");
    assert!(counts.lost > 0, "{} keys, none lost", of_child.len());
    // Each of the child's calls under the filter (the numbers and its
    // exit) is counted or lost; other filtered tasks may add lost calls.
    let under_filter = n as u64 + 1;
    assert!(counted < under_filter);
    assert!(
        counted + counts.lost >= under_filter,
        "{counted} + {}",
        counts.lost
    );
}

#[test]
fn the_kernel_says_what_it_verified() {
    let mut p = Program::new();
    p.mov_imm(Reg::R0, 0).exit();
    let prog = match bpf_sys::prog_load(
        bpf_sys::PROG_TYPE_SOCKET_FILTER,
        &p.finish().unwrap(),
        LICENSE,
    ) {
        Ok(prog) => prog,
        Err(e) => {
            may_skip(&format!("cannot load an eBPF program: {e}"));
            return;
        }
    };
    let info = bpf_sys::prog_info(&prog).unwrap();
    // Two instructions (0 before Linux 5.16, which does not say); never run.
    assert!(matches!(info.verified_insns, 0 | 2), "{info:?}");
    assert_eq!(info.recursion_misses, 0);
}

#[test]
fn pending_calls_are_added_to_their_keys() {
    let key = |nr| CountKey {
        cgroup_id: 1,
        tgid: 2,
        exec_id: 3,
        nr,
        compat: false,
    };
    let c = |nr, calls, first_ns| Counted {
        key: key(nr),
        calls,
        first_ns,
    };
    let mut calls = vec![c(0, 10, 500), c(1, 1, 100)];
    // Two CPUs' slots held read (0) calls, one since before the counts
    // map had them; one held write (1)'s; one a key the map lacks.
    merge_pending(
        &mut calls,
        vec![c(0, 4, 400), c(0, 1, 900), c(1, 2, 300), c(2, 7, 50)],
    );
    assert_eq!(calls, vec![c(0, 15, 400), c(1, 3, 100), c(2, 7, 50)]);
}

#[test]
fn both_ways_of_reading_the_task_load() {
    let Ok(offsets) = task_offsets() else {
        may_skip("no kernel BTF");
        return;
    };
    let counts = match bpf_sys::map_create(
        bpf_sys::MAP_TYPE_HASH,
        KEY_SIZE as u32,
        VALUE_SIZE as u32,
        16,
        0,
    ) {
        Ok(m) => m,
        Err(e) => {
            may_skip(&format!("cannot create a map: {e}"));
            return;
        }
    };
    let lost = bpf_sys::map_create(bpf_sys::MAP_TYPE_ARRAY, 4, 8, 1, 0).unwrap();
    let slots = bpf_sys::map_create(
        bpf_sys::MAP_TYPE_PERCPU_ARRAY,
        4,
        program::SLOT_SIZE as u32,
        program::SLOTS,
        0,
    )
    .unwrap();
    let maps = program::MapFds {
        counts: counts.fd.as_raw_fd(),
        slots: slots.fd.as_raw_fd(),
        lost: lost.fd.as_raw_fd(),
    };
    for access in [TaskAccess::ProbeRead, TaskAccess::Btf] {
        let insns = program::counting_program(maps, offsets, access).unwrap();
        let loaded = bpf_sys::prog_load(bpf_sys::PROG_TYPE_RAW_TRACEPOINT, &insns, LICENSE);
        // Direct loads need a kernel whose verifier knows its BTF (5.11+).
        assert!(
            loaded.is_ok() || access == TaskAccess::Btf,
            "{access:?}: {:?}",
            loaded.err()
        );
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn an_i386_call_is_told_apart() {
    let Some(counter) = started() else {
        return;
    };
    let child = filtered_child(10, true, None);
    let counts = counter.finish().unwrap();
    let Some(child) = child else {
        may_skip("the kernel runs no i386 calls (no IA32 emulation)");
        return;
    };
    let of = |nr: u32, compat: bool| -> u64 {
        counts
            .calls
            .iter()
            .filter(|c| c.key.tgid == child && c.key.nr == nr && c.key.compat == compat)
            .map(|c| c.calls)
            .sum()
    };
    assert_eq!(of(libc::SYS_getppid as u32, false), 10);
    assert_eq!(of(20, true), 10, "{:?}", counts.calls);
    assert_eq!(of(20, false), 0);
}
