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

/// Forks a child that installs an allow-all classic BPF seccomp filter
/// and calls `getppid` `n` times; returns its pid once it has exited.
fn filtered_child_calling_getppid(n: usize) -> u32 {
    filtered_child(n, false).expect("no i386 calls")
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

/// [`filtered_child_calling_getppid`], and with `i386`, as many i386
/// `getpid` calls.
/// `None` if the child died of the i386 calls (no IA32 emulation).
fn filtered_child(n: usize, i386: bool) -> Option<u32> {
    let mut allow = libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    };
    let prog = libc::sock_fprog {
        len: 1,
        filter: &mut allow,
    };
    // SAFETY: the child only makes raw syscalls (prctl, getppid, i386 getpid, _exit),
    // which are async-signal-safe, before it exits; `prog` outlives them.
    let pid = unsafe {
        crate::fork_exec::fork_child(|| {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const libc::sock_fprog,
                ) != 0
            {
                libc::_exit(3);
            }
            for _ in 0..n {
                libc::syscall(libc::SYS_getppid);
                #[cfg(target_arch = "x86_64")]
                if i386 {
                    i386_getpid();
                }
            }
            libc::_exit(0)
        })
    }
    .expect("fork");
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).expect("waitpid");
    match status {
        // `int 0x80` faults where the kernel has no IA32 emulation.
        nix::sys::wait::WaitStatus::Signaled(..) if i386 => return None,
        nix::sys::wait::WaitStatus::Exited(_, 0) => {}
        other => panic!("the filtered child ended with {other:?}"),
    }
    Some(pid as u32)
}

#[test]
fn counts_the_calls_of_a_filtered_process_only() {
    let counter = match SyscallCounter::start() {
        Ok(c) => c,
        Err(e) => {
            may_skip(&format!("cannot start the eBPF counter: {e}"));
            return;
        }
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
    for access in [TaskAccess::ProbeRead, TaskAccess::Btf] {
        let insns =
            program::counting_program(counts.fd.as_raw_fd(), lost.fd.as_raw_fd(), offsets, access)
                .unwrap();
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
    let counter = match SyscallCounter::start() {
        Ok(c) => c,
        Err(e) => {
            may_skip(&format!("cannot start the eBPF counter: {e}"));
            return;
        }
    };
    let child = filtered_child(10, true);
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
