//! Whether a program can start under a filter at all: `execve` (or
//! `execveat`) must pass for it to run, `exit_group` for it to end, and a
//! dynamically linked program's loader (its ELF `PT_INTERP`) makes its own
//! syscalls before `main`. Refused there, the program dies before it can
//! say anything (a loader that cannot map its libraries, a libc that
//! cannot exit and crashes), so this is checked on the filter beforehand:
//! each call is run through syscage's emulator with zero arguments.
//!
//! Refused means any action but ALLOW and LOG: a USER_NOTIF or TRACE with
//! nobody listening fails the call with `ENOSYS`.

use std::io::Read;
use std::path::Path;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::Program;

/// The syscalls glibc's and musl's dynamic loaders make before `main`
/// (on x86_64: `strace -f` of a dynamically linked `true` under each).
pub const LOADER_CALLS: &[&str] = &[
    "brk",
    "arch_prctl",
    "mmap",
    "mprotect",
    "munmap",
    "openat",
    "read",
    "pread64",
    "close",
    "newfstatat",
    "fstat",
    "access",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "prlimit64",
    "getrandom",
];

/// What the filter does to a program's start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Startup {
    /// Refused calls without which no program runs or ends, with their
    /// action: `execve` (which starts it) and `exit_group`.
    pub fatal: Vec<(&'static str, Action)>,
    /// Refused calls of the dynamic loader (only for a dynamically linked
    /// program).
    pub loader: Vec<(&'static str, Action)>,
    /// The program's loader (`PT_INTERP`), when it has one.
    pub interpreter: Option<String>,
}

fn refused(prog: &Program, arch: Arch, name: &str) -> Option<Action> {
    let nr = arch.syscall_nr(name)?;
    let data = SeccompData {
        nr,
        arch: arch.audit(),
        instruction_pointer: 0,
        args: [0; 6],
    };
    let action = syscage::emu::run(prog, &data, arch.byte_order())
        .ok()?
        .action;
    (!matches!(action, Action::Allow | Action::Log)).then_some(action)
}

/// Checks `prog` for `program` (its path) on `arch`.
pub fn check(prog: &Program, arch: Arch, program: &Path) -> Startup {
    let mut s = Startup::default();
    // syscage's child starts the program with execve itself.
    if let Some(a) = refused(prog, arch, "execve") {
        s.fatal.push(("execve", a));
    }
    if let Some(a) = refused(prog, arch, "exit_group") {
        s.fatal.push(("exit_group", a));
    }
    s.interpreter = interpreter(program);
    if s.interpreter.is_some() {
        for name in LOADER_CALLS {
            if let Some(a) = refused(prog, arch, name) {
                s.loader.push((name, a));
            }
        }
    }
    s
}

/// The `PT_INTERP` of an ELF file (its dynamic loader), if any.
pub fn interpreter(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut head = vec![0u8; 64 * 1024];
    let n = f.read(&mut head).ok()?;
    let h = &head[..n];
    if h.len() < 64 || &h[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = h[4] == 2;
    let le = h[5] == 1;
    let u16_at = |o: usize| -> Option<u64> {
        let b: [u8; 2] = h.get(o..o + 2)?.try_into().ok()?;
        Some(u64::from(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }))
    };
    let u32_at = |o: usize| -> Option<u64> {
        let b: [u8; 4] = h.get(o..o + 4)?.try_into().ok()?;
        Some(u64::from(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }))
    };
    let u64_at = |o: usize| -> Option<u64> {
        let b: [u8; 8] = h.get(o..o + 8)?.try_into().ok()?;
        Some(if le {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        })
    };
    let word = |o: usize| if is64 { u64_at(o) } else { u32_at(o) };
    let (phoff, phentsize, phnum) = if is64 {
        (u64_at(32)?, u16_at(54)?, u16_at(56)?)
    } else {
        (u32_at(28)?, u16_at(42)?, u16_at(44)?)
    };
    const PT_INTERP: u64 = 3;
    for i in 0..phnum {
        let ph = usize::try_from(phoff + i * phentsize).ok()?;
        if u32_at(ph)? != PT_INTERP {
            continue;
        }
        let (off, size) = if is64 {
            (word(ph + 8)?, word(ph + 32)?)
        } else {
            (word(ph + 4)?, word(ph + 16)?)
        };
        let off = usize::try_from(off).ok()?;
        let size = usize::try_from(size).ok()?;
        let bytes = h.get(off..off.checked_add(size)?)?;
        let text = bytes.split(|&b| b == 0).next()?;
        return Some(String::from_utf8_lossy(text).into_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage::compile::{compile, CompileOptions};
    use syscage::policy::{Policy, Rule, SyscallId};

    fn prog(default: Action, allow: &[&str]) -> Program {
        let mut p = Policy::init(default).unwrap();
        p.set_arches(vec![Arch::native()]).unwrap();
        for a in allow {
            p.rule_add_verbatim(Rule::new(SyscallId::Name(a.to_string()), Action::Allow));
        }
        compile(&p, &CompileOptions::default()).unwrap()
    }

    #[test]
    fn refused_exec_and_exit_are_fatal_and_loader_calls_are_named() {
        let sh = Path::new("/bin/sh");
        let s = check(&prog(Action::Errno(1), &["read"]), Arch::native(), sh);
        assert_eq!(
            s.fatal,
            [
                ("execve", Action::Errno(1)),
                ("exit_group", Action::Errno(1))
            ]
        );
        if s.interpreter.is_some() {
            assert!(s.loader.iter().any(|(n, _)| *n == "mmap"), "{s:?}");
            assert!(!s.loader.iter().any(|(n, _)| *n == "read"), "{s:?}");
        }
        let s = check(
            &prog(Action::KillProcess, &["execve", "exit_group"]),
            Arch::native(),
            sh,
        );
        assert!(s.fatal.is_empty(), "{s:?}");
        let s = check(&prog(Action::Allow, &[]), Arch::native(), sh);
        assert_eq!(s.fatal, []);
        assert_eq!(s.loader, []);
    }

    #[test]
    fn the_loader_is_read_from_the_elf_header() {
        // The test binary itself is dynamically linked by default on Linux
        // (not with a static target).
        let me = std::env::current_exe().unwrap();
        if let Some(i) = interpreter(&me) {
            assert!(i.contains("ld"), "{i}");
        }
        assert_eq!(interpreter(Path::new("/proc/self/status")), None);
    }
}
