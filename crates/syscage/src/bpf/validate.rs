//! A validator that accepts exactly what the kernel accepts: the rules of
//! `bpf_check_classic` (net/core/filter.c, with `chk_code_allowed` and
//! `check_load_and_stores`) and `seccomp_check_filter` (kernel/seccomp.c).
//! Every rejection names the instruction and the rule.
//!
//! The kernel runs `bpf_check_classic` over the whole program first and
//! `seccomp_check_filter` after it; both answer `-EINVAL`. This validator
//! reports the first broken rule in program order instead, so the set of
//! accepted programs is the same and the message points at the earliest
//! culprit.

use super::data::SECCOMP_DATA_SIZE;
use super::insn::{
    BPF_A, BPF_ABS, BPF_ALU, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K,
    BPF_LD, BPF_LDX, BPF_LEN, BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_RET, BPF_ST,
    BPF_STX, BPF_TAX, BPF_TXA, BPF_W, BPF_X,
};
use super::{Insn, Program, RawInsn};

/// `BPF_DIV`: the division opcode bits.
const BPF_DIV: u16 = 0x30;
/// `BPF_LSH`: the left shift opcode bits.
const BPF_LSH: u16 = 0x60;
/// `BPF_RSH`: the right shift opcode bits.
const BPF_RSH: u16 = 0x70;

/// Which branch of a conditional jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Branch {
    /// The `jt` offset (condition holds).
    True,
    /// The `jf` offset (condition does not hold).
    False,
}

impl std::fmt::Display for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Branch::True => "jt",
            Branch::False => "jf",
        })
    }
}

/// Why the kernel would refuse a filter (`-EINVAL` from `seccomp(2)`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// Zero instructions, or more than `BPF_MAXINSNS` (4096)
    /// (`bpf_check_basics_ok`).
    #[error("a filter has 1 to 4096 instructions, this one has {0}")]
    Length(usize),
    /// An opcode outside the set `seccomp_check_filter` lets through
    /// (which is a subset of `chk_code_allowed`).
    #[error("instruction {index}: opcode {code:#06x} is not an instruction seccomp accepts")]
    Opcode {
        /// Index of the instruction.
        index: usize,
        /// Its opcode.
        code: u16,
    },
    /// `BPF_ALU | BPF_DIV | BPF_K` with `k == 0` (`bpf_check_classic`).
    #[error("instruction {index}: division by the constant 0")]
    DivisionByZero {
        /// Index of the instruction.
        index: usize,
    },
    /// `BPF_ALU | BPF_LSH/BPF_RSH | BPF_K` with `k >= 32` (`bpf_check_classic`).
    #[error("instruction {index}: shift by the constant {k}, which is not below 32")]
    ShiftTooLarge {
        /// Index of the instruction.
        index: usize,
        /// The shift count.
        k: u32,
    },
    /// `LD/LDX MEM`, `ST` or `STX` with `k >= BPF_MEMWORDS` (16).
    #[error("instruction {index}: scratch memory index M[{k}] is not below 16")]
    MemIndex {
        /// Index of the instruction.
        index: usize,
        /// The slot index.
        k: u32,
    },
    /// A `JA` whose target lies at or past the end (`k >= len - pc - 1`).
    #[error("instruction {index}: goto skips {k} instructions, past the end of the {len}-instruction program")]
    JaOutOfRange {
        /// Index of the instruction.
        index: usize,
        /// The jump offset.
        k: u32,
        /// Length of the program.
        len: usize,
    },
    /// A conditional jump whose `jt` or `jf` target lies at or past the end
    /// (`pc + off + 1 >= len`).
    #[error("instruction {index}: {branch} offset {offset} jumps to {}, past the end of the {len}-instruction program", index + 1 + *offset as usize)]
    JumpOutOfRange {
        /// Index of the instruction.
        index: usize,
        /// The branch whose offset is too large.
        branch: Branch,
        /// The offset.
        offset: u8,
        /// Length of the program.
        len: usize,
    },
    /// `LD | W | ABS` at an offset outside `struct seccomp_data` (64 bytes)
    /// (`seccomp_check_filter`; offsets of `SKF_AD_OFF` and above are also
    /// refused by `bpf_check_classic`).
    #[error(
        "instruction {index}: load at offset {offset} is outside struct seccomp_data (64 bytes)"
    )]
    LoadOutOfBounds {
        /// Index of the instruction.
        index: usize,
        /// The offset.
        offset: u32,
    },
    /// `LD | W | ABS` at an offset that is not a multiple of 4
    /// (`seccomp_check_filter`).
    #[error("instruction {index}: load at offset {offset} is not 32-bit aligned")]
    LoadUnaligned {
        /// Index of the instruction.
        index: usize,
        /// The offset.
        offset: u32,
    },
    /// The last instruction is not `RET K` or `RET A` (`bpf_check_classic`).
    #[error("instruction {index}: the last instruction must be a return")]
    NoFinalRet {
        /// Index of the last instruction.
        index: usize,
    },
    /// `LD/LDX MEM` of a slot that some path may not have written
    /// (`check_load_and_stores`).
    #[error("instruction {index}: reads M[{k}], which is not written on every path to it")]
    UninitializedMem {
        /// Index of the instruction.
        index: usize,
        /// The slot index.
        k: u32,
    },
}

impl ValidateError {
    /// Index of the offending instruction (`None` for a length error).
    pub fn index(&self) -> Option<usize> {
        match *self {
            ValidateError::Length(_) => None,
            ValidateError::Opcode { index, .. }
            | ValidateError::DivisionByZero { index }
            | ValidateError::ShiftTooLarge { index, .. }
            | ValidateError::MemIndex { index, .. }
            | ValidateError::JaOutOfRange { index, .. }
            | ValidateError::JumpOutOfRange { index, .. }
            | ValidateError::LoadOutOfBounds { index, .. }
            | ValidateError::LoadUnaligned { index, .. }
            | ValidateError::NoFinalRet { index }
            | ValidateError::UninitializedMem { index, .. } => Some(index),
        }
    }
}

/// Whether `code` is one of the opcodes `seccomp_check_filter` accepts.
const fn seccomp_code_allowed(code: u16) -> bool {
    const ALU_OPS: [u16; 9] = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0];
    const JMP_CONDS: [u16; 4] = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET];
    if code == BPF_LD | BPF_W | BPF_ABS
        || code == BPF_LD | BPF_W | BPF_LEN
        || code == BPF_LDX | BPF_W | BPF_LEN
        || code == BPF_RET | BPF_K
        || code == BPF_RET | BPF_A
        || code == BPF_ALU | 0x80 // BPF_NEG
        || code == BPF_LD | BPF_IMM
        || code == BPF_LDX | BPF_IMM
        || code == BPF_MISC | BPF_TAX
        || code == BPF_MISC | BPF_TXA
        || code == BPF_LD | BPF_MEM
        || code == BPF_LDX | BPF_MEM
        || code == BPF_ST
        || code == BPF_STX
        || code == BPF_JMP | BPF_JA
    {
        return true;
    }
    let mut i = 0;
    while i < ALU_OPS.len() {
        if code == BPF_ALU | ALU_OPS[i] | BPF_K || code == BPF_ALU | ALU_OPS[i] | BPF_X {
            return true;
        }
        i += 1;
    }
    let mut i = 0;
    while i < JMP_CONDS.len() {
        if code == BPF_JMP | JMP_CONDS[i] | BPF_K || code == BPF_JMP | JMP_CONDS[i] | BPF_X {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether `code` is a conditional jump (`JEQ/JGT/JGE/JSET`, `K` or `X`).
const fn is_cond_jump(code: u16) -> bool {
    code & 0x07 == BPF_JMP && code != BPF_JMP | BPF_JA
}

/// The per-instruction rules of `bpf_check_classic` and `seccomp_check_filter`.
fn check_insn(pc: usize, r: RawInsn, len: usize) -> Result<(), ValidateError> {
    let RawInsn { code, jt, jf, k } = r;
    if !seccomp_code_allowed(code) {
        return Err(ValidateError::Opcode { index: pc, code });
    }
    match code {
        c if c == BPF_ALU | BPF_DIV | BPF_K && k == 0 => {
            Err(ValidateError::DivisionByZero { index: pc })
        }
        c if (c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K) && k >= 32 => {
            Err(ValidateError::ShiftTooLarge { index: pc, k })
        }
        c if (c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM || c == BPF_ST || c == BPF_STX)
            && k >= BPF_MEMWORDS =>
        {
            Err(ValidateError::MemIndex { index: pc, k })
        }
        c if c == BPF_JMP | BPF_JA && k as u64 >= (len - pc - 1) as u64 => {
            Err(ValidateError::JaOutOfRange { index: pc, k, len })
        }
        c if is_cond_jump(c) => {
            for (branch, offset) in [(Branch::True, jt), (Branch::False, jf)] {
                if pc + offset as usize + 1 >= len {
                    return Err(ValidateError::JumpOutOfRange {
                        index: pc,
                        branch,
                        offset,
                        len,
                    });
                }
            }
            Ok(())
        }
        c if c == BPF_LD | BPF_W | BPF_ABS => {
            if k >= SECCOMP_DATA_SIZE {
                Err(ValidateError::LoadOutOfBounds {
                    index: pc,
                    offset: k,
                })
            } else if k & 3 != 0 {
                Err(ValidateError::LoadUnaligned {
                    index: pc,
                    offset: k,
                })
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// The kernel's `check_load_and_stores`: one linear pass that tracks which
/// `M[]` slots are written, merging at jump targets. It is exactly as
/// conservative as the kernel (the state before a `RET` still flows into
/// the next instruction), so it accepts exactly the same programs.
/// Requires every jump target and slot index to be in range.
fn check_load_and_stores(raw: &[RawInsn]) -> Result<(), ValidateError> {
    let mut masks = vec![u16::MAX; raw.len()];
    let mut memvalid: u16 = 0;
    for (pc, r) in raw.iter().enumerate() {
        memvalid &= masks[pc];
        match r.code {
            c if c == BPF_ST || c == BPF_STX => memvalid |= 1 << r.k,
            c if (c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM)
                && memvalid & (1 << r.k) == 0 =>
            {
                return Err(ValidateError::UninitializedMem { index: pc, k: r.k });
            }
            c if c == BPF_JMP | BPF_JA => {
                masks[pc + 1 + r.k as usize] &= memvalid;
                memvalid = u16::MAX;
            }
            c if is_cond_jump(c) => {
                masks[pc + 1 + r.jt as usize] &= memvalid;
                masks[pc + 1 + r.jf as usize] &= memvalid;
                memvalid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks raw instructions as the kernel would and returns the typed program.
///
/// Accepts a program exactly when `seccomp(SECCOMP_SET_MODE_FILTER)` would
/// (leaving aside the per-task `MAX_INSNS_PER_PATH` budget and memory limits).
pub fn validate(raw: &[RawInsn]) -> Result<Program, ValidateError> {
    let len = raw.len();
    if len == 0 || len > BPF_MAXINSNS {
        return Err(ValidateError::Length(len));
    }
    for (pc, r) in raw.iter().enumerate() {
        check_insn(pc, *r, len)?;
    }
    let last = raw[len - 1].code;
    if last != BPF_RET | BPF_K && last != BPF_RET | BPF_A {
        return Err(ValidateError::NoFinalRet { index: len - 1 });
    }
    check_load_and_stores(raw)?;
    let insns = raw
        .iter()
        .enumerate()
        .map(|(index, r)| {
            Insn::decode(*r).map_err(|_| ValidateError::Opcode {
                index,
                code: r.code,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Program::new(insns))
}

/// Validates a typed program (after encoding it as the kernel would see it).
pub fn validate_program(prog: &Program) -> Result<(), ValidateError> {
    validate(&prog.to_raw()).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::insn::{BPF_B, BPF_H, BPF_IND, BPF_MSH};

    const RET_ALLOW: RawInsn = RawInsn::stmt(BPF_RET | BPF_K, 0x7fff_0000);

    fn st(code: u16, k: u32) -> RawInsn {
        RawInsn::stmt(code, k)
    }

    fn err(raw: &[RawInsn]) -> ValidateError {
        validate(raw).expect_err("the kernel refuses this")
    }

    #[test]
    fn length_bounds() {
        assert_eq!(err(&[]), ValidateError::Length(0));
        assert!(validate(&vec![RET_ALLOW; 4096]).is_ok());
        assert_eq!(err(&vec![RET_ALLOW; 4097]), ValidateError::Length(4097));
    }

    #[test]
    fn opcodes_are_exactly_seccomps() {
        let mut accepted = 0;
        for code in 0..=u16::MAX {
            let res = validate(&[st(code, 0), RET_ALLOW]);
            if matches!(res, Err(ValidateError::Opcode { index: 0, .. })) {
                assert!(Insn::decode(st(code, 0)).is_err(), "{code:#x}");
            } else {
                accepted += 1;
                assert!(Insn::decode(st(code, 0)).is_ok(), "{code:#x}");
            }
        }
        // seccomp_check_filter's list: RET K/A, 9 ALU ops x K/X, NEG, LD/LDX
        // IMM, TAX, TXA, LD/LDX MEM, ST, STX, JA, 4 conditions x K/X,
        // LD W ABS, LD W LEN, LDX W LEN.
        assert_eq!(accepted, 2 + 18 + 1 + 2 + 2 + 2 + 2 + 1 + 8 + 3);
    }

    #[test]
    fn refuses_classic_only_opcodes() {
        for code in [
            BPF_LD | BPF_H | BPF_ABS,
            BPF_LD | BPF_B | BPF_ABS,
            BPF_LD | BPF_W | BPF_IND,
            BPF_LD | BPF_H | BPF_IND,
            BPF_LDX | BPF_B | BPF_MSH,
            BPF_ALU | 0x90 | BPF_K, // BPF_MOD
            BPF_ALU | 0x90 | BPF_X,
            BPF_RET | BPF_X,
            BPF_JMP | BPF_JA | BPF_X,
            BPF_ALU | 0x80 | BPF_X, // NEG with the X bit
        ] {
            assert_eq!(
                err(&[st(code, 1), RET_ALLOW]),
                ValidateError::Opcode { index: 0, code },
                "{code:#x}"
            );
        }
    }

    #[test]
    fn division_by_constant_zero() {
        let div_k = BPF_ALU | BPF_DIV | BPF_K;
        assert_eq!(
            err(&[RET_ALLOW, st(div_k, 0), RET_ALLOW]),
            ValidateError::DivisionByZero { index: 1 }
        );
        assert!(validate(&[st(div_k, 1), RET_ALLOW]).is_ok());
        // Division by X is checked at run time only.
        assert!(validate(&[st(BPF_ALU | BPF_DIV | BPF_X, 0), RET_ALLOW]).is_ok());
    }

    #[test]
    fn constant_shifts_below_32() {
        for op in [BPF_LSH, BPF_RSH] {
            let code = BPF_ALU | op | BPF_K;
            assert!(validate(&[st(code, 31), RET_ALLOW]).is_ok());
            assert_eq!(
                err(&[st(code, 32), RET_ALLOW]),
                ValidateError::ShiftTooLarge { index: 0, k: 32 }
            );
            assert!(validate(&[st(BPF_ALU | op | BPF_X, 99), RET_ALLOW]).is_ok());
        }
    }

    #[test]
    fn mem_index_below_16() {
        for code in [BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX] {
            assert_eq!(
                err(&[st(code, 16), RET_ALLOW]),
                ValidateError::MemIndex { index: 0, k: 16 },
                "{code:#x}"
            );
        }
        assert!(validate(&[st(BPF_ST, 15), st(BPF_LD | BPF_MEM, 15), RET_ALLOW]).is_ok());
    }

    #[test]
    fn ja_inside_program() {
        let ja = |k| st(BPF_JMP | BPF_JA, k);
        // len 3, pc 0: k must be < 2.
        assert!(validate(&[ja(1), RET_ALLOW, RET_ALLOW]).is_ok());
        assert_eq!(
            err(&[ja(2), RET_ALLOW, RET_ALLOW]),
            ValidateError::JaOutOfRange {
                index: 0,
                k: 2,
                len: 3
            }
        );
        assert!(matches!(
            err(&[ja(u32::MAX), RET_ALLOW]),
            ValidateError::JaOutOfRange { index: 0, .. }
        ));
    }

    #[test]
    fn conditional_jumps_inside_program() {
        let jeq = |jt, jf| RawInsn::new(BPF_JMP | BPF_JEQ | BPF_K, jt, jf, 0);
        assert!(validate(&[jeq(1, 0), RET_ALLOW, RET_ALLOW]).is_ok());
        assert_eq!(
            err(&[jeq(2, 0), RET_ALLOW, RET_ALLOW]),
            ValidateError::JumpOutOfRange {
                index: 0,
                branch: Branch::True,
                offset: 2,
                len: 3
            }
        );
        assert_eq!(
            err(&[jeq(0, 2), RET_ALLOW, RET_ALLOW]),
            ValidateError::JumpOutOfRange {
                index: 0,
                branch: Branch::False,
                offset: 2,
                len: 3
            }
        );
        let jset_x = RawInsn::new(BPF_JMP | BPF_JSET | BPF_X, 0, 1, 0);
        assert!(matches!(
            err(&[jset_x, RET_ALLOW]),
            ValidateError::JumpOutOfRange { .. }
        ));
    }

    #[test]
    fn last_instruction_is_a_return() {
        assert_eq!(
            err(&[RET_ALLOW, st(BPF_LD | BPF_IMM, 0)]),
            ValidateError::NoFinalRet { index: 1 }
        );
        assert!(validate(&[st(BPF_RET | BPF_A, 0)]).is_ok());
    }

    #[test]
    fn loads_inside_seccomp_data_and_aligned() {
        let ld = |k| st(BPF_LD | BPF_W | BPF_ABS, k);
        for k in (0..64).step_by(4) {
            assert!(validate(&[ld(k), RET_ALLOW]).is_ok(), "{k}");
        }
        assert_eq!(
            err(&[ld(64), RET_ALLOW]),
            ValidateError::LoadOutOfBounds {
                index: 0,
                offset: 64
            }
        );
        assert_eq!(
            err(&[ld(0xffff_f000), RET_ALLOW]),
            ValidateError::LoadOutOfBounds {
                index: 0,
                offset: 0xffff_f000
            }
        );
        assert_eq!(
            err(&[ld(6), RET_ALLOW]),
            ValidateError::LoadUnaligned {
                index: 0,
                offset: 6
            }
        );
        assert!(validate(&[st(BPF_LD | BPF_W | BPF_LEN, 99), RET_ALLOW]).is_ok());
        assert!(validate(&[st(BPF_LDX | BPF_W | BPF_LEN, 99), RET_ALLOW]).is_ok());
    }

    #[test]
    fn mem_written_before_read_on_every_path() {
        let ld_mem = |k| st(BPF_LD | BPF_MEM, k);
        let jeq = |jt, jf| RawInsn::new(BPF_JMP | BPF_JEQ | BPF_K, jt, jf, 0);
        assert_eq!(
            err(&[ld_mem(3), RET_ALLOW]),
            ValidateError::UninitializedMem { index: 0, k: 3 }
        );
        // Written on the fall-through path only.
        assert_eq!(
            err(&[jeq(1, 0), st(BPF_ST, 2), ld_mem(2), RET_ALLOW]),
            ValidateError::UninitializedMem { index: 2, k: 2 }
        );
        // Written on both paths.
        assert!(validate(&[
            jeq(1, 0),
            st(BPF_ST, 2),
            st(BPF_STX, 2),
            ld_mem(2),
            RET_ALLOW
        ])
        .is_ok());
        // Written before the branch.
        assert!(validate(&[st(BPF_ST, 2), jeq(0, 1), ld_mem(2), ld_mem(2), RET_ALLOW]).is_ok());
    }

    #[test]
    fn mem_check_is_as_conservative_as_the_kernels() {
        let ld_mem = |k| st(BPF_LD | BPF_MEM, k);
        // Unreachable read after a RET: the kernel still refuses it, because
        // the state before the RET flows on.
        assert_eq!(
            err(&[RET_ALLOW, ld_mem(0), RET_ALLOW]),
            ValidateError::UninitializedMem { index: 1, k: 0 }
        );
        // ... and accepts it when the slot was written before the RET.
        assert!(validate(&[st(BPF_ST, 0), RET_ALLOW, ld_mem(0), RET_ALLOW]).is_ok());
        // Unreachable code after a jump starts with every slot valid.
        assert!(validate(&[st(BPF_JMP | BPF_JA, 1), ld_mem(0), RET_ALLOW]).is_ok());
    }
}
