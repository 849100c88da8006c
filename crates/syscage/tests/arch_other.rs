//! Other-arch rules (`arch other { … }`): what a policy decides for the
//! arches it does not list, by syscall number and argument. The language
//! reads and prints them (names refused with `file:line:col`), the
//! compiler (optimizing and naive) decides like the reference evaluator on
//! random policies and inputs, the proof accepts the compiled program, and
//! the profile writers refuse what a profile cannot say.

mod xorshift;

use syscage::action::Action;
use syscage::analyze::verify::prove;
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::bpf::data::SeccompData;
use syscage::bpf::validate::validate_program;
use syscage::compile::{compile, compile_naive, CompileOptions};
use syscage::policy::{CmpOp, Condition, Policy, Width};
use syscage::profile::lang::{self, NoIncludes};
use xorshift::Rng;

const FIREJAIL_LIKE: &str = "\
arches x86_64
default errno(EPERM)
bad-arch allow
allow socket, read
arch other {
    errno(EOPNOTSUPP) 0x167 if (u32)arg0 not in {1, 2}
    kill-thread 0x167 if arg1 == 0x100000000 && (u32)arg0 == 7
    trap 3
}
";

fn data(audit: u32, nr: u32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr,
        arch: audit,
        args,
        ..Default::default()
    }
}

#[test]
fn the_section_reads_prints_and_decides_by_number_and_argument() {
    let p = lang::parse("f.policy", FIREJAIL_LIKE, &mut NoIncludes).unwrap();
    let x86 = Arch::X86.audit();
    let on = |nr, a0, a1| p.evaluate(&data(x86, nr, [a0, a1, 0, 0, 0, 0]));
    assert_eq!(on(0x167, 1, 0), Action::Allow);
    assert_eq!(on(0x167, 1 << 32 | 2, 0), Action::Allow);
    assert_eq!(on(0x167, 0, 0), Action::Errno(95));
    assert_eq!(on(0x167, 7, 1 << 32), Action::KillThread);
    assert_eq!(on(3, 0, 0), Action::Trap(0));
    assert_eq!(on(4, 0, 0), Action::Allow);
    // Listed arches keep their own rules.
    let x86_64 = Arch::X86_64.audit();
    assert_eq!(p.evaluate(&data(x86_64, 0x167, [0; 6])), Action::Errno(1));
    // x32's numbers on x86_64's id, x32 not listed: an other arch.
    assert_eq!(
        p.evaluate(&data(x86_64, X32_SYSCALL_BIT | 3, [0; 6])),
        Action::Allow
    );
    let text = lang::print(&p);
    assert!(text.contains("\narch other {\n"), "{text}");
    assert_eq!(lang::parse("g.policy", &text, &mut NoIncludes).unwrap(), p);
}

#[test]
fn names_groups_ranges_and_parameter_names_are_refused_where_written() {
    for (body, at, words) in [
        (
            "allow socket",
            "3:11",
            "syscall name `socket` in `arch other`",
        ),
        (
            "allow @basic-io",
            "3:11",
            "group `@basic-io` in `arch other`",
        ),
        ("allow unnamed 1..=5", "3:11", "`unnamed` in `arch other`"),
        (
            "allow 41 if family == 1",
            "3:17",
            "`family` is not a parameter of a syscall given by number",
        ),
        ("allow 41 if arg6 == 1", "3:17", "arguments arg0 to arg5"),
        ("allow 41 if arg0 & 1 == 2", "3:17", "never holds"),
    ] {
        let text = format!("default allow\narch other {{\n    {body}\n}}\n");
        let e = lang::parse("o.policy", &text, &mut NoIncludes)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("o.policy:{at}:")), "{body}: {e}");
        assert!(e.contains(words), "{body}: {e}");
    }
    let unclosed = lang::parse("o.policy", "default allow\narch other {\n", &mut NoIncludes)
        .unwrap_err()
        .to_string();
    assert!(unclosed.contains("`}`"), "{unclosed}");
}

#[test]
fn docker_and_oci_writers_refuse_the_section() {
    let p = lang::parse("f.policy", FIREJAIL_LIKE, &mut NoIncludes).unwrap();
    for e in [
        syscage::profile::write_docker(&p).unwrap_err(),
        syscage::profile::write_oci(&p).unwrap_err(),
    ] {
        let msg = e.to_string();
        assert!(
            msg.contains("arch other") && msg.contains("the arches the policy does not list"),
            "{msg}"
        );
    }
}

fn random_condition(rng: &mut Rng) -> Condition {
    let edges = [0u64, 1, 2, 7, 0xffff_ffff, 1 << 32, u64::MAX, 0x8000_0000];
    let v = rng.pick(&edges);
    let op = match rng.below(7) {
        0 => CmpOp::Eq(v),
        1 => CmpOp::Ne(v),
        2 => CmpOp::Lt(v),
        3 => CmpOp::Le(v),
        4 => CmpOp::Gt(v),
        5 => CmpOp::Ge(v),
        _ => {
            let mask = rng.pick(&[1u64, 0xff, 0xffff_0000_0000, u64::MAX]);
            CmpOp::MaskedEq {
                mask,
                value: v & mask,
            }
        }
    };
    let width = if rng.below(3) == 0 {
        Width::Bits32
    } else {
        Width::Bits64
    };
    Condition {
        arg: rng.below(3) as u8,
        op,
        width,
    }
}

fn random_policy(rng: &mut Rng) -> Policy {
    let actions = [
        Action::Allow,
        Action::Errno(1),
        Action::Errno(95),
        Action::KillThread,
        Action::Log,
        Action::Trap(0),
    ];
    let mut p = Policy::init(rng.pick(&actions)).unwrap();
    let arches = [
        vec![Arch::X86_64],
        vec![Arch::X86_64, Arch::X86],
        vec![Arch::X32],
        vec![Arch::Aarch64],
        vec![],
    ];
    let which = rng.below(arches.len() as u64) as usize;
    p.set_arches(arches[which].clone()).unwrap();
    p.set_bad_arch_action(rng.pick(&actions)).unwrap();
    for _ in 0..rng.below(4) {
        if let Some(&a) = p.arches().first() {
            let name = rng.pick(&["read", "socket", "close"]);
            let conds: Vec<Condition> = (0..rng.below(3)).map(|_| random_condition(rng)).collect();
            let _ = p.rule_add_arch(a, rng.pick(&actions), name, &conds);
        }
    }
    let numbers = [0u32, 3, 0x167, X32_SYSCALL_BIT | 3, u32::MAX];
    for _ in 0..1 + rng.below(6) {
        let conds: Vec<Condition> = (0..rng.below(3)).map(|_| random_condition(rng)).collect();
        p.other_rule_add(rng.pick(&actions), rng.pick(&numbers), &conds)
            .unwrap();
    }
    p
}

#[test]
fn compiled_programs_decide_like_the_evaluator_and_are_proven() {
    let mut rng = Rng(0x5eed_0f07_e4a1);
    let audits = [
        Arch::X86_64.audit(),
        Arch::X86.audit(),
        Arch::Aarch64.audit(),
        Arch::Arm.audit(),
        0x1234,
    ];
    let numbers = [0u32, 1, 3, 0x167, 0x168, X32_SYSCALL_BIT | 3, u32::MAX, 63];
    let values = [
        0u64,
        1,
        2,
        7,
        8,
        0xffff_ffff,
        1 << 32,
        (1 << 32) | 2,
        u64::MAX,
    ];
    for case in 0..300 {
        let p = random_policy(&mut rng);
        let order = p
            .arches()
            .first()
            .map_or(syscage::bpf::ByteOrder::Little, |a| a.byte_order());
        let optimized = compile(&p, &CompileOptions::default()).unwrap();
        let naive = compile_naive(&p).unwrap();
        for prog in [&optimized, &naive] {
            validate_program(prog).unwrap_or_else(|e| panic!("case {case}: {e}\n{p:?}"));
        }
        prove(&p, &optimized, order).unwrap_or_else(|e| panic!("case {case}: {e}\n{p:?}"));
        for _ in 0..200 {
            let d = data(
                rng.pick(&audits),
                rng.pick(&numbers),
                [
                    rng.pick(&values),
                    rng.pick(&values),
                    rng.pick(&values),
                    0,
                    0,
                    0,
                ],
            );
            let want = p.evaluate(&d);
            for (name, prog) in [("optimized", &optimized), ("naive", &naive)] {
                let got = syscage::emu::run(prog, &d, order).unwrap().action;
                assert_eq!(got, want, "case {case} {name}: {d:x?}\n{p:?}");
            }
        }
    }
}
