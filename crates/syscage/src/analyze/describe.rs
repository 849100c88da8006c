//! Regions of inputs in words: `fd == 0x1`, `0x10 <= len <= 0x20`,
//! `(flags & 0x7e020000) == 0x0`.

use super::domain::WordDomain;
use super::lift::Region;
use crate::bpf::data::{arg_offset, ip_offset, Half};
use crate::bpf::ByteOrder;

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// Conditions on one 32-bit quantity `expr` (`base` is added to every
/// value, to show the word inside a 64-bit value).
fn word(expr: &str, d: &WordDomain, base: u64) -> Vec<String> {
    let mut out = Vec::new();
    let iv = d.intervals.intervals();
    let v = |x: u32| hex(base | x as u64);
    if !d.intervals.is_full() {
        let comp = d.intervals.complement();
        out.push(match (iv, comp.as_single()) {
            ([(a, b)], _) if a == b => format!("{expr} == {}", v(*a)),
            (_, Some(x)) => format!("{expr} != {}", v(x)),
            ([(0, b)], _) => format!("{expr} <= {}", v(*b)),
            ([(a, u32::MAX)], _) => format!("{expr} >= {}", v(*a)),
            ([(a, b)], _) => format!("{} <= {expr} <= {}", v(*a), v(*b)),
            _ => {
                let parts: Vec<String> = iv
                    .iter()
                    .map(|&(a, b)| {
                        if a == b {
                            v(a)
                        } else {
                            format!("{}..={}", v(a), v(b))
                        }
                    })
                    .collect();
                format!("{expr} in {{{}}}", parts.join(", "))
            }
        });
    }
    if d.fixed_mask != 0 {
        out.push(format!(
            "({expr} & {}) == {}",
            hex(d.fixed_mask as u64),
            hex(d.fixed_value as u64)
        ));
    }
    for &(m, x) in &d.excluded {
        out.push(if m == u32::MAX {
            format!("{expr} != {}", v(x))
        } else {
            format!("({expr} & {}) != {}", hex(m as u64), hex(x as u64))
        });
    }
    out
}

/// Conditions on a 64-bit field made of two words.
fn field(name: &str, lo: &WordDomain, hi: &WordDomain, wide: bool) -> Vec<String> {
    if !wide || hi.is_any() {
        let expr = if wide && !lo.is_any() {
            format!("(u32){name}")
        } else {
            name.to_string()
        };
        return word(&expr, lo, 0);
    }
    if let Some(h) = hi
        .intervals
        .as_single()
        .filter(|_| hi.fixed_mask == 0 && hi.excluded.is_empty())
    {
        if lo.is_any() {
            return vec![format!("({name} >> 32) == {}", hex(h as u64))];
        }
        return word(name, lo, (h as u64) << 32);
    }
    let mut out = word(&format!("({name} >> 32)"), hi, 0);
    out.extend(word(&format!("(u32){name}"), lo, 0));
    out
}

/// The conditions a region puts on the arguments and the instruction
/// pointer, with argument names from `params` where given.
pub fn arg_conditions(
    region: &Region,
    order: ByteOrder,
    params: Option<&[&str]>,
    wide: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..6u8 {
        let lo = &region[(arg_offset(i, Half::Low, order) / 4) as usize];
        let hi = &region[(arg_offset(i, Half::High, order) / 4) as usize];
        let name = params
            .and_then(|p| p.get(i as usize))
            .map_or_else(|| format!("args[{i}]"), |s| s.to_string());
        out.extend(field(&name, lo, hi, wide));
    }
    let lo = &region[(ip_offset(Half::Low, order) / 4) as usize];
    let hi = &region[(ip_offset(Half::High, order) / 4) as usize];
    out.extend(field("instruction_pointer", lo, hi, true));
    out
}

/// The conditions on one 32-bit word, joined with `&&`.
pub fn describe_word(expr: &str, d: &WordDomain) -> String {
    word(expr, d, 0).join(" && ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::domain::IntervalSet;
    use crate::analyze::lift::any_region;

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
}
