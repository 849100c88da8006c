//! Diagnostics written to a standard error that cannot take them — a pipe
//! whose reader has gone, or `2>/dev/full` — do not panic ("failed printing
//! to stderr", exit 101): the exit code is the one the command has when
//! its stderr is read.

mod syscage_bin;
use syscage_bin::BIN;

use std::io::Write;
use std::process::{Command, Stdio};

/// A pipe's write end whose read end is already closed.
fn closed_pipe() -> Stdio {
    let (read, write) = nix::unistd::pipe().expect("pipe");
    drop(read);
    Stdio::from(write)
}

fn full_device() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full"),
    )
}

/// Assembly the kernel would refuse (no final return): `syscage asm`
/// warns about it and writes it.
const REFUSED_ASM: &[u8] = b"A = arch\n";

/// The exit code of `syscage ARGS` with stderr `stderr`, [`REFUSED_ASM`]
/// on stdin.
fn code(args: &[&str], stderr: Stdio) -> Option<i32> {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("cannot run syscage");
    // A command that does not read stdin may have exited already.
    let _ = child.stdin.take().expect("stdin").write_all(REFUSED_ASM);
    child.wait().expect("cannot wait for syscage").code()
}

#[test]
fn no_diagnostic_panics_when_stderr_cannot_be_written() {
    let cases: Vec<(Vec<&str>, i32)> = vec![
        // An error (`syscage: error: cannot read …`).
        (vec!["compile", "/nonexistent/profile.json"], 2),
        // A warning on a success.
        (vec!["asm", "-", "-a", "x86_64"], 0),
        // clap's own usage error.
        (vec!["resolve", "-a", "vax", "read"], 2),
    ];
    for (args, want) in &cases {
        // The code when stderr takes everything, as a baseline.
        let read = code(args, Stdio::null());
        assert_eq!(read, Some(*want), "syscage {}", args.join(" "));
        for (what, stderr) in [
            ("a closed pipe", closed_pipe()),
            ("/dev/full", full_device()),
        ] {
            assert_eq!(
                code(args, stderr),
                Some(*want),
                "syscage {} with stderr {what}",
                args.join(" ")
            );
        }
    }
}
