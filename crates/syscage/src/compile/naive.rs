//! The naive lowering: the most straightforward correct seccomp-BPF for a
//! [`Policy`], the yardstick the optimizing [`compile`](super::compile) is
//! checked against (gVisor checks its `seccomp` optimizer the same way,
//! against an unoptimized rendering of the same rules).
//!
//! Nothing is merged, searched or shared:
//!
//! 1. load `arch`; one `JEQ` per audit id of the policy, else `RET` the
//!    bad-arch action (`SCMP_FLTATR_ACT_BADARCH`), or with other-arch
//!    rules a `JEQ` per number they name and their rules;
//! 2. on `AUDIT_ARCH_X86_64`, `nr == -1` and x32's numbers (from bit 30
//!    up, the arch module's [`X86_64_CLASS_RANGES`]) pick x86_64 or x32
//!    exactly as [`Policy::arch_for`] does;
//! 3. per arch: load `nr`; one `JEQ` per number a rule names (names
//!    resolved by the compiler's [`resolve`](super::resolve) pass); then,
//!    when the policy has an unknown-syscall action, one `JEQ` per number
//!    of the arch's table (those take the default action), else the
//!    unknown-syscall action; without one, the default action (number
//!    ranges, most severe first, before either);
//! 4. per named number: its rules most severe first, each an AND of its
//!    conditions, each condition lowered on the two 32-bit halves of the
//!    argument directly (`SCMP_A0` .. `SCMP_A5`; only the low half for
//!    [`Width::Bits32`] and on arches whose arguments are 32 bits wide,
//!    constants cut to their low word); the first rule whose conditions
//!    all hold returns its action, else the default action.
//!
//! Every branch is a conditional jump over one `JA` (offsets of 0 and 1),
//! so no jump is ever out of reach; the cost is size. More than 4096
//! instructions (`BPF_MAXINSNS`) is [`CompileError::TooLong`].

use super::resolve::{resolve, ArchRules};
use super::CompileError;
use crate::action::Action;
use crate::arch::X86_64Class;
use crate::arch::{x86_64_class, Arch, X86_64_CLASS_RANGES};
use crate::bpf::data::{arg_offset, Half, OFF_ARCH, OFF_NR};
use crate::bpf::insn::BPF_MAXINSNS;
use crate::bpf::{AluOp, ByteOrder, Insn, JmpCond, Program, Src};
use crate::policy::{CmpOp, Condition, Policy, Rule, Width};

/// Lowers `policy` without optimizing: the reference program the
/// optimizing compiler is compared with (every arch of the policy).
pub fn compile_naive(policy: &Policy) -> Result<Program, CompileError> {
    let mut arches: Vec<Arch> = Vec::new();
    for &a in policy.arches() {
        if !arches.contains(&a) {
            arches.push(a);
        }
    }
    let resolved = resolve(policy, &arches, &mut Vec::new());
    let mut c = Code::default();
    let bad = c.label();
    let arch_label: Vec<(Arch, Label)> = arches.iter().map(|&a| (a, c.label())).collect();
    let label_of = |a: Arch| arch_label.iter().find(|(b, _)| *b == a).map(|&(_, l)| l);

    // 1. Arch dispatch, one check per audit id.
    c.push(Op::Ld(OFF_ARCH));
    let mut audits: Vec<(u32, Label)> = Vec::new();
    for &a in &arches {
        if audits.iter().all(|&(au, _)| au != a.audit()) {
            let l = c.label();
            audits.push((a.audit(), l));
            c.branch(JmpCond::Eq, a.audit(), true, l);
        }
    }
    unlisted(&mut c, policy);

    // 2. Per audit id: the arch that owns each number.
    for &(audit, l) in &audits {
        c.place(l);
        if audit != Arch::X86_64.audit() {
            let first = arches.iter().find(|a| a.audit() == audit);
            let target = first.and_then(|&a| label_of(a)).unwrap_or(bad);
            c.push(Op::Goto(target));
            continue;
        }
        let native = label_of(Arch::X86_64);
        let x32 = label_of(Arch::X32);
        let owner = |class: X86_64Class| -> Label { class.owner(native, x32).unwrap_or(bad) };
        let x32_lo = X86_64_CLASS_RANGES[1].0;
        let minus_one = X86_64_CLASS_RANGES[2].0;
        c.push(Op::Ld(OFF_NR));
        c.branch(JmpCond::Eq, minus_one, true, owner(x86_64_class(minus_one)));
        c.branch(JmpCond::Ge, x32_lo, true, owner(x86_64_class(x32_lo)));
        c.push(Op::Goto(owner(x86_64_class(0))));
    }
    c.place(bad);
    unlisted(&mut c, policy);

    // 3 and 4. Per arch: number dispatch, then each number's rules.
    for (ar, &(_, l)) in resolved.iter().zip(&arch_label) {
        c.place(l);
        arch_section(&mut c, policy, ar);
    }
    c.assemble()
}

/// What an arch the policy does not handle gets: the bad-arch action, or
/// with other-arch rules one `JEQ` per number they name and each number's
/// rules, most severe first (64-bit arguments, the first arch's byte
/// order, as the optimizing compiler lays them out), else the bad-arch
/// action.
fn unlisted(c: &mut Code, policy: &Policy) {
    let bad = policy.bad_arch_action();
    if policy.other_rules().is_empty() {
        c.push(Op::Ret(bad));
        return;
    }
    let order = policy
        .arches()
        .first()
        .map_or(ByteOrder::Little, |a| a.byte_order());
    let mut by_nr: std::collections::BTreeMap<u32, Vec<&Rule>> = Default::default();
    for r in policy.other_rules() {
        if let Some(nr) = r.syscall.resolve(Arch::X86_64) {
            by_nr.entry(nr).or_default().push(r);
        }
    }
    c.push(Op::Ld(OFF_NR));
    let labels: Vec<Label> = by_nr.keys().map(|_| c.label()).collect();
    for (&nr, &l) in by_nr.keys().zip(&labels) {
        c.branch(JmpCond::Eq, nr, true, l);
    }
    c.push(Op::Ret(bad));
    for (rules, l) in by_nr.into_values().zip(labels) {
        c.place(l);
        let mut rules = rules;
        rules.sort_by_key(|r| std::cmp::Reverse(r.action));
        for rule in rules {
            let next = c.label();
            for cond in &rule.conditions {
                condition(c, *cond, true, order, next);
            }
            c.push(Op::Ret(rule.action));
            c.place(next);
        }
        c.push(Op::Ret(bad));
    }
}

/// The number dispatch and rule chains of one arch.
fn arch_section(c: &mut Code, policy: &Policy, ar: &ArchRules<'_>) {
    c.push(Op::Ld(OFF_NR));
    let nr_labels: Vec<(u32, Label)> = ar.by_nr.keys().map(|&nr| (nr, c.label())).collect();
    for &(nr, l) in &nr_labels {
        c.branch(JmpCond::Eq, nr, true, l);
    }
    // Number ranges, most severe first: the first that covers decides.
    let mut ranges: Vec<_> = policy
        .number_ranges()
        .iter()
        .filter(|r| r.arch.is_none_or(|a| a == ar.arch))
        .collect();
    ranges.sort_by_key(|r| std::cmp::Reverse(r.action));
    for r in ranges {
        let next = c.label();
        c.branch(JmpCond::Ge, r.lo, false, next);
        if let Some(above) = r.hi.checked_add(1) {
            c.branch(JmpCond::Ge, above, true, next);
        }
        c.push(Op::Ret(r.action));
        c.place(next);
    }
    match policy.unknown_action() {
        Some(unknown) if unknown != policy.default_action() => {
            let known = c.label();
            for s in ar.arch.syscalls() {
                c.branch(JmpCond::Eq, s.nr, true, known);
            }
            c.push(Op::Ret(unknown));
            c.place(known);
            c.push(Op::Ret(policy.default_action()));
        }
        _ => c.push(Op::Ret(policy.default_action())),
    }
    let order = ar.arch.byte_order();
    for (rules, &(_, l)) in ar.by_nr.values().zip(&nr_labels) {
        c.place(l);
        let mut rules: Vec<&Rule> = rules.clone();
        rules.sort_by_key(|r| std::cmp::Reverse(r.action));
        for rule in rules {
            let next = c.label();
            for cond in &rule.conditions {
                condition(c, *cond, ar.wide, order, next);
            }
            c.push(Op::Ret(rule.action));
            c.place(next);
        }
        c.push(Op::Ret(policy.default_action()));
    }
}

/// Falls through when `cond` holds, else jumps to `fail`.
fn condition(c: &mut Code, cond: Condition, wide: bool, order: ByteOrder, fail: Label) {
    let lo_off = arg_offset(cond.arg, Half::Low, order);
    if !wide || cond.width == Width::Bits32 {
        let op = cond.op.low32();
        c.push(Op::Ld(lo_off));
        word_test(c, op, fail);
        return;
    }
    let hi_off = arg_offset(cond.arg, Half::High, order);
    let ok = c.label();
    let half = |v: u64| ((v >> 32) as u32, v as u32);
    match cond.op {
        CmpOp::Eq(v) => {
            let (vh, vl) = half(v);
            c.push(Op::Ld(hi_off));
            c.branch(JmpCond::Eq, vh, false, fail);
            c.push(Op::Ld(lo_off));
            c.branch(JmpCond::Eq, vl, false, fail);
        }
        CmpOp::Ne(v) => {
            let (vh, vl) = half(v);
            c.push(Op::Ld(hi_off));
            c.branch(JmpCond::Eq, vh, false, ok);
            c.push(Op::Ld(lo_off));
            c.branch(JmpCond::Eq, vl, true, fail);
        }
        CmpOp::Gt(v) | CmpOp::Ge(v) => {
            let (vh, vl) = half(v);
            let low = if matches!(cond.op, CmpOp::Gt(_)) {
                JmpCond::Gt
            } else {
                JmpCond::Ge
            };
            c.push(Op::Ld(hi_off));
            c.branch(JmpCond::Gt, vh, true, ok);
            c.branch(JmpCond::Eq, vh, false, fail);
            c.push(Op::Ld(lo_off));
            c.branch(low, vl, false, fail);
        }
        // arg < v is !(arg >= v); arg <= v is !(arg > v).
        CmpOp::Lt(v) | CmpOp::Le(v) => {
            let (vh, vl) = half(v);
            let low = if matches!(cond.op, CmpOp::Lt(_)) {
                JmpCond::Ge
            } else {
                JmpCond::Gt
            };
            c.push(Op::Ld(hi_off));
            c.branch(JmpCond::Gt, vh, true, fail);
            c.branch(JmpCond::Eq, vh, false, ok);
            c.push(Op::Ld(lo_off));
            c.branch(low, vl, true, fail);
        }
        CmpOp::MaskedEq { mask, value } => {
            let (mh, ml) = half(mask);
            let (vh, vl) = half(value);
            c.push(Op::Ld(hi_off));
            c.push(Op::And(mh));
            c.branch(JmpCond::Eq, vh, false, fail);
            c.push(Op::Ld(lo_off));
            c.push(Op::And(ml));
            c.branch(JmpCond::Eq, vl, false, fail);
        }
    }
    c.place(ok);
}

/// Falls through when the loaded 32-bit word satisfies `op` (constants
/// already 32 bits), else jumps to `fail`.
fn word_test(c: &mut Code, op: CmpOp, fail: Label) {
    let v = |x: u64| x as u32;
    match op {
        CmpOp::Eq(x) => c.branch(JmpCond::Eq, v(x), false, fail),
        CmpOp::Ne(x) => c.branch(JmpCond::Eq, v(x), true, fail),
        CmpOp::Gt(x) => c.branch(JmpCond::Gt, v(x), false, fail),
        CmpOp::Ge(x) => c.branch(JmpCond::Ge, v(x), false, fail),
        CmpOp::Lt(x) => c.branch(JmpCond::Ge, v(x), true, fail),
        CmpOp::Le(x) => c.branch(JmpCond::Gt, v(x), true, fail),
        CmpOp::MaskedEq { mask, value } => {
            c.push(Op::And(v(mask)));
            c.branch(JmpCond::Eq, v(value), false, fail);
        }
    }
}

type Label = usize;

/// One symbolic instruction of the naive lowering.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `A = seccomp_data[k]`.
    Ld(u32),
    /// `A &= k`.
    And(u32),
    /// `if ((A cond k) == when) goto target`: a jump over a `JA`.
    Branch {
        cond: JmpCond,
        k: u32,
        when: bool,
        target: Label,
    },
    /// `goto target` (`JA`).
    Goto(Label),
    /// `return action`.
    Ret(Action),
    /// Marks the position of a label.
    Place(Label),
}

#[derive(Default)]
struct Code {
    ops: Vec<Op>,
    labels: usize,
}

impl Code {
    fn label(&mut self) -> Label {
        self.labels += 1;
        self.labels - 1
    }

    fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    fn place(&mut self, l: Label) {
        self.ops.push(Op::Place(l));
    }

    fn branch(&mut self, cond: JmpCond, k: u32, when: bool, target: Label) {
        self.ops.push(Op::Branch {
            cond,
            k,
            when,
            target,
        });
    }

    /// Instructions of one op: a branch is a conditional jump and a `JA`.
    fn size(op: &Op) -> usize {
        match op {
            Op::Place(_) => 0,
            Op::Branch { .. } => 2,
            _ => 1,
        }
    }

    /// Places every label, then writes the instructions. Every jump goes
    /// forward (labels are placed after their uses by construction).
    fn assemble(self) -> Result<Program, CompileError> {
        let mut at = vec![usize::MAX; self.labels];
        let mut pc = 0;
        for op in &self.ops {
            if let Op::Place(l) = op {
                at[*l] = pc;
            }
            pc += Self::size(op);
        }
        if pc > BPF_MAXINSNS {
            return Err(CompileError::TooLong(pc));
        }
        let ja = |from: usize, l: Label| -> Insn {
            let to = at[l];
            assert!(
                to != usize::MAX && to > from,
                "naive lowering: label {l} is unplaced or behind instruction {from}"
            );
            Insn::Ja((to - from - 1) as u32)
        };
        let mut out = Vec::with_capacity(pc);
        for op in &self.ops {
            let here = out.len();
            match *op {
                Op::Ld(k) => out.push(Insn::LdAbs(k)),
                Op::And(k) => out.push(Insn::Alu(AluOp::And, Src::K(k))),
                Op::Branch {
                    cond,
                    k,
                    when,
                    target,
                } => {
                    // Holds == when: fall into the JA; else skip it.
                    let (jt, jf) = if when { (0, 1) } else { (1, 0) };
                    out.push(Insn::Jmp {
                        cond,
                        src: Src::K(k),
                        jt,
                        jf,
                    });
                    out.push(ja(here + 1, target));
                }
                Op::Goto(target) => out.push(ja(here, target)),
                Op::Ret(a) => out.push(Insn::Ret(a.to_ret())),
                Op::Place(_) => {}
            }
        }
        Ok(Program::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::compile_naive;
    use crate::action::Action;
    use crate::arch::{x32_nr, Arch};
    use crate::bpf::data::SeccompData;
    use crate::bpf::validate::validate_program;
    use crate::policy::{CmpOp, Condition, Policy, Rule};

    fn run(p: &Policy, arch: Arch, nr: u32, a0: u64) -> Action {
        let prog = compile_naive(p).unwrap();
        validate_program(&prog).unwrap();
        let d = SeccompData {
            nr,
            arch: arch.audit(),
            args: [a0, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        let got = crate::emu::run(&prog, &d, arch.byte_order())
            .unwrap()
            .action;
        assert_eq!(got, p.evaluate(&d), "{arch} nr {nr:#x} a0 {a0:#x}");
        got
    }

    #[test]
    fn x86_64_with_x32_and_unknown_numbers() {
        let mut p = Policy::init(Action::Errno(1)).unwrap();
        p.set_arches(vec![Arch::X86_64, Arch::X32]).unwrap();
        p.set_unknown_action(Some(Action::Errno(38))).unwrap();
        p.rule_add_verbatim(Rule::new("read", Action::Allow));
        p.rule_add_verbatim(
            Rule::new("write", Action::KillThread).with(Condition::new(0, CmpOp::Gt(1 << 32))),
        );
        assert_eq!(run(&p, Arch::X86_64, 0, 0), Action::Allow);
        assert_eq!(run(&p, Arch::X86_64, x32_nr(0), 0), Action::Allow);
        assert_eq!(run(&p, Arch::X86_64, 1, 1 << 32), Action::Errno(1));
        assert_eq!(run(&p, Arch::X86_64, 1, (1 << 32) + 1), Action::KillThread);
        assert_eq!(run(&p, Arch::X86_64, 9999, 0), Action::Errno(38));
        assert_eq!(run(&p, Arch::X86_64, u32::MAX, 0), Action::Errno(38));
        assert_eq!(run(&p, Arch::Aarch64, 0, 0), Action::KillProcess);
    }

    #[test]
    fn too_long_is_an_error() {
        let mut p = Policy::init(Action::Allow).unwrap();
        p.set_arches(vec![Arch::X86_64]).unwrap();
        for nr in 0..3000 {
            p.rule_add_verbatim(Rule::new(
                crate::policy::SyscallId::Nr(nr),
                Action::Errno(1),
            ));
        }
        assert!(matches!(
            compile_naive(&p),
            Err(crate::compile::CompileError::TooLong(_))
        ));
    }
}
