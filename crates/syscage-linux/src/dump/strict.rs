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

#[cfg(test)]
mod tests {
    use super::*;
    use syscage::arch::x32_nr;
    use syscage::bpf::data::SeccompData;
    use syscage::bpf::{ByteOrder, Program};

    fn decide(prog: &Program, arch: Arch, nr: u32) -> Action {
        let data = SeccompData {
            nr: nr as i32 as _,
            arch: arch.audit(),
            ..Default::default()
        };
        syscage::emu::run(prog, &data, ByteOrder::Little)
            .expect("strict filter runs")
            .action
    }

    // Syscall numbers from <asm/unistd_64.h> and <asm/unistd_32.h>, and the
    // kernel's mode1_syscalls / mode1_syscalls_32 (kernel/seccomp.c,
    // arch/x86/include/asm/seccomp.h).
    #[test]
    fn x86_64_strict_filter_allows_exactly_mode1_syscalls() {
        let raw = strict_mode_filter(Arch::X86_64);
        let prog = syscage::bpf::validate::validate(&raw).expect("valid filter");
        for nr in [0, 1, 60, 15] {
            assert_eq!(
                decide(&prog, Arch::X86_64, nr),
                Action::Allow,
                "x86_64 nr {nr}"
            );
        }
        for nr in [2, 3, 59, 231, 157, 317, x32_nr(0)] {
            assert_eq!(
                decide(&prog, Arch::X86_64, nr),
                Action::KillThread,
                "x86_64 nr {nr}"
            );
        }
        // int 0x80 from a 64-bit strict process: the 32-bit list.
        for nr in [3, 4, 1, 119] {
            assert_eq!(decide(&prog, Arch::X86, nr), Action::Allow, "i386 nr {nr}");
        }
        for nr in [0, 5, 173, 252] {
            assert_eq!(
                decide(&prog, Arch::X86, nr),
                Action::KillThread,
                "i386 nr {nr}"
            );
        }
        assert_eq!(decide(&prog, Arch::Aarch64, 63), Action::KillThread);
    }

    #[test]
    fn i386_strict_filter_uses_the_32_bit_list_only() {
        let raw = strict_mode_filter(Arch::X86);
        let prog = syscage::bpf::validate::validate(&raw).expect("valid filter");
        for nr in [3, 4, 1, 119] {
            assert_eq!(decide(&prog, Arch::X86, nr), Action::Allow, "i386 nr {nr}");
        }
        for nr in [0, 2, 11, 173, 252] {
            assert_eq!(
                decide(&prog, Arch::X86, nr),
                Action::KillThread,
                "i386 nr {nr}"
            );
        }
        assert_eq!(decide(&prog, Arch::X86_64, 0), Action::KillThread);
    }
}
