//! The exact numbers of a number word's domain: its intervals narrowed by
//! its bit patterns (`nr & 0x40000000` tests), as an interval set.

use crate::analyze::domain::{IntervalSet, WordDomain};

/// Most aligned blocks examined before giving up.
const MAX_BLOCKS: usize = 1 << 16;

/// The values of `set` that `dom`'s bit constraints admit, or `None` when
/// the patterns cut the set into too many pieces.
pub(super) fn exact_numbers(dom: &WordDomain, set: &IntervalSet) -> Option<IntervalSet> {
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
    let low = (1u64 << k) - 1;
    let b = base as u32;
    let mut undecided = false;
    let fixed = dom.fixed_mask as u64;
    if fixed & low == 0 {
        if b & dom.fixed_mask != dom.fixed_value {
            return Some(());
        }
    } else {
        undecided = true;
    }
    for &(m, v) in &dom.excluded {
        if (m as u64) & low == 0 {
            if b & m == v {
                return Some(());
            }
        } else {
            undecided = true;
        }
    }
    if !undecided {
        out.push((b, (base + low) as u32));
        return Some(());
    }
    block(dom, base, k - 1, out, budget)?;
    block(dom, base + (1u64 << (k - 1)), k - 1, out, budget)
}
