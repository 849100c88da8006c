//! Symbolic lifting: every path of a program, explored once, becomes a
//! [`Leaf`] of a [`DecisionTable`]: the set of inputs that take the path
//! (one [`WordDomain`] per 32-bit word of `struct seccomp_data`) and what the
//! path returns.
//!
//! Exact for programs built from loads of `seccomp_data`, constants, `A &=
//! K` masks and `JEQ`/`JGT`/`JGE`/`JSET` against constants (or X holding a
//! constant or a word): everything compilers emit. Other arithmetic on
//! loaded words makes the value unknown; both branches of a jump on it are
//! then kept and the leaf is marked inexact (a sound over-approximation).

use super::domain::{IntervalSet, WordDomain};
use crate::action::Action;
use crate::bpf::data::{SeccompData, SECCOMP_DATA_SIZE};
use crate::bpf::insn::BPF_MEMWORDS;
use crate::bpf::{AluOp, ByteOrder, Insn, JmpCond, Program, Src};

/// Number of 32-bit words in `struct seccomp_data`.
pub const WORDS: usize = (SECCOMP_DATA_SIZE / 4) as usize;
/// Word index of `nr`.
pub const WORD_NR: usize = 0;
/// Word index of `arch`.
pub const WORD_ARCH: usize = 1;

/// Constraints on every word of `struct seccomp_data`: a region of inputs.
pub type Region = [WordDomain; WORDS];

/// A region with no constraint.
pub fn any_region() -> Region {
    std::array::from_fn(|_| WordDomain::any())
}

/// Whether every word of a region can take some value.
pub fn region_feasible(region: &Region) -> bool {
    region.iter().all(WordDomain::is_feasible)
}

/// The intersection of two regions (`None` when a word becomes impossible).
pub fn region_meet(a: &Region, b: &Region) -> Option<Region> {
    let mut out = any_region();
    for w in 0..WORDS {
        out[w] = a[w].meet(&b[w])?;
        if !out[w].is_feasible() {
            return None;
        }
    }
    Some(out)
}

/// What a path returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A known 32-bit return value.
    Ret(u32),
    /// `RET A` with A depending on the input in a way the lifter does not track.
    Unknown,
}

impl Verdict {
    /// The action, when the return value is known.
    pub fn action(self) -> Option<Action> {
        match self {
            Verdict::Ret(r) => Some(Action::from_ret(r)),
            Verdict::Unknown => None,
        }
    }
}

/// One path of the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The inputs that take this path.
    pub region: Region,
    /// What it returns.
    pub verdict: Verdict,
    /// False when the region over-approximates the inputs (untracked arithmetic).
    pub exact: bool,
    /// Instructions executed on the path, in order.
    pub path: Vec<usize>,
}

/// Every path of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionTable {
    /// The paths; their regions are disjoint when every leaf is exact.
    pub leaves: Vec<Leaf>,
    /// Byte order the program's 64-bit fields were read in.
    pub order: ByteOrder,
}

impl DecisionTable {
    /// Whether every leaf is exact.
    pub fn is_exact(&self) -> bool {
        self.leaves.iter().all(|l| l.exact)
    }

    /// The leaves whose region contains `data` (one when exact).
    pub fn lookup<'a>(&'a self, data: &'a SeccompData) -> impl Iterator<Item = &'a Leaf> + 'a {
        let words: Vec<u32> = (0..WORDS as u32)
            .map(|w| data.word_at(w * 4, self.order).unwrap_or(0))
            .collect();
        self.leaves
            .iter()
            .filter(move |l| l.region.iter().zip(&words).all(|(d, &v)| d.contains(v)))
    }
}

/// Bounds that keep the lifter in time and memory on adversarial programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most instructions executed over all paths.
    pub max_steps: usize,
    /// Most leaves.
    pub max_leaves: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 4_000_000,
            max_leaves: 200_000,
        }
    }
}

/// Why a program could not be lifted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LiftError {
    /// The exploration exceeded its limits; the program has too many paths.
    #[error("gave up after {steps} instructions and {leaves} paths: the program has too many paths to explore")]
    TooManyPaths {
        /// Instructions executed so far.
        steps: usize,
        /// Paths found so far.
        leaves: usize,
    },
    /// A path runs into an instruction the kernel would refuse.
    #[error("instruction {index}: {reason} (validate the program first)")]
    Invalid {
        /// The instruction.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The instructions a path executed, shared between the paths that
/// branched off it (cloning a state is then O(1) in the path length).
#[derive(Clone, Default)]
struct Trail(Option<std::rc::Rc<(usize, Trail)>>);

impl Trail {
    fn push(&self, pc: usize) -> Trail {
        Trail(Some(std::rc::Rc::new((pc, self.clone()))))
    }

    fn to_vec(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = &self.0;
        while let Some(node) = cur {
            out.push(node.0);
            cur = &node.1 .0;
        }
        out.reverse();
        out
    }
}

/// A symbolic 32-bit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Const(u32),
    /// Word `w` of `seccomp_data`, AND-ed with a mask.
    Word(usize, u32),
    Unknown,
}

#[derive(Clone)]
struct State {
    pc: usize,
    a: Val,
    x: Val,
    mem: [Option<Val>; BPF_MEMWORDS as usize],
    region: Region,
    exact: bool,
    path: Trail,
    /// Set when the path has already ended (a division by zero).
    done: Option<Verdict>,
}

/// Lifts every path of `prog`, 64-bit fields read in `order`.
pub fn lift(prog: &Program, order: ByteOrder, limits: &Limits) -> Result<DecisionTable, LiftError> {
    lift_within(prog, order, any_region(), limits)
}

/// Lifts the paths of `prog` taken by inputs inside `start` only.
pub fn lift_within(
    prog: &Program,
    order: ByteOrder,
    start: Region,
    limits: &Limits,
) -> Result<DecisionTable, LiftError> {
    let mut leaves = Vec::new();
    let mut steps = 0usize;
    let mut stack = vec![State {
        pc: 0,
        a: Val::Const(0),
        x: Val::Const(0),
        mem: [None; BPF_MEMWORDS as usize],
        region: start,
        exact: true,
        path: Trail::default(),
        done: None,
    }];
    while let Some(mut st) = stack.pop() {
        if let Some(verdict) = st.done {
            leaves.push(Leaf {
                region: st.region,
                verdict,
                exact: st.exact,
                path: st.path.to_vec(),
            });
            continue;
        }
        loop {
            steps += 1;
            if steps > limits.max_steps || leaves.len() > limits.max_leaves {
                return Err(LiftError::TooManyPaths {
                    steps,
                    leaves: leaves.len(),
                });
            }
            let pc = st.pc;
            let insn = *prog.insns.get(pc).ok_or(LiftError::Invalid {
                index: pc,
                reason:
                    "execution runs past the end of the program, which the kernel refuses to load",
            })?;
            st.path = st.path.push(pc);
            st.pc += 1;
            let verdict = match step(&mut st, insn, pc, &mut stack)? {
                Flow::Next => continue,
                Flow::Stop => break,
                Flow::Return(v) => v,
            };
            leaves.push(Leaf {
                region: st.region,
                verdict,
                exact: st.exact,
                path: st.path.to_vec(),
            });
            break;
        }
    }
    Ok(DecisionTable { leaves, order })
}

enum Flow {
    Next,
    /// The path is infeasible.
    Stop,
    Return(Verdict),
}

fn operand(st: &State, src: Src) -> Val {
    match src {
        Src::K(k) => Val::Const(k),
        Src::X => st.x,
    }
}

fn step(st: &mut State, insn: Insn, pc: usize, stack: &mut Vec<State>) -> Result<Flow, LiftError> {
    let slot = |k: u32| {
        if k < BPF_MEMWORDS {
            Ok(k as usize)
        } else {
            Err(LiftError::Invalid {
                index: pc,
                reason: "scratch memory index is not below 16",
            })
        }
    };
    let load = |st: &State, k: u32| {
        st.mem[slot(k)?].ok_or(LiftError::Invalid {
            index: pc,
            reason: "reads scratch memory before any write",
        })
    };
    match insn {
        Insn::LdAbs(k) => {
            if k % 4 != 0 || k >= SECCOMP_DATA_SIZE {
                return Err(LiftError::Invalid {
                    index: pc,
                    reason: "load outside struct seccomp_data or unaligned",
                });
            }
            st.a = Val::Word((k / 4) as usize, u32::MAX);
        }
        Insn::LdImm(k) => st.a = Val::Const(k),
        Insn::LdMem(k) => st.a = load(st, k)?,
        Insn::LdLen => st.a = Val::Const(SECCOMP_DATA_SIZE),
        Insn::LdxImm(k) => st.x = Val::Const(k),
        Insn::LdxMem(k) => st.x = load(st, k)?,
        Insn::LdxLen => st.x = Val::Const(SECCOMP_DATA_SIZE),
        Insn::St(k) => st.mem[slot(k)?] = Some(st.a),
        Insn::Stx(k) => st.mem[slot(k)?] = Some(st.x),
        Insn::Tax => st.x = st.a,
        Insn::Txa => st.a = st.x,
        Insn::Neg => {
            st.a = match st.a {
                Val::Const(c) => Val::Const(c.wrapping_neg()),
                _ => unknown(st),
            }
        }
        Insn::Alu(op, src) => return alu(st, op, operand(st, src), stack),
        Insn::Ja(k) => st.pc += k as usize,
        Insn::Jmp { cond, src, jt, jf } => {
            let b = operand(st, src);
            let (t, f) = (st.pc + jt as usize, st.pc + jf as usize);
            return Ok(branch(st, cond, st.a, b, t, f, stack));
        }
        Insn::Ret(k) => return Ok(Flow::Return(Verdict::Ret(k))),
        Insn::RetA => {
            return Ok(Flow::Return(match st.a {
                Val::Const(c) => Verdict::Ret(c),
                _ => Verdict::Unknown,
            }))
        }
    }
    Ok(Flow::Next)
}

fn unknown(st: &mut State) -> Val {
    st.exact = false;
    Val::Unknown
}

fn alu(st: &mut State, op: AluOp, b: Val, stack: &mut Vec<State>) -> Result<Flow, LiftError> {
    // Division by X: a zero divisor ends the filter with 0.
    if op == AluOp::Div {
        match b {
            Val::Const(0) => return Ok(Flow::Return(Verdict::Ret(0))),
            Val::Const(_) => {}
            Val::Word(w, u32::MAX) => {
                let mut zero = st.clone();
                zero.region[w].restrict(&IntervalSet::single(0));
                if zero.region[w].is_feasible() {
                    zero.done = Some(Verdict::Ret(0));
                    stack.push(zero);
                }
                st.region[w].restrict(&IntervalSet::single(0).complement());
                if !st.region[w].is_feasible() {
                    return Ok(Flow::Stop);
                }
                st.a = unknown(st);
                return Ok(Flow::Next);
            }
            _ => {
                // Might be zero: keep both outcomes.
                let mut zero = st.clone();
                zero.exact = false;
                zero.done = Some(Verdict::Ret(0));
                stack.push(zero);
                st.a = unknown(st);
                return Ok(Flow::Next);
            }
        }
    }
    st.a = match (st.a, b) {
        (Val::Const(a), Val::Const(b)) => match op.apply(a, b) {
            Some(v) => Val::Const(v),
            None => return Ok(Flow::Return(Verdict::Ret(0))),
        },
        (Val::Word(w, m), Val::Const(k)) => match op {
            AluOp::And if m & k == 0 => Val::Const(0),
            AluOp::Mul if k == 0 => Val::Const(0),
            AluOp::And => Val::Word(w, m & k),
            AluOp::Or | AluOp::Add | AluOp::Sub | AluOp::Xor | AluOp::Lsh | AluOp::Rsh
                if k == 0 =>
            {
                Val::Word(w, m)
            }
            AluOp::Mul | AluOp::Div if k == 1 => Val::Word(w, m),
            _ => unknown(st),
        },
        (Val::Const(0), _) if matches!(op, AluOp::And | AluOp::Mul | AluOp::Lsh | AluOp::Rsh) => {
            Val::Const(0)
        }
        (Val::Const(k), Val::Word(w, m)) if op == AluOp::And => Val::Word(w, m & k),
        _ => unknown(st),
    };
    Ok(Flow::Next)
}

/// Constrains word `w` (AND-ed with `mask`) for `cond` against constant `k`
/// being `holds`. Returns false when the constrained path is impossible,
/// `None` when the constraint cannot be expressed exactly.
fn constrain(d: &mut WordDomain, mask: u32, cond: JmpCond, k: u32, holds: bool) -> Option<bool> {
    let ok = match (cond, mask == u32::MAX) {
        (JmpCond::Eq, true) => {
            let s = IntervalSet::single(k);
            d.restrict(&if holds { s } else { s.complement() });
            true
        }
        (JmpCond::Gt, true) => {
            let t = IntervalSet::range(k.saturating_add(1), u32::MAX);
            let t = if k == u32::MAX {
                IntervalSet::empty()
            } else {
                t
            };
            d.restrict(&if holds { t.clone() } else { t.complement() });
            true
        }
        (JmpCond::Ge, true) => {
            let t = IntervalSet::range(k, u32::MAX);
            d.restrict(&if holds { t.clone() } else { t.complement() });
            true
        }
        (JmpCond::Eq, false) => {
            if holds {
                d.require_masked(mask, k)
            } else {
                d.exclude_masked(mask, k)
            }
        }
        (JmpCond::Set, _) => {
            if holds {
                d.exclude_masked(k & mask, 0)
            } else {
                d.require_masked(k & mask, 0)
            }
        }
        _ => return None,
    };
    Some(ok && d.is_feasible())
}

/// The condition with its operands swapped, for `k cond word`:
/// `k > w` is `w < k`, i.e. not `w >= k`.
fn swapped(cond: JmpCond, holds: bool) -> (JmpCond, bool) {
    match cond {
        JmpCond::Eq | JmpCond::Set => (cond, holds),
        JmpCond::Gt => (JmpCond::Ge, !holds),
        JmpCond::Ge => (JmpCond::Gt, !holds),
    }
}

fn branch(
    st: &mut State,
    cond: JmpCond,
    a: Val,
    b: Val,
    t: usize,
    f: usize,
    stack: &mut Vec<State>,
) -> Flow {
    if t == f {
        st.pc = t;
        return Flow::Next;
    }
    let word_const = match (a, b) {
        (Val::Const(a), Val::Const(b)) => {
            st.pc = if cond.holds(a, b) { t } else { f };
            return Flow::Next;
        }
        (Val::Word(w, m), Val::Const(k)) => Some((w, m, k, false)),
        (Val::Const(k), Val::Word(w, m))
            if m == u32::MAX || cond == JmpCond::Eq || cond == JmpCond::Set =>
        {
            Some((w, m, k, true))
        }
        _ => None,
    };
    let Some((w, m, k, swap)) = word_const else {
        // Not a comparison with a constant: both ways, inexactly.
        let mut taken = st.clone();
        taken.pc = t;
        taken.exact = false;
        stack.push(taken);
        st.pc = f;
        st.exact = false;
        return Flow::Next;
    };
    let side = |holds| {
        if swap {
            swapped(cond, holds)
        } else {
            (cond, holds)
        }
    };
    // Constrain the compared word for each way first, and copy the state
    // only when both ways are possible: most branches of a path decided by
    // an earlier check have one way only.
    let (ct, ht) = side(true);
    let mut taken_word = st.region[w].clone();
    let taken_ok = constrain(&mut taken_word, m, ct, k, ht);
    let (cf, hf) = side(false);
    let fall_ok = constrain(&mut st.region[w], m, cf, k, hf);
    // `None`: the constraint is not exact; the way is kept, marked inexact.
    let (keep_taken, keep_fall) = (taken_ok != Some(false), fall_ok != Some(false));
    match (keep_taken, keep_fall) {
        (true, true) => {
            let mut taken = st.clone();
            taken.region[w] = taken_word;
            taken.pc = t;
            taken.exact &= taken_ok.is_some();
            stack.push(taken);
            st.pc = f;
            st.exact &= fall_ok.is_some();
            Flow::Next
        }
        (true, false) => {
            st.region[w] = taken_word;
            st.pc = t;
            st.exact &= taken_ok.is_some();
            Flow::Next
        }
        (false, true) => {
            st.pc = f;
            st.exact &= fall_ok.is_some();
            Flow::Next
        }
        (false, false) => Flow::Stop,
    }
}
