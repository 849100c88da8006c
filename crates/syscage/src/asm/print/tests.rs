use super::*;
use crate::arch::x32_nr;

fn jmp(cond: JmpCond, src: Src, jt: u8, jf: u8) -> Insn {
    Insn::Jmp { cond, src, jt, jf }
}

fn lines(insns: &[Insn], arch: Arch, opts: DisasmOptions) -> Vec<String> {
    let raw: Vec<RawInsn> = insns.iter().map(|i| i.encode()).collect();
    let d = Disassembler::new(&raw, arch, opts);
    (0..d.len()).map(|i| d.text(i)).collect()
}

#[test]
fn header_and_columns() {
    let raw = [Insn::Ret(0x7fff_0000).encode()];
    let all = disasm(&raw, Arch::X86_64, &DisasmOptions::default());
    assert_eq!(
        all,
        " line  CODE  JT   JF      K\n=================================\n 0000: 0x06 0x00 0x00 0x7fff0000  return ALLOW\n"
    );
    let plain = DisasmOptions {
        no_bpf: true,
        ..DisasmOptions::default()
    };
    assert_eq!(disasm(&raw, Arch::X86_64, &plain), "0000: return ALLOW\n");
    let asm_able = DisasmOptions {
        asm_able: true,
        ..DisasmOptions::default()
    };
    assert!(!asm_able.show_bpf() && !asm_able.arg_infer());
}

#[test]
fn jump_forms() {
    let k = Src::K(3);
    let t = lines(
        &[
            jmp(JmpCond::Eq, k, 0, 0),
            jmp(JmpCond::Eq, k, 2, 2),
            jmp(JmpCond::Eq, k, 0, 1),
            jmp(JmpCond::Gt, k, 0, 1),
            jmp(JmpCond::Ge, k, 0, 1),
            jmp(JmpCond::Set, k, 0, 1),
            jmp(JmpCond::Set, Src::X, 1, 0),
            jmp(JmpCond::Gt, k, 1, 2),
            Insn::Ja(300),
        ],
        Arch::X86_64,
        DisasmOptions::default(),
    );
    // None of these is reachable with A known, so constants are decimal.
    assert_eq!(
        t,
        [
            "/* no-op */",
            "goto 0004",
            "if (A != 3) goto 0004",
            "if (A <= 3) goto 0005",
            "if (A < 3) goto 0006",
            "if (!(A & 3)) goto 0007",
            "if (A & X) goto 0008",
            "if (A > 3) goto 0009 else goto 0010",
            "goto 0309",
        ]
    );
}

#[test]
fn asm_able_keeps_jumps_with_equal_targets() {
    let opts = DisasmOptions {
        asm_able: true,
        ..DisasmOptions::default()
    };
    let t = lines(
        &[
            jmp(JmpCond::Eq, Src::K(3), 0, 0),
            jmp(JmpCond::Set, Src::X, 1, 1),
        ],
        Arch::X86_64,
        opts,
    );
    assert_eq!(
        t,
        [
            "if (A == 3) goto 0001 else goto 0001",
            "if (A & X) goto 0003 else goto 0003"
        ]
    );
}

#[test]
fn alu_loads_and_stores() {
    let t = lines(
        &[
            Insn::Alu(AluOp::Add, Src::K(0x34)),
            Insn::Alu(AluOp::Lsh, Src::K(3)),
            Insn::Alu(AluOp::Xor, Src::X),
            Insn::Neg,
            Insn::LdImm(116),
            Insn::LdxLen,
            Insn::LdMem(12),
            Insn::Stx(3),
            Insn::Tax,
            Insn::Txa,
            Insn::RetA,
            Insn::LdAbs(2),
        ],
        Arch::X86_64,
        DisasmOptions::default(),
    );
    assert_eq!(
        t,
        [
            "A += 0x34",
            "A <<= 3",
            "A ^= X",
            "A = -A",
            "A = 116",
            "X = 64",
            "A = mem[12]",
            "mem[3] = X",
            "X = A",
            "A = X",
            "return A",
            "A = INVALID",
        ]
    );
}

#[test]
fn seccomp_data_words_follow_byte_order() {
    let loads = [8, 12, 16, 20, 60].map(Insn::LdAbs);
    let le = lines(&loads, Arch::X86_64, DisasmOptions::default());
    assert_eq!(
        le,
        [
            "A = instruction_pointer",
            "A = instruction_pointer >> 32",
            "A = args[0]",
            "A = args[0] >> 32",
            "A = args[5] >> 32"
        ]
    );
    let be = lines(&loads, Arch::S390x, DisasmOptions::default());
    assert_eq!(
        be,
        [
            "A = instruction_pointer >> 32",
            "A = instruction_pointer",
            "A = args[0] >> 32",
            "A = args[0]",
            "A = args[5]"
        ]
    );
}

fn allow_write_prog(arch: Arch, nr: u32) -> Vec<Insn> {
    vec![
        Insn::LdAbs(4),
        jmp(JmpCond::Eq, Src::K(arch.audit()), 0, 4),
        Insn::LdAbs(0),
        jmp(JmpCond::Eq, Src::K(nr), 0, 2),
        Insn::LdAbs(16),
        Insn::Ret(0x7fff_0000),
        Insn::Ret(0),
    ]
}

#[test]
fn names_syscalls_and_arguments() {
    let p = allow_write_prog(Arch::X86_64, 1);
    let t = lines(&p, Arch::X86_64, DisasmOptions::default());
    assert_eq!(t[1], "if (A != ARCH_X86_64) goto 0006");
    assert_eq!(t[3], "if (A != write) goto 0006");
    assert_eq!(t[4], "A = fd # write(fd, buf, count)");
    let no_infer = DisasmOptions {
        no_arg_infer: true,
        ..DisasmOptions::default()
    };
    assert_eq!(lines(&p, Arch::X86_64, no_infer)[4], "A = args[0]");
    // Disassembled as i386, the arch check still names amd64's syscalls.
    let t = lines(&p, Arch::X86, DisasmOptions::default());
    assert_eq!(t[3], "if (A != amd64.write) goto 0006");
    assert_eq!(t[4], "A = fd # amd64.write(fd, buf, count)");
    // An i386 filter: write is 4 there.
    let t = lines(
        &allow_write_prog(Arch::X86, 4),
        Arch::X86_64,
        DisasmOptions::default(),
    );
    assert_eq!(t[1], "if (A != ARCH_I386) goto 0006");
    assert_eq!(t[3], "if (A != i386.write) goto 0006");
    // Non-equality compares on nr stay hex.
    let t = lines(
        &[
            Insn::LdAbs(0),
            jmp(JmpCond::Ge, Src::K(x32_nr(0)), 1, 0),
            Insn::Ret(0),
            Insn::Ret(0),
        ],
        Arch::X86_64,
        DisasmOptions::default(),
    );
    assert_eq!(t[1], format!("if (A >= {:#x}) goto 0003", x32_nr(0)));
}

#[test]
fn return_keeps_data_bits() {
    let t = lines(
        &[Insn::Ret(0x3b), Insn::Ret(0x0005_0001)],
        Arch::X86_64,
        DisasmOptions::default(),
    );
    assert_eq!(t, ["return KILL(59)", "return ERRNO(1)"]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Raw instructions biased towards the opcodes seccomp accepts, with
    /// offsets near the interesting `seccomp_data` words.
    fn raw_insn() -> impl Strategy<Value = RawInsn> {
        let code = prop_oneof![
            4 => prop::sample::select(vec![
                0x20u16, 0x00, 0x60, 0x80, 0x01, 0x61, 0x81, 0x02, 0x03, 0x04, 0x0c, 0x54,
                0x64, 0x74, 0x84, 0x05, 0x15, 0x1d, 0x25, 0x35, 0x45, 0x4d, 0x06, 0x16,
                0x07, 0x87,
            ]),
            1 => any::<u16>(),
        ];
        let k = prop_oneof![
            3 => (0u32..16).prop_map(|i| i * 4),
            2 => prop::sample::select(vec![0u32, 1, 2, 59, 0xc000_003e, 0x4000_0003, x32_nr(0), 0x7fff_0000]),
            1 => any::<u32>(),
        ];
        (code, any::<u8>(), any::<u8>(), k).prop_map(|(c, jt, jf, k)| RawInsn::new(c, jt, jf, k))
    }

    proptest! {
        /// Any input prints one line per instruction, each starting with
        /// its index, and never panics.
        #[test]
        fn one_line_per_instruction(raw in prop::collection::vec(raw_insn(), 1..80), bpf in any::<bool>()) {
            let opts = DisasmOptions { no_bpf: !bpf, ..DisasmOptions::default() };
            let text = disasm(&raw, Arch::X86_64, &opts);
            let lines: Vec<&str> = text.lines().collect();
            let skip = if bpf { 2 } else { 0 };
            prop_assert_eq!(lines.len(), raw.len() + skip);
            for (i, line) in lines[skip..].iter().enumerate() {
                let prefix = if bpf { format!(" {i:04}: ") } else { format!("{i:04}: ") };
                prop_assert!(line.starts_with(&prefix), "{}", line);
            }
        }

        /// `--asm-able` output never carries inferred names or comments.
        #[test]
        fn asm_able_has_no_comments(raw in prop::collection::vec(raw_insn(), 1..80)) {
            let opts = DisasmOptions { asm_able: true, ..DisasmOptions::default() };
            let text = disasm(&raw, Arch::X86, &opts);
            prop_assert!(!text.contains(" # "));
        }
    }
}
