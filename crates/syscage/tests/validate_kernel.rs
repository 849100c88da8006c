//! The validator against the running kernel: thousands of generated raw
//! programs (most valid, the rest breaking one rule or another) go to
//! `seccomp_check.c`, which installs each in a forked child with
//! `prctl(PR_SET_SECCOMP)`; `bpf::validate` must accept exactly the ones
//! the kernel accepts. Nothing is ever installed in the test process.
//!
//! Needs a C compiler and a kernel with seccomp filters; without them the
//! test fails under `CI=true` and says loudly that it checked nothing
//! elsewhere.

mod bpf_gen;
#[path = "../../syscage-linux/tests/scratch/mod.rs"]
mod scratch;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use std::io::Write;
use std::process::{Command, Stdio};
use syscage::bpf::insn::{BPF_JMP, BPF_LD, BPF_MEM, BPF_RET, BPF_ST};
use syscage::bpf::{validate, RawInsn};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Builds the checker; `None` (after a loud note) when there is no C compiler.
/// The checker lives in a scratch directory removed with it.
fn build_checker() -> Option<scratch::ScratchFile> {
    let exe = scratch::Scratch::new("validate-kernel").file("seccomp_check");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seccomp_check.c");
    let status = Command::new("cc")
        .args(["-O1", "-o"])
        .arg(&exe.path)
        .arg(src)
        .status();
    match status {
        Ok(s) if s.success() => Some(exe),
        other => {
            assert!(!in_ci(), "CI=true and cc cannot build {src}: {other:?}");
            eprintln!("NOT CHECKED: cannot build {src} ({other:?}); install gcc and libc6-dev");
            None
        }
    }
}

/// The kernel's verdict on each program: `true` for accepted.
fn kernel_verdicts(exe: &std::path::Path, programs: &[Vec<RawInsn>]) -> Vec<bool> {
    let mut child = Command::new(exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run seccomp_check");
    let mut input = String::new();
    for p in programs {
        for r in p {
            input.push_str(&format!(
                "{:04x}{:02x}{:02x}{:08x}",
                r.code, r.jt, r.jf, r.k
            ));
        }
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), programs.len(), "seccomp_check output: {text}");
    lines
        .iter()
        .map(|l| match *l {
            "accept" => true,
            "reject" => false,
            other => {
                let msg = format!("seccomp_check: {other} (201: no_new_privs, 202: not EINVAL)");
                assert!(!in_ci(), "{msg}");
                panic!("{msg}");
            }
        })
        .collect()
}

/// Programs at the edges the generator may miss: each rule just broken and
/// just kept.
fn edge_programs() -> Vec<Vec<RawInsn>> {
    let ret = RawInsn::stmt(BPF_RET, 0x7fff_0000);
    let ld_mem = RawInsn::stmt(BPF_LD | BPF_MEM, 0);
    let st = RawInsn::stmt(BPF_ST, 0);
    let ja = |k| RawInsn::stmt(BPF_JMP, k);
    let mut out = vec![
        vec![ret; 4096],
        vec![ret; 4097],
        vec![ret, ld_mem, ret],
        vec![st, ret, ld_mem, ret],
        vec![ja(1), ld_mem, ret],
        vec![ja(1), ret, ret],
        vec![ja(2), ret, ret],
        vec![RawInsn::stmt(BPF_LD, 0)],
    ];
    // Every 8-bit opcode alone before a RET, with k = 0 and 1.
    for code in 0..=0xffu16 {
        for k in [0, 1] {
            out.push(vec![RawInsn::stmt(code, k), ret]);
        }
    }
    out
}

#[test]
fn validator_agrees_with_the_kernel() {
    let Some(exe) = build_checker() else {
        return;
    };
    let mut runner = TestRunner::deterministic();
    let strategy = bpf_gen::biased_raw_program();
    let mut programs = edge_programs();
    programs.extend((0..3000).map(|_| strategy.new_tree(&mut runner).unwrap().current()));
    let kernel = kernel_verdicts(&exe, &programs);
    let mut disagreements = Vec::new();
    for (prog, &accepted) in programs.iter().zip(&kernel) {
        let ours = validate(prog);
        if ours.is_ok() != accepted {
            disagreements.push(format!(
                "kernel accepts: {accepted}, syscage: {ours:?}, program: {prog:?}"
            ));
        }
    }
    let accepted = kernel.iter().filter(|&&a| a).count();
    eprintln!(
        "{} programs, {accepted} accepted by the kernel",
        programs.len()
    );
    assert!(
        accepted > 500 && programs.len() - accepted > 500,
        "both verdicts must be exercised"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = std::fs::remove_dir_all(exe.parent().unwrap());
}
