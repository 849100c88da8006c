//! Seeded randomness for the oracle: a replayable generator (SplitMix64),
//! argument values whose high or low 32 bits decide, and random actions,
//! conditions, policies and calls built from them.

use super::calls::{arch_of, probe_names, Abi, Call, UNKNOWN_NR};
use syscage::action::Action;
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::policy::{CmpOp, Condition, Policy, Rule};

/// SplitMix64: a small seeded generator, so every failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const LOW: [u64; 6] = [
    0x7000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xdead_beef,
    0xffff_ffff,
];
const HIGH: [u64; 5] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

pub fn value(rng: &mut Rng) -> u64 {
    (rng.pick(&HIGH) << 32) | rng.pick(&LOW)
}

fn random_action(rng: &mut Rng, notif: bool) -> Action {
    let data = |rng: &mut Rng| rng.pick(&[0u16, 1, 13, 38, 4095, 4096, 65535]);
    match rng.below(if notif { 9 } else { 8 }) {
        0 => Action::Allow,
        1 => Action::Log,
        2 => Action::Errno(data(rng)),
        3 => Action::Errno(data(rng)),
        4 => Action::Trap(data(rng)),
        5 => Action::Trace(data(rng)),
        6 => Action::KillThread,
        7 => Action::KillProcess,
        _ => Action::UserNotif,
    }
}

fn random_condition(rng: &mut Rng) -> Condition {
    let v = value(rng);
    let op = match rng.below(7) {
        0 => CmpOp::Eq(v),
        1 => CmpOp::Ne(v),
        2 => CmpOp::Lt(v),
        3 => CmpOp::Le(v),
        4 => CmpOp::Gt(v),
        5 => CmpOp::Ge(v),
        _ => {
            let mask = rng.pick(&[
                0xffff_ffff_0000_0000,
                0x8000_0000_8000_0000,
                0xffff_ffff,
                0x1,
                u64::MAX,
            ]);
            CmpOp::MaskedEq {
                mask,
                value: v & mask,
            }
        }
    };
    let arg = rng.below(6) as u8;
    if rng.chance(25) {
        Condition::new32(arg, op)
    } else {
        Condition::new(arg, op)
    }
}

pub fn random_policy(rng: &mut Rng, notif: bool, i386: bool) -> Policy {
    let mut pool = vec![Arch::X86_64, Arch::X32];
    if i386 {
        pool.push(Arch::X86);
    }
    let mut arches = Vec::new();
    while arches.is_empty() {
        for a in &pool {
            if rng.chance(60) {
                arches.push(*a);
            }
        }
    }
    // Errno data above 4095 on purpose (the kernel clamps it): verbatim.
    let default = random_action(rng, notif);
    let mut policy = Policy::init_verbatim(default);
    policy.set_arches(arches).unwrap();
    let bad = random_action(rng, notif);
    let unknown = if rng.chance(40) {
        Some(random_action(rng, notif))
    } else {
        None
    };
    policy.set_actions_verbatim(default, bad, unknown);
    for _ in 0..rng.below(14) {
        let abi = rng.pick(&[Abi::X64, Abi::X32, Abi::I386]);
        let name = rng.pick(probe_names(abi));
        let mut rule = Rule::new(name, random_action(rng, notif));
        for _ in 0..rng.below(3) {
            rule = rule.with(random_condition(rng));
        }
        if rng.chance(20) {
            rule = rule.on_arch(rng.pick(policy.arches()));
        }
        policy.rule_add_verbatim(rule);
    }
    policy
}

pub fn random_call(rng: &mut Rng, i386: bool) -> Call {
    let abis: &[Abi] = if i386 {
        &[Abi::X64, Abi::X64, Abi::X32, Abi::I386, Abi::I386]
    } else {
        &[Abi::X64, Abi::X64, Abi::X32]
    };
    let abi = rng.pick(abis);
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = value(rng);
    }
    let nr = if rng.chance(8) {
        UNKNOWN_NR | if abi == Abi::X32 { X32_SYSCALL_BIT } else { 0 }
    } else {
        let name = rng.pick(probe_names(abi));
        if name == "personality" {
            args[0] |= 0xffff_ffff;
        }
        arch_of(abi)
            .syscall_nr(name)
            .unwrap_or_else(|| panic!("{name} on {abi:?}"))
    };
    Call { abi, nr, args }
}
