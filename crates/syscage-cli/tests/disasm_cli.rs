//! `syscage disasm` as a user meets it: the example filter the repository
//! ships, standard input, and bad input (one-line errors, exit code 2,
//! never a panic).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use syscage::bpf::{codec, ByteOrder, RawInsn};

const BIN: &str = env!("CARGO_BIN_EXE_syscage");

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn disasm_bytes(bytes: &[u8], args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .arg("disasm")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run syscage");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap()
}

/// Exit code 2 and exactly one line on stderr, containing every `needle`.
fn assert_bad_input(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("syscage: error: "), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{stderr:?} lacks {n:?}");
    }
}

/// The example filter, hand-encoded from `<linux/filter.h>` (BPF_STMT /
/// BPF_JUMP codes), `<linux/audit.h>` and `<asm/unistd_64.h>`: x86_64 only,
/// no x32, read/write/exit/exit_group allowed, KILL_PROCESS otherwise.
fn allow_stdio() -> Vec<RawInsn> {
    const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JGE: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    const RET: u16 = 0x06; // BPF_RET | BPF_K
    vec![
        RawInsn::stmt(LD_ABS, 4),             // seccomp_data.arch
        RawInsn::new(JEQ, 0, 6, 0xc000_003e), // AUDIT_ARCH_X86_64
        RawInsn::stmt(LD_ABS, 0),             // seccomp_data.nr
        RawInsn::new(JGE, 4, 0, 0x4000_0000), // __X32_SYSCALL_BIT
        RawInsn::new(JEQ, 4, 0, 0),           // __NR_read
        RawInsn::new(JEQ, 3, 0, 1),           // __NR_write
        RawInsn::new(JEQ, 2, 0, 60),          // __NR_exit
        RawInsn::new(JEQ, 1, 0, 231),         // __NR_exit_group
        RawInsn::stmt(RET, 0x8000_0000),      // SECCOMP_RET_KILL_PROCESS
        RawInsn::stmt(RET, 0x7fff_0000),      // SECCOMP_RET_ALLOW
    ]
}

#[test]
fn example_filter_is_the_hand_encoded_program() {
    let bytes = std::fs::read(repo("examples/allow-stdio.bpf")).expect("examples/allow-stdio.bpf");
    assert_eq!(bytes, codec::encode(&allow_stdio(), ByteOrder::Little));
}

#[test]
fn example_filter_disassembles_with_its_syscalls() {
    let out = Command::new(BIN)
        .args(["disasm", "-a", "x86_64"])
        .arg(repo("examples/allow-stdio.bpf"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "A = arch",
        "if (A != ARCH_X86_64) goto 0008",
        "A = sys_number",
        "if (A >= 0x40000000) goto 0008",
        "if (A == read) goto 0009",
        "if (A == write) goto 0009",
        "if (A == exit) goto 0009",
        "if (A == exit_group) goto 0009",
        "return KILL_PROCESS",
        "return ALLOW",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    assert_eq!(text.lines().count(), 2 + 10);
}

#[test]
fn reads_standard_input_and_both_arch_spellings() {
    let bytes = codec::encode(&allow_stdio(), ByteOrder::Little);
    let a = disasm_bytes(&bytes, &["-a", "amd64", "--no-bpf"]);
    let b = disasm_bytes(&bytes, &["-", "-a", "x86_64", "--no-bpf"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert!(String::from_utf8_lossy(&a.stdout).starts_with("0000: A = arch\n"));
    // Read as i386, the same numbers are other syscalls, named after the
    // arch the filter checked.
    let c = disasm_bytes(&bytes, &["-a", "x86", "--no-bpf"]);
    assert!(String::from_utf8_lossy(&c.stdout).contains("if (A == amd64.write) goto 0009"));
}

#[test]
fn big_endian_arch_reads_big_endian_bytes() {
    let bytes = codec::encode(&allow_stdio(), ByteOrder::Big);
    let out = disasm_bytes(&bytes, &["-a", "s390x", "--no-bpf"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("if (A != ARCH_X86_64) goto 0008"));
}

#[test]
fn empty_input_is_an_error() {
    assert_bad_input(
        &disasm_bytes(&[], &["-a", "amd64"]),
        &["<stdin>", "empty input"],
    );
}

#[test]
fn trailing_partial_instruction_is_an_error() {
    let mut bytes = codec::encode(&allow_stdio(), ByteOrder::Little);
    bytes.truncate(8 * 3 + 5);
    assert_bad_input(
        &disasm_bytes(&bytes, &["-a", "amd64"]),
        &[
            "29 bytes is not a multiple of 8",
            "instruction 3",
            "5 trailing bytes",
        ],
    );
}

#[test]
fn unknown_opcode_is_an_error_naming_the_instruction() {
    let mut prog = allow_stdio();
    prog[2] = RawInsn::stmt(0x28, 0); // BPF_LD | BPF_H | BPF_ABS: refused by seccomp
    let bytes = codec::encode(&prog, ByteOrder::Little);
    assert_bad_input(
        &disasm_bytes(&bytes, &["-a", "amd64"]),
        &["instruction 2", "opcode 0x0028"],
    );
    let mut prog = allow_stdio();
    prog[9] = RawInsn::stmt(0x94, 3); // BPF_ALU | BPF_MOD | BPF_K
    let bytes = codec::encode(&prog, ByteOrder::Little);
    assert_bad_input(
        &disasm_bytes(&bytes, &[]),
        &["instruction 9", "opcode 0x0094"],
    );
}

#[test]
fn missing_file_and_unknown_arch_are_errors() {
    let out = Command::new(BIN)
        .args(["disasm", "/nonexistent/filter.bpf"])
        .output()
        .unwrap();
    assert_bad_input(&out, &["/nonexistent/filter.bpf"]);
    let out = Command::new(BIN)
        .args(["disasm", "-a", "vax"])
        .arg(repo("examples/allow-stdio.bpf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown architecture 'vax'"));
}

#[test]
fn kernel_invalid_but_decodable_filters_still_disassemble() {
    // A jump past the end (the else_jmp fixture does this too) and a
    // mem[] index the kernel refuses: printed, not rejected.
    let prog = [
        RawInsn::stmt(0x60, 99),          // A = mem[99]
        RawInsn::new(0x15, 7, 0, 1),      // if (A == 1) goto 0009
        RawInsn::stmt(0x06, 0x7fff_0000), // return ALLOW
    ];
    let out = disasm_bytes(
        &codec::encode(&prog, ByteOrder::Little),
        &["--no-bpf", "-a", "amd64"],
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0000: A = mem[99]\n0001: if (A == 1) goto 0009\n0002: return ALLOW\n"
    );
}
