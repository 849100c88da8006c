//! The seed articles' libseccomp programs (`data/seeds`, see SOURCES),
//! compiled with `gcc … -lseccomp` against the system header, behave the
//! same with syscage's library first on `LD_LIBRARY_PATH` as with the real
//! libseccomp: same stdout, same exit status or signal. Each runs in a
//! child process (the filters are loaded there, never in the test runner).

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::Output;
use support::{assert_uses, data, gcc, have_toolchain, run, Lib};

/// (program, arguments, expected stdout, expected exit code or signal).
enum End {
    Code(i32),
    Signal(i32),
}

fn check(name: &str, args: &[&str], stdout: &str, end: End) {
    let prog = gcc(&data(&format!("seeds/{name}.c")));
    assert_uses(&prog, Lib::Ours);
    let real = run(&prog, args, Lib::Real, b"");
    let ours = run(&prog, args, Lib::Ours, b"");
    let show = |o: &Output| {
        format!(
            "status {:?}, stdout {:?}, stderr {:?}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert_eq!(
        real.stdout,
        ours.stdout,
        "{name}: real {} / ours {}",
        show(&real),
        show(&ours)
    );
    assert_eq!(
        real.status.code(),
        ours.status.code(),
        "{name}: real {} / ours {}",
        show(&real),
        show(&ours)
    );
    assert_eq!(
        real.status.signal(),
        ours.status.signal(),
        "{name}: real {} / ours {}",
        show(&real),
        show(&ours)
    );
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        stdout,
        "{name}: {}",
        show(&ours)
    );
    match end {
        End::Code(c) => assert_eq!(ours.status.code(), Some(c), "{name}: {}", show(&ours)),
        End::Signal(s) => assert_eq!(ours.status.signal(), Some(s), "{name}: {}", show(&ours)),
    }
}

#[test]
fn seccompbpf_log_3_runs_a_command_under_log() {
    if have_toolchain() {
        check(
            "SeccompBPF_log_3",
            &["/bin/echo", "hello"],
            "hello\n",
            End::Code(0),
        );
    }
}

#[test]
fn seccompbpf_block_2_blocks_one_syscall_with_an_errno() {
    if have_toolchain() {
        // uname(2) is 63 on x86_64: `uname` fails with EPERM.
        check(
            "SeccompBPF_block_2",
            &["63", "1", "/bin/uname"],
            "",
            End::Code(1),
        );
        // getpid(2) (39) blocked: echo does not need it.
        check(
            "SeccompBPF_block_2",
            &["39", "1", "/bin/echo", "still here"],
            "still here\n",
            End::Code(0),
        );
    }
}

#[test]
fn simple_syscall_seccomp_is_killed_at_execve() {
    if have_toolchain() {
        check(
            "simple_syscall_seccomp",
            &[],
            "i will give you a shell\n",
            End::Signal(libc::SIGSYS),
        );
    }
}

#[test]
fn seccomp_write_limit_kills_the_long_write() {
    if have_toolchain() {
        check(
            "seccomp_write_limit",
            &[],
            "1234567812345678",
            End::Signal(libc::SIGSYS),
        );
    }
}

#[test]
fn ctf_allowlist_allows_its_five_syscalls_only() {
    if have_toolchain() {
        check("ctf_allowlist", &[], "sandboxed\n", End::Code(0));
        check(
            "ctf_allowlist",
            &["getpid"],
            "sandboxed\n",
            End::Signal(libc::SIGSYS),
        );
    }
}
