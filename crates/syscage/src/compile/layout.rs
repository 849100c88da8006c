//! Pass 6b, layout: symbolic code to a [`Program`].
//!
//! - A jump to "return value v" ([`Target::Ret`]) goes to the shared `RET v`
//!   of the next return pool ([`Op::Pool`], one after each arch section).
//! - A conditional jump reaches at most 255 instructions ahead. A farther
//!   target gets a trampoline right after the jump: a copy of the target's
//!   `RET` if it is one (no extra step at run time), else a `JA` (one step).
//!   Inserting trampolines moves code, so this runs to a fixed point.
//! - More than 4096 instructions (`BPF_MAXINSNS`) is
//!   [`CompileError::TooLong`], never a truncated filter.

use super::CompileError;
use crate::bpf::insn::BPF_MAXINSNS;
use crate::bpf::{Insn, JmpCond, Program, Src};
use std::collections::BTreeSet;

/// A position in the code, placed by [`Op::Place`].
pub type Label = u32;

/// Where a jump goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A placed label.
    Label(Label),
    /// A shared `RET` of this value.
    Ret(u32),
}

/// One symbolic instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `A = seccomp_data[k]`.
    Ld(u32),
    /// `A &= k`.
    And(u32),
    /// `if (A cond k) goto jt else goto jf`.
    Jmp {
        /// The comparison.
        cond: JmpCond,
        /// Its constant.
        k: u32,
        /// Target when it holds.
        jt: Target,
        /// Target when it does not.
        jf: Target,
    },
    /// `return k`.
    Ret(u32),
    /// Marks the position of a label.
    Place(Label),
    /// Emit here the shared `RET`s jumped to since the previous pool.
    Pool,
}

/// A growing symbolic program.
#[derive(Clone, Debug, Default)]
pub struct Code {
    /// The instructions.
    pub ops: Vec<Op>,
    next_label: Label,
}

impl Code {
    /// A fresh label.
    pub fn label(&mut self) -> Label {
        self.next_label += 1;
        self.next_label - 1
    }
    /// Appends an op.
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }
}

/// A laid-out instruction with symbolic jump targets (pools resolved).
#[derive(Clone, Copy, Debug)]
pub(super) enum Item {
    Ld(u32),
    And(u32),
    Jmp {
        cond: JmpCond,
        k: u32,
        jt: Label,
        jf: Label,
    },
    Ja(Label),
    Ret(u32),
    Place(Label),
}

/// Lays out symbolic code as a program. A program over the limit is laid
/// out again by [`compact`](super::compact), which shares far jumps'
/// trampolines (a program that fits keeps this layout, byte for byte).
pub fn assemble(code: Code) -> Result<Program, CompileError> {
    let (items, next_label) = pooled(code);
    match far_jumps(items.clone(), next_label) {
        Err(CompileError::TooLong(_)) => super::compact::lay_out(&items),
        done => done,
    }
}

/// The code with each return pool's `RET`s placed and jumps to them
/// resolved to labels; the next free label.
fn pooled(code: Code) -> (Vec<Item>, Label) {
    let mut next_label = code.next_label;
    let mut fresh = || {
        next_label += 1;
        next_label - 1
    };
    // Return pools: each Target::Ret goes to the next pool (one is added at the end).
    let mut ops = code.ops;
    if ops.last() != Some(&Op::Pool) {
        ops.push(Op::Pool);
    }
    let mut items: Vec<Item> = Vec::with_capacity(ops.len() + 16);
    let mut start = 0;
    for (p, op) in ops.iter().enumerate() {
        if *op != Op::Pool {
            continue;
        }
        let chunk = &ops[start..p];
        let mut wanted: BTreeSet<u32> = BTreeSet::new();
        for op in chunk {
            if let Op::Jmp { jt, jf, .. } = op {
                for t in [jt, jf] {
                    if let Target::Ret(v) = t {
                        wanted.insert(*v);
                    }
                }
            }
        }
        let pool: Vec<(u32, Label)> = wanted.into_iter().map(|v| (v, fresh())).collect();
        let resolve = |t: Target| match t {
            Target::Label(l) => l,
            Target::Ret(v) => pool.iter().find(|p| p.0 == v).map(|p| p.1).expect("pooled"),
        };
        for op in chunk {
            items.push(match *op {
                Op::Ld(k) => Item::Ld(k),
                Op::And(k) => Item::And(k),
                Op::Jmp { cond, k, jt, jf } => Item::Jmp {
                    cond,
                    k,
                    jt: resolve(jt),
                    jf: resolve(jf),
                },
                Op::Ret(v) => Item::Ret(v),
                Op::Place(l) => Item::Place(l),
                Op::Pool => unreachable!("chunks hold no pool"),
            });
        }
        for (v, l) in pool {
            items.push(Item::Place(l));
            items.push(Item::Ret(v));
        }
        start = p + 1;
    }
    (items, next_label)
}

/// Far jumps: trampolines right after each jump until every conditional
/// jump reaches its target.
fn far_jumps(mut items: Vec<Item>, mut next_label: Label) -> Result<Program, CompileError> {
    let mut pos: Vec<usize> = Vec::new();
    loop {
        let needed = next_label as usize;
        if pos.len() < needed {
            pos.resize(needed, usize::MAX);
        }
        let mut flat: Vec<Item> = Vec::with_capacity(items.len());
        for it in &items {
            match it {
                Item::Place(l) => pos[*l as usize] = flat.len(),
                _ => flat.push(*it),
            }
        }
        if flat.len() > BPF_MAXINSNS * 4 {
            return Err(CompileError::TooLong(flat.len()));
        }
        let mut out: Vec<Item> = Vec::with_capacity(items.len() + 8);
        let mut changed = false;
        let mut at = 0usize;
        for it in &items {
            match *it {
                Item::Jmp { cond, k, jt, jf } => {
                    let far = |l: Label| pos[l as usize] - (at + 1) > 255;
                    let mut tramps: Vec<(Label, Label, Item)> = Vec::new();
                    let mut fix = |l: Label| -> Label {
                        if !far(l) {
                            return l;
                        }
                        if let Some(t) = tramps.iter().find(|t| t.0 == l) {
                            return t.1;
                        }
                        next_label += 1;
                        let t = next_label - 1;
                        let item = match flat[pos[l as usize]] {
                            Item::Ret(v) => Item::Ret(v),
                            _ => Item::Ja(l),
                        };
                        tramps.push((l, t, item));
                        t
                    };
                    let (njt, njf) = (fix(jt), fix(jf));
                    out.push(Item::Jmp {
                        cond,
                        k,
                        jt: njt,
                        jf: njf,
                    });
                    if !tramps.is_empty() {
                        changed = true;
                        for (_, t, item) in tramps {
                            out.push(Item::Place(t));
                            out.push(item);
                        }
                    }
                    at += 1;
                }
                Item::Place(_) => out.push(*it),
                _ => {
                    out.push(*it);
                    at += 1;
                }
            }
        }
        items = out;
        if !changed {
            break;
        }
    }
    let mut insns = Vec::with_capacity(items.len());
    for it in &items {
        let here = insns.len();
        let off = |l: Label| pos[l as usize] - (here + 1);
        insns.push(match *it {
            Item::Place(_) => continue,
            Item::Ld(k) => Insn::LdAbs(k),
            Item::And(k) => Insn::Alu(crate::bpf::AluOp::And, Src::K(k)),
            Item::Ret(v) => Insn::Ret(v),
            Item::Ja(l) => Insn::Ja(off(l) as u32),
            Item::Jmp { cond, k, jt, jf } => Insn::Jmp {
                cond,
                src: Src::K(k),
                jt: off(jt) as u8,
                jf: off(jf) as u8,
            },
        });
    }
    if insns.len() > BPF_MAXINSNS {
        return Err(CompileError::TooLong(insns.len()));
    }
    Ok(Program::new(insns))
}
