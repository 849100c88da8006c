//! The proof on a filter with hundreds of argument rules on one syscall
//! (as tor's sandbox has for `openat` and `rename`): the compiled filter
//! is proven, and policies that differ from it in one constant, one
//! width or one rule are still refused, each with an input where the
//! policy and the filter disagree; and a 64-bit inequality, which holds in
//! two disjoint ways, is not skipped where only its second way holds.

use syscage::action::Action;
use syscage::analyze::verify::{prove, ProofError, VerifyError};
use syscage::arch::Arch;
use syscage::bpf::{Insn, Program};
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{CmpOp, Condition, Policy, Rule};

const AT_FDCWD: u64 = 0xffff_ff9c;
const RULES: u64 = 200;

fn path(k: u64) -> u64 {
    0x7f20_4e7e_7000 + 0x5c * k
}

/// `openat(AT_FDCWD, path(k))` and `rename(path(k), path(k) + 0x30)`
/// allowed for every k, everything else ERRNO(EPERM). `tweak` may change
/// one rule (by index in that order: the openat rules, then the renames).
fn policy(tweak: impl Fn(u64, Rule) -> Option<Rule>) -> Policy {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches([Arch::X86_64]).unwrap();
    p.set_bad_arch_action(Action::KillThread).unwrap();
    let mut i = 0;
    let mut add = |p: &mut Policy, r: Rule| {
        if let Some(r) = tweak(i, r) {
            p.rule_add_verbatim(r);
        }
        i += 1;
    };
    for k in 0..RULES {
        let r = Rule::new("openat", Action::Allow)
            .with(Condition::new32(0, CmpOp::Eq(AT_FDCWD)))
            .with(Condition::new(1, CmpOp::Eq(path(k))));
        add(&mut p, r);
    }
    for k in 0..RULES {
        let r = Rule::new("rename", Action::Allow)
            .with(Condition::new(0, CmpOp::Eq(path(k))))
            .with(Condition::new(1, CmpOp::Eq(path(k) + 0x30)));
        add(&mut p, r);
    }
    p
}

fn program() -> Program {
    compile(&policy(|_, r| Some(r)), &CompileOptions::default()).unwrap()
}

/// The proof of `prog` against `p` fails with a mismatch whose example the
/// policy and the program decide differently.
fn refuted(p: &Policy, prog: &Program, what: &str) -> syscage::bpf::data::SeccompData {
    match prove(p, prog, Arch::X86_64.byte_order()) {
        Err(ProofError::Verify(VerifyError::Mismatch(m))) => {
            let d = m.example;
            let got = syscage::emu::run(prog, &d, Arch::X86_64.byte_order())
                .unwrap()
                .action;
            assert_ne!(got, p.evaluate(&d), "{what}: {m}");
            assert_eq!(p.evaluate(&d).to_string(), m.expected, "{what}");
            d
        }
        other => panic!("{what}: not refuted: {other:?}"),
    }
}

#[test]
fn many_rules_on_one_syscall_prove() {
    assert_eq!(
        prove(
            &policy(|_, r| Some(r)),
            &program(),
            Arch::X86_64.byte_order()
        ),
        Ok(())
    );
}

#[test]
fn one_different_rule_among_many_is_refuted() {
    let prog = program();
    let openat = Arch::X86_64.syscall_nr("openat").unwrap();
    let rename = Arch::X86_64.syscall_nr("rename").unwrap();
    let nth =
        |n: u64, f: fn(Rule) -> Rule| move |i: u64, r: Rule| Some(if i == n { f(r) } else { r });

    // One path constant one byte off (rule 137 of openat).
    let p = policy(nth(137, |mut r| {
        r.conditions[1] = Condition::new(1, CmpOp::Eq(path(137) + 1));
        r
    }));
    let d = refuted(&p, &prog, "openat path off by one");
    assert_eq!(d.nr, openat);
    assert!(
        d.args[1] == path(137) || d.args[1] == path(137) + 1,
        "{d:?}"
    );

    // The same path, but the high word differs.
    let p = policy(nth(60, |mut r| {
        r.conditions[1] = Condition::new(1, CmpOp::Eq(path(60) ^ (1 << 40)));
        r
    }));
    assert_eq!(refuted(&p, &prog, "openat high word").nr, openat);

    // dirfd compared on 64 bits where the filter compares the low word only.
    let p = policy(nth(199, |mut r| {
        r.conditions[0] = Condition::new(0, CmpOp::Eq(AT_FDCWD));
        r
    }));
    let d = refuted(&p, &prog, "openat dirfd width");
    assert_eq!((d.nr, d.args[1]), (openat, path(199)));
    assert_ne!(d.args[0] >> 32, 0);

    // The second condition of a rename rule swapped for a neighbour's.
    let p = policy(nth(RULES + 5, |mut r| {
        r.conditions[1] = Condition::new(1, CmpOp::Eq(path(6) + 0x30));
        r
    }));
    assert_eq!(refuted(&p, &prog, "rename second argument").nr, rename);

    // One rule missing, and one rule's action changed.
    let p = policy(|i, r| (i != RULES + 150).then_some(r));
    assert_eq!(refuted(&p, &prog, "rename rule missing").nr, rename);
    let p = policy(nth(42, |mut r| {
        r.action = Action::Log;
        r
    }));
    assert_eq!(refuted(&p, &prog, "openat action").nr, openat);
}

#[test]
fn one_different_constant_in_the_filter_is_refuted() {
    let p = policy(|_, r| Some(r));
    let prog = program();
    // Every comparison with one of the low words of a path: change it by
    // one in turn (sampled), the proof must fail each time.
    let sites: Vec<usize> = prog
        .insns
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            matches!(i, Insn::Jmp { src: syscage::bpf::Src::K(k), .. } if (0..RULES).any(|j| *k as u64 == path(j) & 0xffff_ffff))
        })
        .map(|(n, _)| n)
        .collect();
    assert!(sites.len() >= 2 * RULES as usize, "{}", sites.len());
    for &n in sites.iter().step_by(37) {
        let mut bad = prog.clone();
        if let Insn::Jmp {
            src: syscage::bpf::Src::K(k),
            ..
        } = &mut bad.insns[n]
        {
            *k += 1;
        }
        refuted(&p, &bad, &format!("constant at {n}"));
    }
}

#[test]
fn a_64_bit_inequality_is_refuted_where_only_its_low_word_differs() {
    // The filter kills `write` unless fd's high word is 1 (whatever the low
    // word); the policy kills it unless fd is exactly 0x1_0000_0005. They
    // differ only where the high word is 1 and the low word is not 5: the
    // first way the inequality can hold (high word not 1) is empty there,
    // the second (high word 1, low word not 5) is not.
    let mut q = Policy::init(Action::Allow).unwrap();
    q.set_arches([Arch::X86_64]).unwrap();
    q.rule_add_verbatim(
        Rule::new("write", Action::KillProcess).with(Condition::new(0, CmpOp::Lt(1 << 32))),
    );
    q.rule_add_verbatim(
        Rule::new("write", Action::KillProcess).with(Condition::new(0, CmpOp::Ge(2 << 32))),
    );
    let prog = compile(&q, &CompileOptions::default()).unwrap();
    let mut p = Policy::init(Action::Allow).unwrap();
    p.set_arches([Arch::X86_64]).unwrap();
    p.rule_add_verbatim(
        Rule::new("write", Action::KillProcess).with(Condition::new(0, CmpOp::Ne(0x1_0000_0005))),
    );
    let d = refuted(&p, &prog, "64-bit inequality");
    assert_eq!(d.args[0] >> 32, 1, "{d:?}");
    assert_ne!(d.args[0], 0x1_0000_0005);
}
