//! The disassembler: seccomp-tools 1.7.1's `disasm` output, byte for byte.
//!
//! ```text
//!  line  CODE  JT   JF      K
//! =================================
//!  0000: 0x20 0x00 0x00 0x00000004  A = arch
//!  0001: 0x15 0x00 0x03 0xc000003e  if (A != ARCH_X86_64) goto 0005
//!  0002: 0x20 0x00 0x00 0x00000000  A = sys_number
//!  0003: 0x15 0x00 0x01 0x00000001  if (A != write) goto 0005
//!  0004: 0x20 0x00 0x00 0x00000010  A = fd # write(fd, buf, count)
//! ```
//!
//! Each line is one instruction; constants get names where the analysis
//! in [`super::infer`] shows what A holds (a syscall number, an audit arch,
//! a syscall argument). Where seccomp-tools loses information (the data
//! bits of a return value) this printer keeps it; see `docs/compat.md`.

use super::infer::{analyze, InsnFacts};
use super::symbol::{
    arch_prefix, audit_arch_name, display_arch, ret_value, syscall_name, syscall_params_of,
};
use crate::arch::Arch;
use crate::bpf::data::{OFF_ARCH, OFF_ARGS, OFF_IP, OFF_NR, SECCOMP_DATA_SIZE};
use crate::bpf::{AluOp, ByteOrder, Insn, JmpCond, RawInsn, Src};

/// Options of the disassembler (seccomp-tools' `disasm` flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DisasmOptions {
    /// `--no-bpf`: omit the header and the `CODE JT JF K` columns.
    pub no_bpf: bool,
    /// `--no-arg-infer`: print `args[0]` instead of argument names.
    pub no_arg_infer: bool,
    /// `--asm-able`: output `syscage asm` reads back (implies the two above).
    pub asm_able: bool,
}

impl DisasmOptions {
    /// Whether the `CODE JT JF K` columns and their header are printed.
    pub fn show_bpf(&self) -> bool {
        !(self.no_bpf || self.asm_able)
    }

    /// Whether argument loads are named after the syscall's parameters.
    pub fn arg_infer(&self) -> bool {
        !(self.no_arg_infer || self.asm_able)
    }
}

/// The two header lines printed above the instructions when the BPF
/// columns are shown.
pub const HEADER: &str = " line  CODE  JT   JF      K\n=================================\n";

/// Disassembles raw instructions for `arch`, as `seccomp-tools disasm` does.
pub fn disasm(raw: &[RawInsn], arch: Arch, opts: &DisasmOptions) -> String {
    Disassembler::new(raw, arch, *opts).to_string()
}

/// A program prepared for printing: the analysis has run once, and any
/// instruction's line can be asked for (the emulator's trace prints the
/// lines of the instructions it executed).
#[derive(Clone, Debug)]
pub struct Disassembler<'a> {
    raw: &'a [RawInsn],
    arch: Arch,
    opts: DisasmOptions,
    facts: Vec<InsnFacts>,
}

impl<'a> Disassembler<'a> {
    /// Analyses `raw` for `arch` (see [`super::infer`]).
    pub fn new(raw: &'a [RawInsn], arch: Arch, opts: DisasmOptions) -> Self {
        Disassembler {
            raw,
            arch: display_arch(arch),
            opts,
            facts: analyze(raw),
        }
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the program has no instruction.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The header printed before the lines (empty without BPF columns).
    pub fn header(&self) -> &'static str {
        if self.opts.show_bpf() {
            HEADER
        } else {
            ""
        }
    }

    /// The full line of instruction `index`, without a newline:
    /// ` 0003: 0x15 0x00 0x01 0x00000001  if (A != write) goto 0005`, or
    /// `0003: if (A != write) goto 0005` without BPF columns.
    ///
    /// # Panics
    /// If `index` is not below [`Disassembler::len`].
    pub fn line(&self, index: usize) -> String {
        let text = self.text(index);
        if self.opts.show_bpf() {
            format!(" {index:04}: {}  {text}", self.raw[index])
        } else {
            format!("{index:04}: {text}")
        }
    }

    /// The instruction text of `index` alone: `if (A != write) goto 0005`.
    ///
    /// # Panics
    /// If `index` is not below [`Disassembler::len`].
    pub fn text(&self, index: usize) -> String {
        let raw = self.raw[index];
        let facts = &self.facts[index];
        let Ok(insn) = Insn::decode(raw) else {
            return format!(
                "??? opcode 0x{:04x} is not a seccomp BPF instruction",
                raw.code
            );
        };
        match insn {
            Insn::LdAbs(k) => format!("A = {}", self.data_word(k, facts)),
            Insn::LdImm(k) => format!("A = {k}"),
            Insn::LdLen => format!("A = {SECCOMP_DATA_SIZE}"),
            Insn::LdMem(k) => format!("A = mem[{k}]"),
            Insn::LdxImm(k) => format!("X = {k}"),
            Insn::LdxLen => format!("X = {SECCOMP_DATA_SIZE}"),
            Insn::LdxMem(k) => format!("X = mem[{k}]"),
            Insn::St(k) => format!("mem[{k}] = A"),
            Insn::Stx(k) => format!("mem[{k}] = X"),
            Insn::Alu(op, src) => {
                let operand = match src {
                    Src::X => "X".to_string(),
                    Src::K(k) if matches!(op, AluOp::Lsh | AluOp::Rsh) => k.to_string(),
                    Src::K(k) => format!("0x{k:x}"),
                };
                format!("A {}= {operand}", alu_symbol(op))
            }
            Insn::Neg => "A = -A".to_string(),
            Insn::Tax => "X = A".to_string(),
            Insn::Txa => "A = X".to_string(),
            Insn::Ja(k) => goto(index, u64::from(k)),
            Insn::Jmp { cond, src, jt, jf } => self.jump(index, facts, cond, src, jt, jf),
            Insn::Ret(k) => format!("return {}", ret_value(k)),
            Insn::RetA => "return A".to_string(),
        }
    }

    /// A conditional jump, in seccomp-tools' shortest form.
    fn jump(
        &self,
        index: usize,
        facts: &InsnFacts,
        cond: JmpCond,
        src: Src,
        jt: u8,
        jf: u8,
    ) -> String {
        let operand = self.operand(facts, cond, src);
        if jt == jf && self.opts.asm_able {
            // seccomp-tools prints `goto` (or `/* no-op */`), which
            // assembles to a different instruction (or not at all).
            let target = goto(index, jt.into());
            return format!(
                "if (A {} {operand}) {target} else {target}",
                cond_symbol(cond)
            );
        }
        if jt == 0 && jf == 0 {
            return "/* no-op */".to_string();
        }
        if jt == jf {
            return goto(index, jt.into());
        }
        if jt == 0 {
            let test = match cond {
                JmpCond::Eq => format!("A != {operand}"),
                JmpCond::Gt => format!("A <= {operand}"),
                JmpCond::Ge => format!("A < {operand}"),
                JmpCond::Set => format!("!(A & {operand})"),
            };
            return format!("if ({test}) {}", goto(index, jf.into()));
        }
        let op = cond_symbol(cond);
        let mut s = format!("if (A {op} {operand}) {}", goto(index, jt.into()));
        if jf != 0 {
            s.push_str(" else ");
            s.push_str(&goto(index, jf.into()));
        }
        s
    }

    /// The right-hand side of a comparison: `X`, a syscall or arch name when
    /// A is known to be `nr` or `arch`, hex when A is another
    /// `seccomp_data` word, decimal otherwise.
    fn operand(&self, facts: &InsnFacts, cond: JmpCond, src: Src) -> String {
        let k = match src {
            Src::X => return "X".to_string(),
            Src::K(k) => k,
        };
        let hex = || format!("0x{k:x}");
        match facts.a_data {
            None => k.to_string(),
            // Syscall names only for equality tests.
            Some(OFF_NR) if cond == JmpCond::Eq => {
                self.prefixed_syscall(facts, k).unwrap_or_else(hex)
            }
            Some(OFF_ARCH) => audit_arch_name(k).unwrap_or_else(hex),
            Some(_) => hex(),
        }
    }

    /// The arch whose table names syscalls at this instruction: the one
    /// every path has checked `arch` against, else the disassembly's.
    fn table_arch(&self, facts: &InsnFacts) -> Arch {
        facts
            .known_arch
            .and_then(Arch::from_audit)
            .map(display_arch)
            .unwrap_or(self.arch)
    }

    /// `write`, or `i386.write` when the paths here checked for another arch.
    fn prefixed_syscall(&self, facts: &InsnFacts, nr: u32) -> Option<String> {
        let table = self.table_arch(facts);
        let name = syscall_name(table, nr)?;
        Some(if table == self.arch {
            name
        } else {
            format!("{}.{name}", arch_prefix(table))
        })
    }

    /// The `seccomp_data` word at byte offset `k`, as `A = ...` shows it.
    fn data_word(&self, k: u32, facts: &InsnFacts) -> String {
        let big = self.arch.byte_order() == ByteOrder::Big;
        match k {
            OFF_NR => "sys_number".to_string(),
            OFF_ARCH => "arch".to_string(),
            // The halves of instruction_pointer; big-endian arches put the
            // high word first.
            8 | 12 => {
                let high = (k == OFF_IP + 4) != big;
                if high {
                    "instruction_pointer >> 32".to_string()
                } else {
                    "instruction_pointer".to_string()
                }
            }
            k if (OFF_ARGS..SECCOMP_DATA_SIZE).contains(&k) && k % 4 == 0 => {
                let word = (k - OFF_ARGS) / 4;
                let index = (word / 2) as usize;
                let high = (word % 2 == 1) != big;
                self.arg_name(index, high, facts)
            }
            _ => "INVALID".to_string(),
        }
    }

    /// `args[1]`, or `buf # write(fd, buf, count)` when every path here
    /// knows the syscall and its parameters have names.
    fn arg_name(&self, index: usize, high: bool, facts: &InsnFacts) -> String {
        let shift = if high { " >> 32" } else { "" };
        let inferred = || -> Option<String> {
            let nr = facts.known_nr?;
            let table = self.table_arch(facts);
            let name = syscall_name(table, nr)?;
            let params = syscall_params_of(&name)?;
            let param = params.get(index)?;
            let shown = if table == self.arch {
                name
            } else {
                format!("{}.{name}", arch_prefix(table))
            };
            Some(format!("{param}{shift} # {shown}({})", params.join(", ")))
        };
        if self.opts.arg_infer() {
            if let Some(s) = inferred() {
                return s;
            }
        }
        format!("args[{index}]{shift}")
    }
}

impl std::fmt::Display for Disassembler<'_> {
    /// The whole disassembly: header (with BPF columns) and one line per
    /// instruction, each ending in a newline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.header())?;
        for i in 0..self.len() {
            writeln!(f, "{}", self.line(i))?;
        }
        Ok(())
    }
}

/// `goto NNNN` for a jump of `offset` from `index`.
fn goto(index: usize, offset: u64) -> String {
    format!("goto {:04}", index as u64 + 1 + offset)
}

/// The C operator of a jump condition.
fn cond_symbol(cond: JmpCond) -> &'static str {
    match cond {
        JmpCond::Eq => "==",
        JmpCond::Gt => ">",
        JmpCond::Ge => ">=",
        JmpCond::Set => "&",
    }
}

/// The C operator of an ALU operation.
fn alu_symbol(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+",
        AluOp::Sub => "-",
        AluOp::Mul => "*",
        AluOp::Div => "/",
        AluOp::Or => "|",
        AluOp::And => "&",
        AluOp::Lsh => "<<",
        AluOp::Rsh => ">>",
        AluOp::Xor => "^",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                jmp(JmpCond::Ge, Src::K(0x4000_0000), 1, 0),
                Insn::Ret(0),
                Insn::Ret(0),
            ],
            Arch::X86_64,
            DisasmOptions::default(),
        );
        assert_eq!(t[1], "if (A >= 0x40000000) goto 0003");
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
                2 => prop::sample::select(vec![0u32, 1, 2, 59, 0xc000_003e, 0x4000_0003, 0x4000_0000, 0x7fff_0000]),
                1 => any::<u32>(),
            ];
            (code, any::<u8>(), any::<u8>(), k)
                .prop_map(|(c, jt, jf, k)| RawInsn::new(c, jt, jf, k))
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
}
