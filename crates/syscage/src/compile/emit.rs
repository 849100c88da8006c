//! Pass 6a, emission: arch dispatch, then one section per audit arch id
//! (`nr` loaded once, the search tree, argument checks in its leaves),
//! each followed by its shared return pool.
//!
//! ```text
//!   A = arch
//!   if (A == ARCH_1) goto section_1 else goto check_2   ; section 1 follows
//! section_1:
//!   A = nr ; search tree ; argument leaves ; return pool
//! check_2:
//!   if (A == ARCH_2) ... else return BAD_ARCH
//! ```
//!
//! The check of arch `i + 1` follows section `i` and tests the arch again
//! (the accumulator held `arch` when the jump was taken, so no reload).
//! A policy with other-arch rules ends with one more section, for the
//! arches no check matched ([`super::other`]).

use super::args;
use super::decision::{Decision, Decisions};
use super::layout::{Code, Op, Target};
use super::search::Node;
use crate::action::Action;
use crate::bpf::data::{OFF_ARCH, OFF_NR};
use crate::bpf::{ByteOrder, JmpCond};

/// One arch's part of the program.
#[derive(Clone, Debug)]
pub struct Section {
    /// `AUDIT_ARCH_*` value.
    pub audit: u32,
    /// Byte order of the arch.
    pub order: ByteOrder,
    /// The number search.
    pub tree: Node,
}

/// The symbolic program for `sections`; an arch none of them checks gets
/// `bad_arch`, or goes through `other` when the policy has other-arch
/// rules (see [`super::other`]).
pub fn emit(
    sections: &[Section],
    other: Option<&Section>,
    decisions: &Decisions,
    bad_arch: Action,
) -> Code {
    let mut code = Code::default();
    if sections.is_empty() {
        if let Some(o) = other {
            code.push(Op::Ld(OFF_NR));
            node(&mut code, &o.tree, decisions, o.order);
            code.push(Op::Pool);
        } else {
            code.push(Op::Ret(bad_arch.to_ret()));
        }
        return code;
    }
    code.push(Op::Ld(OFF_ARCH));
    let mut other_label = None;
    for (i, s) in sections.iter().enumerate() {
        let body = code.label();
        let other_target = if i + 1 == sections.len() {
            match other {
                Some(_) => {
                    let l = code.label();
                    other_label = Some(l);
                    Target::Label(l)
                }
                None => Target::Ret(bad_arch.to_ret()),
            }
        } else {
            Target::Label(code.label())
        };
        code.push(Op::Jmp {
            cond: JmpCond::Eq,
            k: s.audit,
            jt: Target::Label(body),
            jf: other_target,
        });
        code.push(Op::Place(body));
        code.push(Op::Ld(OFF_NR));
        node(&mut code, &s.tree, decisions, s.order);
        code.push(Op::Pool);
        if let Target::Label(l) = other_target {
            code.push(Op::Place(l));
        }
    }
    if let (Some(o), Some(_)) = (other, other_label) {
        code.push(Op::Ld(OFF_NR));
        node(&mut code, &o.tree, decisions, o.order);
        code.push(Op::Pool);
    }
    code
}

/// Where a jump to `n` goes: an action's shared `RET`, or a new label.
fn target(code: &mut Code, n: &Node, decisions: &Decisions) -> Target {
    match n {
        Node::Leaf(id) => match decisions.get(*id) {
            Decision::Action(a) => Target::Ret(a.to_ret()),
            Decision::Args(_) => Target::Label(code.label()),
        },
        _ => Target::Label(code.label()),
    }
}

/// Emits `n` at the current position.
fn node(code: &mut Code, n: &Node, decisions: &Decisions, order: ByteOrder) {
    let (cond, k, first, second): (JmpCond, u32, &Node, &Node) = match n {
        Node::Leaf(id) => {
            match decisions.get(*id) {
                Decision::Action(a) => code.push(Op::Ret(a.to_ret())),
                Decision::Args(tree) => args::emit(code, tree, order),
            }
            return;
        }
        Node::Ge { k, lo, hi } => (JmpCond::Ge, *k, hi, lo),
        Node::Eq { k, hit, miss } => {
            let leaf = Node::Leaf(*hit);
            let jt = target(code, &leaf, decisions);
            let jf = target(code, miss, decisions);
            code.push(Op::Jmp {
                cond: JmpCond::Eq,
                k: *k,
                jt,
                jf,
            });
            place(code, jf, miss, decisions, order);
            place(code, jt, &leaf, decisions, order);
            return;
        }
    };
    let jt = target(code, first, decisions);
    let jf = target(code, second, decisions);
    code.push(Op::Jmp { cond, k, jt, jf });
    place(code, jf, second, decisions, order);
    place(code, jt, first, decisions, order);
}

fn place(code: &mut Code, t: Target, n: &Node, decisions: &Decisions, order: ByteOrder) {
    if let Target::Label(l) = t {
        code.push(Op::Place(l));
        node(code, n, decisions, order);
    }
}
