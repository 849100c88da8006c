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
mod tests;
