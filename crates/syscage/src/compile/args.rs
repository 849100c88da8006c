//! Pass 5, argument checks: an [`ArgTree`] as code, inside the leaf of
//! one syscall (the number is decided before any argument is loaded).
//!
//! A 64-bit comparison is split into its high and low 32-bit words, found
//! with [`arg_offset`] in the arch's byte order; a 32-bit one compares the
//! low word only. Masked-equal uses `JSET` when the mask or the value
//! allows it, else `A &= mask` then `JEQ`. The accumulator's content is
//! tracked, merged at join points, so a word already loaded is not loaded
//! again.

use super::argset::{self, ValueSet};
use super::decision::{ArgTree, Arm};
use super::layout::{Code, Label, Op, Target};
use super::search::Node;
use super::share;
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

impl Emitter<'_> {
    /// `arg` is in `set`: the high word searched once, then each partly
    /// covered high word's low word (see [`argset`]).
    fn value_set(&mut self, set: &ValueSet, pass: Target, fail: Target) {
        let plan = argset::plan(set);
        let labels: Vec<Label> = plan.lows.iter().map(|_| self.next()).collect();
        let target = |d: usize| match d {
            argset::FAIL => fail,
            argset::PASS => pass,
            k => Target::Label(labels[k - 2]),
        };
        if let Some(high) = &plan.high {
            match high.as_slice() {
                // The only low line follows.
                [r] if r.decision >= 2 => {}
                [r] => self.goto(target(r.decision)),
                _ => {
                    self.load(arg_offset(set.arg, Half::High, self.order));
                    self.search(&argset::tree(high), &target);
                }
            }
        }
        let lo_off = arg_offset(set.arg, Half::Low, self.order);
        for (low, &l) in plan.lows.iter().zip(&labels) {
            self.place(l);
            self.load(lo_off);
            match argset::singles(low) {
                Some((hit, values)) => {
                    self.eq_chain(&values, target(hit), target(1 - hit));
                }
                None => self.search(&argset::tree(low), &target),
            }
        }
    }

    /// `JEQ` each of `values` (at least one) to `hit`, else `miss`.
    fn eq_chain(&mut self, values: &[u32], hit: Target, miss: Target) {
        for (i, &x) in values.iter().enumerate() {
            if i + 1 == values.len() {
                self.jmp(JmpCond::Eq, x, hit, miss);
            } else {
                let n = self.next();
                self.jmp(JmpCond::Eq, x, hit, Target::Label(n));
                self.place(n);
            }
        }
    }

    /// Emits a search over the loaded word, leaves going to `leaf(outcome)`.
    fn search(&mut self, n: &Node, leaf: &dyn Fn(usize) -> Target) {
        let sub = |e: &mut Self, n: &Node| match n {
            Node::Leaf(d) => leaf(*d),
            _ => Target::Label(e.next()),
        };
        match n {
            Node::Leaf(d) => self.goto(leaf(*d)),
            Node::Ge { k, lo, hi } => {
                let jt = sub(self, hi);
                let jf = sub(self, lo);
                self.jmp(JmpCond::Ge, *k, jt, jf);
                for (t, m) in [(jf, lo), (jt, hi)] {
                    if let (Target::Label(l), false) = (t, matches!(**m, Node::Leaf(_))) {
                        self.place(l);
                        self.search(m, leaf);
                    }
                }
            }
            Node::Eq { k, hit, miss } => {
                let jf = sub(self, miss);
                self.jmp(JmpCond::Eq, *k, leaf(*hit), jf);
                if let (Target::Label(l), false) = (jf, matches!(**miss, Node::Leaf(_))) {
                    self.place(l);
                    self.search(miss, leaf);
                }
            }
        }
    }
}

/// Emits the checks of `tree`, the accumulator holding `nr` on entry.
/// Consecutive arms of one action that test one argument for equality
/// become one set test; consecutive arms that begin with the same
/// condition test it once ([`share`]).
pub fn emit(code: &mut Code, tree: &ArgTree, order: ByteOrder) {
    let mut e = Emitter {
        code,
        order,
        acc: Some(Acc::Unknown),
        incoming: HashMap::new(),
    };
    e.arms(&tree.arms, Target::Ret(tree.fallback.to_ret()));
}

impl Emitter<'_> {
    /// `arms` in order, the first that holds deciding, else `otherwise`
    /// (not placed here).
    fn arms(&mut self, arms: &[Arm], otherwise: Target) {
        let mut i = 0;
        while i < arms.len() {
            if let Some((c, rests)) = share::shared_run(&arms[i..]) {
                let j = i + rests.len();
                let fail = if j == arms.len() {
                    otherwise
                } else {
                    Target::Label(self.next())
                };
                let n = self.next();
                self.cond(&c, Target::Label(n), fail);
                self.place(n);
                self.arms(&rests, fail);
                if let (Target::Label(l), false) = (fail, j == arms.len()) {
                    self.place(l);
                }
                i = j;
                continue;
            }
            // The longest run from i that is one value set (at least 2 arms).
            let mut j = i + 1;
            while j < arms.len() && argset::value_set(&arms[i..=j]).is_some() {
                j += 1;
            }
            let last = j == arms.len();
            let fail = if last {
                otherwise
            } else {
                Target::Label(self.next())
            };
            match argset::value_set(&arms[i..j]) {
                Some(set) if j - i >= 2 => {
                    self.value_set(&set, Target::Ret(arms[i].action.to_ret()), fail)
                }
                _ => self.arm(&arms[i], fail),
            }
            if let (Target::Label(l), false) = (fail, last) {
                self.place(l);
            }
            i = j;
        }
    }
}
