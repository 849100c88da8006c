//! `syscage emu` and `syscage resolve` beyond the seccomp-tools fixtures:
//! JSON output, `--trace`, and one-line errors with exit code 2.

mod syscage_bin;
use std::path::{Path, PathBuf};
use std::process::Output;
use syscage_bin::syscage;

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/seccomp-tools/bpf"
    ))
    .join(name)
}

fn libseccomp() -> String {
    fixture("libseccomp.bpf").to_string_lossy().into_owned()
}

fn assert_usage_error(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
}

#[test]
fn json_result() {
    // libseccomp.bpf (see the fixture README): arch check, x32 guard,
    // write/close/dup/exit allowed at line 9, ERRNO(5) at line 8.
    let f = libseccomp();
    let out = syscage(&["emu", &f, "-a", "amd64", "--json", "write", "1"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ret"], 0x7fff_0000u32);
    assert_eq!(v["action"], "SCMP_ACT_ALLOW");
    assert_eq!(v["data"], serde_json::Value::Null);
    assert_eq!(v["line"], 9);
    assert_eq!(v["steps"], 6);
    assert_eq!(v["trace"], serde_json::json!([0, 1, 2, 3, 4, 9]));

    let out = syscage(&["emu", &f, "-a", "x86_64", "--json", "0x101"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ret"], 0x0005_0005u32);
    assert_eq!(v["action"], "SCMP_ACT_ERRNO");
    assert_eq!(v["data"], 5);
    assert_eq!(v["line"], 8);
}

#[test]
fn x32_numbers_take_the_guard() {
    let f = libseccomp();
    let out = syscage(&["emu", &f, "-a", "x32", "-q", "write"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "return KILL at line 0010\n"
    );
}

#[test]
fn trace_lists_the_executed_instructions() {
    let f = libseccomp();
    let out = syscage(&["emu", &f, "-a", "amd64", "--trace", "dup"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    // Two header lines, instructions 0 1 2 3 4 5 6 9, blank, result.
    assert_eq!(lines.len(), 2 + 8 + 2, "{text}");
    assert_eq!(lines.last(), Some(&"return ALLOW at line 0009"));
    for (line, pc) in lines[2..10].iter().zip([0, 1, 2, 3, 4, 5, 6, 9]) {
        assert!(line.starts_with(&format!(" {pc:04}: ")), "{line}");
    }
}

#[test]
fn bad_input_is_a_one_line_error() {
    let f = libseccomp();
    assert_usage_error(
        &syscage(&["emu", &f, "-a", "amd64", "nosuchcall"]),
        "unknown syscall 'nosuchcall'",
    );
    assert_usage_error(
        &syscage(&["emu", &f, "-a", "amd64", "write", "12z"]),
        "'12z' is not a number",
    );
    assert_usage_error(
        &syscage(&["emu", &f, "-a", "amd64", "write", "--ip", "q"]),
        "--ip 'q'",
    );
    assert_usage_error(
        &syscage(&["emu", &f, "-a", "nosucharch", "write"]),
        "unknown architecture 'nosucharch'",
    );
    assert_usage_error(&syscage(&["emu", &f, "-a", "amd64"]), "sys_number");
    assert_usage_error(
        &syscage(&["emu", "/nonexistent.bpf", "read"]),
        "/nonexistent.bpf",
    );
    assert_usage_error(
        &syscage(&[
            "emu", &f, "-a", "amd64", "read", "1", "2", "3", "4", "5", "6", "7",
        ]),
        "at most 6 arguments",
    );
    let dir = std::env::temp_dir().join(format!("syscage-emu-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join("odd.bpf");
    std::fs::write(&odd, [6u8, 0, 0, 0, 0, 0, 0xff, 0x7f, 1, 2, 3]).unwrap();
    assert_usage_error(
        &syscage(&["emu", odd.to_str().unwrap(), "read"]),
        "not a multiple of 8",
    );
    let bad_op = dir.join("bad_op.bpf");
    std::fs::write(
        &bad_op,
        [0x28u8, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0xff, 0x7f],
    )
    .unwrap();
    assert_usage_error(
        &syscage(&["emu", bad_op.to_str().unwrap(), "read"]),
        "instruction 0",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resolve_both_directions() {
    // Numbers from the kernel's syscall tables (arch/x86/entry/syscalls/).
    let out = syscage(&["resolve", "-a", "x86_64", "read", "59", "0x101"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "read 0\nexecve 59\nopenat 257\n"
    );
    let out = syscage(&["resolve", "-a", "i386", "execve"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "execve 11\n");
    let out = syscage(&["resolve", "-a", "x32", "execve", "1073741824"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "execve 1073742344\nread 1073741824\n"
    );
    let out = syscage(&["resolve", "-a", "aarch64", "--json", "openat"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!([{ "name": "openat", "nr": 56 }]));
}

#[test]
fn resolve_default_arch_is_the_hosts() {
    let host = syscage(&["resolve", "openat"]);
    let native = syscage(&[
        "resolve",
        "-a",
        syscage::arch::Arch::native().name(),
        "openat",
    ]);
    assert!(host.status.success());
    assert_eq!(host.stdout, native.stdout);
}

#[test]
fn resolve_unknown_is_an_error() {
    assert_usage_error(
        &syscage(&["resolve", "-a", "x86_64", "nosuchcall"]),
        "unknown syscall 'nosuchcall'",
    );
    assert_usage_error(
        &syscage(&["resolve", "-a", "x86_64", "4000"]),
        "no syscall has number 4000",
    );
    assert_usage_error(
        &syscage(&["resolve", "-a", "aarch64", "open"]),
        "unknown syscall 'open'",
    );
    assert_usage_error(
        &syscage(&["resolve", "-a", "vax", "read"]),
        "unknown architecture 'vax'",
    );
}

#[test]
fn wrong_byte_order_and_refused_filters_are_explained() {
    // x32.bpf is little-endian; s390x filters are big-endian.
    let x32 = fixture("x32.bpf").to_string_lossy().into_owned();
    assert_usage_error(&syscage(&["emu", &x32, "-a", "s390x", "read"]), "wrong -a?");
    // else_jmp's jumps go past the end (fixture README): the emulator falls
    // off on the path that takes them, and the error says why the kernel
    // would refuse the filter.
    let else_jmp = fixture("from-spec-inline/else_jmp.bpf")
        .to_string_lossy()
        .into_owned();
    let out = syscage(&["emu", &else_jmp, "-a", "amd64", "-q", "read", "1", "2", "3"]);
    assert_usage_error(&out, "past the end");
}

/// Issue 15.5: names disasm prints and seccomp-tools' spellings are read
/// by emu and resolve; numbers read as Ruby's `Integer()` reads them.
#[test]
fn printed_names_aliases_and_octal_as_seccomp_tools() {
    let x32 = fixture("x32.bpf").to_string_lossy().into_owned();
    // x32.bpf: x32 mmap with addr != 0 is ERRNO(5), addr 0 is ALLOW.
    let json = |args: &[&str]| {
        let mut all = vec!["emu", x32.as_str(), "-a", "amd64", "--json"];
        all.extend_from_slice(args);
        let out = syscage(&all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(json(&["x32_mmap", "0"])["action"], "SCMP_ACT_ALLOW");
    assert_eq!(json(&["x32_mmap", "010"])["action"], "SCMP_ACT_ERRNO");
    // 010 is octal: syscall 8 (lseek), not 10 (mprotect).
    let out = syscage(&[
        "resolve",
        "-a",
        "amd64",
        "010",
        "pread",
        "pwrite",
        "timerfd",
        "x32_execve",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "lseek 8\npread64 17\npwrite64 18\ntimerfd_create 283\nx32_execve 1073742344\n"
    );
    let out = syscage(&["resolve", "-a", "aarch64", "getdents", "newfstat"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "getdents64 61\nfstat 80\n"
    );
    let out = syscage(&["emu", &libseccomp(), "-a", "amd64", "pwrite", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
