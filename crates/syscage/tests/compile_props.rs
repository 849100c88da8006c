//! Property test of the compiler: random policies, compiled and emulated
//! on random and boundary inputs, must agree with the reference evaluator
//! `Policy::evaluate` on every input.
//!
//! Policies mix arches (x86_64 with x32 and x86, aarch64, big-endian
//! s390x), syscalls by name and by number (bit 30 set, `-1`, unknown),
//! conditions of every operator on 32 or 64 bits with edge constants
//! (0, 2^31, 2^32−1, 2^32, 2^63, 2^64−1), every action with data, an
//! unknown-syscall action and a bad-arch action. Inputs include arguments
//! whose high word decides, numbers with bit 30, other arches' audit ids,
//! `nr == -1` and numbers no table knows.
//!
//! CI runs 10,000 cases (a few tens of seconds). Long mode:
//!
//! ```text
//! SYSCAGE_PROPTEST_CASES=2000000 cargo test --release -p syscage --test compile_props
//! ```

use proptest::prelude::*;
use syscage::action::Action;
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::bpf::data::SeccompData;
use syscage::bpf::validate;
use syscage::compile::stats::const_ret;
use syscage::compile::{compile, compile_with_warnings, CompileError, CompileOptions};
use syscage::policy::{CmpOp, Condition, Policy, Rule, SyscallId, Width};

const EDGES: [u64; 12] = [
    0,
    1,
    0x7fff_ffff,
    1 << 31,
    0xffff_ffff,
    1 << 32,
    0x1_0000_0001,
    0xffff_ffff_0000_0000,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
    0x8000_0000_ffff_ffff,
];

const ARCHES: [Arch; 5] = [
    Arch::X86_64,
    Arch::X32,
    Arch::X86,
    Arch::Aarch64,
    Arch::S390x,
];

const NAMES: [&str; 16] = [
    "read",
    "write",
    "open",
    "openat",
    "execve",
    "mmap",
    "ioctl",
    "clone",
    "personality",
    "socket",
    "futex",
    "close",
    "getpid",
    "rt_sigaction",
    "epoll_wait",
    "kexec_load",
];

fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => proptest::sample::select(EDGES.to_vec()),
        1 => any::<u64>(),
        1 => 0u64..8,
        1 => any::<u32>().prop_map(u64::from),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Allow),
        Just(Action::Log),
        (0u16..3).prop_map(Action::Trace),
        Just(Action::UserNotif),
        (0u16..4).prop_map(Action::Errno),
        (0u16..3).prop_map(Action::Trap),
        Just(Action::KillThread),
        Just(Action::KillProcess),
    ]
}

fn op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        value().prop_map(CmpOp::Eq),
        value().prop_map(CmpOp::Ne),
        value().prop_map(CmpOp::Lt),
        value().prop_map(CmpOp::Le),
        value().prop_map(CmpOp::Gt),
        value().prop_map(CmpOp::Ge),
        (value(), value()).prop_map(|(mask, v)| CmpOp::MaskedEq {
            mask,
            value: v & mask
        }),
        (value(), value()).prop_map(|(mask, value)| CmpOp::MaskedEq { mask, value }),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    (0u8..6, op(), any::<bool>()).prop_map(|(arg, op, w32)| Condition {
        arg,
        op,
        width: if w32 { Width::Bits32 } else { Width::Bits64 },
    })
}

fn syscall() -> impl Strategy<Value = SyscallId> {
    prop_oneof![
        4 => proptest::sample::select(NAMES.to_vec()).prop_map(SyscallId::from),
        1 => (0u32..20).prop_map(SyscallId::Nr),
        1 => (0u32..600).prop_map(|n| SyscallId::Nr(n | X32_SYSCALL_BIT)),
        1 => prop_oneof![Just(u32::MAX), Just(9999u32), any::<u32>()].prop_map(SyscallId::Nr),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    let arches = proptest::sample::subsequence(ARCHES.to_vec(), 1..=4).prop_shuffle();
    let rule = (
        syscall(),
        action(),
        proptest::collection::vec(condition(), 0..4),
        0usize..8,
    );
    (
        arches,
        action(),
        action(),
        proptest::option::of(action()),
        proptest::collection::vec(rule, 0..12),
    )
        .prop_map(|(arches, default, bad, unknown, rules)| {
            let mut p = Policy::init(default).unwrap();
            p.set_bad_arch_action(bad).unwrap();
            p.set_unknown_action(unknown).unwrap();
            for (sc, act, conds, arch_pick) in rules {
                let mut r = Rule::new(sc, act);
                r.conditions = conds;
                // Now and then restrict a rule to one arch.
                if arch_pick < arches.len() && arch_pick % 3 == 0 {
                    r.arch = Some(arches[arch_pick]);
                }
                p.rule_add_verbatim(r);
            }
            p.set_arches(arches).unwrap();
            p
        })
}

/// Boundary argument values for the conditions of `p`: each constant, its
/// neighbours, and with the other word flipped.
fn arg_values(p: &Policy) -> Vec<u64> {
    let mut v: Vec<u64> = EDGES.to_vec();
    for r in p.rules() {
        for c in &r.conditions {
            let ks: Vec<u64> = match c.op {
                CmpOp::MaskedEq { mask, value } => {
                    vec![value, value | !mask, value ^ (mask & mask.wrapping_neg())]
                }
                CmpOp::Eq(k)
                | CmpOp::Ne(k)
                | CmpOp::Lt(k)
                | CmpOp::Le(k)
                | CmpOp::Gt(k)
                | CmpOp::Ge(k) => vec![k],
            };
            for k in ks {
                v.extend([
                    k,
                    k.wrapping_add(1),
                    k.wrapping_sub(1),
                    k ^ (1 << 32),
                    k ^ 0xffff_ffff_0000_0000,
                    k & 0xffff_ffff,
                ]);
            }
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn numbers(p: &Policy) -> Vec<u32> {
    let mut v: Vec<u32> = vec![
        0,
        1,
        2,
        3,
        59,
        335,
        9999,
        0x3fff_ffff,
        X32_SYSCALL_BIT,
        X32_SYSCALL_BIT | 1,
        X32_SYSCALL_BIT | 59,
        X32_SYSCALL_BIT | 520,
        u32::MAX,
        u32::MAX - 1,
        0x8000_0000,
    ];
    for r in p.rules() {
        for a in Arch::ALL {
            if let Some(n) = r.syscall.resolve(a) {
                v.extend([n, n.wrapping_add(1), n.wrapping_sub(1), n ^ X32_SYSCALL_BIT]);
            }
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn cases() -> u32 {
    std::env::var("SYSCAGE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn compiled_program_agrees_with_evaluator(p in policy(), seed in any::<u64>()) {
        let prog = compile(&p, &CompileOptions::default()).expect("compiles");
        let raw = prog.to_raw();
        prop_assert!(validate(&raw).is_ok(), "invalid program: {:?}", validate(&raw));
        let args = arg_values(&p);
        let mut audits: Vec<u32> = ARCHES.iter().map(|a| a.audit()).collect();
        audits.push(Arch::Arm.audit());
        audits.dedup();
        let mut rng = seed;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for &audit in &audits {
            let order = Arch::from_audit(audit).unwrap().byte_order();
            for &nr in &numbers(&p) {
                for round in 0..6 {
                    let mut data = SeccompData { nr, arch: audit, instruction_pointer: next(), args: [0; 6] };
                    for a in &mut data.args {
                        *a = if round == 0 { 0 } else if round == 5 { next() } else { args[(next() % args.len() as u64) as usize] };
                    }
                    let got = syscage::emu::run(&prog, &data, order).expect("runs");
                    let want = p.evaluate(&data);
                    prop_assert_eq!(got.action, want, "data {:x?}\npolicy {:#?}\nprogram {:?}", data, p, prog);
                    prop_assert_eq!(got.ret, want.to_ret());
                }
                // Cacheability: without a conditional rule for this number,
                // the kernel's constant-action emulation must reach the RET.
                let probe = SeccompData { nr, arch: audit, instruction_pointer: 0, args: [0; 6] };
                let conditional = p.arch_for(&probe).is_some_and(|a| {
                    p.rules().iter().any(|r| {
                        !r.conditions.is_empty()
                            && r.arch.is_none_or(|x| x == a)
                            && r.syscall.resolve(a) == Some(nr)
                    })
                });
                if !conditional {
                    prop_assert_eq!(const_ret(&prog, audit, nr), Some(p.evaluate(&probe).to_ret()), "nr {:#x} audit {:#x} not cacheable", nr, audit);
                }
            }
        }
    }
}

/// Deterministic: the same policy compiles to the same program.
#[test]
fn output_is_deterministic() {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86_64, Arch::X86, Arch::X32])
        .unwrap();
    for (i, name) in NAMES.iter().enumerate() {
        p.rule_add_verbatim(
            Rule::new(*name, Action::Allow).with(Condition::new(i as u8 % 6, CmpOp::Gt(i as u64))),
        );
    }
    let a = compile(&p, &CompileOptions::default()).unwrap();
    for _ in 0..5 {
        assert_eq!(compile(&p.clone(), &CompileOptions::default()).unwrap(), a);
    }
}

/// Far jumps: argument checks on many syscalls push the shared returns
/// more than 255 instructions away; the program stays valid (the kernel's
/// rules) and agrees with the evaluator.
#[test]
fn far_jumps_go_through_ja() {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86_64]).unwrap();
    for nr in 0..120u32 {
        p.rule_add_verbatim(
            Rule::new(SyscallId::Nr(nr * 2), Action::Allow)
                .with(Condition::new(0, CmpOp::Eq(u64::from(nr) << 32 | 7)))
                .with(Condition::new(1, CmpOp::Le(u64::from(nr)))),
        );
    }
    let prog = compile(&p, &CompileOptions::default()).unwrap();
    assert!(prog.len() > 600, "{}", prog.len());
    assert!(prog
        .insns
        .iter()
        .any(|i| matches!(i, syscage::bpf::Insn::Ja(_))));
    assert!(validate(&prog.to_raw()).is_ok());
    for nr in 0..250u32 {
        for args in [
            [0u64; 6],
            [u64::from(nr / 2) << 32 | 7, u64::from(nr / 2), 0, 0, 0, 0],
            [7, 0, 0, 0, 0, 0],
        ] {
            let d = SeccompData {
                nr,
                arch: Arch::X86_64.audit(),
                instruction_pointer: 0,
                args,
            };
            let got = syscage::emu::run(&prog, &d, Arch::X86_64.byte_order()).unwrap();
            assert_eq!(got.action, p.evaluate(&d), "nr {nr} args {args:x?}");
        }
    }
}

/// Over 4096 instructions: an error naming the size, never a truncated filter.
#[test]
fn too_long_is_an_error_naming_the_size() {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86_64]).unwrap();
    for nr in 0..1200u32 {
        p.rule_add_verbatim(
            Rule::new(SyscallId::Nr(nr), Action::Allow)
                .with(Condition::new(0, CmpOp::Eq(u64::from(nr) + 0x1_0000_0000)))
                .with(Condition::new(1, CmpOp::Ne(u64::from(nr)))),
        );
    }
    match compile_with_warnings(&p, &CompileOptions::default()) {
        Err(CompileError::TooLong(n)) => {
            assert!(n > 4096);
            let msg = CompileError::TooLong(n).to_string();
            assert!(
                msg.contains(&n.to_string()) && msg.contains("4096"),
                "{msg}"
            );
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
}

/// A name an arch lacks is skipped there, with a warning naming both.
#[test]
fn unknown_names_warn_per_arch() {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86_64, Arch::Aarch64]).unwrap();
    p.rule_add_verbatim(Rule::new("open", Action::Allow));
    let c = compile_with_warnings(&p, &CompileOptions::default()).unwrap();
    assert_eq!(
        c.warnings,
        vec![syscage::compile::Warning::UnknownSyscall {
            arch: Arch::Aarch64,
            name: "open".into()
        }]
    );
    let d = SeccompData {
        nr: 2,
        arch: Arch::X86_64.audit(),
        instruction_pointer: 0,
        args: [0; 6],
    };
    assert_eq!(
        syscage::emu::run(&c.program, &d, Arch::X86_64.byte_order())
            .unwrap()
            .action,
        Action::Allow
    );
}

/// No arch at all: every syscall takes the bad-arch action, as the
/// evaluator says.
#[test]
fn no_arch_means_bad_arch_everywhere() {
    let mut p = Policy::init(Action::Allow).unwrap();
    p.set_arches([]).unwrap();
    p.set_bad_arch_action(Action::Errno(9)).unwrap();
    let prog = compile(&p, &CompileOptions::default()).unwrap();
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let d = SeccompData {
            nr: 0,
            arch: arch.audit(),
            instruction_pointer: 0,
            args: [0; 6],
        };
        assert_eq!(
            syscage::emu::run(&prog, &d, arch.byte_order())
                .unwrap()
                .action,
            p.evaluate(&d)
        );
    }
}
