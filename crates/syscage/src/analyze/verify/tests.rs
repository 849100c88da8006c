use super::*;
use crate::analyze::lift::{lift, Limits};
use crate::arch::x32_nr;
use crate::bpf::{Insn, JmpCond, Program, Src};
use crate::policy::{CmpOp, Condition, Rule};

/// libseccomp 2.5's allowlist filter for x86_64 (x32 numbers but -1 go
/// to the bad-arch action).
fn allowlist() -> Program {
    Program::new(vec![
        Insn::LdAbs(4),
        Insn::jeq(0xc000_003e, 0, 9),
        Insn::LdAbs(0),
        Insn::Jmp {
            cond: JmpCond::Ge,
            src: Src::K(x32_nr(0)),
            jt: 0,
            jf: 1,
        },
        Insn::jeq(u32::MAX, 0, 6),
        Insn::jeq(1, 4, 0),
        Insn::jeq(3, 3, 0),
        Insn::jeq(32, 2, 0),
        Insn::jeq(60, 1, 0),
        Insn::Ret(0x0005_0005),
        Insn::Ret(0x7fff_0000),
        Insn::Ret(0),
    ])
}

fn policy(close: Action) -> Policy {
    let mut p = Policy::init(Action::Errno(5)).unwrap();
    p.set_arches(vec![Arch::X86_64]).unwrap();
    p.set_bad_arch_action(Action::KillThread).unwrap();
    for (name, action) in [
        ("write", Action::Allow),
        ("close", close),
        ("dup", Action::Allow),
        ("exit", Action::Allow),
    ] {
        p.rule_add_verbatim(Rule::new(name, action));
    }
    p
}

#[test]
fn proves_and_refutes() {
    let table = lift(&allowlist(), ByteOrder::Little, &Limits::default()).unwrap();
    assert_eq!(verify(&policy(Action::Allow), &table), Ok(()));
    match verify(&policy(Action::Errno(1)), &table) {
        Err(VerifyError::Mismatch(m)) => {
            assert_eq!(m.example.nr, 3);
            assert_eq!(m.expected, "ERRNO(1)");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn argument_conditions() {
    // write allowed only when fd (arg 0, 64-bit) == 1.
    let prog = Program::new(vec![
        Insn::LdAbs(4),
        Insn::jeq(0xc000_003e, 0, 6),
        Insn::LdAbs(0),
        Insn::jeq(1, 0, 4),
        Insn::LdAbs(20), // high word of args[0]
        Insn::jeq(0, 0, 2),
        Insn::LdAbs(16),
        Insn::jeq(1, 1, 0),
        Insn::Ret(0x0005_0001),
        Insn::Ret(0x7fff_0000),
    ]);
    // Every other arch also gets ERRNO(1) here (jump to index 8).
    let table = lift(&prog, ByteOrder::Little, &Limits::default()).unwrap();
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86_64, Arch::X32]).unwrap();
    p.set_bad_arch_action(Action::Errno(1)).unwrap();
    // x32 has write too (0x40000001): the program only allows x86_64's.
    p.rule_add_verbatim(
        Rule::new("write", Action::Allow)
            .with(Condition::new(0, CmpOp::Eq(1)))
            .on_arch(Arch::X86_64),
    );
    assert_eq!(verify(&p, &table), Ok(()));
    let mut q = p.clone();
    let mut first = true;
    q.rules_retain_mut(|rule| {
        if std::mem::take(&mut first) {
            rule.conditions[0] = Condition::new(0, CmpOp::Le(1));
        }
        true
    });
    assert!(matches!(verify(&q, &table), Err(VerifyError::Mismatch(m)) if m.example.args[0] == 0));
    let mut r = p.clone();
    let mut first = true;
    r.rules_retain_mut(|rule| {
        if std::mem::take(&mut first) {
            rule.conditions[0] = Condition::new32(0, CmpOp::Eq(1));
        }
        true
    });
    assert!(
        matches!(verify(&r, &table), Err(VerifyError::Mismatch(m)) if m.example.args[0] >> 32 != 0)
    );
}

/// s390x's `write` allowed when fd (arg 0, 64-bit) == 1 << 32, x86_64's
/// when fd == 1: each section reads the halves where its kernel puts them.
fn mixed_order_program() -> Program {
    Program::new(vec![
        Insn::LdAbs(4),
        Insn::jeq(0xc000_003e, 0, 6),
        Insn::LdAbs(0),
        Insn::jeq(1, 0, 11),
        Insn::LdAbs(20), // x86_64: high word of args[0]
        Insn::jeq(0, 0, 9),
        Insn::LdAbs(16), // low word
        Insn::jeq(1, 8, 7),
        Insn::jeq(0x8000_0016, 0, 6), // s390x
        Insn::LdAbs(0),
        Insn::jeq(4, 0, 4),
        Insn::LdAbs(16), // s390x: high word of args[0]
        Insn::jeq(1, 0, 2),
        Insn::LdAbs(20), // low word
        Insn::jeq(0, 1, 0),
        Insn::Ret(0x0005_0001),
        Insn::Ret(0x7fff_0000),
    ])
}

fn mixed_order_policy(s390x_fd: u64) -> Policy {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches([Arch::X86_64, Arch::S390x]).unwrap();
    p.set_bad_arch_action(Action::Errno(1)).unwrap();
    p.rule_add_verbatim(
        Rule::new("write", Action::Allow)
            .with(Condition::new(0, CmpOp::Eq(1)))
            .on_arch(Arch::X86_64),
    );
    p.rule_add_verbatim(
        Rule::new("write", Action::Allow)
            .with(Condition::new(0, CmpOp::Eq(s390x_fd)))
            .on_arch(Arch::S390x),
    );
    p
}

#[test]
fn each_arch_in_its_byte_order() {
    let prog = mixed_order_program();
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let table = lift(&prog, order, &Limits::default()).unwrap();
        assert_eq!(verify(&mixed_order_policy(1 << 32), &table), Ok(()));
        // The wrong constant on s390x: the example is an s390x input the
        // program, run in s390x's byte order, decides otherwise.
        let p = mixed_order_policy(1);
        match verify(&p, &table) {
            Err(VerifyError::Mismatch(m)) => {
                let d = m.example;
                assert_eq!(d.arch, Arch::S390x.audit());
                assert_eq!(data_order(&p, &table, d.arch), ByteOrder::Big);
                let got = crate::emu::run(&prog, &d, ByteOrder::Big).unwrap().action;
                assert_ne!(got, p.evaluate(&d), "{m}");
            }
            other => panic!("{order:?}: {other:?}"),
        }
    }
}

#[test]
fn example_past_the_quick_witness_scan() {
    // `exit`'s low word of arg 0 must avoid 511 of the 512 residues of its
    // low 9 bits (the KILL_PROCESS rules, which the program agrees with)
    // and be at least 0x100 (ALLOW, which it does not): the least such
    // value, 0x2ff, is 511 values past where a scan from 0x100 starts.
    let prog = Program::new(vec![Insn::Ret(0x8000_0000)]);
    let table = lift(&prog, ByteOrder::Little, &Limits::default()).unwrap();
    let mut p = Policy::init(Action::KillProcess).unwrap();
    p.set_arches([Arch::X86_64]).unwrap();
    for r in (0..0x200u64).filter(|&r| r != 0xff) {
        p.rule_add_verbatim(
            Rule::new("exit", Action::KillProcess).with(Condition::new32(
                0,
                CmpOp::MaskedEq {
                    mask: 0x1ff,
                    value: r,
                },
            )),
        );
    }
    p.rule_add_verbatim(
        Rule::new("exit", Action::Allow).with(Condition::new32(0, CmpOp::Ge(0x100))),
    );
    match verify(&p, &table) {
        Err(VerifyError::Mismatch(m)) => {
            assert_eq!(m.example.args[0], 0x2ff, "{m}");
            assert_eq!(p.evaluate(&m.example), Action::Allow);
        }
        other => panic!("{other:?}"),
    }
}
