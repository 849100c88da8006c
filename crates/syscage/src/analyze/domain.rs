//! Sets of 32-bit values that the lifter tracks for each word of
//! `struct seccomp_data`: an interval set intersected with bit constraints.
//!
//! A [`WordDomain`] is exact for what comparisons of a loaded word with
//! constants produce (`JEQ`/`JGT`/`JGE` give intervals, `JSET` and
//! `(A & mask) == value` give bit constraints).

use std::fmt;

/// A set of `u32` values: sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntervalSet(Vec<(u32, u32)>);

impl IntervalSet {
    /// Every value.
    pub fn full() -> Self {
        IntervalSet(vec![(0, u32::MAX)])
    }

    /// No value.
    pub fn empty() -> Self {
        IntervalSet(Vec::new())
    }

    /// The values `lo..=hi` (empty when `lo > hi`).
    pub fn range(lo: u32, hi: u32) -> Self {
        if lo > hi {
            IntervalSet::empty()
        } else {
            IntervalSet(vec![(lo, hi)])
        }
    }

    /// One value.
    pub fn single(v: u32) -> Self {
        IntervalSet::range(v, v)
    }

    /// The set of the given values (in any order, repeats allowed).
    pub fn from_values(values: impl IntoIterator<Item = u32>) -> Self {
        let mut v: Vec<u32> = values.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for x in v {
            match out.last_mut() {
                Some((_, hi)) if hi.checked_add(1) == Some(x) => *hi = x,
                _ => out.push((x, x)),
            }
        }
        IntervalSet(out)
    }

    /// The intervals, in increasing order.
    pub fn intervals(&self) -> &[(u32, u32)] {
        &self.0
    }

    /// Whether no value is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every value is in the set.
    pub fn is_full(&self) -> bool {
        self.0 == [(0, u32::MAX)]
    }

    /// The only value, if the set has exactly one.
    pub fn as_single(&self) -> Option<u32> {
        match self.0.as_slice() {
            [(a, b)] if a == b => Some(*a),
            _ => None,
        }
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: u32) -> bool {
        self.0.iter().any(|&(a, b)| a <= v && v <= b)
    }

    /// Number of values (as u64: a full set has 2^32).
    pub fn count(&self) -> u64 {
        self.0.iter().map(|&(a, b)| (b - a) as u64 + 1).sum()
    }

    /// Values in both sets.
    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a1, b1) = self.0[i];
            let (a2, b2) = other.0[j];
            let (lo, hi) = (a1.max(a2), b1.min(b2));
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet(out)
    }

    /// Values not in the set.
    pub fn complement(&self) -> IntervalSet {
        let mut out = Vec::new();
        let mut next: u64 = 0;
        for &(a, b) in &self.0 {
            if (a as u64) > next {
                out.push((next as u32, a - 1));
            }
            next = b as u64 + 1;
        }
        if next <= u32::MAX as u64 {
            out.push((next as u32, u32::MAX));
        }
        IntervalSet(out)
    }

    /// Values in either set.
    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        self.complement()
            .intersect(&other.complement())
            .complement()
    }

    /// Values in `self` but not in `other`.
    pub fn minus(&self, other: &IntervalSet) -> IntervalSet {
        self.intersect(&other.complement())
    }
}

impl fmt::Display for IntervalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", ranges_text(&self.0))
    }
}

/// Inclusive ranges as analysis prints them, comma-separated: `0x1`,
/// `0x3..=0x9`.
pub(crate) fn ranges_text<T: fmt::LowerHex + PartialEq>(ranges: &[(T, T)]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                format!("{a:#x}")
            } else {
                format!("{a:#x}..={b:#x}")
            }
        })
        .collect();
    parts.join(", ")
}

/// The values a 32-bit word may take on one path: an interval set, bits
/// fixed to known values, and patterns the word must not match.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WordDomain {
    /// Allowed intervals.
    pub intervals: IntervalSet,
    /// Bits whose value is fixed (`word & fixed_mask == fixed_value`).
    pub fixed_mask: u32,
    /// The fixed bits' values (a subset of `fixed_mask`).
    pub fixed_value: u32,
    /// Patterns excluded: `word & mask != value` for each `(mask, value)`.
    pub excluded: Vec<(u32, u32)>,
}

/// Most candidate values the quick scan tries when excluded patterns get
/// in the way, before the exhaustive search takes over.
const WITNESS_TRIES: usize = 256;

/// Most nodes the exhaustive search visits (each fixes one bit) before it
/// gives up.
const SEARCH_NODES: usize = 1 << 16;

/// Whether a witness search was conclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feasibility {
    /// A value satisfying every constraint exists (here is one).
    Yes(u32),
    /// No value satisfies them.
    No,
    /// The search gave up (more than 2^16 cubes to split):
    /// treated as feasible, but not proven.
    Unknown,
}

impl Default for WordDomain {
    fn default() -> Self {
        WordDomain::any()
    }
}

impl WordDomain {
    /// No constraint.
    pub fn any() -> Self {
        WordDomain {
            intervals: IntervalSet::full(),
            fixed_mask: 0,
            fixed_value: 0,
            excluded: Vec::new(),
        }
    }

    /// Whether the domain constrains nothing.
    pub fn is_any(&self) -> bool {
        self.intervals.is_full() && self.fixed_mask == 0 && self.excluded.is_empty()
    }

    /// Whether `v` satisfies every constraint.
    pub fn contains(&self, v: u32) -> bool {
        self.intervals.contains(v)
            && v & self.fixed_mask == self.fixed_value
            && self.excluded.iter().all(|&(m, x)| v & m != x)
    }

    /// Restricts to an interval set.
    pub fn restrict(&mut self, set: &IntervalSet) {
        self.intervals = self.intervals.intersect(set);
    }

    /// Adds `word & mask == value`. Returns false when that is impossible
    /// together with the bit constraints already known.
    pub fn require_masked(&mut self, mask: u32, value: u32) -> bool {
        if value & !mask != 0 || (self.fixed_value ^ value) & (self.fixed_mask & mask) != 0 {
            return false;
        }
        self.fixed_mask |= mask;
        self.fixed_value |= value;
        self.normalize()
    }

    /// Adds `word & mask != value`. Returns false when the fixed bits
    /// already force the pattern (or the pattern is `x & 0 != 0`).
    pub fn exclude_masked(&mut self, mask: u32, value: u32) -> bool {
        if value & !mask != 0 {
            return true; // can never match: no constraint
        }
        if !self.excluded.contains(&(mask, value)) {
            self.excluded.push((mask, value));
        }
        self.normalize()
    }

    /// Folds excluded patterns into the fixed bits where the fixed bits
    /// decide them: a pattern the fixed bits already break is dropped, one
    /// they match but for one free bit fixes that bit to the other value,
    /// one they match entirely empties the domain (returns false).
    fn normalize(&mut self) -> bool {
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < self.excluded.len() {
                let (m, v) = self.excluded[i];
                let known = m & self.fixed_mask;
                if (self.fixed_value ^ v) & known != 0 {
                    self.excluded.swap_remove(i);
                    changed = true;
                    continue;
                }
                let free = m & !self.fixed_mask;
                if free == 0 {
                    return false;
                }
                if free.is_power_of_two() {
                    self.fixed_mask |= free;
                    self.fixed_value |= !v & free;
                    self.excluded.swap_remove(i);
                    changed = true;
                    continue;
                }
                i += 1;
            }
            if !changed {
                return true;
            }
        }
    }

    /// Finds the least value satisfying every constraint: a quick scan in
    /// increasing order, then (when excluded patterns keep it busy) an
    /// exhaustive search over the bits the patterns test. `Unknown` only
    /// when that search exceeds its budget.
    pub fn witness(&self) -> Feasibility {
        let mut tries = 0;
        for &(lo, hi) in self.intervals.intervals() {
            let mut from = lo;
            while let Some(x) = next_with_bits(from, self.fixed_mask, self.fixed_value) {
                if x > hi {
                    break;
                }
                let Some(&(m, _)) = self.excluded.iter().find(|&&(m, v)| x & m == v) else {
                    return Feasibility::Yes(x);
                };
                tries += 1;
                if tries >= WITNESS_TRIES {
                    return self.search();
                }
                // The least increase that changes a bit of `m`: carry into
                // its lowest bit.
                let low = (1u64 << m.trailing_zeros()) - 1;
                match u32::try_from((x as u64 | low) + 1) {
                    Ok(n) => from = n,
                    Err(_) => break,
                }
            }
        }
        Feasibility::No
    }

    /// The exhaustive witness search: each interval is cut into aligned
    /// blocks (cubes: some high bits fixed, the low ones free), and each
    /// cube, with the fixed bits, is searched for the least value outside
    /// every excluded pattern.
    fn search(&self) -> Feasibility {
        let mut budget = SEARCH_NODES;
        for &(lo, hi) in self.intervals.intervals() {
            for (base, free) in aligned_blocks(lo, hi) {
                let high = !free;
                if (base ^ self.fixed_value) & self.fixed_mask & high != 0 {
                    continue;
                }
                let cube = Cube {
                    mask: self.fixed_mask | high,
                    value: (self.fixed_value & self.fixed_mask) | (base & high),
                };
                let excluded: Vec<(u32, u32)> = self
                    .excluded
                    .iter()
                    .copied()
                    .filter(|&e| cube.meets(e))
                    .collect();
                match least_outside(cube, &excluded, &mut budget) {
                    Feasibility::No => {}
                    found => return found,
                }
            }
        }
        Feasibility::No
    }

    /// Whether some value satisfies every constraint (an inconclusive
    /// search counts as yes, which keeps the lifter sound).
    pub fn is_feasible(&self) -> bool {
        self.witness() != Feasibility::No
    }

    /// Intersection of two domains.
    pub fn meet(&self, other: &WordDomain) -> Option<WordDomain> {
        let mut d = self.clone();
        d.restrict(&other.intervals);
        if !d.require_masked(other.fixed_mask, other.fixed_value) {
            return None;
        }
        for &(m, v) in &other.excluded {
            if !d.exclude_masked(m, v) {
                return None;
            }
        }
        Some(d)
    }
}

/// The values whose bits under `mask` equal `value` (`value ⊆ mask`).
#[derive(Clone, Copy)]
struct Cube {
    mask: u32,
    value: u32,
}

impl Cube {
    /// Whether the cube has a value matching the pattern `(m, v)`.
    fn meets(self, (m, v): (u32, u32)) -> bool {
        (v ^ self.value) & m & self.mask == 0
    }

    /// Whether every value of the cube matches the pattern `(m, v)`.
    fn within(self, (m, v): (u32, u32)) -> bool {
        m & !self.mask == 0 && self.meets((m, v))
    }

    /// The cube with bit `bit` (free in it) set to `one`.
    fn with_bit(self, bit: u32, one: bool) -> Cube {
        Cube {
            mask: self.mask | bit,
            value: if one { self.value | bit } else { self.value },
        }
    }
}

/// The least value of `cube` that matches none of `excluded` (each of
/// which meets the cube). Splits on the highest free bit some pattern
/// tests, 0 first: free bits no pattern tests stay 0 in the answer, so
/// the first value found is the least (unless a half ran out of budget:
/// then a value of the other half, still a witness).
fn least_outside(cube: Cube, excluded: &[(u32, u32)], budget: &mut usize) -> Feasibility {
    if *budget == 0 {
        return Feasibility::Unknown;
    }
    *budget -= 1;
    if excluded.iter().any(|&e| cube.within(e)) {
        return Feasibility::No;
    }
    // Every pattern left tests a free bit (else the cube is within it).
    let tested = excluded.iter().fold(0, |acc, &(m, _)| acc | m) & !cube.mask;
    if tested == 0 {
        return Feasibility::Yes(cube.value);
    }
    let bit = 1u32 << (31 - tested.leading_zeros());
    let mut unknown = false;
    for one in [false, true] {
        let half = cube.with_bit(bit, one);
        let rest: Vec<(u32, u32)> = excluded
            .iter()
            .copied()
            .filter(|&e| half.meets(e))
            .collect();
        match least_outside(half, &rest, budget) {
            Feasibility::Yes(x) => return Feasibility::Yes(x),
            Feasibility::Unknown => unknown = true,
            Feasibility::No => {}
        }
    }
    if unknown {
        Feasibility::Unknown
    } else {
        Feasibility::No
    }
}

/// `lo..=hi` as aligned blocks `(base, free)` in increasing order: the
/// values `base..=base | free`, `free` a run of low bits.
fn aligned_blocks(lo: u32, hi: u32) -> impl Iterator<Item = (u32, u32)> {
    let (mut x, end) = (lo as u64, hi as u64);
    std::iter::from_fn(move || {
        if x > end {
            return None;
        }
        let mut size = if x == 0 {
            1u64 << 32
        } else {
            1u64 << x.trailing_zeros()
        };
        while x + size - 1 > end {
            size >>= 1;
        }
        let block = (x as u32, (size - 1) as u32);
        x += size;
        Some(block)
    })
}

/// The smallest `x >= from` with `x & mask == value` (`value ⊆ mask`).
pub fn next_with_bits(from: u32, mask: u32, value: u32) -> Option<u32> {
    if from & mask == value {
        return Some(from);
    }
    // Bits strictly below position n (n may be 32).
    let below = |n: u32| ((1u64 << n) - 1) as u32;
    // p: the highest bit where `from` disagrees with the fixed pattern.
    let p = 31 - ((from ^ value) & mask).leading_zeros();
    let q = if value & (1 << p) != 0 {
        // `from` has 0 where a 1 is required: setting it is the least increase.
        p
    } else {
        // `from` has 1 where a 0 is required: carry into the lowest free
        // bit above p that is 0 in `from` (fixed bits above p agree).
        let carry = !from & !mask & !below(p + 1);
        if carry == 0 {
            return None;
        }
        carry.trailing_zeros()
    };
    Some((from & !below(q + 1)) | (1 << q) | (value & below(q)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute_next(from: u32, mask: u32, value: u32) -> Option<u32> {
        (from as u64..=u32::MAX as u64)
            .map(|x| x as u32)
            .find(|x| x & mask == value)
    }

    proptest! {
        #[test]
        fn next_with_bits_is_minimal(from in 0u32..4096, mask in 0u32..4096, value in 0u32..4096) {
            let value = value & mask;
            // Stay in a small universe so the brute force is cheap: the
            // high bits are free and zero.
            let got = next_with_bits(from, mask, value);
            prop_assert_eq!(got, brute_next(from, mask, value));
        }

        #[test]
        fn from_values_is_the_union_of_singles(v in proptest::collection::vec(0u32..64, 0..20), x in 0u32..64) {
            let s = IntervalSet::from_values(v.iter().copied());
            prop_assert_eq!(s.contains(x), v.contains(&x));
            let mut u = IntervalSet::empty();
            for &y in &v { u = u.union(&IntervalSet::single(y)); }
            prop_assert_eq!(s, u);
        }

        #[test]
        fn set_algebra(a in 0u32..64, b in 0u32..64, c in 0u32..64, d in 0u32..64, v in 0u32..64) {
            let s = IntervalSet::range(a.min(b), a.max(b)).union(&IntervalSet::single(c));
            let t = IntervalSet::range(c.min(d), c.max(d));
            prop_assert_eq!(s.intersect(&t).contains(v), s.contains(v) && t.contains(v));
            prop_assert_eq!(s.union(&t).contains(v), s.contains(v) || t.contains(v));
            prop_assert_eq!(s.complement().contains(v), !s.contains(v));
            prop_assert_eq!(s.minus(&t).contains(v), s.contains(v) && !t.contains(v));
        }

        #[test]
        fn witness_is_sound(lo in 0u32..256, hi in 0u32..256, m in 0u32..256, v in 0u32..256, em in 0u32..256, ev in 0u32..256) {
            let mut d = WordDomain::any();
            d.restrict(&IntervalSet::range(lo, hi));
            let ok = d.require_masked(m, v & m) && d.exclude_masked(em, ev & em);
            // A refused constraint means the caller drops the path.
            prop_assume!(ok);
            let brute = (0u32..512).any(|x| d.contains(x));
            match d.witness() {
                Feasibility::Yes(x) => prop_assert!(d.contains(x)),
                Feasibility::No => prop_assert!(!brute),
                Feasibility::Unknown => {}
            }
        }
    }

    proptest! {
        #[test]
        fn search_is_exact(
            lo in 0u32..1024, hi in 0u32..1024, m in 0u32..1024, v in 0u32..1024,
            ex in proptest::collection::vec((0u32..1024, 0u32..1024), 0..12),
        ) {
            let mut d = WordDomain::any();
            d.restrict(&IntervalSet::range(lo.min(hi), lo.max(hi)));
            let mut ok = d.require_masked(m, v & m);
            for (em, ev) in ex {
                ok = ok && d.exclude_masked(em, ev & em);
            }
            prop_assume!(ok);
            let least = (0u32..1024).find(|&x| d.contains(x));
            let want = least.map_or(Feasibility::No, Feasibility::Yes);
            prop_assert_eq!(d.search(), want);
            prop_assert_eq!(d.witness(), want);
        }
    }

    #[test]
    fn witness_past_the_quick_scan() {
        // Every residue of the low 9 bits but 0x155 excluded: the scan
        // gives up after 256 tries, the search finds it.
        let mut d = WordDomain::any();
        for r in (0..0x200).filter(|&r| r != 0x155) {
            assert!(d.exclude_masked(0x1ff, r));
        }
        assert_eq!(d.witness(), Feasibility::Yes(0x155));
        assert!(d.exclude_masked(0x1ff, 0x155));
        assert_eq!(d.witness(), Feasibility::No);
        // In a range above a pattern-free value, high bits count too.
        let mut e = WordDomain::any();
        e.restrict(&IntervalSet::range(0x8000_0000, u32::MAX));
        for r in (0..0x200).filter(|&r| r != 0x1ff) {
            assert!(e.exclude_masked(0x8000_01ff, 0x8000_0000 | r));
        }
        assert_eq!(e.witness(), Feasibility::Yes(0x8000_01ff));
    }

    #[test]
    fn aligned_blocks_cover_exactly() {
        let blocks: Vec<_> = aligned_blocks(3, 17).collect();
        assert_eq!(blocks, [(3, 0), (4, 3), (8, 7), (16, 1)]);
        assert_eq!(
            aligned_blocks(0, u32::MAX).collect::<Vec<_>>(),
            [(0, u32::MAX)]
        );
        assert_eq!(
            aligned_blocks(u32::MAX, u32::MAX).collect::<Vec<_>>(),
            [(u32::MAX, 0)]
        );
    }

    #[test]
    fn high_bits() {
        assert_eq!(next_with_bits(0xffff_fff0, 0x1, 0x1), Some(0xffff_fff1));
        assert_eq!(next_with_bits(0xffff_ffff, 0x1, 0x0), None);
        assert_eq!(next_with_bits(0x8000_0000, 0x8000_0000, 0), None);
        assert_eq!(next_with_bits(1 << 30, 1 << 30, 0), Some(0x8000_0000));
    }
}
