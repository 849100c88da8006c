//! eBPF instructions (the kernel's `struct bpf_insn`): 8 bytes each,
//! `opcode`, `dst_reg`/`src_reg` (4 bits each), a signed 16-bit `off` and a
//! signed 32-bit `imm`; `BPF_LD | BPF_IMM | BPF_DW` takes two slots.
//!
//! A small typed builder: registers are [`Reg`], jumps go to [`Label`]s
//! resolved by [`Program::finish`], so no offset is counted by hand.

/// An eBPF register: `r0` (return value, helper result) .. `r10` (frame
/// pointer, read-only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(u8);

impl Reg {
    /// Return value and helper result.
    pub const R0: Reg = Reg(0);
    /// First helper argument; the context on entry.
    pub const R1: Reg = Reg(1);
    /// Second helper argument.
    pub const R2: Reg = Reg(2);
    /// Third helper argument.
    pub const R3: Reg = Reg(3);
    /// Fourth helper argument.
    pub const R4: Reg = Reg(4);
    /// Callee-saved.
    pub const R6: Reg = Reg(6);
    /// Callee-saved.
    pub const R7: Reg = Reg(7);
    /// Callee-saved.
    pub const R8: Reg = Reg(8);
    /// The frame pointer (the stack grows down from it, 512 bytes).
    pub const FP: Reg = Reg(10);
}

/// A memory access size (`BPF_W`, `BPF_DW`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// `BPF_W`: 4 bytes.
    Word,
    /// `BPF_DW`: 8 bytes.
    Double,
}

impl Size {
    fn bits(self) -> u8 {
        match self {
            Size::Word => 0x00,
            Size::Double => 0x18,
        }
    }
}

/// A conditional jump's comparison (`BPF_JEQ`, `BPF_JNE`, `BPF_JGE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `BPF_JEQ`.
    Eq,
    /// `BPF_JNE`.
    Ne,
    /// `BPF_JGE`: unsigned greater than or equal.
    Ge,
}

impl Cmp {
    fn op(self) -> u8 {
        match self {
            Cmp::Eq => BPF_JEQ,
            Cmp::Ne => BPF_JNE,
            Cmp::Ge => BPF_JGE,
        }
    }
}

/// A jump target, placed with [`Program::label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

// Instruction classes and fields (uapi linux/bpf.h, linux/bpf_common.h).
const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;
const BPF_JMP: u8 = 0x05;
const BPF_ALU64: u8 = 0x07;
const BPF_IMM: u8 = 0x00;
const BPF_MEM: u8 = 0x60;
const BPF_ATOMIC: u8 = 0xc0;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_ADD: u8 = 0x00;
const BPF_OR: u8 = 0x40;
const BPF_LSH: u8 = 0x60;
const BPF_AND: u8 = 0x50;
const BPF_RSH: u8 = 0x70;
const BPF_MOV: u8 = 0xb0;
const BPF_JA: u8 = 0x00;
const BPF_JEQ: u8 = 0x10;
const BPF_JGE: u8 = 0x30;
const BPF_JNE: u8 = 0x50;
const BPF_CALL: u8 = 0x80;
const BPF_EXIT: u8 = 0x90;
/// `src_reg` of a 64-bit immediate load whose `imm` is a map's fd.
const BPF_PSEUDO_MAP_FD: u8 = 1;

/// One encoded instruction, as the kernel reads it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Insn {
    /// Opcode: class, size/operation, source.
    pub code: u8,
    /// `dst_reg` (low 4 bits) and `src_reg` (high 4 bits).
    pub regs: u8,
    /// Signed offset (memory, jumps).
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

fn insn(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src.0 << 4) | (dst.0 & 0x0f),
        off,
        imm,
    }
}

/// A program being built: instructions and the jumps still to resolve.
#[derive(Default)]
pub struct Program {
    insns: Vec<Insn>,
    labels: Vec<Option<usize>>,
    jumps: Vec<(usize, Label)>,
}

/// A jump to a label never placed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("eBPF program: label {0} is never placed, or a jump is out of range")]
pub struct UnplacedLabel(pub usize);

impl Program {
    /// An empty program.
    pub fn new() -> Program {
        Program::default()
    }

    /// A new label, to be placed later.
    pub fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `l` at the next instruction.
    pub fn label(&mut self, l: Label) {
        self.labels[l.0] = Some(self.insns.len());
    }

    /// `dst = imm` (64-bit, sign-extended).
    pub fn mov_imm(&mut self, dst: Reg, imm: i32) -> &mut Self {
        self.push(insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, Reg(0), 0, imm))
    }

    /// `dst = src`.
    pub fn mov_reg(&mut self, dst: Reg, src: Reg) -> &mut Self {
        self.push(insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0))
    }

    /// `dst += imm`.
    pub fn add_imm(&mut self, dst: Reg, imm: i32) -> &mut Self {
        self.push(insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, Reg(0), 0, imm))
    }

    /// `dst &= imm`.
    pub fn and_imm(&mut self, dst: Reg, imm: i32) -> &mut Self {
        self.push(insn(BPF_ALU64 | BPF_AND | BPF_K, dst, Reg(0), 0, imm))
    }

    /// `dst |= src`.
    pub fn or_reg(&mut self, dst: Reg, src: Reg) -> &mut Self {
        self.push(insn(BPF_ALU64 | BPF_OR | BPF_X, dst, src, 0, 0))
    }

    /// `dst <<= imm`.
    pub fn lsh_imm(&mut self, dst: Reg, imm: i32) -> &mut Self {
        self.push(insn(BPF_ALU64 | BPF_LSH | BPF_K, dst, Reg(0), 0, imm))
    }

    /// `dst >>= imm` (logical).
    pub fn rsh_imm(&mut self, dst: Reg, imm: i32) -> &mut Self {
        self.push(insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, Reg(0), 0, imm))
    }

    /// `dst = map` (`BPF_LD | BPF_IMM | BPF_DW` with `BPF_PSEUDO_MAP_FD`:
    /// the verifier turns the fd into the map's address).
    pub fn ld_map_fd(&mut self, dst: Reg, map_fd: i32) -> &mut Self {
        self.push(insn(
            BPF_LD | BPF_IMM | Size::Double.bits(),
            dst,
            Reg(BPF_PSEUDO_MAP_FD),
            0,
            map_fd,
        ));
        self.push(Insn::default())
    }

    /// `dst = *(size *)(src + off)`.
    pub fn load(&mut self, size: Size, dst: Reg, src: Reg, off: i16) -> &mut Self {
        self.push(insn(BPF_LDX | BPF_MEM | size.bits(), dst, src, off, 0))
    }

    /// `*(size *)(dst + off) = src`.
    pub fn store(&mut self, size: Size, dst: Reg, off: i16, src: Reg) -> &mut Self {
        self.push(insn(BPF_STX | BPF_MEM | size.bits(), dst, src, off, 0))
    }

    /// `*(size *)(dst + off) = imm`.
    pub fn store_imm(&mut self, size: Size, dst: Reg, off: i16, imm: i32) -> &mut Self {
        self.push(insn(BPF_ST | BPF_MEM | size.bits(), dst, Reg(0), off, imm))
    }

    /// `lock *(u64 *)(dst + off) += src` (`BPF_ATOMIC` with `BPF_ADD`).
    pub fn atomic_add64(&mut self, dst: Reg, off: i16, src: Reg) -> &mut Self {
        self.push(insn(
            BPF_STX | BPF_ATOMIC | Size::Double.bits(),
            dst,
            src,
            off,
            i32::from(BPF_ADD),
        ))
    }

    /// `if dst <cmp> imm goto target`.
    pub fn jump_imm(&mut self, cmp: Cmp, dst: Reg, imm: i32, target: Label) -> &mut Self {
        self.jumps.push((self.insns.len(), target));
        self.push(insn(BPF_JMP | cmp.op() | BPF_K, dst, Reg(0), 0, imm))
    }

    /// `if dst <cmp> src goto target`.
    pub fn jump_reg(&mut self, cmp: Cmp, dst: Reg, src: Reg, target: Label) -> &mut Self {
        self.jumps.push((self.insns.len(), target));
        self.push(insn(BPF_JMP | cmp.op() | BPF_X, dst, src, 0, 0))
    }

    /// `goto target`.
    pub fn jump(&mut self, target: Label) -> &mut Self {
        self.jumps.push((self.insns.len(), target));
        self.push(insn(BPF_JMP | BPF_JA, Reg(0), Reg(0), 0, 0))
    }

    /// Calls kernel helper `id` (arguments in `r1`..`r5`, result in `r0`).
    pub fn call(&mut self, id: i32) -> &mut Self {
        self.push(insn(BPF_JMP | BPF_CALL, Reg(0), Reg(0), 0, id))
    }

    /// `exit` (returns `r0`).
    pub fn exit(&mut self) -> &mut Self {
        self.push(insn(BPF_JMP | BPF_EXIT, Reg(0), Reg(0), 0, 0))
    }

    fn push(&mut self, i: Insn) -> &mut Self {
        self.insns.push(i);
        self
    }

    /// The instructions, every jump resolved (its `off` counts from the
    /// instruction after it).
    pub fn finish(mut self) -> Result<Vec<Insn>, UnplacedLabel> {
        for &(at, Label(l)) in &self.jumps {
            let target = self.labels[l].ok_or(UnplacedLabel(l))?;
            let off = i16::try_from(target as i64 - at as i64 - 1).map_err(|_| UnplacedLabel(l))?;
            self.insns[at].off = off;
        }
        Ok(self.insns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_the_isa() {
        let mut p = Program::new();
        let out = p.new_label();
        p.mov_imm(Reg::R0, 7)
            .load(Size::Word, Reg::R1, Reg::FP, -8)
            .jump_imm(Cmp::Ne, Reg::R1, 2, out)
            .ld_map_fd(Reg::R1, 5)
            .atomic_add64(Reg::R0, 0, Reg::R1);
        p.label(out);
        p.exit();
        let insns = p.finish().unwrap();
        // mov r0, 7: BPF_ALU64|BPF_MOV|BPF_K = 0xb7.
        assert_eq!(
            insns[0],
            Insn {
                code: 0xb7,
                regs: 0x00,
                off: 0,
                imm: 7
            }
        );
        // ldxw r1, [r10-8]: 0x61, src r10 in the high nibble.
        assert_eq!(
            insns[1],
            Insn {
                code: 0x61,
                regs: 0xa1,
                off: -8,
                imm: 0
            }
        );
        // jne r1, 2, +3 (over the two-slot map load and the add).
        assert_eq!(
            insns[2],
            Insn {
                code: 0x55,
                regs: 0x01,
                off: 3,
                imm: 2
            }
        );
        assert_eq!(
            insns[3],
            Insn {
                code: 0x18,
                regs: 0x11,
                off: 0,
                imm: 5
            }
        );
        assert_eq!(insns[4], Insn::default());
        assert_eq!(
            insns[5],
            Insn {
                code: 0xdb,
                regs: 0x10,
                off: 0,
                imm: 0
            }
        );
        assert_eq!(
            insns[6],
            Insn {
                code: 0x95,
                regs: 0,
                off: 0,
                imm: 0
            }
        );
    }

    #[test]
    fn register_jumps_and_shifts_follow_the_isa() {
        let mut p = Program::new();
        let out = p.new_label();
        p.jump_reg(Cmp::Ge, Reg::R1, Reg::R2, out)
            .or_reg(Reg::R1, Reg::R2)
            .lsh_imm(Reg::R2, 7);
        p.label(out);
        let insns = p.finish().unwrap();
        // jge r1, r2, +2: BPF_JMP|BPF_JGE|BPF_X = 0x3d, src r2 high nibble.
        let i = |code, regs, off, imm| Insn {
            code,
            regs,
            off,
            imm,
        };
        assert_eq!(insns[0], i(0x3d, 0x21, 2, 0));
        // or r1, r2: BPF_ALU64|BPF_OR|BPF_X = 0x4f.
        assert_eq!(insns[1], i(0x4f, 0x21, 0, 0));
        // lsh r2, 7: BPF_ALU64|BPF_LSH|BPF_K = 0x67.
        assert_eq!(insns[2], i(0x67, 0x02, 0, 7));
    }

    #[test]
    fn an_unplaced_label_is_an_error() {
        let mut p = Program::new();
        let l = p.new_label();
        p.jump(l).exit();
        assert_eq!(p.finish(), Err(UnplacedLabel(0)));
    }
}
