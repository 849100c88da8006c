//! Acceptance tests of `syscage dump`, on the real kernel.
//!
//! The filters come from `crates/syscage-linux/examples/install_filters.rs`,
//! which logs every filter it installed (pid and bytes) to the file named by
//! `$SYSCAGE_TESTPROG_LOG`: `dump` must return exactly those bytes, in order.
//! Filters are only ever installed in child processes.
//!
//! This file: `dump -- CMD`; `dump_pid_cli.rs`: `dump -p PID`.

mod dump_fixture;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use dump_fixture::*;
use serde_json::Value;

#[test]
fn stacked_filters_exact_bytes_in_order() {
    let (code, filters, stderr, log) = dump_json("stacked", &["stacked", "3"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 3);
    assert_same(&filters, &log);
    for f in &filters {
        assert_eq!(f["call"], "seccomp");
        assert_eq!(f["mode"], "filter");
        assert_eq!(f["arch"], "x86_64");
    }
}

#[test]
fn prctl_install_is_caught() {
    let (code, filters, stderr, log) = dump_json("prctl", &["prctl"]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&filters, &log);
    assert_eq!(filters[0]["call"], "prctl");
}

#[test]
fn seccomp_flags_are_reported() {
    let (code, filters, stderr, log) = dump_json("log", &["log"]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&filters, &log);
    assert_eq!(filters[0]["flags"], serde_json::json!(["LOG"]));
}

#[test]
fn tsync_from_a_multithreaded_process() {
    let (code, filters, stderr, log) = dump_json("tsync", &["tsync"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 1);
    assert_same(&filters, &log);
    assert_eq!(filters[0]["flags"], serde_json::json!(["TSYNC"]));
}

#[test]
fn filter_in_a_forked_child() {
    let (code, filters, stderr, log) = dump_json("fork", &["fork"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 2);
    assert_ne!(log[0].0, log[1].0, "second filter comes from the child");
    assert_same(&filters, &log);
}

#[test]
fn filters_across_exec() {
    let (code, filters, stderr, log) = dump_json("exec", &["exec"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 2);
    assert_same(&filters, &log);
    assert_eq!(filters[0]["call"], "seccomp");
    assert_eq!(filters[1]["call"], "prctl");
}

#[test]
fn rejected_install_is_not_reported() {
    let (code, filters, stderr, log) = dump_json("rejected", &["rejected"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(log.len(), 1);
    assert_same(&filters, &log);
}

#[test]
fn int80_install_from_64_bit_code() {
    let (code, filters, stderr, log) = dump_json("int80", &["int80"]);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&filters, &log);
    // The process is 64-bit: syscalls are named for x86_64.
    assert_eq!(filters[0]["arch"], "x86_64");
}

/// Strict mode, via prctl and seccomp(2): one filter file (the program's
/// own stdout is mixed with syscage's, so `-o`) whose decisions are strict
/// mode's, checked in the emulator against hand-derived syscall numbers.
#[test]
fn strict_mode_is_shown_as_its_equivalent_filter() {
    for (mode, call) in [("strict", "prctl"), ("strict-seccomp", "seccomp")] {
        let dir = scratch(mode);
        let out_dir = dir.join("out");
        let prog = testprog().to_str().unwrap();
        let out = syscage(
            &[
                "dump",
                "-f",
                "json",
                "-o",
                out_dir.to_str().unwrap(),
                "--",
                prog,
                mode,
            ],
            None,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let files: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let f: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
        assert_eq!(f["mode"], "strict");
        assert_eq!(f["call"], call);
        let raw =
            syscage::bpf::codec::decode(&hex_bytes(&f), syscage::bpf::ByteOrder::Little).unwrap();
        let prog = syscage::bpf::validate(&raw).unwrap();
        let decide = |nr: u32| {
            let data = syscage::bpf::data::SeccompData {
                nr: nr as _,
                arch: syscage::arch::Arch::X86_64.audit(),
                ..Default::default()
            };
            syscage::emu::run(&prog, &data, syscage::bpf::ByteOrder::Little)
                .unwrap()
                .action
        };
        use syscage::action::Action;
        // read, write, exit, rt_sigreturn (asm/unistd_64.h)
        for nr in [0, 1, 60, 15] {
            assert_eq!(decide(nr), Action::Allow, "{mode}: nr {nr}");
        }
        // open, execve, exit_group, prctl
        for nr in [2, 59, 231, 157] {
            assert_eq!(decide(nr), Action::KillThread, "{mode}: nr {nr}");
        }
    }
}

#[test]
fn raw_output_dir_has_one_file_per_filter_named_by_pid_and_order() {
    let dir = scratch("rawdir");
    let log = dir.join("log");
    let out_dir = dir.join("out");
    let prog = testprog().to_str().unwrap();
    let out = syscage(
        &[
            "dump",
            "-f",
            "raw",
            "-o",
            out_dir.to_str().unwrap(),
            "--",
            prog,
            "fork",
        ],
        Some(&log),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = logged(&log);
    assert_eq!(log.len(), 2);
    for (i, (pid, bytes)) in log.iter().enumerate() {
        let file = out_dir.join(format!("{pid}-{}.bpf", i + 1));
        assert_eq!(&std::fs::read(&file).unwrap(), bytes, "{}", file.display());
    }
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 2);
}

#[test]
fn program_without_filter_is_reported() {
    let (code, filters, stderr, _) = dump_json("none", &["none"]);
    assert_eq!(code, 1);
    assert!(filters.is_empty());
    assert!(
        stderr.contains("exited with status 3 without installing a seccomp filter"),
        "{stderr}"
    );
}

#[test]
fn limit_stops_after_n_filters_and_kills_the_program() {
    // `serve` would wait on stdin forever after its filters.
    let prog = testprog().to_str().unwrap();
    let child = spawn_with_open_stdin(&["dump", "-f", "json", "-l", "2", "--", prog, "serve"]);
    let out = wait_bounded(child, 20);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
}

#[test]
fn timeout_kills_a_program_that_never_ends() {
    let prog = testprog().to_str().unwrap();
    let child =
        spawn_with_open_stdin(&["dump", "-f", "raw", "--timeout", "1", "--", prog, "serve"]);
    let out = wait_bounded(child, 20);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("timeout"), "{stderr}");
    assert_eq!(stderr.matches("filter ").count(), 4, "{stderr}");
}

#[test]
fn no_stdin_lets_a_stdin_reader_finish() {
    let prog = testprog().to_str().unwrap();
    let child = spawn_with_open_stdin(&["dump", "--no-stdin", "-f", "json", "--", prog, "stdin"]);
    let out = wait_bounded(child, 20);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
}

#[test]
fn stdin_is_passed_through() {
    let prog = testprog().to_str().unwrap();
    let mut child = spawn_with_open_stdin(&["dump", "-f", "json", "--", prog, "stdin"]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"some input\n")
        .unwrap(); // then closed
    let out = wait_bounded(child, 20);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
}

#[test]
fn command_that_does_not_exist() {
    let out = syscage(
        &["dump", "--", "/nonexistent/syscage-no-such-program"],
        None,
    );
    assert_one_line_error(&out, "cannot run '/nonexistent/syscage-no-such-program'");
    let out = syscage(&["dump", "--", "syscage-no-such-program-in-path"], None);
    assert_one_line_error(&out, "No such file or directory");
}

#[test]
fn pid_and_command_together_is_a_usage_error() {
    let out = syscage(&["dump", "-p", "1", "--", "true"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = syscage(&["dump"], None);
    assert_one_line_error(&out, "give -p PID or -- CMD");
}

/// Arch detection: a 32-bit process's filter is read through the i386
/// `struct sock_fprog` layout and named for i386, in both modes.
#[test]
fn i386_process_is_detected_in_both_modes() {
    let (prog, bytes) = i386_program("i386");
    // -- CMD (its "ready" goes to stdout, so the filter goes to a file)
    let out_dir = prog.parent().unwrap().join("out");
    let out = syscage(
        &[
            "dump",
            "-f",
            "json",
            "-o",
            out_dir.to_str().unwrap(),
            "--no-stdin",
            "--",
            prog.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(hex_bytes(&f), bytes);
    assert_eq!(f["arch"], "x86");
    assert_eq!(f["call"], "seccomp");

    // -p PID
    if !have_cap_sys_admin() {
        return;
    }
    let mut child = Command::new(&prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let filters = dump_pid_json(child.id());
    assert_not_stopped(child.id());
    drop(child.stdin.take()); // end of file: the program exits 0
    assert!(child.wait().unwrap().success());
    assert_eq!(filters.len(), 1);
    assert_eq!(hex_bytes(&filters[0]), bytes);
    assert_eq!(filters[0]["arch"], "x86");
}

/// The default output is the disassembler's, for the target's arch (in a
/// file per filter with `-o`: the program's own stdout would interleave).
#[test]
fn default_output_is_the_disassembly_for_the_targets_arch() {
    use syscage::arch::Arch;
    use syscage::asm::print::{disasm, DisasmOptions};
    let (prog, bytes) = i386_program("disasm");
    let out_dir = prog.parent().unwrap().join("out");
    let out = syscage(
        &[
            "dump",
            "-o",
            out_dir.to_str().unwrap(),
            "--no-stdin",
            "--",
            prog.to_str().unwrap(),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("arch x86,"), "{stderr}");
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].to_str().unwrap().ends_with("-1.asm"), "{files:?}");
    let raw = syscage::bpf::codec::decode(&bytes, syscage::bpf::ByteOrder::Little).unwrap();
    let expected = disasm(&raw, Arch::X86, &DisasmOptions::default());
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(text, expected);
    // The filter compares with 8..=15: on i386 (asm/unistd_32.h) 11 is
    // execve and 15 chmod; on x86_64 they would be munmap and rt_sigreturn.
    assert!(text.contains("execve") && text.contains("chmod"), "{text}");
    assert!(
        !text.contains("munmap") && !text.contains("rt_sigreturn"),
        "{text}"
    );
}
