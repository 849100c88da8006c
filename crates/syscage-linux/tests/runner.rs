//! Running programs under filters: fail closed, exit status, SIGSYS naming.

mod child;

use child::require_seccomp;
use std::ffi::OsString;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::{Insn, JmpCond, Program, Src};
use syscage_linux::error::Error;
use syscage_linux::install::{raw_filter, InstallOptions};
use syscage_linux::runner::{run, Enforcement, Termination};

fn argv(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

fn deny(nr: u32, on: Action) -> Enforcement {
    let p = Program::new(vec![
        Insn::LdAbs(0),
        Insn::Jmp {
            cond: JmpCond::Eq,
            src: Src::K(nr),
            jt: 0,
            jf: 1,
        },
        Insn::Ret(on.to_ret()),
        Insn::Ret(Action::Allow.to_ret()),
    ]);
    Enforcement::Filter {
        raw: raw_filter(&p),
        opts: InstallOptions::default(),
        routing: None,
    }
}

const MKDIR: u32 = libc::SYS_mkdir as u32;

#[test]
fn exit_status_is_passed_through() {
    if !require_seccomp() {
        return;
    }
    let out = run(
        &argv(&["sh", "-c", "exit 7"]),
        &deny(MKDIR, Action::Errno(1)),
        true,
    )
    .unwrap();
    assert_eq!(out.termination, Termination::Exited(7));
    assert_eq!(out.seccomp, None);
}

#[test]
fn errno_action_fails_the_syscall() {
    if !require_seccomp() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("syscage-runner-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let out = run(&argv(&["mkdir", d]), &deny(MKDIR, Action::Errno(1)), true).unwrap();
    assert_eq!(out.termination, Termination::Exited(1));
    assert!(!dir.exists());
}

#[test]
fn kill_names_the_syscall_from_the_exit_stop() {
    if !require_seccomp() {
        return;
    }
    let out = run(
        &argv(&["mkdir", "/nonexistent-syscage/x"]),
        &deny(MKDIR, Action::KillProcess),
        true,
    )
    .unwrap();
    assert!(
        matches!(
            out.termination,
            Termination::Signaled {
                signal: libc::SIGSYS,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(out.termination.shell_code(), 128 + libc::SIGSYS);
    let s = out.seccomp.expect("syscall recovered");
    assert_eq!(
        (s.nr, s.arch, s.trap_data),
        (MKDIR, Arch::X86_64.audit(), None)
    );
}

#[test]
fn trap_names_the_syscall_from_siginfo() {
    if !require_seccomp() {
        return;
    }
    let out = run(
        &argv(&["mkdir", "/nonexistent-syscage/x"]),
        &deny(MKDIR, Action::Trap(42)),
        true,
    )
    .unwrap();
    assert!(matches!(
        out.termination,
        Termination::Signaled {
            signal: libc::SIGSYS,
            ..
        }
    ));
    let s = out.seccomp.expect("syscall recovered");
    assert_eq!(
        (s.nr, s.arch, s.trap_data),
        (MKDIR, Arch::X86_64.audit(), Some(42))
    );
}

#[test]
fn a_missing_program_is_an_error_before_fork() {
    let e = run(&argv(&["/nonexistent/prog"]), &Enforcement::None, true).unwrap_err();
    assert!(matches!(e, Error::Exec { .. }), "{e}");
    let e = run(
        &argv(&["no-such-program-syscage"]),
        &Enforcement::None,
        true,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Exec { .. }), "{e}");
}

#[test]
fn a_filter_the_kernel_refuses_never_runs_the_program() {
    if !require_seccomp() {
        return;
    }
    let marker = std::env::temp_dir().join(format!("syscage-failclosed-{}", std::process::id()));
    // Opcode 0xffff is not BPF: the kernel says EINVAL.
    let raw = vec![libc::sock_filter {
        code: 0xffff,
        jt: 0,
        jf: 0,
        k: 0,
    }];
    let enf = Enforcement::Filter {
        raw,
        opts: InstallOptions::default(),
        routing: None,
    };
    let e = run(&argv(&["touch", marker.to_str().unwrap()]), &enf, true).unwrap_err();
    assert!(matches!(e, Error::Sys { .. }), "{e}");
    assert!(
        !marker.exists(),
        "the program ran although its filter failed"
    );
}

#[test]
fn strict_mode_kills_the_execve() {
    if !require_seccomp() {
        return;
    }
    let out = run(&argv(&["true"]), &Enforcement::Strict, true).unwrap();
    assert!(matches!(
        out.termination,
        Termination::Signaled {
            signal: libc::SIGKILL,
            ..
        }
    ));
}

#[test]
fn works_without_watching() {
    if !require_seccomp() {
        return;
    }
    let out = run(
        &argv(&["mkdir", "/nonexistent-syscage/x"]),
        &deny(MKDIR, Action::KillProcess),
        false,
    )
    .unwrap();
    assert!(matches!(
        out.termination,
        Termination::Signaled {
            signal: libc::SIGSYS,
            ..
        }
    ));
    assert_eq!(out.seccomp, None);
}
