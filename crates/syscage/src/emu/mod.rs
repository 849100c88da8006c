//! The emulator: runs a [`Program`] on one `struct seccomp_data` with the
//! kernel's semantics (classic BPF as `bpf_convert_filter` runs it).
//!
//! ```
//! use syscage::bpf::{data::SeccompData, ByteOrder, Insn, Program};
//! use syscage::action::Action;
//! let prog = Program::new(vec![Insn::LdAbs(0), Insn::Ret(0x7fff_0000)]);
//! let out = syscage::emu::run(&prog, &SeccompData::default(), ByteOrder::Little).unwrap();
//! assert_eq!((out.action, out.steps), (Action::Allow, 2));
//! ```

use crate::action::Action;
use crate::bpf::data::{SeccompData, SECCOMP_DATA_SIZE};
use crate::bpf::insn::BPF_MEMWORDS;
use crate::bpf::{ByteOrder, Insn, Program, Src};

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The 32-bit value the filter returned.
    pub ret: u32,
    /// The action the kernel takes for it.
    pub action: Action,
    /// Instructions executed, the `RET` included.
    pub steps: usize,
    /// Indices of the executed instructions, when tracing was asked for.
    pub trace: Option<Vec<usize>>,
}

/// A program that cannot run to a `RET`. The kernel's validator refuses
/// every program that can fail like this, on any input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmuError {
    /// Execution ran past the last instruction.
    #[error("instruction {0}: execution runs past the end of the program")]
    FellOff(usize),
    /// A load outside `struct seccomp_data` or not 32-bit aligned.
    #[error(
        "instruction {index}: load at offset {offset} is outside struct seccomp_data or unaligned"
    )]
    BadLoad {
        /// Index of the load.
        index: usize,
        /// Its offset.
        offset: u32,
    },
    /// A scratch memory index of 16 or more.
    #[error("instruction {index}: scratch memory index {slot} is not below 16")]
    BadSlot {
        /// Index of the instruction.
        index: usize,
        /// The slot.
        slot: u32,
    },
    /// A read of scratch memory that was never written on this path.
    #[error("instruction {index}: reads M[{slot}] before any write")]
    UninitSlot {
        /// Index of the instruction.
        index: usize,
        /// The slot.
        slot: u32,
    },
}

/// Runs `prog` on `data`, 64-bit fields laid out in `order`.
pub fn run(prog: &Program, data: &SeccompData, order: ByteOrder) -> Result<Outcome, EmuError> {
    exec(prog, data, order, false)
}

/// Like [`run`], also recording the index of every executed instruction.
pub fn run_traced(
    prog: &Program,
    data: &SeccompData,
    order: ByteOrder,
) -> Result<Outcome, EmuError> {
    exec(prog, data, order, true)
}

fn exec(
    prog: &Program,
    data: &SeccompData,
    order: ByteOrder,
    tracing: bool,
) -> Result<Outcome, EmuError> {
    let insns = &prog.insns;
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [None::<u32>; BPF_MEMWORDS as usize];
    let mut trace = tracing.then(Vec::new);
    let mut pc = 0usize;
    let mut steps = 0usize;
    let slot = |index: usize, k: u32| {
        if k < BPF_MEMWORDS {
            Ok(k as usize)
        } else {
            Err(EmuError::BadSlot { index, slot: k })
        }
    };
    loop {
        let insn = *insns.get(pc).ok_or(EmuError::FellOff(pc))?;
        steps += 1;
        if let Some(t) = trace.as_mut() {
            t.push(pc);
        }
        let load_mem = |mem: &[Option<u32>; 16], k: u32| {
            mem[slot(pc, k)?].ok_or(EmuError::UninitSlot { index: pc, slot: k })
        };
        let mut next = pc + 1;
        match insn {
            Insn::LdAbs(k) => {
                a = data.word_at(k, order).ok_or(EmuError::BadLoad {
                    index: pc,
                    offset: k,
                })?
            }
            Insn::LdImm(k) => a = k,
            Insn::LdMem(k) => a = load_mem(&mem, k)?,
            Insn::LdLen => a = SECCOMP_DATA_SIZE,
            Insn::LdxImm(k) => x = k,
            Insn::LdxMem(k) => x = load_mem(&mem, k)?,
            Insn::LdxLen => x = SECCOMP_DATA_SIZE,
            Insn::St(k) => mem[slot(pc, k)?] = Some(a),
            Insn::Stx(k) => mem[slot(pc, k)?] = Some(x),
            Insn::Alu(op, src) => {
                let b = match src {
                    Src::K(k) => k,
                    Src::X => x,
                };
                match op.apply(a, b) {
                    Some(v) => a = v,
                    // bpf_convert_filter: a division by X == 0 returns 0.
                    None => return Ok(finish(0, steps, trace)),
                }
            }
            Insn::Neg => a = a.wrapping_neg(),
            Insn::Ja(k) => next = pc + 1 + k as usize,
            Insn::Jmp { cond, src, jt, jf } => {
                let b = match src {
                    Src::K(k) => k,
                    Src::X => x,
                };
                next = pc + 1 + if cond.holds(a, b) { jt } else { jf } as usize;
            }
            Insn::Ret(k) => return Ok(finish(k, steps, trace)),
            Insn::RetA => return Ok(finish(a, steps, trace)),
            Insn::Tax => x = a,
            Insn::Txa => a = x,
        }
        pc = next;
    }
}

fn finish(ret: u32, steps: usize, trace: Option<Vec<usize>>) -> Outcome {
    Outcome {
        ret,
        action: Action::from_ret(ret),
        steps,
        trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::{AluOp, JmpCond};

    #[test]
    fn division_by_zero_in_x_returns_zero() {
        let prog = Program::new(vec![
            Insn::LdImm(7),
            Insn::LdxImm(0),
            Insn::Alu(AluOp::Div, Src::X),
            Insn::Ret(0x7fff_0000),
        ]);
        let out = run_traced(&prog, &SeccompData::default(), ByteOrder::Little).unwrap();
        assert_eq!(out.ret, 0);
        assert_eq!(out.action, Action::KillThread);
        assert_eq!(out.trace, Some(vec![0, 1, 2]));
    }

    #[test]
    fn jumps_and_args() {
        let data = SeccompData {
            args: [0x1_0000_0002, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        let prog = Program::new(vec![
            Insn::LdAbs(20),
            Insn::Jmp {
                cond: JmpCond::Eq,
                src: Src::K(1),
                jt: 0,
                jf: 1,
            },
            Insn::Ret(0x0005_0001),
            Insn::Ret(0x7fff_0000),
        ]);
        assert_eq!(
            run(&prog, &data, ByteOrder::Little).unwrap().action,
            Action::Errno(1)
        );
        assert_eq!(
            run(&prog, &data, ByteOrder::Big).unwrap().action,
            Action::Allow
        );
        let bad = Program::new(vec![Insn::LdMem(3), Insn::RetA]);
        assert!(matches!(
            run(&bad, &data, ByteOrder::Little),
            Err(EmuError::UninitSlot { index: 0, slot: 3 })
        ));
    }
}
