//! Regression from the `lift_verify` fuzz target: a `Mismatch` from
//! `analyze::verify` must carry an example input on which the program and
//! the policy really differ.
//!
//! Found 2026-12-02: for the program `RET A` (returns 0, KILL_THREAD, on
//! every input) and a policy whose `read` rule needs two masked-equality
//! conditions on one argument while a more severe rule on `read` must
//! fail, the mismatch is real but its example has a word the witness
//! search gave up on, set to 0; the policy decides KILL_THREAD there too.
//! Fixed: the witness search is exhaustive past its quick scan.

use syscage::action::Action;
use syscage::analyze::lift::{lift, Limits};
use syscage::analyze::verify::{verify, VerifyError};
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Insn, Program};
use syscage::policy::{CmpOp, Condition, Policy, Rule, SyscallId};

fn masked(arg: u8, mask: u64, value: u64) -> Condition {
    Condition::new(arg, CmpOp::MaskedEq { mask, value })
}

#[test]
fn mismatch_example_really_differs() {
    let mut p = Policy::init(Action::KillThread).unwrap();
    p.set_bad_arch_action(Action::KillThread).unwrap();
    p.set_arches(vec![Arch::Ppc64, Arch::X32, Arch::X86, Arch::S390x])
        .unwrap();
    let m = 6221254864074593878;
    p.rule_add_verbatim(
        Rule::new(SyscallId::Nr(1073742082), Action::KillThread)
            .with(masked(2, m, m))
            .with(Condition::new(2, CmpOp::Ne(0))),
    );
    p.rule_add_verbatim(
        Rule::new("read", Action::Trap(0))
            .with(masked(2, 6221254863621609046, 6221254862933743190))
            .with(masked(2, 6148845426315777622, 1414812756)),
    );
    p.rule_add_verbatim(
        Rule::new(SyscallId::Nr(1073742082), Action::KillThread)
            .with(masked(2, 6221204286539716182, 6221160306074605142))
            .with(masked(2, 3327647950551537238, 3327647950551516678)),
    );
    p.rule_add_verbatim(
        Rule::new(SyscallId::Nr(1073741962), Action::KillThread)
            .with(Condition::new(4, CmpOp::Ne(0)))
            .with(Condition::new(0, CmpOp::Eq(0))),
    );
    p.rule_add_verbatim(
        Rule::new("read", Action::Allow)
            .with(masked(4, 3327647950551526958, 434041037028470318))
            .with(masked(2, m, m)),
    );
    p.rule_add_verbatim(
        Rule::new(SyscallId::Nr(1073742082), Action::KillThread)
            .with(masked(2, m, m))
            .with(masked(2, 14195627506191980118, 4899916396027598422)),
    );
    let prog = Program::new(vec![Insn::RetA]);
    // The mismatch is real: here the program kills and the policy allows.
    let real = syscage::bpf::data::SeccompData {
        nr: 3,
        arch: Arch::Ppc64.audit(),
        instruction_pointer: 0,
        args: [0, 0, m, 0, 434041037028470318, 0],
    };
    assert_eq!(p.evaluate(&real), Action::Allow);
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let table = lift(&prog, order, &Limits::default()).unwrap();
        match verify(&p, &table) {
            Err(VerifyError::Mismatch(mm)) => {
                let d = mm.example;
                let got = syscage::emu::run(&prog, &d, order).unwrap().action;
                assert_ne!(got, p.evaluate(&d), "{order:?}: example agrees: {mm}");
            }
            other => panic!("{order:?}: expected a mismatch, got {other:?}"),
        }
    }
}

/// `prove` reads the whole lifted table in one byte order, so a correct
/// program for a policy mixing little- and big-endian arches (x86_64 and
/// s390x) with a 64-bit argument condition is reported as a mismatch on
/// the other arch (`syscage compile` then refuses it as an internal error).
/// Fixed: each named arch's words are read in that arch's byte order.
#[test]
fn proof_of_a_mixed_byte_order_policy() {
    use syscage::compile::{compile, CompileOptions};
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86_64, Arch::S390x]).unwrap();
    p.rule_add_verbatim(
        Rule::new("write", Action::Allow).with(Condition::new(0, CmpOp::Eq(1 << 32))),
    );
    let prog = compile(&p, &CompileOptions::default()).unwrap();
    let r = syscage::analyze::verify::prove(&p, &prog, Arch::X86_64.byte_order());
    assert_eq!(r, Ok(()));
}
