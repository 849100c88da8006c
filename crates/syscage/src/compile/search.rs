//! Pass 4, search: a decision tree over the ranges of a number line,
//! with the least expected number of comparisons for the ranges' weights.
//!
//! Inner nodes are `JGE k` splits (numbers below `k` on one side) and `JEQ k`
//! exceptions: a short chain of single numbers whose decisions differ from
//! the one around them ("everything here is ALLOW except 170 and 172"),
//! which costs one comparison per exception instead of two splits each.
//!
//! The tree comes from an interval dynamic program (optimal binary search
//! trees, with Knuth's bound on the split points, `O(n²)`), where an
//! interval's cost is its weight times the comparisons it takes. Long lines
//! fall back to weight-balanced splitting.

use super::decision::DecisionId;
use super::ranges::Range;

/// A node of the search tree. The accumulator holds `nr` at every node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// The number is decided.
    Leaf(DecisionId),
    /// `if nr >= k { hi } else { lo }`.
    Ge {
        /// First number of the upper part.
        k: u32,
        /// Numbers below `k`.
        lo: Box<Node>,
        /// Numbers from `k` on.
        hi: Box<Node>,
    },
    /// `if nr == k { hit } else { miss }`.
    Eq {
        /// The exceptional number.
        k: u32,
        /// Its decision.
        hit: DecisionId,
        /// Every other number of the interval.
        miss: Box<Node>,
    },
}

impl Node {
    /// Comparisons on the path to `nr`'s leaf.
    pub fn depth_of(&self, nr: u32) -> usize {
        match self {
            Node::Leaf(_) => 0,
            Node::Ge { k, lo, hi } => {
                1 + if nr >= *k {
                    hi.depth_of(nr)
                } else {
                    lo.depth_of(nr)
                }
            }
            Node::Eq { k, miss, .. } => 1 + if nr == *k { 0 } else { miss.depth_of(nr) },
        }
    }
}

/// Marks, in a split table entry, an interval solved by a chain.
const CHAIN_BIT: u32 = 1 << 31;

/// Intervals this short are always solved exactly.
const SMALL: usize = 16;

/// Most exceptions in one `JEQ` chain.
const MAX_CHAIN: usize = 4;
/// Longest line solved by the dynamic program; longer ones are split by weight.
const MAX_DP: usize = 1500;

/// Builds the search tree of `ranges` (covering the line in order) with
/// one weight per range.
pub fn build(ranges: &[Range], weights: &[f64]) -> Node {
    debug_assert_eq!(ranges.len(), weights.len());
    if ranges.len() > MAX_DP {
        return balanced(ranges, weights);
    }
    let n = ranges.len();
    let mut prefix = vec![0.0; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + weights[i];
    }
    let wsum = |i: usize, j: usize| prefix[j + 1] - prefix[i];
    // Intervals i..=j stored as triangles: `cost` row by row (contiguous in
    // j), `cost_t` column by column (contiguous in i), so the split loop
    // reads both along contiguous memory; half the memory of squares.
    let row_base: Vec<usize> = (0..n)
        .map(|i| i * n - i * i.saturating_sub(1) / 2)
        .collect();
    let row = |i: usize, j: usize| row_base[i] + (j - i);
    let col = |j: usize, i: usize| j * (j + 1) / 2 + i;
    let cells = n * (n + 1) / 2;
    let mut cost = vec![0.0f64; cells];
    let mut cost_t = vec![0.0f64; cells];
    // Best split of each interval (kept even when a chain wins, for
    // Knuth's bound), with CHAIN_BIT when a chain won.
    let mut root = vec![0u32; cells];
    for len in 2..=n {
        for i in 0..=n - len {
            let j = i + len - 1;
            let w = wsum(i, j);
            let mut best = f64::INFINITY;
            let mut best_root = 0u32;
            let (mut lo, mut hi) = (i + 1, j);
            if len > 2 {
                lo = ((root[row(i, j - 1)] & !CHAIN_BIT) as usize).max(i + 1);
                hi = ((root[row(i + 1, j)] & !CHAIN_BIT) as usize).min(j);
                if lo > hi {
                    (lo, hi) = (i + 1, j);
                }
            }
            // cost[i][s-1] and cost[s][j] for s in lo..=hi, as two slices.
            let left = &cost[row(i, lo - 1)..=row(i, hi - 1)];
            let right = &cost_t[col(j, lo)..=col(j, hi)];
            for (k, (a, b)) in left.iter().zip(right).enumerate() {
                let c = w + a + b;
                if c < best {
                    best = c;
                    best_root = (lo + k) as u32;
                }
            }
            if (3..=2 * MAX_CHAIN + 1).contains(&len) {
                if let Some(c) = chain_cost(&ranges[i..=j], &weights[i..=j]) {
                    if c < best {
                        best = c;
                        best_root |= CHAIN_BIT;
                    }
                }
            }
            cost[row(i, j)] = best;
            cost_t[col(j, i)] = best;
            root[row(i, j)] = best_root;
        }
    }
    let tables = Tables {
        root: &root,
        row_base: &row_base,
    };
    tables.rebuild(ranges, weights, 0, n - 1)
}

/// The solved dynamic program.
struct Tables<'t> {
    root: &'t [u32],
    row_base: &'t [usize],
}

impl Tables<'_> {
    fn rebuild(&self, ranges: &[Range], weights: &[f64], i: usize, j: usize) -> Node {
        if i == j {
            return Node::Leaf(ranges[i].decision);
        }
        let r = self.root[self.row_base[i] + (j - i)];
        if r & CHAIN_BIT != 0 {
            return chain(&ranges[i..=j], &weights[i..=j]).expect("chain cost implies a chain");
        }
        let s = r as usize;
        Node::Ge {
            k: ranges[s].lo,
            lo: Box::new(self.rebuild(ranges, weights, i, s - 1)),
            hi: Box::new(self.rebuild(ranges, weights, s, j)),
        }
    }
}

/// The base decision and exceptions of the cheapest chain of an interval
/// that is one decision around at most [`MAX_CHAIN`] single numbers,
/// heaviest exception first.
fn chain_parts(ranges: &[Range], weights: &[f64]) -> Option<(DecisionId, Vec<usize>)> {
    let mut best: Option<(f64, DecisionId)> = None;
    for cand in [ranges[0].decision, ranges[1].decision] {
        if let Some(c) = chain_cost_for(ranges, weights, cand) {
            if best.is_none_or(|b| c < b.0) {
                best = Some((c, cand));
            }
        }
    }
    let (_, base) = best?;
    let mut ex: Vec<usize> = (0..ranges.len())
        .filter(|&k| ranges[k].decision != base)
        .collect();
    ex.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    Some((base, ex))
}

/// Cost of the cheapest exception chain of an interval.
fn chain_cost(ranges: &[Range], weights: &[f64]) -> Option<f64> {
    let a = chain_cost_for(ranges, weights, ranges[0].decision);
    let b = chain_cost_for(ranges, weights, ranges[1].decision);
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Cost of the exception chain around base decision `base`, without
/// allocating (it runs for every short interval of the dynamic program).
fn chain_cost_for(ranges: &[Range], weights: &[f64], base: DecisionId) -> Option<f64> {
    let mut ex = [0.0f64; MAX_CHAIN];
    let mut m = 0;
    let mut base_w = 0.0;
    for (r, &w) in ranges.iter().zip(weights) {
        if r.decision == base {
            base_w += w;
        } else if m < MAX_CHAIN && r.lo == r.hi {
            ex[m] = w;
            m += 1;
        } else {
            return None;
        }
    }
    let ex = &mut ex[..m];
    ex.sort_by(|a, b| b.total_cmp(a));
    let mut c = base_w * m as f64;
    for (pos, w) in ex.iter().enumerate() {
        c += w * (pos + 1) as f64;
    }
    Some(c)
}

fn chain(ranges: &[Range], weights: &[f64]) -> Option<Node> {
    let (base, ex) = chain_parts(ranges, weights)?;
    let mut node = Node::Leaf(base);
    for &k in ex.iter().rev() {
        node = Node::Eq {
            k: ranges[k].lo,
            hit: ranges[k].decision,
            miss: Box::new(node),
        };
    }
    Some(node)
}

/// Splits at the weight median down to intervals of `SMALL` ranges,
/// solved exactly: `O(n log n)`, for lines too long for the dynamic program
/// and for the lines of secondary arches (x86 on an x86_64 host), where
/// compile time matters more than the last tenth of a step.
pub fn balanced(ranges: &[Range], weights: &[f64]) -> Node {
    if ranges.len() <= SMALL {
        return build(ranges, weights);
    }
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut s = 1;
    for (k, w) in weights.iter().enumerate().take(ranges.len() - 1) {
        acc += w;
        s = k + 1;
        if acc * 2.0 >= total {
            break;
        }
    }
    Node::Ge {
        k: ranges[s].lo,
        lo: Box::new(balanced(&ranges[..s], &weights[..s])),
        hi: Box::new(balanced(&ranges[s..], &weights[s..])),
    }
}
