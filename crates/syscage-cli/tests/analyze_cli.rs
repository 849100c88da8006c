//! `syscage explain`, `lint`, `diff` (and `--subset`) and `decompile` as a
//! user runs them: exit codes, what they say, bad input.

use std::path::{Path, PathBuf};

mod profile_compile;
mod syscage_bin;
use profile_compile::compile_raw;
use syscage_bin::{stderr, stdout, syscage};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn fixture(name: &str) -> String {
    data()
        .join("seccomp-tools/bpf")
        .join(name)
        .display()
        .to_string()
}

/// A directory removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("syscage-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Docker default profile with its allow list changed.
fn docker_variant(dir: &Path, name: &str, edit: impl Fn(&mut Vec<serde_json::Value>)) -> String {
    let text = std::fs::read_to_string(data().join("docker-default-seccomp.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["syscalls"][0]["action"], "SCMP_ACT_ALLOW");
    let allow = v["syscalls"][0]["names"].as_array_mut().unwrap();
    edit(allow);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn explain_names_syscalls_per_arch_and_action() {
    let o = syscage(&["explain", &fixture("libseccomp.bpf"), "-a", "amd64"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "Architecture: amd64",
        "  ALLOW:",
        "    write, close, dup, exit",
        "  ERRNO(5):",
        "<default>",
        "(x32 ABI)",
        "Other architectures: KILL",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let o = syscage(&[
        "explain",
        "--json",
        &fixture("gctf-2019-quals-caas.bpf"),
        "-a",
        "amd64",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exact"], true);
    let text = v.to_string();
    assert!(text.contains("\"syscall\":\"socket\""), "{text}");
}

#[test]
fn lint_exit_codes_and_findings() {
    let o = syscage(&["lint", &fixture("libseccomp.bpf"), "-a", "amd64"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("No weaknesses found."));
    let o = syscage(&[
        "lint",
        "--json",
        &fixture("twctf-2016-diary.bpf"),
        "-a",
        "amd64",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for id in [
        "arch-unchecked",
        "x32-guard",
        "syscall-alt-gap",
        "permissive-default",
        "orw-chain",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // Every finding names the instructions involved or the syscalls.
    for f in v["findings"].as_array().unwrap() {
        assert!(
            !f["instructions"].as_array().unwrap().is_empty()
                || !f["syscalls"].as_array().unwrap().is_empty(),
            "{f}"
        );
    }
}

#[test]
fn diff_and_subset_on_constructed_profiles() {
    let dir = std::env::temp_dir().join(format!("syscage-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = data()
        .join("docker-default-seccomp.json")
        .display()
        .to_string();
    let narrowed = docker_variant(&dir, "narrowed.json", |names| {
        names.retain(|n| n != "chmod" && n != "fchmod")
    });
    let widened = docker_variant(&dir, "widened.json", |names| names.push("mount".into()));

    let o = syscage(&["diff", &base, &base, "-a", "x86_64"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("no differences"));

    let o = syscage(&["diff", &narrowed, &base, "-a", "x86_64"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("x86_64: chmod, fchmod: ERRNO(1) -> ALLOW"),
        "{out}"
    );
    assert!(out.contains("x86: fchmod: ERRNO(1) -> ALLOW"), "{out}");

    for (a, b, code) in [
        (&base, &base, 0),
        (&narrowed, &base, 0),
        (&widened, &base, 1),
        (&base, &widened, 0),
        (&base, &narrowed, 1),
    ] {
        let o = syscage(&["diff", "--subset", a, b, "-a", "x86_64"]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "--subset {a} {b}: {}",
            stdout(&o)
        );
    }
    let o = syscage(&["diff", "--subset", &widened, &base, "-a", "x86_64"]);
    assert!(
        stdout(&o).contains("mount: ALLOW -> ERRNO(1)"),
        "{}",
        stdout(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Decompiles `filter` to Docker (for a runtime without the ENOSYS stub
/// when `no_enosys`), compiles the profile as that runtime would, and
/// diffs the result with the filter: equivalent. Returns the profile.
fn decompile_round_trip(dir: &Scratch, filter: &str, no_enosys: bool) -> serde_json::Value {
    let mut cmd = vec!["decompile", filter, "-a", "amd64", "-f", "docker"];
    if no_enosys {
        cmd.push("--no-enosys");
    }
    let o = syscage(&cmd);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("proven equivalent"), "{}", stderr(&o));
    let profile = dir.path().join("profile.json");
    std::fs::write(&profile, &o.stdout).unwrap();
    let compiled = dir.path().join("profile.bpf");
    compile_raw(filter, &profile, &compiled, no_enosys);
    let d = syscage(&["diff", filter, compiled.to_str().unwrap(), "-a", "amd64"]);
    assert_eq!(d.status.code(), Some(0), "{}", stdout(&d));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn decompile_writes_a_profile_that_compiles_back_to_the_same_filter() {
    let dir = Scratch::new("decompile");
    let filter = fixture("gctf-2019-quals-caas.bpf");
    // Its unknown numbers are killed: runc's stub would answer ENOSYS.
    let o = syscage(&["decompile", &filter, "-a", "amd64", "-f", "docker"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("ENOSYS stub"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--no-enosys"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    decompile_round_trip(&dir, &filter, true);
}

/// Issue 15.3: OpenSSH's 64-bit mask is one MASKED_EQ; arping's write on
/// fd 1..2 is two EQ rules; a default-ALLOW kill list stays a kill list;
/// firejail's i386 filter, which allows every other arch, is refused.
#[test]
fn docker_output_is_the_natural_form_or_refused_with_a_reason() {
    let dir = Scratch::new("docker-natural");
    let sshd = assemble(&dir, "sshd", SSHD_MMAP);
    let p = decompile_round_trip(&dir, &sshd, true);
    let mmap = p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["names"][0] == "mmap")
        .unwrap();
    assert_eq!(mmap["args"].as_array().unwrap().len(), 1, "{mmap}");
    assert_eq!(mmap["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
    assert_eq!(mmap["args"][0]["value"], 0xffff_ffff_ffff_fffcu64);
    assert_eq!(mmap["args"][0]["valueTwo"], 0);

    let arping = assemble(
        &dir,
        "arping",
        "A = arch\nif (A != ARCH_X86_64) goto kill\nA = sys_number\n\
         if (A >= 0x40000000) goto kill\nif (A == exit_group) goto allow\n\
         if (A != write) goto kill\nA = args[0] >> 32\nif (A != 0) goto kill\n\
         A = args[0]\nif (A < 1) goto kill\nif (A > 2) goto kill\n\
         allow:\nreturn ALLOW\nkill:\nreturn KILL\n",
    );
    let p = decompile_round_trip(&dir, &arping, true);
    let writes: Vec<_> = p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["names"][0] == "write")
        .map(|s| (s["args"][0]["op"].clone(), s["args"][0]["value"].clone()))
        .collect();
    assert_eq!(
        writes,
        [
            (serde_json::json!("SCMP_CMP_EQ"), serde_json::json!(1)),
            (serde_json::json!("SCMP_CMP_EQ"), serde_json::json!(2))
        ]
    );

    // A kill list (default ALLOW, as swtpm's): runc adds no stub to it.
    let kill = [
        "ptrace",
        "mount",
        "kexec_load",
        "bpf",
        "reboot",
        "init_module",
    ];
    let mut src = String::from(
        "A = arch\nif (A != ARCH_X86_64) goto kill\nA = sys_number\n\
         if (A < 0x40000000) goto native\nif (A != 0xffffffff) goto kill\nnative:\n",
    );
    for k in kill {
        src.push_str(&format!("if (A == {k}) goto kill\n"));
    }
    src.push_str("return ALLOW\nkill:\nreturn KILL\n");
    let swtpm = assemble(&dir, "swtpm", &src);
    let p = decompile_round_trip(&dir, &swtpm, false);
    assert_eq!(p["defaultAction"], "SCMP_ACT_ALLOW", "{p}");
    let mut names: Vec<String> = p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["names"].as_array().unwrap().clone())
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    names.sort();
    let mut want: Vec<String> = kill.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want);

    let firejail = assemble(
        &dir,
        "firejail",
        "A = arch\nif (A != ARCH_I386) goto allow\nA = sys_number\n\
         if (A == 11) goto kill\nallow:\nreturn ALLOW\nkill:\nreturn KILL\n",
    );
    for f in ["docker", "oci"] {
        let o = syscage(&["decompile", &firejail, "-a", "i386", "-f", f]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("allows unlisted arches"),
            "{}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("syscage-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join("odd.bpf");
    std::fs::write(&odd, [0u8; 12]).unwrap();
    let bad_json = dir.join("bad.json");
    std::fs::write(&bad_json, "{\"defaultAction\": \"SCMP_ACT_NOPE\"}").unwrap();
    for args in [
        vec!["explain", "/nonexistent.bpf"],
        vec!["lint", odd.to_str().unwrap()],
        vec!["diff", odd.to_str().unwrap(), odd.to_str().unwrap()],
        vec!["decompile", &fixture("twctf-2016-diary.bpf")],
        vec!["explain", bad_json.to_str().unwrap()],
        vec!["explain", &fixture("libseccomp.bpf"), "-a", "vax"],
    ] {
        let o = syscage(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = syscage(&["explain", bad_json.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("bad.json:1:19: defaultAction"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 13: the proof of a profile with thousands of rules on one syscall
/// used to recurse once per rule and overflow the main thread's stack. The
/// CLI runs in a child process with the default stack.
#[test]
fn a_3000_rule_profile_compiles_and_is_proven() {
    let dir = Scratch::new("big");
    let rules: Vec<serde_json::Value> = (0..3000)
        .map(|i| {
            serde_json::json!({"names": ["write"], "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": i, "op": "SCMP_CMP_EQ"}]})
        })
        .collect();
    let profile = serde_json::json!({"defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules});
    let path = dir.path().join("big.json");
    std::fs::write(&path, profile.to_string()).unwrap();
    let out = dir.path().join("big.bpf");
    let o = syscage(&[
        "compile",
        path.to_str().unwrap(),
        "-a",
        "x86_64",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("not proven"),
        "the proof did not go through: {}",
        stderr(&o)
    );
    // And it decides as the rules say: fd 2999 allowed, fd 3000 refused.
    let emu = |fd: &str| {
        let o = syscage(&["emu", out.to_str().unwrap(), "-a", "x86_64", "write", fd]);
        stdout(&o)
    };
    assert!(emu("2999").contains("ALLOW"), "{}", emu("2999"));
    assert!(emu("3000").contains("ERRNO"), "{}", emu("3000"));
}

/// The OpenSSH preauth sandbox's mmap check, assembled in seccomp-tools
/// syntax: `prot >> 32 == 0` and `prot & 0xfffffffc == 0`.
const SSHD_MMAP: &str = "A = arch\nif (A != ARCH_X86_64) goto kill\nA = sys_number\n\
    if (A == getpid) goto allow\nif (A != mmap) goto kill\n\
    A = args[2] >> 32\nif (A != 0) goto kill\nA = args[2]\nA &= 0xfffffffc\n\
    if (A == 0) goto allow\nkill:\nreturn KILL\nallow:\nreturn ALLOW\n";

fn assemble(dir: &Scratch, name: &str, src: &str) -> String {
    let asm = dir.path().join(format!("{name}.asm"));
    std::fs::write(&asm, src).unwrap();
    let bpf = dir.path().join(format!("{name}.bpf"));
    let o = syscage(&[
        "asm",
        "-a",
        "x86_64",
        "-f",
        "raw",
        "-o",
        bpf.to_str().unwrap(),
        asm.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    bpf.display().to_string()
}

#[test]
fn explain_prints_the_high_word_requirement_it_claims_exactly() {
    let dir = Scratch::new("sshd");
    let bpf = assemble(&dir, "sshd", SSHD_MMAP);
    let o = syscage(&["explain", &bpf, "-a", "x86_64"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("mmap when (prot & 0xfffffffffffffffc) == 0x0"),
        "{}",
        stdout(&o)
    );
    let o = syscage(&["explain", &bpf, "-a", "x86_64", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exact"], true);
    let text = v.to_string();
    assert!(
        text.contains("(prot & 0xfffffffffffffffc) == 0x0"),
        "{text}"
    );
    // What the printed condition says, the filter does: a high word of 1 is killed.
    let emu = |prot: &str| {
        let o = syscage(&[
            "emu", &bpf, "-a", "x86_64", "mmap", "0", "4096", prot, "0x22",
        ]);
        stdout(&o)
    };
    assert!(
        emu("0x100000001").contains("KILL"),
        "{}",
        emu("0x100000001")
    );
    assert!(emu("0x3").contains("ALLOW"), "{}", emu("0x3"));
}

/// Raw little-endian instructions.
fn raw(insns: &[(u16, u8, u8, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(code, jt, jf, k) in insns {
        out.extend(code.to_le_bytes());
        out.extend([jt, jf]);
        out.extend(k.to_le_bytes());
    }
    out
}

/// Issue 13: the analyses say when the kernel would refuse the filter,
/// and still analyse it (exit as usual); lint reports it as a finding.
#[test]
fn analyses_warn_when_the_kernel_would_refuse_the_filter() {
    let dir = Scratch::new("refused");
    const LD_ARCH: (u16, u8, u8, u32) = (0x20, 0, 0, 4);
    // if (A != ARCH_X86_64) skip 3 instructions
    const JNE_X86_64_KILL: (u16, u8, u8, u32) = (0x15, 0, 3, 0xc000_003e);
    let div0 = raw(&[
        LD_ARCH,
        JNE_X86_64_KILL,
        (0x20, 0, 0, 0),           // A = nr
        (0x34, 0, 0, 0),           // A /= 0
        (0x06, 0, 0, 0),           // return KILL
        (0x06, 0, 0, 0x7fff_0000), // return ALLOW
    ]);
    let mut long = vec![LD_ARCH, JNE_X86_64_KILL];
    long.extend([(0x20, 0, 0, 0); 4093]);
    long.extend([(0x06, 0, 0, 0x7fff_0000), (0x06, 0, 0, 0)]);
    // Longer than BPF_MAXINSNS, a raw filter is also more than the input
    // reader takes (32 KiB): refused at once with the limit, exit 2.
    let long_path = dir.path().join("long.bpf");
    std::fs::write(&long_path, raw(&long)).unwrap();
    let lf = long_path.to_str().unwrap();
    for cmd in [
        vec!["explain", lf, "-a", "x86_64"],
        vec!["lint", lf, "-a", "x86_64", "--json"],
        vec!["decompile", lf, "-a", "x86_64", "-f", "text"],
        vec!["diff", lf, lf, "-a", "x86_64"],
    ] {
        let o = syscage(&cmd);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("BPF_MAXINSNS"),
            "{cmd:?}: {}",
            stderr(&o)
        );
    }
    for (name, bytes, why) in [("div0", div0, "division by the constant 0")] {
        let path = dir.path().join(format!("{name}.bpf"));
        std::fs::write(&path, bytes).unwrap();
        let f = path.to_str().unwrap();
        for cmd in [
            vec!["explain", f, "-a", "x86_64"],
            vec!["lint", f, "-a", "x86_64", "--json"],
            vec!["decompile", f, "-a", "x86_64", "-f", "text"],
            vec!["diff", f, f, "-a", "x86_64"],
        ] {
            let o = syscage(&cmd);
            let err = stderr(&o);
            assert!(
                err.contains("warning: the kernel would refuse this filter") && err.contains(why),
                "{cmd:?}: {err}"
            );
            let expected = if cmd[0] == "lint" { 1 } else { 0 };
            assert_eq!(o.status.code(), Some(expected), "{cmd:?}: {err}");
            if cmd[0] == "lint" {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                assert!(
                    v["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|f| f["id"] == "kernel-refuses"),
                    "{v}"
                );
            }
        }
    }
}

#[test]
fn decompile_text_lists_what_rules_alone_cannot_say() {
    // firejail's protocol filter decides socket(2) by its family on the
    // arches it does not check too, and lets whole stretches of unnamed
    // x86_64 numbers through: the text view lists both, not only rules.
    let f = data().join("filters/firejail-protocol.bpf");
    let o = syscage(&["decompile", "-f", "text", &f.display().to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("other arches, number 0x167: ERRNO(95) when")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("unnamed numbers ") && l.ends_with("[x86_64]: ALLOW")),
        "{out}"
    );
}
