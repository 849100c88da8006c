//! Conditions of the language to the policy's: every condition becomes an
//! OR of ANDs of [`Condition`]s (one rule per AND), with argument names
//! resolved per syscall.

use super::ast::{ArgName, Cond, Op, Test};
use super::error::LangError;
use crate::policy::{CmpOp, Condition, Width};

/// Most rules one rule statement may expand to, per syscall.
pub const MAX_ALTERNATIVES: usize = 4096;

/// Alternatives, each an AND of conditions.
pub type Dnf = Vec<Vec<Condition>>;

/// The argument index a name stands for: `arg0`..`arg5`, or the position
/// of a parameter of `syscall` (the kernel's parameter names).
pub fn arg_index(arg: &ArgName, syscall: Option<&str>) -> Result<u8, LangError> {
    if let Some(n) = arg.name.strip_prefix("arg") {
        if let Ok(i) = n.parse::<u8>() {
            if i <= 5 {
                return Ok(i);
            }
            return Err(LangError::at(
                &arg.loc,
                format!("`{}`: syscalls have arguments arg0 to arg5", arg.name),
            ));
        }
    }
    let params = syscall.and_then(crate::arch::params::syscall_params);
    match params.and_then(|p| p.iter().position(|&x| x == arg.name)) {
        Some(i) if i <= 5 => Ok(i as u8),
        _ => {
            let what = match (syscall, params) {
                (Some(s), Some(p)) => format!("{s}({})", p.join(", ")),
                (Some(s), None) => format!("{s}, whose parameter names syscage does not know"),
                (None, _) => "a syscall given by number".to_string(),
            };
            Err(LangError::at(
                &arg.loc,
                format!(
                    "`{}` is not a parameter of {what} (expected a parameter name or arg0..arg5)",
                    arg.name
                ),
            ))
        }
    }
}

/// The largest value an argument of this width compares.
fn top(width: Width) -> u64 {
    match width {
        Width::Bits64 => u64::MAX,
        Width::Bits32 => u32::MAX as u64,
    }
}

fn cond(i: u8, width: Width, op: CmpOp) -> Condition {
    Condition { arg: i, op, width }
}

fn fits(arg: &ArgName, v: u64) -> Result<(), LangError> {
    if arg.width == Width::Bits32 && v > u32::MAX as u64 {
        return Err(LangError::at(
            &arg.loc,
            format!(
                "`(u32){}` compares the low 32 bits; {v:#x} does not fit in them",
                arg.name
            ),
        ));
    }
    Ok(())
}

/// `lo <= arg <= hi` as the fewest comparisons (none when it always holds).
pub fn range(i: u8, width: Width, lo: u64, hi: u64) -> Vec<Condition> {
    let max = top(width);
    match (lo, hi) {
        (l, h) if l == h => vec![cond(i, width, CmpOp::Eq(l))],
        (0, h) if h >= max => Vec::new(),
        (0, h) => vec![cond(i, width, CmpOp::Le(h))],
        (l, h) if h >= max => vec![cond(i, width, CmpOp::Ge(l))],
        (l, h) => vec![cond(i, width, CmpOp::Ge(l)), cond(i, width, CmpOp::Le(h))],
    }
}

fn and(a: &Dnf, b: &Dnf, at: &ArgName) -> Result<Dnf, LangError> {
    if a.len().saturating_mul(b.len()) > MAX_ALTERNATIVES {
        return Err(too_many(at));
    }
    let mut out = Vec::new();
    for x in a {
        for y in b {
            out.push(x.iter().chain(y).copied().collect());
        }
    }
    Ok(out)
}

fn too_many(at: &ArgName) -> LangError {
    LangError::at(
        &at.loc,
        format!("the condition expands to more than {MAX_ALTERNATIVES} rules"),
    )
}

fn first_arg(c: &Cond) -> &ArgName {
    match c {
        Cond::Or(v) | Cond::And(v) => first_arg(&v[0]),
        Cond::Test(Test::Cmp(a, _, _))
        | Cond::Test(Test::Masked { arg: a, .. })
        | Cond::Test(Test::In { arg: a, .. }) => a,
    }
}

/// The alternatives of a condition, for `syscall` (its name, when it has one).
pub fn dnf(c: &Cond, syscall: Option<&str>) -> Result<Dnf, LangError> {
    match c {
        Cond::Or(v) => {
            let mut out = Vec::new();
            for x in v {
                out.extend(dnf(x, syscall)?);
                if out.len() > MAX_ALTERNATIVES {
                    return Err(too_many(first_arg(x)));
                }
            }
            Ok(out)
        }
        Cond::And(v) => {
            let mut out: Dnf = vec![Vec::new()];
            for x in v {
                out = and(&out, &dnf(x, syscall)?, first_arg(x))?;
            }
            Ok(out)
        }
        Cond::Test(t) => test(t, syscall),
    }
}

fn test(t: &Test, syscall: Option<&str>) -> Result<Dnf, LangError> {
    match t {
        Test::Cmp(a, op, v) => {
            fits(a, *v)?;
            let i = arg_index(a, syscall)?;
            let op = match op {
                Op::Eq => CmpOp::Eq(*v),
                Op::Ne => CmpOp::Ne(*v),
                Op::Lt => CmpOp::Lt(*v),
                Op::Le => CmpOp::Le(*v),
                Op::Gt => CmpOp::Gt(*v),
                Op::Ge => CmpOp::Ge(*v),
            };
            Ok(vec![vec![cond(i, a.width, op)]])
        }
        Test::Masked {
            arg,
            mask,
            value,
            equal,
        } => {
            fits(arg, *mask)?;
            fits(arg, *value)?;
            let i = arg_index(arg, syscall)?;
            if value & !mask != 0 {
                return Err(LangError::at(
                    &arg.loc,
                    format!(
                        "{value:#x} has bits outside the mask {mask:#x}, so the test never holds"
                    ),
                ));
            }
            if *equal {
                return Ok(vec![vec![cond(
                    i,
                    arg.width,
                    CmpOp::MaskedEq {
                        mask: *mask,
                        value: *value,
                    },
                )]]);
            }
            if *mask == 0 {
                return Err(LangError::at(
                    &arg.loc,
                    "`& 0 != ...` never holds (the mask selects no bit)".into(),
                ));
            }
            // Some bit of the mask differs from the value's.
            Ok((0..64)
                .map(|b| 1u64 << b)
                .filter(|bit| mask & bit != 0)
                .map(|bit| {
                    vec![cond(
                        i,
                        arg.width,
                        CmpOp::MaskedEq {
                            mask: bit,
                            value: !value & bit,
                        },
                    )]
                })
                .collect())
        }
        Test::In { arg, set, member } => {
            let max = top(arg.width);
            for &(lo, hi) in set {
                fits(arg, lo)?;
                fits(arg, hi.unwrap_or(0))?;
            }
            let set: Vec<(u64, u64)> = set
                .iter()
                .map(|&(lo, hi)| (lo, hi.unwrap_or(max)))
                .collect();
            let i = arg_index(arg, syscall)?;
            if *member {
                if set.len() > MAX_ALTERNATIVES {
                    return Err(too_many(arg));
                }
                return Ok(set
                    .iter()
                    .map(|&(lo, hi)| range(i, arg.width, lo, hi))
                    .collect());
            }
            // Outside every range: below it or above it, for each.
            let mut out: Dnf = vec![Vec::new()];
            for &(lo, hi) in &set {
                let mut outside: Dnf = Vec::new();
                if lo > 0 {
                    outside.push(vec![cond(i, arg.width, CmpOp::Lt(lo))]);
                }
                if hi < max {
                    outside.push(vec![cond(i, arg.width, CmpOp::Gt(hi))]);
                }
                out = and(&out, &outside, arg)?;
            }
            Ok(out)
        }
    }
}
