//! Pass 6c, compact layout: for a program that the plain
//! [layout](super::layout) makes longer than the kernel's 4096
//! instructions, far jumps share their trampolines.
//!
//! The plain layout gives every far jump its own trampoline right after it
//! (a copy of the target's `RET`, or a `JA`). In a long argument check
//! (hundreds of path rules, each ending "… else goto next, then return
//! ALLOW"), that is one more instruction per rule. Here a far jump goes to
//! the nearest instruction within reach that does what its target does: any
//! `RET` of the same value (a pool's or another jump's copy), or a `JA` to
//! the same label already placed, and only when none is in reach gets one
//! of its own. Jumps to a label within reach still go straight there (a
//! `JA` would cost a step at run time; a `RET` copy costs none).
//!
//! Every jump goes forward, so the program is laid out back to front in
//! one pass: when a jump is placed, everything after it is already placed
//! and every distance is exact.
//!
//! A program that fits with the plain layout keeps it (its bytes do not
//! change); this one is only tried when that one is too long.

use super::layout::{Item, Label};
use super::CompileError;
use crate::bpf::insn::BPF_MAXINSNS;
use crate::bpf::{AluOp, Insn, Program, Src};
use std::collections::HashMap;

/// Farthest offset of a conditional jump.
const REACH: usize = 255;

/// What a jump target does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Does {
    /// `return v`.
    Ret(u32),
    /// Continues at this label.
    Goto(Label),
}

/// The program being placed back to front. A position is counted from the
/// end: the last instruction is at 1.
struct Reversed {
    insns: Vec<Insn>,
    /// Position of each placed label.
    label_at: HashMap<Label, usize>,
    /// What each placed label's instruction does.
    label_does: HashMap<Label, Does>,
    /// Nearest placed instruction (largest position) doing this.
    nearest: HashMap<Does, usize>,
}

impl Reversed {
    fn placed(&self) -> usize {
        self.insns.len()
    }

    fn push(&mut self, insn: Insn) {
        self.insns.push(insn);
        let here = self.placed();
        if let Insn::Ret(v) = insn {
            self.nearest.insert(Does::Ret(v), here);
        }
    }

    /// A position doing what `l` does reachable from a jump at `from`.
    fn reach(&self, l: Label, from: usize) -> Option<usize> {
        let at = self.label_at[&l];
        let ok = |p: usize| p < from && from - p - 1 <= REACH;
        let does = self.label_does[&l];
        let direct = ok(at).then_some(at);
        match does {
            // Any RET of the value, the nearest.
            Does::Ret(_) => self
                .nearest
                .get(&does)
                .copied()
                .filter(|&p| ok(p))
                .or(direct),
            Does::Goto(_) => direct.or_else(|| self.nearest.get(&does).copied().filter(|&p| ok(p))),
        }
    }
}

/// Lays out `items` (pools placed, no trampolines yet) back to front.
pub(super) fn lay_out(items: &[Item]) -> Result<Program, CompileError> {
    let mut r = Reversed {
        insns: Vec::with_capacity(items.len()),
        label_at: HashMap::new(),
        label_does: HashMap::new(),
        nearest: HashMap::new(),
    };
    for item in items.iter().rev() {
        match *item {
            Item::Place(l) => {
                let at = r.placed();
                let does = match r.insns.last() {
                    Some(Insn::Ret(v)) => Does::Ret(*v),
                    _ => Does::Goto(l),
                };
                r.label_at.insert(l, at);
                r.label_does.insert(l, does);
            }
            Item::Ld(k) => r.push(Insn::LdAbs(k)),
            Item::And(k) => r.push(Insn::Alu(AluOp::And, Src::K(k))),
            Item::Ret(v) => r.push(Insn::Ret(v)),
            Item::Ja(l) => {
                let from = r.placed() + 1;
                let off = from - r.label_at[&l] - 1;
                r.push(Insn::Ja(off as u32));
            }
            Item::Jmp { cond, k, jt, jf } => jump(&mut r, cond, k, jt, jf),
        }
    }
    let n = r.placed();
    if n > BPF_MAXINSNS {
        return Err(CompileError::TooLong(n));
    }
    r.insns.reverse();
    Ok(Program::new(r.insns))
}

/// Places `if (A cond k) goto jt else goto jf`, with the trampolines it
/// needs right after it.
fn jump(r: &mut Reversed, cond: crate::bpf::JmpCond, k: u32, jt: Label, jf: Label) {
    // Trampolines go between the jump and what follows, moving the jump
    // one back each: find how many it needs, at most one per target.
    let mut own: Vec<Label> = Vec::new();
    loop {
        let from = r.placed() + own.len() + 1;
        let mut need: Vec<Label> = Vec::new();
        for l in [jt, jf] {
            if !need.contains(&l) && r.reach(l, from).is_none() {
                need.push(l);
            }
        }
        if need.len() <= own.len() {
            break;
        }
        own = need;
    }
    // Place them (back to front: the last first) and note where they are.
    let mut tramp_at: Vec<(Label, usize)> = Vec::new();
    for &l in own.iter().rev() {
        match r.label_does[&l] {
            Does::Ret(v) => r.push(Insn::Ret(v)),
            Does::Goto(_) => {
                let from = r.placed() + 1;
                let off = from - r.label_at[&l] - 1;
                r.push(Insn::Ja(off as u32));
                let here = r.placed();
                r.nearest.insert(Does::Goto(l), here);
            }
        }
        tramp_at.push((l, r.placed()));
    }
    let from = r.placed() + 1;
    let to = |l: Label| {
        let p = tramp_at
            .iter()
            .find(|t| t.0 == l)
            .map(|t| t.1)
            .or_else(|| r.reach(l, from))
            .expect("every target reached");
        (from - p - 1) as u8
    };
    let (ot, of) = (to(jt), to(jf));
    r.push(Insn::Jmp {
        cond,
        src: Src::K(k),
        jt: ot,
        jf: of,
    });
}

#[cfg(test)]
mod tests {
    use super::super::layout::{assemble, Code, Op, Target};
    use crate::action::Action;
    use crate::bpf::data::{SeccompData, OFF_NR};
    use crate::bpf::{ByteOrder, JmpCond};

    /// 2500 numbers each allowed by its own `JEQ`: the plain layout needs a
    /// `RET` copy per jump (over 4096); the compact one shares them.
    #[test]
    fn far_returns_are_shared() {
        let mut code = Code::default();
        code.push(Op::Ld(OFF_NR));
        let allow = Target::Ret(Action::Allow.to_ret());
        let deny = Target::Ret(Action::Errno(1).to_ret());
        for k in 0..2500u32 {
            let next = code.label();
            code.push(Op::Jmp {
                cond: JmpCond::Eq,
                k: 3 * k,
                jt: allow,
                jf: Target::Label(next),
            });
            code.push(Op::Place(next));
        }
        code.push(Op::Jmp {
            cond: JmpCond::Eq,
            k: u32::MAX,
            jt: allow,
            jf: deny,
        });
        code.push(Op::Pool);
        let prog = assemble(code).unwrap();
        assert!(prog.len() < 2600, "{} instructions", prog.len());
        crate::bpf::validate::validate_program(&prog).unwrap();
        for nr in [
            0u32,
            1,
            2,
            3,
            3 * 1000,
            3 * 1000 + 1,
            3 * 2499,
            3 * 2500,
            u32::MAX,
        ] {
            let d = SeccompData {
                nr,
                ..Default::default()
            };
            let want = if (nr % 3 == 0 && nr < 3 * 2500) || nr == u32::MAX {
                Action::Allow
            } else {
                Action::Errno(1)
            };
            let got = crate::emu::run(&prog, &d, ByteOrder::Little)
                .unwrap()
                .action;
            assert_eq!(got, want, "nr {nr}");
        }
    }
}
