//! Every command that prints results, with its standard output a pipe
//! whose reader has already gone (`syscage lint f | head -1` once `head`
//! has exited): no panic ("failed printing to stdout", exit 101), and the
//! exit code is the one the command has when its output is read.

mod syscage_bin;
mod unique_scratch;
use syscage_bin::{repo, BIN};
use unique_scratch::Scratch;

use std::process::{Command, Output, Stdio};

/// A pipe's write end whose read end is already closed.
fn closed_pipe() -> Stdio {
    let (read, write) = nix::unistd::pipe().expect("pipe");
    drop(read);
    Stdio::from(write)
}

fn syscage(args: &[String], stdout: Stdio) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("cannot run syscage")
}

fn needs_ptrace(args: &[String], read: &Output) -> bool {
    let stderr = String::from_utf8_lossy(&read.stderr);
    if read.status.code() == Some(2) && stderr.contains("ptrace") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but `syscage {}` cannot ptrace: {stderr}",
            args.join(" ")
        );
        eprintln!(
            "NOT CHECKED: `syscage {}` needs ptrace: {stderr}",
            args.join(" ")
        );
        return true;
    }
    false
}

#[test]
fn no_command_panics_when_the_reader_has_gone() {
    let scratch = Scratch::new("closed");
    let bpf = repo("examples/allow-stdio.bpf");
    let asm = repo("examples/allow-stdio.asm");
    let profile = repo("crates/syscage/profiles/default.json");
    let compiled = scratch.0.join("default.bpf").to_str().unwrap().to_string();
    let made = syscage(
        &[
            "compile".into(),
            profile.clone(),
            "-o".into(),
            compiled.clone(),
        ],
        Stdio::null(),
    );
    assert_eq!(made.status.code(), Some(0), "{made:?}");

    let commands: Vec<Vec<&str>> = vec![
        vec!["disasm", &bpf],
        vec!["asm", &asm],
        vec!["asm", &asm, "-f", "raw"],
        vec!["emu", &bpf, "write", "1"],
        vec!["emu", &bpf, "--trace", "write", "1"],
        vec!["emu", &bpf, "--json", "write", "1"],
        vec!["resolve", "read", "write", "0x3b"],
        vec!["compile", &profile],
        vec!["compile", &profile, "-f", "disasm", "--stats"],
        vec!["compile", &profile, "-f", "json"],
        vec!["compile", &profile, "-f", "raw"],
        vec!["explain", &bpf],
        vec!["explain", &bpf, "--json"],
        vec!["explain", &profile],
        vec!["lint", &bpf],
        vec!["lint", &bpf, "--json"],
        vec!["diff", &bpf, &compiled],
        vec!["diff", &bpf, &compiled, "--json"],
        vec!["decompile", &bpf],
        vec!["decompile", &bpf, "-f", "text"],
        vec!["decompile", &compiled, "-f", "oci"],
        vec!["status"],
        vec!["status", "--json"],
        vec!["status", "1"],
        vec!["record", "--", "true"],
        vec!["dump", "--", BIN, "run", "--deny", "mkdir", "--", "true"],
        vec![
            "dump", "-f", "json", "--", BIN, "run", "--deny", "mkdir", "--", "true",
        ],
        vec!["run", "--deny", "mkdir", "--", "true"],
    ];
    let mut failures = Vec::new();
    for command in &commands {
        let args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        let read = syscage(&args, Stdio::piped());
        if (args[0] == "record" || args[0] == "dump") && needs_ptrace(&args, &read) {
            continue;
        }
        assert!(
            read.status.code() != Some(2) && !read.stdout.is_empty() || args[0] == "run",
            "`syscage {}` should print results: {read:?}",
            args.join(" ")
        );
        let gone = syscage(&args, closed_pipe());
        let stderr = String::from_utf8_lossy(&gone.stderr);
        if stderr.contains("panicked")
            || stderr.contains("failed printing")
            || gone.status.code() != read.status.code()
        {
            failures.push(format!(
                "`syscage {}`: exit {:?} (with a reader: {:?}), stderr: {stderr}",
                args.join(" "),
                gone.status.code(),
                read.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
