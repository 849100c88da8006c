//! Long argument checks, as in tor's relay sandbox (hundreds of
//! `openat(AT_FDCWD, <path>)` and `rename(<old>, <new>)` rules, each path a
//! pointer into the sandbox's frozen strings): runs of one action sharing
//! their first condition test it once (`compile::share`), and a program
//! the plain layout makes too long is laid out with shared trampolines
//! (`compile::compact`). The program must fit the kernel's limit, pass the
//! validator and decide like the reference evaluator.

use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{validate, ByteOrder};
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{CmpOp, Condition, Policy, Rule};

const AT_FDCWD: u64 = 0xffff_ff9c;
const BASE: u64 = 0x7f20_4e7e_7000;

fn path(i: u64) -> u64 {
    BASE + i * 0x2f
}

fn relay_like() -> Policy {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86_64]).unwrap();
    p.rule_add_verbatim(Rule::new("read", Action::Allow));
    for i in 0..600 {
        p.rule_add_verbatim(
            Rule::new("openat", Action::Allow)
                .with(Condition::new(
                    0,
                    CmpOp::MaskedEq {
                        mask: 0xffff_ffff,
                        value: AT_FDCWD,
                    },
                ))
                .with(Condition::new(1, CmpOp::Eq(path(i)))),
        );
    }
    for i in 0..300 {
        p.rule_add_verbatim(
            Rule::new("rename", Action::Allow)
                .with(Condition::new(0, CmpOp::Eq(path(2 * i))))
                .with(Condition::new(1, CmpOp::Eq(path(2 * i + 1)))),
        );
    }
    p
}

fn input(nr: u32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr,
        arch: Arch::X86_64.audit(),
        args,
        ..Default::default()
    }
}

#[test]
fn hundreds_of_path_rules_fit_and_decide_like_the_policy() {
    let p = relay_like();
    let prog = compile(&p, &CompileOptions::default()).expect("fits the kernel's limit");
    assert!(prog.len() <= 4096, "{} instructions", prog.len());
    validate::validate_program(&prog).unwrap();
    let (openat, rename) = (257, 82);
    let mut inputs = vec![input(0, [0; 6]), input(1, [0; 6])];
    for i in 0..620u64 {
        for dfd in [AT_FDCWD, 3, 0xffff_ffff_ffff_ff9c, AT_FDCWD + 1] {
            for pth in [path(i), path(i) + 1, path(i) - 1, path(i) ^ (1 << 32)] {
                inputs.push(input(openat, [dfd, pth, 0, 0, 0, 0]));
            }
        }
        for (old, new) in [
            (path(i), path(i + 1)),
            (path(i + 1), path(i)),
            (path(i), path(i)),
            (path(i) | (1 << 40), path(i + 1)),
        ] {
            inputs.push(input(rename, [old, new, 0, 0, 0, 0]));
        }
    }
    let mut allowed = 0;
    for d in &inputs {
        let want = p.evaluate(d);
        let got = syscage::emu::run(&prog, d, ByteOrder::Little)
            .unwrap()
            .action;
        assert_eq!(got, want, "nr {} args {:x?}", d.nr, d.args);
        allowed += usize::from(want == Action::Allow);
    }
    // The inputs reach both outcomes of every rule.
    assert!(allowed > 900, "{allowed} allowed");
}

mod xorshift;

/// Random rules of two syscalls whose first conditions repeat (so runs of
/// one action share them), with random further conditions and mixed
/// actions: the program decides like the policy on edge values.
#[test]
fn shared_first_conditions_decide_like_the_policy() {
    use syscage::policy::Width;
    let mut rng = xorshift::Rng(0x0005_4a2e_d00d);
    let values = [0u64, 1, 2, 0xffff_ffff, 1 << 32, AT_FDCWD, u64::MAX];
    let actions = [Action::Allow, Action::Log, Action::Errno(13)];
    for case in 0..200 {
        let mut p = Policy::init(Action::Errno(1)).unwrap();
        p.set_arches(vec![Arch::X86_64, Arch::X86]).unwrap();
        let firsts: Vec<Condition> = (0..2)
            .map(|_| Condition::new(rng.below(2) as u8, CmpOp::Eq(rng.pick(&values))))
            .collect();
        for _ in 0..rng.below(12) {
            let mut rule = Rule::new(rng.pick(&["openat", "read"]), rng.pick(&actions))
                .with(rng.pick(&firsts));
            for _ in 0..1 + rng.below(2) {
                let v = rng.pick(&values);
                let op = match rng.below(4) {
                    0 => CmpOp::Eq(v),
                    1 => CmpOp::Ne(v),
                    2 => CmpOp::Le(v),
                    _ => CmpOp::MaskedEq {
                        mask: 0xff,
                        value: v & 0xff,
                    },
                };
                let width = if rng.below(4) == 0 {
                    Width::Bits32
                } else {
                    Width::Bits64
                };
                rule = rule.with(Condition {
                    arg: rng.below(3) as u8,
                    op,
                    width,
                });
            }
            p.rule_add_verbatim(rule);
        }
        let prog = compile(&p, &CompileOptions::default()).unwrap();
        validate::validate_program(&prog).unwrap();
        for _ in 0..300 {
            let arch = rng.pick(&[Arch::X86_64, Arch::X86]);
            let nr = arch.syscall_nr(rng.pick(&["openat", "read"])).unwrap();
            let d = SeccompData {
                nr,
                arch: arch.audit(),
                args: [
                    rng.pick(&values),
                    rng.pick(&values),
                    rng.pick(&values),
                    0,
                    0,
                    0,
                ],
                ..Default::default()
            };
            let got = syscage::emu::run(&prog, &d, ByteOrder::Little)
                .unwrap()
                .action;
            assert_eq!(got, p.evaluate(&d), "case {case}: {d:x?}\n{p:?}");
        }
    }
}
