//! The syscalls the oracle makes: how each is made (x86_64 `syscall`, x32
//! numbers, i386 `int 0x80`), what the filter sees of it (`seccomp_data`),
//! and the harmless syscalls per ABI that the generated calls draw from.

use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;

/// How a syscall is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// `syscall` with a plain number.
    X64,
    /// `syscall` with bit 30 set.
    X32,
    /// `int 0x80`.
    I386,
}

/// One syscall to make: the number as the filter sees it, and its arguments.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub abi: Abi,
    pub nr: u32,
    pub args: [u64; 6],
}

impl Call {
    /// What the filter sees (compat arguments are 32-bit registers, zero-extended).
    pub fn data(&self) -> SeccompData {
        let arch = if self.abi == Abi::I386 {
            Arch::X86
        } else {
            Arch::X86_64
        };
        let mut args = self.args;
        if self.abi == Abi::I386 {
            for a in &mut args {
                *a &= 0xffff_ffff;
            }
        }
        SeccompData {
            nr: self.nr,
            arch: arch.audit(),
            instruction_pointer: 0,
            args,
        }
    }

    pub fn make(&self) -> i64 {
        match self.abi {
            Abi::X64 | Abi::X32 => raw_syscall(self.nr as u64, self.args),
            Abi::I386 => int80(self.nr, self.args) as i64,
        }
    }
}

fn raw_syscall(nr: u64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the oracle only makes syscalls that change nothing outside this
    // child (queries, calls on invalid file descriptors, unknown numbers).
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as i64 => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

pub fn int80(nr: u32, a: [u64; 6]) -> i32 {
    let ret: i32;
    // SAFETY: as raw_syscall; rbx and rbp, which the compiler reserves, are
    // saved and restored around the call; int 0x80 clobbers r8-r11.
    unsafe {
        std::arch::asm!(
            "push rbx",
            "push rbp",
            "mov ebx, {a0:e}",
            "mov ebp, {a5:e}",
            "int 0x80",
            "pop rbp",
            "pop rbx",
            a0 = in(reg) a[0] as u32,
            a5 = in(reg) a[5] as u32,
            inlateout("eax") nr as i32 => ret,
            in("ecx") a[1] as u32, in("edx") a[2] as u32,
            in("esi") a[3] as u32, in("edi") a[4] as u32,
            lateout("r8") _, lateout("r9") _, lateout("r10") _, lateout("r11") _,
        );
    }
    ret
}

/// Harmless syscalls per ABI: (name, needs a query value in arg 0).
/// Calls with a file descriptor get invalid ones (every generated argument
/// has low 32 bits ≥ 0x7000_0000, past any fd), `personality` only the
/// query 0xffffffff, and unknown numbers fail with ENOSYS.
const PROBES: [&str; 12] = [
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "close",
    "dup",
    "fchdir",
    "lseek",
    "fcntl",
    "personality",
];
const PROBES_I386: [&str; 12] = [
    "getpid",
    "getppid",
    "gettid",
    "getuid32",
    "geteuid32",
    "getgid32",
    "close",
    "dup",
    "fchdir",
    "lseek",
    "fcntl64",
    "personality",
];
/// A number no table has, on every ABI.
pub const UNKNOWN_NR: u32 = 999;

pub fn probe_names(abi: Abi) -> &'static [&'static str] {
    if abi == Abi::I386 {
        &PROBES_I386
    } else {
        &PROBES
    }
}

pub fn arch_of(abi: Abi) -> Arch {
    match abi {
        Abi::X64 => Arch::X86_64,
        Abi::X32 => Arch::X32,
        Abi::I386 => Arch::X86,
    }
}
