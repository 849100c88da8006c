//! Property: for every valid program `p`, assembling `disasm --asm-able p`
//! gives `p` back, on every arch seccomp-tools knows.
//!
//! Programs are generated typed and valid by construction (jumps inside the
//! program, a RET last, scratch memory written on every path before it is
//! read, constant shifts below 32, no constant division by zero, returns
//! that are real actions). `LD LEN` is left out: its text `A = 64` is an
//! immediate load of the same value (a documented non-round-trip of
//! seccomp-tools' syntax).

use proptest::prelude::*;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::asm::parse::assemble;
use syscage::asm::print::{disasm, DisasmOptions};
use syscage::bpf::{validate, AluOp, Insn, JmpCond, Program, Src};

/// seccomp-tools' five arches, plus x32 (named like amd64) and one it
/// does not know (names get kernel-spelled prefixes such as `arm.`).
const ARCHES: [Arch; 7] = [
    Arch::X86_64,
    Arch::X86,
    Arch::Aarch64,
    Arch::Riscv64,
    Arch::S390x,
    Arch::X32,
    Arch::Arm,
];

/// Constants that make the printer pick names: syscall numbers, arch ids,
/// x32 numbers, plus arbitrary values.
fn constant() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..500,
        (0u32..600).prop_map(|n| n | 0x4000_0000),
        prop::sample::select(ARCHES.iter().map(|a| a.audit()).collect::<Vec<_>>()),
        any::<u32>(),
    ]
}

fn action() -> impl Strategy<Value = Insn> {
    prop_oneof![
        Just(Action::Allow),
        Just(Action::Log),
        any::<u16>().prop_map(Action::Trace),
        Just(Action::UserNotif),
        any::<u16>().prop_map(Action::Errno),
        any::<u16>().prop_map(Action::Trap),
        Just(Action::KillThread),
        Just(Action::KillProcess),
    ]
    .prop_map(|a| Insn::Ret(a.to_ret()))
}

fn src() -> impl Strategy<Value = Src> {
    prop_oneof![Just(Src::X), constant().prop_map(Src::K)]
}

fn alu() -> impl Strategy<Value = Insn> {
    (prop::sample::select(AluOp::ALL.to_vec()), src(), 0u32..32).prop_map(|(op, s, small)| {
        let s = match (op, s) {
            (AluOp::Lsh | AluOp::Rsh, Src::K(_)) => Src::K(small),
            (AluOp::Div, Src::K(0)) => Src::K(1),
            (_, s) => s,
        };
        Insn::Alu(op, s)
    })
}

/// One instruction at index `i` of `n`, reading only scratch slots in `mem`.
fn insn(i: usize, n: usize, mem: Vec<u32>) -> BoxedStrategy<Insn> {
    let room = (n - 2 - i).min(255) as u8; // farthest conditional offset
    let far = (n - 2 - i) as u32; // farthest `ja` offset
    let mut choices: Vec<BoxedStrategy<Insn>> = vec![
        (0u32..16).prop_map(|w| Insn::LdAbs(w * 4)).boxed(),
        constant().prop_map(Insn::LdImm).boxed(),
        constant().prop_map(Insn::LdxImm).boxed(),
        (0u32..16).prop_map(Insn::St).boxed(),
        (0u32..16).prop_map(Insn::Stx).boxed(),
        alu().boxed(),
        Just(Insn::Neg).boxed(),
        Just(Insn::Tax).boxed(),
        Just(Insn::Txa).boxed(),
        action().boxed(),
        Just(Insn::RetA).boxed(),
        (0..=far).prop_map(Insn::Ja).boxed(),
        (
            prop::sample::select(vec![JmpCond::Eq, JmpCond::Gt, JmpCond::Ge, JmpCond::Set]),
            src(),
            0..=room,
            0..=room,
        )
            .prop_map(|(cond, src, jt, jf)| Insn::Jmp { cond, src, jt, jf })
            .boxed(),
    ];
    if !mem.is_empty() {
        let m = prop::sample::select(mem);
        choices.push(m.clone().prop_map(Insn::LdMem).boxed());
        choices.push(m.prop_map(Insn::LdxMem).boxed());
    }
    prop::strategy::Union::new(choices).boxed()
}

/// A valid program: a straight-line prefix of stores, then random
/// instructions, then a RET.
fn program() -> impl Strategy<Value = Program> {
    (
        prop::collection::vec((0u32..16, any::<bool>()), 0..4),
        1usize..48,
    )
        .prop_flat_map(|(stores, body)| {
            let mem: Vec<u32> = stores.iter().map(|&(m, _)| m).collect();
            let prefix: Vec<Insn> = stores
                .iter()
                .map(|&(m, x)| if x { Insn::Stx(m) } else { Insn::St(m) })
                .collect();
            let n = prefix.len() + body;
            let start = prefix.len();
            let middle: Vec<BoxedStrategy<Insn>> =
                (start..n - 1).map(|i| insn(i, n, mem.clone())).collect();
            (
                Just(prefix),
                middle,
                prop_oneof![action(), Just(Insn::RetA)],
            )
                .prop_map(|(mut insns, middle, last)| {
                    insns.extend(middle);
                    insns.push(last);
                    Program::new(insns)
                })
        })
}

/// A conditional jump whose two offsets agree is an unconditional one: the
/// text `goto` cannot tell them apart.
fn canonical(p: &Program) -> Vec<Insn> {
    p.insns
        .iter()
        .map(|i| match *i {
            Insn::Jmp { jt, jf, .. } if jt == jf => Insn::Ja(u32::from(jt)),
            other => other,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn asm_of_asm_able_disasm_is_identity(p in program(), arch in prop::sample::select(ARCHES.to_vec())) {
        let raw = p.to_raw();
        prop_assert!(validate(&raw).is_ok(), "generator made an invalid program: {:?}", validate(&raw));
        let opts = DisasmOptions { asm_able: true, no_bpf: true, no_arg_infer: true };
        let text = disasm(&raw, arch, &opts);
        let back = assemble(&text, arch)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(canonical(&back), canonical(&p), "{}", text);
    }
}

/// Words and symbols of the language, glued at random: inputs that get deep
/// into the parser, unlike random characters.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "A",
        "X",
        "a",
        "x",
        "=",
        "==",
        "!=",
        ">=",
        "<=",
        ">",
        "<",
        "&",
        "!",
        "(",
        ")",
        "[",
        "]",
        "+",
        "-",
        "*",
        "/",
        "|",
        "^",
        "<<",
        ">>",
        "?",
        ":",
        "if",
        "else",
        "goto",
        "jmp",
        "return",
        "mem",
        "args",
        "args_h",
        "data",
        "len",
        "sys_number",
        "arch",
        "instruction_pointer",
        "ALLOW",
        "ERRNO",
        "KILL",
        "TRACE",
        "ARCH_X86_64",
        "read",
        "amd64.write",
        "x32_read",
        "next",
        "l1:",
        "l1",
        "0",
        "1",
        "32",
        "0x10",
        "-1",
        "4294967296",
        "99999999999999999999",
        "\n",
        " ",
        "\t",
        "#c\n",
        "é",
        "0004:",
        "0004",
        "\u{0}",
        ".",
        "amd64.",
        ".read",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn assemble_never_panics(src in token_soup(), arch in prop::sample::select(ARCHES.to_vec())) {
        if let Err(e) = assemble(&src, arch) {
            prop_assert!(e.line >= 1 && e.col >= 1);
            prop_assert!(e.message.starts_with("expected"), "{}", e.message);
        }
    }

    #[test]
    fn assemble_never_panics_on_any_text(src in ".{0,200}") {
        let _ = assemble(&src, Arch::X86_64);
    }
}

/// Spelling choices for the test's own printer.
#[derive(Clone, Copy, Debug)]
struct Style {
    labels: bool,
    ternary: bool,
    names: bool,
    upper: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(labels, ternary, names, upper)| Style {
            labels,
            ternary,
            names,
            upper,
        },
    )
}

/// Writes a program in seccomp-tools' language, independently of the
/// disassembler: labels or relative numbers, `? :` or `if`, syscall names
/// or numbers, upper- or lower-case keywords.
fn print_program(p: &Program, arch: Arch, st: Style) -> String {
    let kw = |s: &str| {
        if st.upper {
            s.to_uppercase()
        } else {
            s.to_string()
        }
    };
    let (a, x) = (kw("a"), kw("x"));
    let k = |v: u32| match (st.names, arch.syscall_name(v)) {
        (true, Some(name)) if !name.contains('#') => format!("{}.{name}", arch.name()),
        _ => format!("{v:#x}"),
    };
    let target = |i: usize, off: u32| {
        if st.labels {
            format!("L{}", i + 1 + off as usize)
        } else {
            off.to_string()
        }
    };
    let op = |s: Src| match s {
        Src::X => x.clone(),
        Src::K(v) => k(v),
    };
    let data = |off: u32| match off {
        0 => kw("sys_number"),
        4 => kw("arch"),
        8 => kw("instruction_pointer"),
        12 => format!("{} >> 32", kw("instruction_pointer")),
        o if o % 8 == 0 => format!("{}[{}]", kw("args"), (o - 16) / 8),
        o => format!("{}[{}]", kw("args_h"), (o - 20) / 8),
    };
    let mut out = String::new();
    for (i, insn) in p.insns.iter().enumerate() {
        let line = match *insn {
            Insn::LdAbs(o) if arch.byte_order() == syscage::bpf::ByteOrder::Little => {
                format!("{a} = {}", data(o))
            }
            Insn::LdAbs(o) => format!("{a} = {}[{o}]", kw("data")),
            Insn::LdImm(v) => format!("{a} = {}", k(v)),
            Insn::LdMem(m) => format!("{a} = {}[{m}]", kw("mem")),
            Insn::LdLen => format!("{a} = {}", kw("len")),
            Insn::LdxImm(v) => format!("{x} = {}", k(v)),
            Insn::LdxMem(m) => format!("{x} = {}[{m}]", kw("mem")),
            Insn::LdxLen => unreachable!("not in the language"),
            Insn::St(m) => format!("{}[{m}] = {a}", kw("mem")),
            Insn::Stx(m) => format!("{}[{m}] = {x}", kw("mem")),
            Insn::Alu(o, s) => {
                let sym = match o {
                    AluOp::Add => "+",
                    AluOp::Sub => "-",
                    AluOp::Mul => "*",
                    AluOp::Div => "/",
                    AluOp::Or => "|",
                    AluOp::And => "&",
                    AluOp::Lsh => "<<",
                    AluOp::Rsh => ">>",
                    AluOp::Xor => "^",
                };
                format!("{a} {sym}= {}", op(s))
            }
            Insn::Neg => format!("{a} = -{a}"),
            Insn::Ja(off) => format!("{} {}", kw("goto"), target(i, off)),
            Insn::Jmp { cond, src, jt, jf } => {
                let c = match cond {
                    JmpCond::Eq => "==",
                    JmpCond::Gt => ">",
                    JmpCond::Ge => ">=",
                    JmpCond::Set => "&",
                };
                let (t, f) = (target(i, jt.into()), target(i, jf.into()));
                if st.ternary {
                    format!("{a} {c} {} ? {t} : {f}", op(src))
                } else {
                    format!(
                        "{} ({a} {c} {}) {} {t} {} {} {f}",
                        kw("if"),
                        op(src),
                        kw("goto"),
                        kw("else"),
                        kw("goto")
                    )
                }
            }
            Insn::Ret(v) => match Action::from_ret_exact(v) {
                Some(act) => format!("{} {act}", kw("return")),
                None => format!("{} {v:#x}", kw("return")),
            },
            Insn::RetA => format!("{} {a}", kw("return")),
            Insn::Tax => format!("{x} = {a}"),
            Insn::Txa => format!("{a} = {x}"),
        };
        out.push_str(&format!("L{i}: {line} # {i}\n"));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn asm_of_printed_program_is_identity(
        p in program(),
        arch in prop::sample::select(ARCHES.to_vec()),
        st in style(),
    ) {
        let text = print_program(&p, arch, st);
        let back = assemble(&text, arch)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(canonical(&back), canonical(&p), "{}", text);
    }
}
