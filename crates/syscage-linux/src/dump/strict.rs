//! Strict mode (`SECCOMP_MODE_STRICT`) as the filter that decides the same.

use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::{OFF_ARCH, OFF_NR};
use syscage::bpf::insn::{BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
use syscage::bpf::RawInsn;

/// The syscalls strict mode allows for a calling convention: the kernel's
/// `mode1_syscalls` (`read`, `write`, `exit`, `rt_sigreturn`) or, for i386
/// and compat calls on x86_64, `mode1_syscalls_32` (`sigreturn` instead of
/// `rt_sigreturn`).
fn allowed(arch: Arch) -> Vec<u32> {
    let sigreturn = if arch == Arch::X86 {
        "sigreturn"
    } else {
        "rt_sigreturn"
    };
    ["read", "write", "exit", sigreturn]
        .iter()
        .filter_map(|n| arch.syscall_nr(n))
        .collect()
}

/// The filter equivalent to strict mode for a process of personality
/// `arch`: allow `read`, `write`, `exit` and `(rt_)sigreturn`, kill the
/// thread otherwise (strict mode's `do_exit(SIGKILL)`). For an x86_64
/// process, `int 0x80` calls (audit arch i386) get the 32-bit list, as
/// in `__secure_computing_strict`.
pub fn strict_mode_filter(arch: Arch) -> Vec<RawInsn> {
    let mut sections = vec![arch];
    if arch == Arch::X86_64 {
        sections.push(Arch::X86);
    }
    let lists: Vec<Vec<u32>> = sections.iter().map(|a| allowed(*a)).collect();
    let header_len = 1 + sections.len() + 1;
    let mut out = vec![load(OFF_ARCH)];
    let mut start = header_len;
    for (i, (a, list)) in sections.iter().zip(&lists).enumerate() {
        let here = 1 + i;
        out.push(jeq(a.audit(), (start - here - 1) as u8, 0));
        start += list.len() + 3;
    }
    out.push(ret(Action::KillThread));
    for list in &lists {
        out.push(load(OFF_NR));
        for (j, nr) in list.iter().enumerate() {
            out.push(jeq(*nr, (list.len() - j) as u8, 0));
        }
        out.push(ret(Action::KillThread));
        out.push(ret(Action::Allow));
    }
    out
}

/// Builds `RET action`.
fn ret(action: Action) -> RawInsn {
    RawInsn::stmt(BPF_RET | BPF_K, action.to_ret())
}

/// Builds `A = seccomp_data[offset]` (`LD|W|ABS`).
fn load(offset: u32) -> RawInsn {
    RawInsn::stmt(BPF_LD | BPF_W | BPF_ABS, offset)
}

/// Builds `if (A == k) goto +jt else goto +jf`.
fn jeq(k: u32, jt: u8, jf: u8) -> RawInsn {
    RawInsn::new(BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k)
}
