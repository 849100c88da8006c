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
            Node::Ge { k, lo, hi } => 1 + if nr >= *k { hi.depth_of(nr) } else { lo.depth_of(nr) },
            Node::Eq { k, miss, .. } => 1 + if nr == *k { 0 } else { miss.depth_of(nr) },
        }
    }
}

/// Most exceptions in one `JEQ` chain.
const MAX_CHAIN: usize = 4;
/// Longest line solved by the dynamic program; longer ones are split by weight.
const MAX_DP: usize = 1500;
/// Marks an interval solved by an exception chain.
const CHAIN: u32 = u32::MAX;

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
    let mut cost = vec![0.0f64; n * n];
    let mut root = vec![0u32; n * n];
    let at = |i: usize, j: usize| i * n + j;
    for len in 2..=n {
        for i in 0..=n - len {
            let j = i + len - 1;
            let w = wsum(i, j);
            let mut best = f64::INFINITY;
            let mut best_root = 0u32;
            let (mut lo, mut hi) = (i + 1, j);
            if len > 2 {
                let left = root[at(i, j - 1)];
                let right = root[at(i + 1, j)];
                if left != CHAIN {
                    lo = (left as usize).max(i + 1);
                }
                if right != CHAIN {
                    hi = (right as usize).min(j);
                }
                if lo > hi {
                    (lo, hi) = (i + 1, j);
                }
            }
            for s in lo..=hi {
                let c = w + cost[at(i, s - 1)] + cost[at(s, j)];
                if c < best {
                    best = c;
                    best_root = s as u32;
                }
            }
            if (3..=2 * MAX_CHAIN + 1).contains(&len) {
                if let Some(c) = chain_cost(&ranges[i..=j], &weights[i..=j]) {
                    if c < best {
                        best = c;
                        best_root = CHAIN;
                    }
                }
            }
            cost[at(i, j)] = best;
            root[at(i, j)] = best_root;
        }
    }
    rebuild(ranges, weights, &root, n, 0, n - 1)
}

fn rebuild(ranges: &[Range], weights: &[f64], root: &[u32], n: usize, i: usize, j: usize) -> Node {
    if i == j {
        return Node::Leaf(ranges[i].decision);
    }
    let r = root[i * n + j];
    if r == CHAIN {
        return chain(&ranges[i..=j], &weights[i..=j]).expect("chain cost implies a chain");
    }
    let s = r as usize;
    Node::Ge {
        k: ranges[s].lo,
        lo: Box::new(rebuild(ranges, weights, root, n, i, s - 1)),
        hi: Box::new(rebuild(ranges, weights, root, n, s, j)),
    }
}

/// The base decision and exceptions of an interval that is one decision
/// around at most [`MAX_CHAIN`] single numbers, heaviest exception first.
fn chain_parts(ranges: &[Range], weights: &[f64]) -> Option<(DecisionId, Vec<usize>)> {
    let mut best: Option<(DecisionId, Vec<usize>)> = None;
    for cand in [ranges[0].decision, ranges[1].decision] {
        let ex: Vec<usize> = (0..ranges.len()).filter(|&k| ranges[k].decision != cand).collect();
        let ok = ex.len() <= MAX_CHAIN && ex.iter().all(|&k| ranges[k].lo == ranges[k].hi);
        if ok && best.as_ref().map_or(true, |b| ex.len() < b.1.len()) {
            best = Some((cand, ex));
        }
    }
    best.map(|(d, mut ex)| {
        ex.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
        (d, ex)
    })
}

fn chain_cost(ranges: &[Range], weights: &[f64]) -> Option<f64> {
    let (_, ex) = chain_parts(ranges, weights)?;
    let total: f64 = weights.iter().sum();
    let ex_w: f64 = ex.iter().map(|&k| weights[k]).sum();
    let mut c = (total - ex_w) * ex.len() as f64;
    for (pos, &k) in ex.iter().enumerate() {
        c += weights[k] * (pos + 1) as f64;
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

/// Splits at the weight median, for lines too long for the dynamic program.
fn balanced(ranges: &[Range], weights: &[f64]) -> Node {
    if ranges.len() == 1 {
        return Node::Leaf(ranges[0].decision);
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
