//! Operands: the right-hand sides of assignments, scratch memory
//! indices, and constants (numbers, `ARCH_*`, syscall names).

use super::{Parser, ALU_OPS};
use crate::arch::Arch;
use crate::asm::lexer::{Keyword, Token, TokenKind};
use crate::asm::names::{prefixed_syscall_nr, syscall_nr};
use crate::asm::parse::AsmError;
use crate::bpf::data::{arg_offset, ip_offset, Half, OFF_ARCH, OFF_NR, SECCOMP_DATA_SIZE};
use crate::bpf::{Insn, Src};

use super::Stmt;

impl Parser<'_> {
    pub(super) fn starts_constexpr(&self) -> bool {
        matches!(
            self.peek().map(|t| &t.kind),
            Some(
                TokenKind::Int(_)
                    | TokenKind::ArchVal(_)
                    | TokenKind::Ident(_)
                    | TokenKind::Op("(")
            )
        )
    }

    /// `A = ...`
    pub(super) fn a_rvalue(&mut self) -> Result<Stmt, AsmError> {
        let Some(t) = self.peek() else {
            return Err(self.expected("a value after 'A ='"));
        };
        let insn = match &t.kind {
            TokenKind::Keyword(Keyword::X) => {
                self.pos += 1;
                Insn::Txa
            }
            TokenKind::Keyword(Keyword::Mem) => Insn::LdMem(self.memory()?),
            TokenKind::Keyword(Keyword::Len) => {
                self.pos += 1;
                Insn::LdLen
            }
            TokenKind::Keyword(Keyword::SysNumber) => {
                self.pos += 1;
                Insn::LdAbs(OFF_NR)
            }
            TokenKind::Keyword(Keyword::Arch) => {
                self.pos += 1;
                Insn::LdAbs(OFF_ARCH)
            }
            TokenKind::Keyword(Keyword::Data) => {
                self.pos += 1;
                self.expect_op("[")?;
                let it = self.peek();
                let idx = self.constexpr()?;
                if idx % 4 != 0 || idx >= SECCOMP_DATA_SIZE {
                    return Err(Self::error_at(
                        it.unwrap_or(t),
                        format!("expected a data[] offset that is a multiple of 4 below 64, found {idx}"),
                    ));
                }
                self.expect_op("]")?;
                Insn::LdAbs(idx)
            }
            TokenKind::Keyword(kw @ (Keyword::Args | Keyword::ArgsH)) => {
                let high = *kw == Keyword::ArgsH;
                self.pos += 1;
                self.expect_op("[")?;
                let it = self.peek();
                let idx = self.constexpr()?;
                if idx > 5 {
                    return Err(Self::error_at(
                        it.unwrap_or(t),
                        format!("expected an argument index from 0 to 5, found {idx}"),
                    ));
                }
                self.expect_op("]")?;
                let high = self.shift_32()? || high;
                let half = if high { Half::High } else { Half::Low };
                Insn::LdAbs(arg_offset(idx as u8, half, self.arch.byte_order()))
            }
            TokenKind::Keyword(Keyword::InstructionPointer) => {
                self.pos += 1;
                let half = if self.shift_32()? {
                    Half::High
                } else {
                    Half::Low
                };
                Insn::LdAbs(ip_offset(half, self.arch.byte_order()))
            }
            TokenKind::Op(op) if ALU_OPS.iter().any(|(s, _)| s == op) => {
                let op = *op;
                self.pos += 1;
                if !self.is_kw(Keyword::A) {
                    return Err(self.expected("'A' (in 'A = -A')"));
                }
                if op != "-" {
                    return Err(Self::error_at(
                        t,
                        format!("expected '-' (did you mean 'A = -A'?), found '{op}'"),
                    ));
                }
                self.pos += 1;
                Insn::Neg
            }
            _ if self.starts_constexpr() => Insn::LdImm(self.constexpr()?),
            _ => {
                return Err(self.expected(
                    "'X', a number, 'mem[i]', 'args[i]', 'sys_number', 'arch', \
                     'instruction_pointer', 'data[i]', 'len' or '-A'",
                ))
            }
        };
        Ok(Stmt::Plain(insn))
    }

    /// An optional `>> 32` after a 64-bit field; other operators are errors.
    pub(super) fn shift_32(&mut self) -> Result<bool, AsmError> {
        let Some(Token {
            kind: TokenKind::Op(op),
            ..
        }) = self.peek()
        else {
            return Ok(false);
        };
        if !ALU_OPS.iter().any(|(s, _)| s == op) {
            return Ok(false);
        }
        let t = self.peek();
        let is_32 = matches!(self.peek_at(1).map(|t| &t.kind), Some(TokenKind::Int(32)));
        if *op != ">>" || !is_32 {
            let shown = self
                .peek_at(1)
                .map(|n| format!("'{op} {}'", n.text))
                .unwrap_or_else(|| format!("'{op}'"));
            return Err(Self::error_at(
                t.unwrap_or(&self.tokens[self.pos]),
                format!("expected '>> 32' (the only operator allowed after a 64-bit field), found {shown}"),
            ));
        }
        self.pos += 2;
        Ok(true)
    }

    /// `X = ...`
    pub(super) fn x_rvalue(&mut self) -> Result<Stmt, AsmError> {
        let insn = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Keyword(Keyword::A)) => {
                self.pos += 1;
                Insn::Tax
            }
            Some(TokenKind::Keyword(Keyword::Mem)) => Insn::LdxMem(self.memory()?),
            _ if self.starts_constexpr() => Insn::LdxImm(self.constexpr()?),
            _ => return Err(self.expected("'A', a number or 'mem[i]' after 'X ='")),
        };
        Ok(Stmt::Plain(insn))
    }

    /// `mem[i]`, `i` from 0 to 15.
    pub(super) fn memory(&mut self) -> Result<u32, AsmError> {
        let t = self.next();
        debug_assert!(matches!(
            t.map(|t| &t.kind),
            Some(TokenKind::Keyword(Keyword::Mem))
        ));
        self.expect_op("[")?;
        let it = self.peek();
        let idx = self.constexpr()?;
        if idx > 15 {
            return Err(Self::error_at(
                it.or(t).unwrap_or(&self.tokens[self.pos - 1]),
                format!("expected a mem[] index from 0 to 15, found {idx}"),
            ));
        }
        self.expect_op("]")?;
        Ok(idx)
    }

    pub(super) fn x_constexpr(&mut self) -> Result<Src, AsmError> {
        if self.is_kw(Keyword::X) {
            self.pos += 1;
            return Ok(Src::X);
        }
        if !self.starts_constexpr() {
            return Err(self.expected("'X' or a number"));
        }
        Ok(Src::K(self.constexpr()?))
    }

    /// A number in any number of parentheses.
    pub(super) fn constexpr(&mut self) -> Result<u32, AsmError> {
        let mut depth = 0usize;
        while self.is_op("(") {
            self.pos += 1;
            depth += 1;
        }
        let v = self.number()?;
        for _ in 0..depth {
            self.expect_op(")")?;
        }
        Ok(v)
    }

    /// An integer literal, an `ARCH_*` constant or a syscall name.
    pub(super) fn number(&mut self) -> Result<u32, AsmError> {
        let Some(t) = self.peek() else {
            return Err(self.expected("a number"));
        };
        let v = match &t.kind {
            TokenKind::Int(v) => {
                let v = *v;
                if !(-(1i64 << 31)..(1i64 << 32)).contains(&v) {
                    return Err(Self::error_at(
                        t,
                        format!("expected a 32-bit number, found '{}'", t.text),
                    ));
                }
                v as u32
            }
            TokenKind::ArchVal(v) => *v,
            TokenKind::Ident(name) => self
                .syscall(name)
                .map_err(|message| Self::error_at(t, message))?,
            _ => return Err(self.expected("a number, an ARCH_* constant or a syscall name")),
        };
        self.pos += 1;
        Ok(v)
    }

    /// Resolves `name` on the arch being assembled for, or `arch.name`.
    pub(super) fn syscall(&self, name: &str) -> Result<u32, String> {
        if let Some((arch_name, sys)) = name.split_once('.') {
            let Some(arch) = Arch::from_name(arch_name) else {
                return Err(format!(
                    "expected an architecture before '.{sys}', found unknown architecture '{arch_name}'"
                ));
            };
            return prefixed_syscall_nr(arch, sys).ok_or_else(|| {
                format!("expected a syscall name, found '{sys}', which {arch} does not have")
            });
        }
        syscall_nr(self.arch, name).ok_or_else(|| {
            format!(
                "expected a number, an ARCH_* constant or a syscall name, found '{name}', \
                 which is not a syscall on {}",
                self.arch
            )
        })
    }
}
