//! Pass 5, argument checks: an [`ArgTree`] as code, inside the leaf of
//! one syscall (the number is decided before any argument is loaded).
//!
//! A 64-bit comparison is split into its high and low 32-bit words, found
//! with [`arg_offset`] in the arch's byte order; a 32-bit one compares the
//! low word only. Masked-equal uses `JSET` when the mask or the value
//! allows it, else `A &= mask` then `JEQ`. The accumulator's content is
//! tracked, merged at join points, so a word already loaded is not loaded
//! again.

use super::decision::{ArgTree, Arm};
use super::layout::{Code, Label, Op, Target};
use crate::bpf::data::{arg_offset, Half};
use crate::bpf::{ByteOrder, JmpCond};
use crate::policy::{CmpOp, Condition, Width};
use std::collections::HashMap;

/// What the accumulator holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Acc {
    /// Not known (after an `AND`, or paths that disagree).
    Unknown,
    /// The word at this offset of `seccomp_data`.
    Word(u32),
}

/// Emits argument checks, tracking the accumulator.
struct Emitter<'c> {
    code: &'c mut Code,
    order: ByteOrder,
    acc: Option<Acc>,
    incoming: HashMap<Label, Acc>,
}

impl Emitter<'_> {
    fn load(&mut self, off: u32) {
        if self.acc != Some(Acc::Word(off)) {
            self.code.push(Op::Ld(off));
            self.acc = Some(Acc::Word(off));
        }
    }

    fn note(&mut self, t: Target) {
        if let (Target::Label(l), Some(a)) = (t, self.acc) {
            let merged = match self.incoming.get(&l) {
                None => a,
                Some(&b) if b == a => a,
                Some(_) => Acc::Unknown,
            };
            self.incoming.insert(l, merged);
        }
    }

    fn jmp(&mut self, cond: JmpCond, k: u32, jt: Target, jf: Target) {
        self.note(jt);
        self.note(jf);
        self.code.push(Op::Jmp { cond, k, jt, jf });
        self.acc = None; // no fall-through past a two-way jump
    }

    fn place(&mut self, l: Label) {
        let came = self.incoming.remove(&l);
        self.acc = match (self.acc, came) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(_), Some(_)) => Some(Acc::Unknown),
            (a, b) => a.or(b),
        };
        self.code.push(Op::Place(l));
    }

    /// A fresh label for "the next instruction".
    fn next(&mut self) -> Label {
        self.code.label()
    }

    /// `(word & mask) == value` on the loaded word.
    fn masked(&mut self, mask: u32, value: u32, pass: Target, fail: Target) {
        if mask == 0 {
            // Never emitted for normalised conditions (always true).
            return self.goto(pass);
        }
        if value == 0 {
            self.jmp(JmpCond::Set, mask, fail, pass);
        } else if mask.is_power_of_two() {
            self.jmp(JmpCond::Set, mask, pass, fail);
        } else if mask == u32::MAX {
            self.jmp(JmpCond::Eq, value, pass, fail);
        } else {
            self.code.push(Op::And(mask));
            self.acc = Some(Acc::Unknown);
            self.jmp(JmpCond::Eq, value, pass, fail);
        }
    }

    /// One 32-bit comparison of the loaded word.
    fn word(&mut self, op: CmpOp, pass: Target, fail: Target) {
        let lo = |v: u64| v as u32;
        match op {
            CmpOp::Eq(v) => self.jmp(JmpCond::Eq, lo(v), pass, fail),
            CmpOp::Ne(v) => self.jmp(JmpCond::Eq, lo(v), fail, pass),
            CmpOp::Gt(v) => self.jmp(JmpCond::Gt, lo(v), pass, fail),
            CmpOp::Ge(v) => self.jmp(JmpCond::Ge, lo(v), pass, fail),
            CmpOp::Lt(v) => self.jmp(JmpCond::Ge, lo(v), fail, pass),
            CmpOp::Le(v) => self.jmp(JmpCond::Gt, lo(v), fail, pass),
            CmpOp::MaskedEq { mask, value } => self.masked(lo(mask), lo(value), pass, fail),
        }
    }

    /// One condition: to `pass` when it holds, else to `fail`.
    fn cond(&mut self, c: &Condition, pass: Target, fail: Target) {
        let lo_off = arg_offset(c.arg, Half::Low, self.order);
        if c.width == Width::Bits32 {
            self.load(lo_off);
            return self.word(c.op, pass, fail);
        }
        let hi_off = arg_offset(c.arg, Half::High, self.order);
        let split = |v: u64| ((v >> 32) as u32, v as u32);
        match c.op {
            CmpOp::Eq(v) | CmpOp::Ne(v) => {
                let (vh, vl) = split(v);
                let eq = matches!(c.op, CmpOp::Eq(_));
                let (hit, miss) = if eq { (pass, fail) } else { (fail, pass) };
                let n = self.next();
                self.load(hi_off);
                self.jmp(JmpCond::Eq, vh, Target::Label(n), miss);
                self.place(n);
                self.load(lo_off);
                self.jmp(JmpCond::Eq, vl, hit, miss);
            }
            CmpOp::Gt(v) | CmpOp::Le(v) => {
                // arg > v  <=>  hi > vh || (hi == vh && lo > vl)
                let (vh, vl) = split(v);
                let (hit, miss) = if matches!(c.op, CmpOp::Gt(_)) {
                    (pass, fail)
                } else {
                    (fail, pass)
                };
                self.wide_order(hi_off, lo_off, vh, vl, JmpCond::Gt, hit, miss);
            }
            CmpOp::Ge(v) | CmpOp::Lt(v) => {
                let (vh, vl) = split(v);
                let (hit, miss) = if matches!(c.op, CmpOp::Ge(_)) {
                    (pass, fail)
                } else {
                    (fail, pass)
                };
                if vl == 0 {
                    // arg >= vh:0  <=>  hi >= vh
                    self.load(hi_off);
                    self.jmp(JmpCond::Ge, vh, hit, miss);
                } else {
                    self.wide_order(hi_off, lo_off, vh, vl, JmpCond::Ge, hit, miss);
                }
            }
            CmpOp::MaskedEq { mask, value } => {
                let (mh, vh) = ((mask >> 32) as u32, (value >> 32) as u32);
                let (ml, vl) = (mask as u32, value as u32);
                if ml == 0 {
                    self.load(hi_off);
                    self.masked(mh, vh, pass, fail);
                } else if mh == 0 {
                    self.load(lo_off);
                    self.masked(ml, vl, pass, fail);
                } else {
                    let n = self.next();
                    self.load(hi_off);
                    self.masked(mh, vh, Target::Label(n), fail);
                    self.place(n);
                    self.load(lo_off);
                    self.masked(ml, vl, pass, fail);
                }
            }
        }
    }

    /// `hi > vh || (hi == vh && lo OP vl)`, OP being `>` or `>=`.
    #[allow(clippy::too_many_arguments)]
    fn wide_order(
        &mut self,
        hi_off: u32,
        lo_off: u32,
        vh: u32,
        vl: u32,
        op: JmpCond,
        hit: Target,
        miss: Target,
    ) {
        self.load(hi_off);
        if op == JmpCond::Gt && vl == u32::MAX {
            // arg > vh:ffffffff  <=>  hi > vh
            return self.jmp(JmpCond::Gt, vh, hit, miss);
        }
        let n = self.next();
        if vh == u32::MAX {
            self.jmp(JmpCond::Eq, vh, Target::Label(n), miss);
        } else if vh == 0 {
            self.jmp(JmpCond::Gt, 0, hit, Target::Label(n));
        } else {
            let m = self.next();
            self.jmp(JmpCond::Gt, vh, hit, Target::Label(m));
            self.place(m);
            self.jmp(JmpCond::Eq, vh, Target::Label(n), miss);
        }
        self.place(n);
        self.load(lo_off);
        self.jmp(op, vl, hit, miss);
    }

    /// An unconditional transfer (`JEQ` with equal targets is never
    /// needed: callers only reach here when the target is the next op).
    fn goto(&mut self, t: Target) {
        match t {
            Target::Ret(v) => self.code.push(Op::Ret(v)),
            Target::Label(_) => self.jmp(JmpCond::Eq, 0, t, t),
        }
    }

    fn arm(&mut self, arm: &Arm, fail: Target) {
        let pass_all = Target::Ret(arm.action.to_ret());
        for (i, c) in arm.conds.iter().enumerate() {
            if i + 1 == arm.conds.len() {
                self.cond(c, pass_all, fail);
            } else {
                let n = self.next();
                self.cond(c, Target::Label(n), fail);
                self.place(n);
            }
        }
    }
}

/// A run of arms that OR equality tests of one argument ("personality is
/// 0, 8 or 0x20000"): `(arg, width, values)`.
fn eq_set(arms: &[Arm]) -> Option<(u8, Width, Vec<u64>)> {
    let first = arms.first()?.conds.first()?;
    let mut values = Vec::with_capacity(arms.len());
    for a in arms {
        match a.conds.as_slice() {
            [Condition {
                arg,
                op: CmpOp::Eq(v),
                width,
            }] if *arg == first.arg && *width == first.width && a.action == arms[0].action => {
                values.push(*v)
            }
            _ => return None,
        }
    }
    values.sort_unstable();
    values.dedup();
    Some((first.arg, first.width, values))
}

impl Emitter<'_> {
    /// `arg` equals one of `values`: high words first (grouped), then a
    /// chain of low-word tests per high word.
    fn set(&mut self, arg: u8, width: Width, values: &[u64], pass: Target, fail: Target) {
        let lo_off = arg_offset(arg, Half::Low, self.order);
        let mut groups: Vec<(u32, Vec<u32>)> = Vec::new();
        for &v in values {
            let (h, l) = if width == Width::Bits32 {
                (0, v as u32)
            } else {
                ((v >> 32) as u32, v as u32)
            };
            match groups.iter_mut().find(|g| g.0 == h) {
                Some(g) => g.1.push(l),
                None => groups.push((h, vec![l])),
            }
        }
        let mut targets: Vec<Label> = Vec::new();
        if width == Width::Bits64 {
            self.load(arg_offset(arg, Half::High, self.order));
            for (i, g) in groups.iter().enumerate() {
                let t = self.next();
                targets.push(t);
                if i + 1 == groups.len() {
                    self.jmp(JmpCond::Eq, g.0, Target::Label(t), fail);
                } else {
                    let n = self.next();
                    self.jmp(JmpCond::Eq, g.0, Target::Label(t), Target::Label(n));
                    self.place(n);
                }
            }
        }
        for (gi, g) in groups.iter().enumerate() {
            if let Some(&t) = targets.get(gi) {
                self.place(t);
            }
            self.load(lo_off);
            for (i, &l) in g.1.iter().enumerate() {
                if i + 1 == g.1.len() {
                    self.jmp(JmpCond::Eq, l, pass, fail);
                } else {
                    let n = self.next();
                    self.jmp(JmpCond::Eq, l, pass, Target::Label(n));
                    self.place(n);
                }
            }
        }
    }
}

/// Emits the checks of `tree`, the accumulator holding `nr` on entry.
/// Consecutive arms of one action that test one argument for equality
/// become one set test.
pub fn emit(code: &mut Code, tree: &ArgTree, order: ByteOrder) {
    let mut e = Emitter {
        code,
        order,
        acc: Some(Acc::Unknown),
        incoming: HashMap::new(),
    };
    let arms = &tree.arms;
    let mut i = 0;
    while i < arms.len() {
        // The longest run from i that is an equality set (at least 2 arms).
        let mut j = i + 1;
        while j < arms.len() && eq_set(&arms[i..=j]).is_some() {
            j += 1;
        }
        let last = j == arms.len();
        let fail = if last {
            Target::Ret(tree.fallback.to_ret())
        } else {
            Target::Label(e.next())
        };
        if j - i >= 2 {
            let (arg, width, values) = eq_set(&arms[i..j]).expect("checked");
            e.set(
                arg,
                width,
                &values,
                Target::Ret(arms[i].action.to_ret()),
                fail,
            );
        } else {
            e.arm(&arms[i], fail);
        }
        if let Target::Label(l) = fail {
            e.place(l);
        }
        i = j;
    }
}
