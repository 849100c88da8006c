//! Inputs are bounded: raw BPF at most 32768 bytes (4096 instructions),
//! a profile or assembly text at most 16 MiB. `/dev/zero` or an endless
//! standard input is refused at once with exit 2 and the limit named,
//! instead of growing without end.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_syscage");

const BPF_LIMIT: &str = "32768 bytes";
const TEXT_LIMIT: &str = "16 MiB";

/// Waits for `child`; a hang (the input read without end) fails the test
/// instead of blocking it forever.
fn finish(mut child: Child, what: &str) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`syscage {what}` still reading its input after 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `syscage ARGS` with stdin from /dev/null.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child, &args.join(" "))
}

/// Runs `syscage ARGS` with stdin from a child that writes `line` forever.
fn run_endless(args: &[&str], line: &str) -> (Option<i32>, String) {
    let mut writer = Command::new("yes")
        .arg(line)
        .stdout(Stdio::piped())
        .spawn()
        .expect("yes(1)");
    let child = Command::new(BIN)
        .args(args)
        .stdin(writer.stdout.take().unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let result = finish(child, &args.join(" "));
    // `yes` dies of SIGPIPE once syscage is gone; make sure.
    let _ = writer.kill();
    let _ = writer.wait();
    result
}

#[track_caller]
fn assert_refused((code, stderr): (Option<i32>, String), limit: &str, args: &[&str]) {
    assert_eq!(code, Some(2), "`syscage {}`: {stderr}", args.join(" "));
    assert!(
        stderr.contains(limit),
        "`syscage {}`: {stderr}",
        args.join(" ")
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bpf_inputs_stop_at_32_kib() {
    let profile = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/syscage/profiles/default.json")
        .display()
        .to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["emu", "/dev/zero", "getpid"],
        vec!["disasm", "/dev/zero"],
        vec!["explain", "/dev/zero"],
        vec!["lint", "/dev/zero"],
        vec!["decompile", "/dev/zero"],
        vec!["diff", "/dev/zero", &profile],
        vec!["diff", &profile, "/dev/zero"],
    ];
    for args in &commands {
        assert_refused(run(args), BPF_LIMIT, args);
    }
    for args in [
        &["disasm", "-"][..],
        &["emu", "-", "getpid"],
        &["explain", "-"],
    ] {
        assert_refused(run_endless(args, "x"), BPF_LIMIT, args);
    }
}

#[test]
fn text_inputs_stop_at_16_mib() {
    let commands: Vec<Vec<&str>> = vec![
        vec!["compile", "/dev/zero"],
        vec!["asm", "/dev/zero"],
        vec!["run", "--profile", "/dev/zero", "--", "true"],
        vec!["record", "--append", "/dev/zero", "--", "true"],
    ];
    for args in &commands {
        assert_refused(run(args), TEXT_LIMIT, args);
    }
    // A profile is recognised by its `{`: then the text limit applies.
    for args in [
        &["compile", "-"][..],
        &["asm", "-"],
        &["lint", "-"],
        &["decompile", "-"],
    ] {
        assert_refused(run_endless(args, "{"), TEXT_LIMIT, args);
    }
}

#[test]
fn an_input_at_the_limit_is_read() {
    // 4096 instructions: as long as the kernel takes; not refused for size.
    let dir = std::env::temp_dir().join(format!("syscage-bounded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("max.bpf");
    // RET ALLOW (BPF_RET|BPF_K = 0x06, k = 0x7fff0000), little-endian, 4096 times.
    let insn = [0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f];
    std::fs::write(&file, insn.repeat(4096)).unwrap();
    let path = file.to_str().unwrap();
    let (code, stderr) = run(&["emu", path, "-a", "x86_64", "getpid"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_profile_may_be_larger_than_a_filter() {
    // Docker's default profile with 40000 blank lines after it: more than
    // a filter can be, far less than the text limit.
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/syscage/profiles/default.json");
    let mut text = std::fs::read(profile).unwrap();
    text.extend(std::iter::repeat_n(b'\n', 40_000));
    let dir = std::env::temp_dir().join(format!("syscage-big-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.json");
    std::fs::write(&file, text).unwrap();
    let path = file.to_str().unwrap();
    let explain = run(&["explain", path, "-a", "x86_64"]);
    let compile = run(&["compile", path, "-a", "x86_64"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(explain.0, Some(0), "{}", explain.1);
    assert_eq!(compile.0, Some(0), "{}", compile.1);
}
