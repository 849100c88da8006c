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
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use dump_fixture::*;
use serde_json::Value;

/// `dump_json` of `install_filters MODE…` in the scratch directory `name`,
/// asserting syscage exits 0 and dumps exactly the filters the program
/// logged, in order; returns the dumped filters and the log.
#[track_caller]
fn dump_json_as_installed(name: &str, mode: &[&str]) -> (Vec<Value>, Log) {
    let (code, filters, stderr, log) = dump_json(name, mode);
    assert_eq!(code, 0, "{stderr}");
    assert_same(&filters, &log);
    (filters, log)
}

/// Asserts `syscage` exited 0, with its stderr as the failure message.
#[track_caller]
fn assert_exit_0(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `syscage dump OPTIONS -o OUT_DIR -- COMMAND…` (stdin from
/// /dev/null; the test program logs its filters to `log` if given),
/// asserts it exits 0 and returns its stderr.
#[track_caller]
fn dump_into_dir(options: &[&str], out_dir: &Path, command: &[&str], log: Option<&Path>) -> String {
    let mut args = vec!["dump"];
    args.extend_from_slice(options);
    args.extend_from_slice(&["-o", out_dir.to_str().unwrap(), "--"]);
    args.extend_from_slice(command);
    let out = syscage(&args, log);
    assert_exit_0(&out);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The one file `dump -o` wrote into `out_dir`, asserting it is alone.
#[track_caller]
fn only_file(out_dir: &Path) -> PathBuf {
    let files: Vec<_> = std::fs::read_dir(out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// Waits (at most 20 s) for a `syscage dump -f json` started by
/// `spawn_with_open_stdin`, asserts it exits 0 and returns how many
/// filters its JSON output lists.
#[track_caller]
fn json_filter_count(child: Child) -> usize {
    let out = wait_bounded(child, 20);
    assert_exit_0(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json.as_array().unwrap().len()
}

#[test]
fn stacked_filters_exact_bytes_in_order() {
    let (filters, log) = dump_json_as_installed("stacked", &["stacked", "3"]);
    assert_eq!(log.len(), 3);
    for f in &filters {
        assert_eq!(f["call"], "seccomp");
        assert_eq!(f["mode"], "filter");
        assert_eq!(f["arch"], "x86_64");
    }
}

#[test]
fn prctl_install_is_caught() {
    let (filters, _) = dump_json_as_installed("prctl", &["prctl"]);
    assert_eq!(filters[0]["call"], "prctl");
}

#[test]
fn seccomp_flags_are_reported() {
    let (filters, _) = dump_json_as_installed("log", &["log"]);
    assert_eq!(filters[0]["flags"], serde_json::json!(["LOG"]));
}

#[test]
fn tsync_from_a_multithreaded_process() {
    let (filters, log) = dump_json_as_installed("tsync", &["tsync"]);
    assert_eq!(log.len(), 1);
    assert_eq!(filters[0]["flags"], serde_json::json!(["TSYNC"]));
}

#[test]
fn filter_in_a_forked_child() {
    let (_, log) = dump_json_as_installed("fork", &["fork"]);
    assert_eq!(log.len(), 2);
    assert_ne!(log[0].0, log[1].0, "second filter comes from the child");
}

#[test]
fn filters_across_exec() {
    let (filters, log) = dump_json_as_installed("exec", &["exec"]);
    assert_eq!(log.len(), 2);
    assert_eq!(filters[0]["call"], "seccomp");
    assert_eq!(filters[1]["call"], "prctl");
}

#[test]
fn rejected_install_is_not_reported() {
    let (_, log) = dump_json_as_installed("rejected", &["rejected"]);
    assert_eq!(log.len(), 1);
}

#[test]
fn int80_install_from_64_bit_code() {
    let (filters, _) = dump_json_as_installed("int80", &["int80"]);
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
        dump_into_dir(&["-f", "json"], &out_dir, &[prog, mode], None);
        let file = only_file(&out_dir);
        let f: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
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
    dump_into_dir(&["-f", "raw"], &out_dir, &[prog, "fork"], Some(&log));
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
    // The program's own failure (exit 3) is passed through.
    assert_eq!(code, 3);
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
    assert_eq!(json_filter_count(child), 2);
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
    assert_eq!(json_filter_count(child), 1);
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
    assert_eq!(json_filter_count(child), 1);
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
    let command = [prog.to_str().unwrap()];
    dump_into_dir(&["-f", "json", "--no-stdin"], &out_dir, &command, None);
    let file = only_file(&out_dir);
    let f: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
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
    let command = [prog.to_str().unwrap()];
    let stderr = dump_into_dir(&["--no-stdin"], &out_dir, &command, None);
    assert!(stderr.contains("arch x86,"), "{stderr}");
    let file = only_file(&out_dir);
    assert!(file.to_str().unwrap().ends_with("-1.asm"), "{file:?}");
    let raw = syscage::bpf::codec::decode(&bytes, syscage::bpf::ByteOrder::Little).unwrap();
    let expected = disasm(&raw, Arch::X86, &DisasmOptions::default());
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, expected);
    // The filter compares with 8..=15: on i386 (asm/unistd_32.h) 11 is
    // execve and 15 chmod; on x86_64 they would be munmap and rt_sigreturn.
    assert!(text.contains("execve") && text.contains("chmod"), "{text}");
    assert!(
        !text.contains("munmap") && !text.contains("rt_sigreturn"),
        "{text}"
    );
}
