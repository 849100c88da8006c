//! The exact numbers of a number word's domain: its intervals narrowed by
//! its bit patterns (bit tests such as x32's), as an interval set.

use crate::analyze::domain::{IntervalSet, WordDomain};

/// Most aligned blocks examined before giving up.
const MAX_BLOCKS: usize = 1 << 16;

/// The values of `set` that `dom`'s bit constraints admit, or `None` when
/// the patterns cut the set into too many pieces.
pub(crate) fn exact_numbers(dom: &WordDomain, set: &IntervalSet) -> Option<IntervalSet> {
    if dom.fixed_mask == 0 && dom.excluded.is_empty() {
        return Some(set.clone());
    }
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut budget = MAX_BLOCKS;
    for &(lo, hi) in set.intervals() {
        let (mut lo, hi) = (lo as u64, hi as u64);
        while lo <= hi {
            // The largest aligned block starting at `lo` inside the interval.
            let mut k = lo.trailing_zeros().min(32);
            while lo + (1u64 << k) - 1 > hi {
                k -= 1;
            }
            block(dom, lo, k, &mut out, &mut budget)?;
            lo += 1u64 << k;
        }
    }
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (l, h) in out {
        match merged.last_mut() {
            Some(last) if last.1.checked_add(1) == Some(l) => last.1 = h,
            _ => merged.push((l, h)),
        }
    }
    let mut result = IntervalSet::empty();
    for (l, h) in merged {
        result = result.union(&IntervalSet::range(l, h));
    }
    Some(result)
}

/// Adds the admitted part of block `base..base + 2^k` to `out`.
fn block(
    dom: &WordDomain,
    base: u64,
    k: u32,
    out: &mut Vec<(u32, u32)>,
    budget: &mut usize,
) -> Option<()> {
    *budget = budget.checked_sub(1)?;
    let low = ((1u64 << k) - 1) as u32;
    let b = base as u32;
    let mut undecided = false;
    // The block's values share every bit above `low`: a pattern is
    // decided on the block when those bits already tell.
    let (m, v) = (dom.fixed_mask, dom.fixed_value);
    if (b ^ v) & m & !low != 0 {
        return Some(());
    } else if m & low != 0 {
        undecided = true;
    }
    for &(m, v) in &dom.excluded {
        if (b ^ v) & m & !low != 0 {
            continue;
        }
        if m & low == 0 {
            return Some(());
        }
        undecided = true;
    }
    if !undecided {
        out.push((b, (base + low as u64) as u32));
        return Some(());
    }
    block(dom, base, k - 1, out, budget)?;
    block(dom, base + (1u64 << (k - 1)), k - 1, out, budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value of small domains: the exact set holds exactly the
    /// values the domain contains.
    #[test]
    fn exact_numbers_agree_with_contains() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut d = WordDomain::any();
            let (a, b) = ((next() % 4096) as u32, (next() % 4096) as u32);
            d.restrict(&IntervalSet::range(a.min(b), a.max(b)));
            let mask = (next() % 4096) as u32;
            let _ = d.require_masked(mask & next() as u32 & 0x30, next() as u32 & mask & 0x30);
            for _ in 0..(next() % 3) {
                let m = (next() % 4096) as u32;
                let _ = d.exclude_masked(m, next() as u32 & m);
            }
            let set = exact_numbers(&d, &d.intervals).expect("small domain");
            for v in 0..4200u32 {
                assert_eq!(set.contains(v), d.contains(v), "{d:?} at {v:#x}");
            }
        }
    }
}
