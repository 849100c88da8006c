use super::*;
use crate::analyze::lift::any_region;
use proptest::prelude::*;

#[test]
fn readable() {
    let mut r = any_region();
    r[4].restrict(&IntervalSet::single(1));
    r[5].restrict(&IntervalSet::single(0));
    r[6].restrict(&IntervalSet::range(0x10, 0x20));
    assert!(r[8].require_masked(0x7e02_0000, 0));
    let c = arg_conditions(&r, ByteOrder::Little, Some(&["fd", "buf", "count"]), true);
    assert_eq!(
        c,
        [
            "fd == 0x1",
            "0x10 <= (u32)buf <= 0x20",
            "((u32)count & 0x7e020000) == 0x0"
        ]
    );
}

/// OpenSSH's mmap check: `prot >> 32 == 0` and `prot & 0xfffffffc == 0`.
/// The mask alone (what explain used to print) lets 0x100000001 through.
#[test]
fn a_mask_with_the_high_word_pinned_is_a_64_bit_mask() {
    let mut r = any_region();
    r[9].restrict(&IntervalSet::single(0)); // args[2] high word
    assert!(r[8].require_masked(0xffff_fffc, 0)); // args[2] low word
    let c = arg_conditions(&r, ByteOrder::Little, Some(&["addr", "len", "prot"]), true);
    assert_eq!(c, ["(prot & 0xfffffffffffffffc) == 0x0"]);
    // A high word of 1 is refused by the printed condition.
    let conds = arg_conds(&r, ByteOrder::Little, None, true);
    let data = |prot| SeccompData {
        args: [0, 4096, prot, 0x22, 0, 0],
        ..Default::default()
    };
    assert!(conds.iter().all(|c| c.holds(&data(1))));
    assert!(!conds.iter().all(|c| c.holds(&data(0x1_0000_0001))));
}

#[test]
fn a_pinned_high_word_with_only_exclusions_is_printed() {
    let mut r = any_region();
    r[5].restrict(&IntervalSet::single(0));
    assert!(r[4].exclude_masked(0xff, 0x1));
    let c = arg_conditions(&r, ByteOrder::Little, None, true);
    assert_eq!(c, ["(args[0] >> 32) == 0x0", "(args[0] & 0xff) != 0x1"]);
}

#[test]
fn ranges_with_a_nonzero_high_word_are_bounded_both_ways() {
    let mut r = any_region();
    r[5].restrict(&IntervalSet::single(1));
    r[4].restrict(&IntervalSet::range(0, 5));
    assert_eq!(
        arg_conditions(&r, ByteOrder::Little, None, true),
        ["0x100000000 <= args[0] <= 0x100000005"]
    );
    // `!=` of one low value with the high word pinned is not `!=` on 64 bits.
    let mut r = any_region();
    r[5].restrict(&IntervalSet::single(0));
    r[4].restrict(&IntervalSet::single(7).complement());
    assert_eq!(
        arg_conditions(&r, ByteOrder::Little, None, true),
        ["args[0] in {0x0..=0x6, 0x8..=0xffffffff}"]
    );
}

#[test]
fn a_32_bit_arch_shows_a_tested_high_word() {
    let mut r = any_region();
    r[5].restrict(&IntervalSet::single(0));
    r[4].restrict(&IntervalSet::single(3));
    assert_eq!(
        arg_conditions(&r, ByteOrder::Little, None, false),
        ["args[0] == 0x3"]
    );
    let mut r = any_region();
    r[4].restrict(&IntervalSet::single(3));
    assert_eq!(
        arg_conditions(&r, ByteOrder::Little, None, false),
        ["args[0] == 0x3"]
    );
}

/// A random constraint on one word, drawn around `k`.
fn constrain(d: &mut WordDomain, kind: u8, k: u32, m: u32) -> bool {
    match kind % 6 {
        0 => {
            d.restrict(&IntervalSet::single(k));
            true
        }
        1 => {
            d.restrict(&IntervalSet::single(k).complement());
            true
        }
        2 => {
            d.restrict(&IntervalSet::range(k, u32::MAX));
            true
        }
        3 => {
            d.restrict(&IntervalSet::range(0, k));
            true
        }
        4 => d.require_masked(m, k & m),
        _ => d.exclude_masked(m, k & m),
    }
}

fn probe_values(ks: &[u32]) -> Vec<u32> {
    let mut v = vec![0, 1, 2, 3, 0x7fff_ffff, 0x8000_0000, u32::MAX - 1, u32::MAX];
    for &k in ks {
        v.extend([k, k.wrapping_add(1), k.wrapping_sub(1), !k]);
    }
    v
}

proptest! {
    /// Whatever the constraints on the two words, the printed conditions
    /// hold exactly for the values inside them, on all 64 bits.
    #[test]
    fn conditions_are_exact_on_64_bits(
        lo_c in proptest::collection::vec((any::<u8>(), 0u32..8, prop_oneof![Just(u32::MAX), Just(0xffff_fffc), Just(0xff), any::<u32>()]), 0..3),
        hi_c in proptest::collection::vec((any::<u8>(), 0u32..3, prop_oneof![Just(u32::MAX), Just(1), any::<u32>()]), 0..3),
        wide in any::<bool>(),
    ) {
        let mut r = any_region();
        for &(kind, k, m) in &lo_c {
            prop_assume!(constrain(&mut r[4], kind, k, m));
        }
        for &(kind, k, m) in &hi_c {
            prop_assume!(constrain(&mut r[5], kind, k, m));
        }
        prop_assume!(r[4].is_feasible() && r[5].is_feasible());
        let conds = arg_conds(&r, ByteOrder::Little, None, wide);
        let ks: Vec<u32> = lo_c.iter().chain(&hi_c).flat_map(|&(_, k, m)| [k, m, k & m]).collect();
        let vals = probe_values(&ks);
        for &h in &vals {
            for &l in &vals {
                let data = SeccompData { args: [(h as u64) << 32 | l as u64, 0, 0, 0, 0, 0], ..Default::default() };
                // On a 32-bit arch an untested high word is not shown.
                let inside = r[4].contains(l) && (r[5].contains(h) || (!wide && r[5].is_any()));
                let printed = conds.iter().all(|c| c.holds(&data));
                prop_assert_eq!(printed, inside, "{:?} at {:#x}:{:#x}", conds.iter().map(Cond::to_string).collect::<Vec<_>>(), h, l);
            }
        }
    }
}
