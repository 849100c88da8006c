//! Classic BPF instructions as seccomp accepts them.
//!
//! [`RawInsn`] is the kernel's `struct sock_filter` (`code`, `jt`, `jf`, `k`)
//! exactly as it travels to `seccomp(2)`; [`Insn`] is the typed form with one
//! variant per opcode that `seccomp_check_filter` lets through. Decoding a
//! raw instruction refuses every other opcode; encoding a typed one writes
//! zero into the fields the kernel ignores ("don't care" `jt`/`jf`/`k`).

use std::fmt;

/// `BPF_LD`: instruction class "load into A".
pub const BPF_LD: u16 = 0x00;
/// `BPF_LDX`: instruction class "load into X".
pub const BPF_LDX: u16 = 0x01;
/// `BPF_ST`: store A into scratch memory.
pub const BPF_ST: u16 = 0x02;
/// `BPF_STX`: store X into scratch memory.
pub const BPF_STX: u16 = 0x03;
/// `BPF_ALU`: arithmetic on A.
pub const BPF_ALU: u16 = 0x04;
/// `BPF_JMP`: jumps.
pub const BPF_JMP: u16 = 0x05;
/// `BPF_RET`: return from the filter.
pub const BPF_RET: u16 = 0x06;
/// `BPF_MISC`: register transfers (`TAX`, `TXA`).
pub const BPF_MISC: u16 = 0x07;

/// `BPF_W`: 32-bit load size (the only one seccomp accepts).
pub const BPF_W: u16 = 0x00;
/// `BPF_H`: 16-bit load size.
pub const BPF_H: u16 = 0x08;
/// `BPF_B`: 8-bit load size.
pub const BPF_B: u16 = 0x10;

/// `BPF_IMM`: load mode "immediate".
pub const BPF_IMM: u16 = 0x00;
/// `BPF_ABS`: load mode "absolute offset into `seccomp_data`".
pub const BPF_ABS: u16 = 0x20;
/// `BPF_IND`: load mode "X + offset" (refused by seccomp).
pub const BPF_IND: u16 = 0x40;
/// `BPF_MEM`: load mode "scratch memory `M[k]`".
pub const BPF_MEM: u16 = 0x60;
/// `BPF_LEN`: load mode "packet length" (`sizeof(struct seccomp_data)`).
pub const BPF_LEN: u16 = 0x80;
/// `BPF_MSH`: load mode "IP header length" (refused by seccomp).
pub const BPF_MSH: u16 = 0xa0;

/// `BPF_K`: operand is the constant `k`.
pub const BPF_K: u16 = 0x00;
/// `BPF_X`: operand is the X register.
pub const BPF_X: u16 = 0x08;
/// `BPF_A`: `RET` returns the A register.
pub const BPF_A: u16 = 0x10;

/// `BPF_JA`: unconditional jump.
pub const BPF_JA: u16 = 0x00;
/// `BPF_JEQ`: jump if equal.
pub const BPF_JEQ: u16 = 0x10;
/// `BPF_JGT`: jump if greater (unsigned).
pub const BPF_JGT: u16 = 0x20;
/// `BPF_JGE`: jump if greater or equal (unsigned).
pub const BPF_JGE: u16 = 0x30;
/// `BPF_JSET`: jump if `A & operand != 0`.
pub const BPF_JSET: u16 = 0x40;

/// `BPF_TAX`: X = A.
pub const BPF_TAX: u16 = 0x00;
/// `BPF_TXA`: A = X.
pub const BPF_TXA: u16 = 0x80;

/// `BPF_MEMWORDS`: number of scratch memory slots `M[0..16]`.
pub const BPF_MEMWORDS: u32 = 16;

/// `BPF_MAXINSNS`: the most instructions one filter may have.
pub const BPF_MAXINSNS: usize = 4096;

/// `MAX_INSNS_PER_PATH` in `kernel/seccomp.c`: the most instructions all
/// filters attached to a task may have together, counting 4 extra per filter.
pub const MAX_INSNS_PER_PATH: usize = 32768;

/// The kernel's `struct sock_filter`: one classic BPF instruction as raw
/// fields (as JSON: `code`, `jt`, `jf`, `k`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct RawInsn {
    /// Opcode (`class | size | mode` or `class | op | src`).
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when the condition does not hold.
    pub jf: u8,
    /// Generic constant operand.
    pub k: u32,
}

impl RawInsn {
    /// Builds a raw instruction, like the kernel's `BPF_JUMP` macro.
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> Self {
        RawInsn { code, jt, jf, k }
    }

    /// Builds a non-jump raw instruction, like the kernel's `BPF_STMT` macro.
    pub const fn stmt(code: u16, k: u32) -> Self {
        RawInsn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }
}

/// Operand source of an ALU or conditional jump instruction (`BPF_K` or `BPF_X`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Src {
    /// The constant `k` (`BPF_K`).
    K(u32),
    /// The X register (`BPF_X`).
    X,
}

/// ALU operation (`BPF_ALU | op`). `BPF_MOD` is absent: seccomp refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `BPF_ADD`: A += operand.
    Add,
    /// `BPF_SUB`: A -= operand.
    Sub,
    /// `BPF_MUL`: A *= operand.
    Mul,
    /// `BPF_DIV`: A /= operand (a run-time zero divisor ends the filter with 0).
    Div,
    /// `BPF_OR`: A |= operand.
    Or,
    /// `BPF_AND`: A &= operand.
    And,
    /// `BPF_LSH`: A <<= operand.
    Lsh,
    /// `BPF_RSH`: A >>= operand.
    Rsh,
    /// `BPF_XOR`: A ^= operand.
    Xor,
}

impl AluOp {
    /// The opcode bits of this operation (`BPF_ADD` … `BPF_XOR`).
    pub const fn bits(self) -> u16 {
        match self {
            AluOp::Add => 0x00,
            AluOp::Sub => 0x10,
            AluOp::Mul => 0x20,
            AluOp::Div => 0x30,
            AluOp::Or => 0x40,
            AluOp::And => 0x50,
            AluOp::Lsh => 0x60,
            AluOp::Rsh => 0x70,
            AluOp::Xor => 0xa0,
        }
    }

    /// Every operation, in opcode order.
    pub const ALL: [AluOp; 9] = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Xor,
    ];

    /// Applies the operation to `a` and `b` with the kernel's 32-bit
    /// wrapping semantics. Returns `None` for a division by zero.
    pub fn apply(self, a: u32, b: u32) -> Option<u32> {
        Some(match self {
            AluOp::Add => a.wrapping_add(b),
            AluOp::Sub => a.wrapping_sub(b),
            AluOp::Mul => a.wrapping_mul(b),
            AluOp::Div => a.checked_div(b)?,
            AluOp::Or => a | b,
            AluOp::And => a & b,
            // Classic BPF runs as 32-bit eBPF ALU ops: the interpreter
            // computes `(u32) A << (u32) X` and the JITs use 32-bit shift
            // instructions, which take the count modulo 32. The validator
            // refuses constant shifts of 32 or more.
            AluOp::Lsh => a.wrapping_shl(b),
            AluOp::Rsh => a.wrapping_shr(b),
            AluOp::Xor => a ^ b,
        })
    }
}

/// Condition of a conditional jump (`BPF_JMP | cond`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JmpCond {
    /// `BPF_JEQ`: A == operand.
    Eq,
    /// `BPF_JGT`: A > operand (unsigned).
    Gt,
    /// `BPF_JGE`: A >= operand (unsigned).
    Ge,
    /// `BPF_JSET`: A & operand != 0.
    Set,
}

impl JmpCond {
    /// The opcode bits of this condition.
    pub const fn bits(self) -> u16 {
        match self {
            JmpCond::Eq => BPF_JEQ,
            JmpCond::Gt => BPF_JGT,
            JmpCond::Ge => BPF_JGE,
            JmpCond::Set => BPF_JSET,
        }
    }

    /// Evaluates the condition on `a` and the operand `b`.
    pub const fn holds(self, a: u32, b: u32) -> bool {
        match self {
            JmpCond::Eq => a == b,
            JmpCond::Gt => a > b,
            JmpCond::Ge => a >= b,
            JmpCond::Set => a & b != 0,
        }
    }
}

/// One classic BPF instruction that seccomp accepts, typed.
///
/// Jump offsets are relative, as in the kernel: the target of a jump at
/// index `pc` with offset `off` is `pc + 1 + off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Insn {
    /// `BPF_LD | BPF_W | BPF_ABS`: A = 32-bit word at offset `k` of `struct seccomp_data`.
    LdAbs(u32),
    /// `BPF_LD | BPF_IMM`: A = k.
    LdImm(u32),
    /// `BPF_LD | BPF_MEM`: `A = M[k]`.
    LdMem(u32),
    /// `BPF_LD | BPF_W | BPF_LEN`: A = sizeof(struct seccomp_data) (64).
    LdLen,
    /// `BPF_LDX | BPF_IMM`: X = k.
    LdxImm(u32),
    /// `BPF_LDX | BPF_MEM`: `X = M[k]`.
    LdxMem(u32),
    /// `BPF_LDX | BPF_W | BPF_LEN`: X = sizeof(struct seccomp_data) (64).
    LdxLen,
    /// `BPF_ST`: `M[k] = A`.
    St(u32),
    /// `BPF_STX`: `M[k] = X`.
    Stx(u32),
    /// `BPF_ALU | op | src`: A = A op operand.
    Alu(AluOp, Src),
    /// `BPF_ALU | BPF_NEG`: A = -A.
    Neg,
    /// `BPF_JMP | BPF_JA`: skip `k` instructions.
    Ja(u32),
    /// `BPF_JMP | cond | src`: skip `jt` instructions if the condition holds, else `jf`.
    Jmp {
        /// The comparison.
        cond: JmpCond,
        /// Operand compared with A.
        src: Src,
        /// Offset taken when the condition holds.
        jt: u8,
        /// Offset taken when it does not.
        jf: u8,
    },
    /// `BPF_RET | BPF_K`: return the constant `k` (a `SECCOMP_RET_*` value).
    Ret(u32),
    /// `BPF_RET | BPF_A`: return the A register.
    RetA,
    /// `BPF_MISC | BPF_TAX`: X = A.
    Tax,
    /// `BPF_MISC | BPF_TXA`: A = X.
    Txa,
}

/// Why a raw instruction has no typed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeInsnError {
    /// The opcode is not one seccomp accepts.
    #[error("opcode {0:#06x} is not a seccomp BPF instruction")]
    UnknownOpcode(u16),
}

const BPF_NEG: u16 = 0x80;

impl Insn {
    /// Decodes a raw instruction, refusing opcodes seccomp does not accept.
    /// Fields the opcode does not use are ignored.
    pub fn decode(raw: RawInsn) -> Result<Insn, DecodeInsnError> {
        let RawInsn { code, jt, jf, k } = raw;
        let insn = match code {
            c if c == BPF_LD | BPF_W | BPF_ABS => Insn::LdAbs(k),
            c if c == BPF_LD | BPF_IMM => Insn::LdImm(k),
            c if c == BPF_LD | BPF_MEM => Insn::LdMem(k),
            c if c == BPF_LD | BPF_W | BPF_LEN => Insn::LdLen,
            c if c == BPF_LDX | BPF_IMM => Insn::LdxImm(k),
            c if c == BPF_LDX | BPF_MEM => Insn::LdxMem(k),
            c if c == BPF_LDX | BPF_W | BPF_LEN => Insn::LdxLen,
            c if c == BPF_ST => Insn::St(k),
            c if c == BPF_STX => Insn::Stx(k),
            c if c == BPF_ALU | BPF_NEG => Insn::Neg,
            c if c & 0x07 == BPF_ALU => {
                let op = AluOp::ALL
                    .into_iter()
                    .find(|op| op.bits() == c & 0xf0)
                    .filter(|_| c & !0xf8 == BPF_ALU)
                    .ok_or(DecodeInsnError::UnknownOpcode(code))?;
                Insn::Alu(op, if c & BPF_X != 0 { Src::X } else { Src::K(k) })
            }
            c if c == BPF_JMP | BPF_JA => Insn::Ja(k),
            c if c & 0x07 == BPF_JMP && c & !0xf8 == BPF_JMP => {
                let cond = match c & 0xf0 {
                    BPF_JEQ => JmpCond::Eq,
                    BPF_JGT => JmpCond::Gt,
                    BPF_JGE => JmpCond::Ge,
                    BPF_JSET => JmpCond::Set,
                    _ => return Err(DecodeInsnError::UnknownOpcode(code)),
                };
                let src = if c & BPF_X != 0 { Src::X } else { Src::K(k) };
                Insn::Jmp { cond, src, jt, jf }
            }
            c if c == BPF_RET | BPF_K => Insn::Ret(k),
            c if c == BPF_RET | BPF_A => Insn::RetA,
            c if c == BPF_MISC | BPF_TAX => Insn::Tax,
            c if c == BPF_MISC | BPF_TXA => Insn::Txa,
            _ => return Err(DecodeInsnError::UnknownOpcode(code)),
        };
        Ok(insn)
    }

    /// Encodes to the kernel's raw form; unused fields are zero.
    pub fn encode(self) -> RawInsn {
        let src_bits = |src: Src| match src {
            Src::K(k) => (BPF_K, k),
            Src::X => (BPF_X, 0),
        };
        match self {
            Insn::LdAbs(k) => RawInsn::stmt(BPF_LD | BPF_W | BPF_ABS, k),
            Insn::LdImm(k) => RawInsn::stmt(BPF_LD | BPF_IMM, k),
            Insn::LdMem(k) => RawInsn::stmt(BPF_LD | BPF_MEM, k),
            Insn::LdLen => RawInsn::stmt(BPF_LD | BPF_W | BPF_LEN, 0),
            Insn::LdxImm(k) => RawInsn::stmt(BPF_LDX | BPF_IMM, k),
            Insn::LdxMem(k) => RawInsn::stmt(BPF_LDX | BPF_MEM, k),
            Insn::LdxLen => RawInsn::stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
            Insn::St(k) => RawInsn::stmt(BPF_ST, k),
            Insn::Stx(k) => RawInsn::stmt(BPF_STX, k),
            Insn::Alu(op, src) => {
                let (s, k) = src_bits(src);
                RawInsn::stmt(BPF_ALU | op.bits() | s, k)
            }
            Insn::Neg => RawInsn::stmt(BPF_ALU | BPF_NEG, 0),
            Insn::Ja(k) => RawInsn::stmt(BPF_JMP | BPF_JA, k),
            Insn::Jmp { cond, src, jt, jf } => {
                let (s, k) = src_bits(src);
                RawInsn::new(BPF_JMP | cond.bits() | s, jt, jf, k)
            }
            Insn::Ret(k) => RawInsn::stmt(BPF_RET | BPF_K, k),
            Insn::RetA => RawInsn::stmt(BPF_RET | BPF_A, 0),
            Insn::Tax => RawInsn::stmt(BPF_MISC | BPF_TAX, 0),
            Insn::Txa => RawInsn::stmt(BPF_MISC | BPF_TXA, 0),
        }
    }

    /// `BPF_JMP | BPF_JEQ | BPF_K`, as `BPF_JUMP(BPF_JMP+BPF_JEQ+BPF_K, k,
    /// jt, jf)` writes it: if `A == k` skip `jt` instructions, else `jf`.
    pub const fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
        Insn::Jmp {
            cond: JmpCond::Eq,
            src: Src::K(k),
            jt,
            jf,
        }
    }

    /// Whether this instruction ends the filter (`RET`).
    pub const fn is_ret(self) -> bool {
        matches!(self, Insn::Ret(_) | Insn::RetA)
    }

    /// Indices of the instructions that may run after this one at `pc`
    /// (none for `RET`). Targets may lie past the end of an invalid program.
    pub fn successors(self, pc: usize) -> impl Iterator<Item = usize> {
        let (a, b) = match self {
            Insn::Ret(_) | Insn::RetA => (None, None),
            Insn::Ja(k) => (Some(pc + 1 + k as usize), None),
            Insn::Jmp { jt, jf, .. } => {
                let t = pc + 1 + jt as usize;
                let f = pc + 1 + jf as usize;
                (Some(t), if t == f { None } else { Some(f) })
            }
            _ => (Some(pc + 1), None),
        };
        a.into_iter().chain(b)
    }
}

impl From<Insn> for RawInsn {
    fn from(insn: Insn) -> RawInsn {
        insn.encode()
    }
}

impl TryFrom<RawInsn> for Insn {
    type Error = DecodeInsnError;
    fn try_from(raw: RawInsn) -> Result<Insn, DecodeInsnError> {
        Insn::decode(raw)
    }
}

impl fmt::Display for RawInsn {
    /// The `CODE JT JF K` columns of seccomp-tools' disassembly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "0x{:02x} 0x{:02x} 0x{:02x} 0x{:08x}",
            self.code, self.jt, self.jf, self.k
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_opcode_round_trips() {
        let mut accepted = 0;
        for code in 0..=u16::MAX {
            let raw = RawInsn::new(code, 1, 2, 3);
            if let Ok(insn) = Insn::decode(raw) {
                accepted += 1;
                let back = insn.encode();
                assert_eq!(back.code, code, "{insn:?}");
                assert_eq!(Insn::decode(back), Ok(insn));
            }
        }
        // LD x4, LDX x3, ST, STX, ALU 9 ops x 2 + NEG, JA, JMP 4 x 2, RET x2, TAX, TXA
        assert_eq!(accepted, 4 + 3 + 2 + 19 + 1 + 8 + 2 + 2);
    }

    #[test]
    fn refuses_what_seccomp_refuses() {
        for code in [
            BPF_LD | BPF_H | BPF_ABS,
            BPF_LD | BPF_B | BPF_ABS,
            BPF_LD | BPF_W | BPF_IND,
            BPF_LDX | BPF_B | BPF_MSH,
            BPF_ALU | 0x90, // BPF_MOD
            BPF_ALU | 0x90 | BPF_X,
            BPF_RET | BPF_X,
            0xffff,
        ] {
            assert!(Insn::decode(RawInsn::stmt(code, 0)).is_err(), "{code:#x}");
        }
    }
}
