//! `syscage compile`: exit codes, output formats, located errors.

mod syscage_bin;
use std::process::Output;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Program};
use syscage_bin::syscage;

#[path = "../../syscage-linux/tests/scratch/mod.rs"]
mod scratch;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn docker() -> String {
    format!("{DATA}/docker-default-seccomp.json")
}

/// Runs `syscage ARGS` and asserts it exits with `code` (the failure
/// message shows the arguments and syscage's stderr).
#[track_caller]
fn syscage_exiting(code: i32, args: &[&str]) -> Output {
    let o = syscage(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {stderr}");
    o
}

/// Runs `syscage compile <Docker default profile> -a ARCH --kernel 6.1
/// EXTRA…`, asserts it exits 0 and returns its output.
#[track_caller]
fn compile_docker(arch: &str, extra: &[&str]) -> Output {
    let profile = docker();
    let mut args = vec!["compile", &profile, "-a", arch, "--kernel", "6.1"];
    args.extend_from_slice(extra);
    syscage_exiting(0, &args)
}

/// Runs `syscage ARGS`, asserts it exits 2 and returns its stderr (UTF-8)
/// and stdout.
#[track_caller]
fn syscage_exit_2(args: &[&str]) -> (String, Vec<u8>) {
    let o = syscage_exiting(2, args);
    (String::from_utf8(o.stderr).unwrap(), o.stdout)
}

/// What the filter `prog` decides for `data` (run in syscage's emulator).
#[track_caller]
fn decide(prog: &Program, data: &SeccompData) -> Action {
    syscage::emu::run(prog, data, ByteOrder::Little)
        .unwrap()
        .action
}

/// A file holding `text`, in a scratch directory of its own that is
/// removed when this is dropped; derefs to the file's path.
struct Tmp {
    path: String,
    _dir: scratch::Scratch,
}

impl std::ops::Deref for Tmp {
    type Target = str;

    fn deref(&self) -> &str {
        &self.path
    }
}

impl AsRef<std::path::Path> for Tmp {
    fn as_ref(&self) -> &std::path::Path {
        self.path.as_ref()
    }
}

impl std::fmt::Display for Tmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)
    }
}

fn tmp(name: &str, text: &str) -> Tmp {
    let dir = scratch::Scratch::new(&format!("compile-cli-{name}"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    Tmp {
        path: path.display().to_string(),
        _dir: dir,
    }
}

#[test]
fn raw_output_is_the_filter() {
    let out = tmp("docker.bpf", "");
    let o = compile_docker("x86_64", &["-o", &out]);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes.len() % 8, 0);
    let prog = Program::from_bytes(&bytes, ByteOrder::Little).unwrap();
    assert!(prog.len() <= 4096);
    let run = |arch: Arch, name: &str, a0: u64| {
        let d = SeccompData {
            nr: arch.syscall_nr(name).unwrap(),
            arch: arch.audit(),
            instruction_pointer: 0,
            args: [a0, 0, 0, 0, 0, 0],
        };
        decide(&prog, &d)
    };
    // Facts of the Docker default profile with Docker's default caps.
    assert_eq!(run(Arch::X86_64, "read", 0), Action::Allow);
    assert_eq!(run(Arch::X86, "read", 0), Action::Allow);
    assert_eq!(run(Arch::X32, "read", 0), Action::Allow);
    assert_eq!(run(Arch::X86_64, "mount", 0), Action::Errno(1));
    assert_eq!(run(Arch::X86_64, "socket", 40), Action::Errno(1));
    assert_eq!(run(Arch::X86_64, "clone3", 0), Action::Errno(38));
    let arm = SeccompData {
        nr: 63,
        arch: Arch::Aarch64.audit(),
        ..Default::default()
    };
    assert_eq!(decide(&prog, &arm), Action::KillThread);
    // Warnings (syscalls missing on some arch) go to stderr.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("do not exist on x86_64, x32, skipped there:") && err.contains(" waitpid"),
        "{err}"
    );
}

#[test]
fn caps_change_the_filter() {
    let a = tmp("a.bpf", "");
    let b = tmp("b.bpf", "");
    compile_docker("amd64", &["-o", &a]);
    compile_docker("amd64", &["--cap", "sys_admin", "-o", &b]);
    let prog = Program::from_bytes(&std::fs::read(&b).unwrap(), ByteOrder::Little).unwrap();
    let mount = SeccompData {
        nr: 165,
        arch: Arch::X86_64.audit(),
        ..Default::default()
    };
    assert_eq!(decide(&prog, &mount), Action::Allow);
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn c_array_json_disasm_and_stats() {
    let o = compile_docker("x86_64", &["-f", "c-array"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.starts_with("unsigned char bpf[] = {32,0,0,0,4,0,0,0,"),
        "{text}"
    );
    assert!(text.ends_with("};\n"));

    let o = compile_docker("x86_64", &["-f", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(
        v["architectures"],
        serde_json::json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    );
    assert!(v.get("archMap").is_none());
    assert!(v["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s.get("includes").is_none()));

    let o = compile_docker("x86_64", &["-f", "disasm", "--stats"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("program length: "), "{text}");
    for arch in [
        "x86_64: executed over",
        "x86: executed over",
        "x32: executed over",
    ] {
        assert!(text.contains(arch), "{text}");
    }
    assert!(text.contains("frequency-weighted mean"));
    assert!(text.contains("answered by the action cache"));
}

#[test]
fn bad_profile_is_located_and_exits_2() {
    let path = tmp(
        "bad.json",
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\",\n  \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQQ\"}]}]}",
    );
    let (err, stdout) = syscage_exit_2(&["compile", &path, "--kernel", "6.1"]);
    assert!(
        err.starts_with(&format!(
            "{path}:3:43: syscalls[0].args[0].op: unknown operator 'SCMP_CMP_EQQ'"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    assert!(stdout.is_empty());

    let path = tmp(
        "syntax.json",
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [}",
    );
    let (err, _) = syscage_exit_2(&["compile", &path, "--kernel", "6.1"]);
    assert!(
        err.starts_with(&format!("{path}:2:15: $: invalid JSON: ")),
        "{err}"
    );

    let (err, _) = syscage_exit_2(&["compile", "/nonexistent/profile.json"]);
    assert!(err.contains("cannot read /nonexistent/profile.json"));

    for bad in [
        &["compile", "x.json", "-a", "z80"][..],
        &["compile", "x.json", "--kernel", "six"],
        &["compile", "x.json", "-f", "hex"],
    ] {
        syscage_exit_2(bad);
    }
}

#[test]
fn overflow_is_an_error_not_a_truncation() {
    // 1500 syscalls each with a different argument value: far over 4096 instructions.
    let mut rules = Vec::new();
    for i in 0..1500 {
        rules.push(format!(
            "{{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{{\"index\": 1, \"value\": {}, \"op\": \"SCMP_CMP_EQ\"}}, {{\"index\": 2, \"value\": {}, \"op\": \"SCMP_CMP_GT\"}}]}}",
            i * 7919 + (1u64 << 40),
            i
        ));
    }
    let text = format!(
        "{{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{}]}}",
        rules.join(",")
    );
    let path = tmp("big.json", &text);
    let out = tmp("big.bpf", "");
    std::fs::remove_file(&out).unwrap();
    let (err, _) = syscage_exit_2(&[
        "compile", &path, "-a", "x86_64", "--kernel", "6.1", "-o", &out,
    ]);
    assert!(
        err.contains("more than the kernel's limit of 4096"),
        "{err}"
    );
    assert!(!std::path::Path::new(&*out).exists());
}

#[test]
fn profile_runc_would_refuse_is_located_and_exits_2() {
    // On x86, both rules become `socketcall` rules checking argument 0 == 1
    // with different actions: libseccomp fails with EEXIST, runc refuses.
    let path = tmp(
        "eexist.json",
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n \"syscalls\": [\n  {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_LOG\"},\n  {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
    );
    let (err, _) = syscage_exit_2(&["compile", &path, "-a", "x86_64", "--kernel", "6.1"]);
    assert!(err.contains(&format!("{path}:4:3: syscalls[1]: ")), "{err}");
    assert!(err.contains("EEXIST"), "{err}");
}
