//! Differential test of the optimizer (gVisor's approach): for random
//! policies, the optimizing `compile`, the naive lowering
//! `compile::naive::compile_naive` and the reference evaluator
//! `Policy::evaluate` return the same value on random and boundary
//! `seccomp_data` (numbers each rule names and their neighbours, x32's
//! bit 30, `-1`, unknown numbers, other arches; arguments at, next to and
//! across the high word of every condition's constant). Both programs must
//! pass the validator.
//!
//! CI runs 4,000 cases (a few seconds). Long mode:
//!
//! ```text
//! SYSCAGE_PROPTEST_CASES=200000 cargo test --release -p syscage --test compile_naive
//! ```

use proptest::prelude::*;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::validate::validate_program;
use syscage::compile::{compile, compile_naive, CompileError, CompileOptions};
use syscage::policy::{CmpOp, Condition, Policy, Rule, SyscallId, Width};

const EDGES: [u64; 10] = [
    0,
    1,
    0x7fff_ffff,
    1 << 31,
    0xffff_ffff,
    1 << 32,
    0x1_0000_0001,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
];

const ARCHES: [Arch; 6] = [
    Arch::X86_64,
    Arch::X32,
    Arch::X86,
    Arch::Aarch64,
    Arch::S390x,
    Arch::Mips,
];

const NAMES: [&str; 10] = [
    "read",
    "write",
    "open",
    "openat",
    "mmap",
    "ioctl",
    "socket",
    "futex",
    "getpid",
    "kexec_load",
];

fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => proptest::sample::select(EDGES.to_vec()),
        1 => any::<u64>(),
        1 => 0u64..4,
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Allow),
        Just(Action::Log),
        (0u16..2).prop_map(Action::Trace),
        Just(Action::UserNotif),
        (0u16..3).prop_map(Action::Errno),
        (0u16..2).prop_map(Action::Trap),
        Just(Action::KillThread),
        Just(Action::KillProcess),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    let op = prop_oneof![
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
    ];
    (0u8..6, op, any::<bool>()).prop_map(|(arg, op, w32)| Condition {
        arg,
        op,
        width: if w32 { Width::Bits32 } else { Width::Bits64 },
    })
}

fn syscall() -> impl Strategy<Value = SyscallId> {
    prop_oneof![
        4 => proptest::sample::select(NAMES.to_vec()).prop_map(SyscallId::from),
        1 => (0u32..8).prop_map(SyscallId::Nr),
        1 => (0u32..600).prop_map(|n| SyscallId::Nr(n | 0x4000_0000)),
        1 => prop_oneof![Just(u32::MAX), Just(9999u32), any::<u32>()].prop_map(SyscallId::Nr),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    let arches = proptest::sample::subsequence(ARCHES.to_vec(), 0..=3).prop_shuffle();
    let rule = (
        syscall(),
        action(),
        proptest::collection::vec(condition(), 0..4),
        0usize..6,
    );
    (
        arches,
        (action(), action(), proptest::option::of(action())),
        proptest::collection::vec(rule, 0..10),
    )
        .prop_map(|(arches, (default, bad, unknown), rules)| {
            let mut p = Policy::init(default).unwrap();
            p.set_bad_arch_action(bad).unwrap();
            p.set_unknown_action(unknown).unwrap();
            for (sc, act, conds, pick) in rules {
                let mut r = Rule::new(sc, act);
                for c in conds {
                    r = r.with(c);
                }
                if pick < arches.len() && pick % 2 == 0 {
                    r = r.on_arch(arches[pick]);
                }
                p.rule_add_verbatim(r);
            }
            p.set_arches(arches).unwrap();
            p
        })
}

/// Each condition's constant, its neighbours and the other word flipped.
fn arg_values(p: &Policy) -> Vec<u64> {
    let mut v: Vec<u64> = EDGES.to_vec();
    for c in p.rules().iter().flat_map(|r| &r.conditions) {
        let k = match c.op {
            CmpOp::MaskedEq { mask, value } => value | (!mask & 1),
            CmpOp::Eq(k)
            | CmpOp::Ne(k)
            | CmpOp::Lt(k)
            | CmpOp::Le(k)
            | CmpOp::Gt(k)
            | CmpOp::Ge(k) => k,
        };
        v.extend([
            k,
            k.wrapping_add(1),
            k.wrapping_sub(1),
            k ^ (1 << 32),
            k & 0xffff_ffff,
        ]);
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn numbers(p: &Policy) -> Vec<u32> {
    let mut v = vec![
        0,
        1,
        2,
        9999,
        0x3fff_ffff,
        0x4000_0000,
        0x4000_0001,
        u32::MAX,
    ];
    for r in p.rules() {
        for a in Arch::ALL {
            if let Some(n) = r.syscall.resolve(a) {
                v.extend([n, n.wrapping_add(1), n.wrapping_sub(1)]);
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
        .unwrap_or(4_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn optimized_naive_and_evaluator_agree(p in policy(), seed in any::<u64>()) {
        let optimized = compile(&p, &CompileOptions::default()).expect("compiles");
        // The naive program can outgrow 4096 instructions (a table chain
        // per arch with an unknown-syscall action); then it is skipped.
        let naive = match compile_naive(&p) {
            Ok(prog) => Some(prog),
            Err(CompileError::TooLong(n)) => {
                prop_assert!(n > 4096);
                None
            }
            Err(e) => panic!("compile_naive: {e}"),
        };
        prop_assert!(validate_program(&optimized).is_ok());
        if let Some(n) = &naive {
            prop_assert!(validate_program(n).is_ok(), "{:?}", validate_program(n));
        }
        let args = arg_values(&p);
        let mut rng = seed | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut audits: Vec<u32> = ARCHES.iter().map(|a| a.audit()).collect();
        audits.push(Arch::Ppc64le.audit());
        for &audit in &audits {
            let order = Arch::from_audit(audit).unwrap().byte_order();
            for &nr in &numbers(&p) {
                for round in 0..4 {
                    let mut d = SeccompData { nr, arch: audit, instruction_pointer: 0, args: [0; 6] };
                    for a in &mut d.args {
                        *a = match round {
                            0 => 0,
                            3 => next(),
                            _ => args[(next() % args.len() as u64) as usize],
                        };
                    }
                    let want = p.evaluate(&d).to_ret();
                    let got = syscage::emu::run(&optimized, &d, order).expect("runs").ret;
                    prop_assert_eq!(got, want, "optimized on {:x?}\n{:#?}", d, p);
                    if let Some(n) = &naive {
                        let got = syscage::emu::run(n, &d, order).expect("runs").ret;
                        prop_assert_eq!(got, want, "naive on {:x?}\n{:#?}", d, p);
                    }
                }
            }
        }
    }
}

/// The naive lowering keeps every decision apart: a rule per number, x32
/// and x86_64 on one audit id, a 32-bit arch's low words only.
#[test]
fn naive_lowering_on_a_hand_written_policy() {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.set_arches(vec![Arch::X86, Arch::X32, Arch::X86_64])
        .unwrap();
    p.set_unknown_action(Some(Action::Errno(38))).unwrap();
    p.rule_add_verbatim(Rule::new("read", Action::Allow));
    p.rule_add_verbatim(
        Rule::new("write", Action::Allow).with(Condition::new(0, CmpOp::Le(0x1_0000_0000))),
    );
    p.rule_add_verbatim(Rule::new("write", Action::Log).with(Condition::new32(
        1,
        CmpOp::MaskedEq {
            mask: 0xf0,
            value: 0x10,
        },
    )));
    let prog = compile_naive(&p).unwrap();
    validate_program(&prog).unwrap();
    let cases: [(Arch, u32, [u64; 2], Action); 8] = [
        (Arch::X86_64, 0, [0, 0], Action::Allow),
        (Arch::X86_64, 1, [0x1_0000_0000, 0], Action::Allow),
        (Arch::X86_64, 1, [0x1_0000_0001, 0], Action::Errno(1)),
        (Arch::X86_64, 1, [0x1_0000_0001, 0xff_ff1f], Action::Log),
        (Arch::X86_64, 0x4000_0001, [0x7_0000_0000, 0], Action::Allow),
        (Arch::X86_64, 5000, [0, 0], Action::Errno(38)),
        (Arch::X86, 4, [0x7_0000_0000, 0], Action::Allow),
        (Arch::Aarch64, 63, [0, 0], Action::KillProcess),
    ];
    for (arch, nr, [a0, a1], want) in cases {
        let d = SeccompData {
            nr,
            arch: arch.audit(),
            instruction_pointer: 0,
            args: [a0, a1, 0, 0, 0, 0],
        };
        assert_eq!(p.evaluate(&d), want, "evaluator on {d:x?}");
        let got = syscage::emu::run(&prog, &d, arch.byte_order())
            .unwrap()
            .action;
        assert_eq!(got, want, "naive on {d:x?}");
    }
}
