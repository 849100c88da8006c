//! A [`Policy`] as policy-language text: settings first, then the rules
//! for every arch, then one `arch` section per arch with rules of its own,
//! then the `arch other` section (rules for the arches not listed).
//! Unconditional rules with one action share a line; argument conditions
//! use the kernel's parameter names where the syscall has them.

use crate::action::Action;
use crate::arch::Arch;
use crate::policy::{CmpOp, Condition, Policy, Rule, SyscallId, Width};
use crate::profile::names::errno_name;
use std::fmt::Write;

/// Lines are wrapped after this many characters (at a comma).
const WIDTH: usize = 78;

/// The language's spelling of an action.
pub fn action(a: Action) -> String {
    match a {
        Action::Allow => "allow".into(),
        Action::Log => "log".into(),
        Action::UserNotif => "notify".into(),
        Action::KillProcess => "kill-process".into(),
        Action::KillThread => "kill-thread".into(),
        Action::Trap(0) => "trap".into(),
        Action::Trap(n) => format!("trap({n})"),
        Action::Trace(0) => "trace".into(),
        Action::Trace(n) => format!("trace({n})"),
        Action::Errno(n) => match errno_name(n) {
            Some(name) => format!("errno({name})"),
            None => format!("errno({n})"),
        },
    }
}

/// A number: decimal when small, else hex.
pub fn value(v: u64) -> String {
    if v < 0x1000 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

/// The syscall as a target: its name, or its number.
fn target(id: &SyscallId) -> String {
    match id {
        SyscallId::Name(n) => n.clone(),
        SyscallId::Nr(nr) => value(*nr as u64),
    }
}

/// The name the language reads back as argument `i` of `syscall`.
fn arg_name(syscall: Option<&str>, i: u8, width: Width) -> String {
    let params = syscall.and_then(crate::arch::params::syscall_params);
    let name = match params {
        Some(p)
            if (i as usize) < p.len()
                && p.iter().position(|&x| x == p[i as usize]) == Some(i as usize)
                && !p[i as usize].starts_with("arg") =>
        {
            p[i as usize].to_string()
        }
        _ => format!("arg{i}"),
    };
    match width {
        Width::Bits64 => name,
        Width::Bits32 => format!("(u32){name}"),
    }
}

/// Whether an argument holds bits (flags, protections, modes), which read
/// better in hex.
fn is_bits(name: &str) -> bool {
    ["flag", "prot", "mode", "mask"]
        .iter()
        .any(|w| name.contains(w))
}

/// A constant compared with argument `name`.
fn constant(name: &str, v: u64) -> String {
    if is_bits(name) && v >= 10 {
        format!("{v:#x}")
    } else {
        value(v)
    }
}

/// The conditions of a rule, joined with `&&`.
pub fn conditions(syscall: Option<&str>, conds: &[Condition]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < conds.len() {
        let c = conds[i];
        let name = arg_name(syscall, c.arg, c.width);
        let value = |v: u64| constant(&name, v);
        // `Ge(l) && Le(h)` on one argument reads as a range (and parses
        // back to the same two conditions).
        if let (CmpOp::Ge(l), Some(next)) = (c.op, conds.get(i + 1)) {
            let max = match c.width {
                Width::Bits64 => u64::MAX,
                Width::Bits32 => u32::MAX as u64,
            };
            if let CmpOp::Le(h) = next.op {
                if next.arg == c.arg && next.width == c.width && 0 < l && l < h && h < max {
                    parts.push(format!("{name} in {}..={}", value(l), value(h)));
                    i += 2;
                    continue;
                }
            }
        }
        parts.push(match c.op {
            CmpOp::Eq(v) => format!("{name} == {}", value(v)),
            CmpOp::Ne(v) => format!("{name} != {}", value(v)),
            CmpOp::Lt(v) => format!("{name} < {}", value(v)),
            CmpOp::Le(v) => format!("{name} <= {}", value(v)),
            CmpOp::Gt(v) => format!("{name} > {}", value(v)),
            CmpOp::Ge(v) => format!("{name} >= {}", value(v)),
            CmpOp::MaskedEq { mask, value: v } => {
                // The masked bits read best in hex, like the mask.
                let bits = if v == 0 {
                    "0".to_string()
                } else {
                    format!("{v:#x}")
                };
                format!("{name} & {mask:#x} == {bits}")
            }
        });
        i += 1;
    }
    parts.join(" && ")
}

/// The name whose parameters a rule's conditions use (on `arch` for numbers).
fn syscall_name(r: &Rule, arch: Option<Arch>) -> Option<String> {
    match &r.syscall {
        SyscallId::Name(n) => Some(n.clone()),
        SyscallId::Nr(nr) => arch.and_then(|a| a.syscall_name(*nr)).map(str::to_string),
    }
}

/// The largest value an argument of this width compares.
fn top(width: Width) -> u64 {
    match width {
        Width::Bits64 => u64::MAX,
        Width::Bits32 => u32::MAX as u64,
    }
}

/// A rule whose conditions are one range of one argument, as the range
/// (`None` end: up to the top), when `in {...}` parses back to exactly
/// these conditions.
fn set_item(conds: &[Condition]) -> Option<(u8, Width, u64, Option<u64>)> {
    let max = top(conds.first()?.width);
    let c = conds[0];
    match (conds, c.op) {
        ([_], CmpOp::Eq(v)) => Some((c.arg, c.width, v, Some(v))),
        ([_], CmpOp::Le(h)) if 0 < h && h < max => Some((c.arg, c.width, 0, Some(h))),
        ([_], CmpOp::Ge(l)) if 0 < l && l < max => Some((c.arg, c.width, l, None)),
        ([_, d], CmpOp::Ge(l)) if d.arg == c.arg && d.width == c.width => match d.op {
            CmpOp::Le(h) if 0 < l && l < h && h < max => Some((c.arg, c.width, l, Some(h))),
            _ => None,
        },
        _ => None,
    }
}

fn item_text(name: &str, lo: u64, hi: Option<u64>) -> String {
    let value = |v: u64| constant(name, v);
    match hi {
        Some(h) if h == lo => value(lo),
        Some(h) => format!("{}..={}", value(lo), value(h)),
        None => format!("{}..", value(lo)),
    }
}

/// A set's items: inclusive ranges, `None` end for "up to the top".
type Items = Vec<(u64, Option<u64>)>;

/// One printed rule: an action, a syscall, a condition text.
struct Entry {
    action: Action,
    target: String,
    /// `(arg, width)` and the set's items, for rules that are one range.
    set: Option<((u8, Width), Items)>,
    cond: String,
    name: Option<String>,
}

/// Prints the rules of one scope (all arches, or one), with `indent`.
fn rules(out: &mut String, rs: &[&Rule], arch: Option<Arch>, indent: &str) {
    // Rules of one syscall and action that each test one range of the
    // same argument become one `in {...}` set.
    let mut entries: Vec<Entry> = Vec::new();
    for r in rs {
        let name = syscall_name(r, arch);
        let t = target(&r.syscall);
        if let Some((i, w, lo, hi)) = set_item(&r.conditions) {
            let found = entries.iter_mut().find(|e| {
                e.action == r.action
                    && e.target == t
                    && e.set.as_ref().is_some_and(|s| s.0 == (i, w))
            });
            if let Some(e) = found {
                if let Some(s) = e.set.as_mut() {
                    s.1.push((lo, hi));
                }
                continue;
            }
            entries.push(Entry {
                action: r.action,
                target: t,
                set: Some(((i, w), vec![(lo, hi)])),
                cond: conditions(name.as_deref(), &r.conditions),
                name,
            });
            continue;
        }
        entries.push(Entry {
            action: r.action,
            target: t,
            set: None,
            cond: conditions(name.as_deref(), &r.conditions),
            name,
        });
    }
    // Lines in order of first appearance: (action, condition text) → targets.
    let mut lines: Vec<(Action, String, Vec<String>)> = Vec::new();
    for e in entries {
        let cond = match &e.set {
            Some(((i, w), items)) if items.len() > 1 => {
                let arg = arg_name(e.name.as_deref(), *i, *w);
                let list: Vec<String> = items.iter().map(|&(l, h)| item_text(&arg, l, h)).collect();
                format!("{arg} in {{{}}}", list.join(", "))
            }
            _ => e.cond,
        };
        match lines
            .iter_mut()
            .find(|(a, c, ts)| *a == e.action && *c == cond && !ts.contains(&e.target))
        {
            Some((_, _, ts)) => ts.push(e.target),
            None => lines.push((e.action, cond, vec![e.target])),
        }
    }
    for (a, cond, targets) in lines {
        let head = format!("{indent}{} ", action(a));
        let mut line = head.clone();
        let cont = " ".repeat(head.len());
        for (k, t) in targets.iter().enumerate() {
            let piece = if k + 1 < targets.len() {
                format!("{t},")
            } else {
                t.clone()
            };
            if k > 0 && line.len() + piece.len() + 1 > WIDTH {
                out.push_str(line.trim_end());
                out.push('\n');
                line = cont.clone();
            } else if k > 0 {
                line.push(' ');
            }
            line.push_str(&piece);
        }
        if !cond.is_empty() {
            line.push_str(" if ");
            // A long condition continues on the next lines, after `&&`.
            let more = format!("{cont}   ");
            for (k, part) in cond.split(" && ").enumerate() {
                if k > 0 {
                    if line.len() + part.len() + 4 > WIDTH {
                        line.push_str(" &&");
                        out.push_str(&line);
                        out.push('\n');
                        line = more.clone();
                    } else {
                        line.push_str(" && ");
                    }
                }
                line.push_str(part);
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
}

/// The policy as policy-language text.
pub fn print(p: &Policy) -> String {
    let mut out = String::new();
    let names: Vec<&str> = p.arches().iter().map(|a| a.name()).collect();
    let _ = writeln!(out, "arches {}", names.join(", "));
    let _ = writeln!(out, "default {}", action(p.default_action()));
    let _ = writeln!(out, "bad-arch {}", action(p.bad_arch_action()));
    if let Some(u) = p.unknown_action() {
        let _ = writeln!(out, "unknown-syscall {}", action(u));
    }
    let d = crate::policy::Attributes::default();
    for (on, dflt, name) in [
        (p.attributes().no_new_privs, d.no_new_privs, "no-new-privs"),
        (p.attributes().tsync, d.tsync, "tsync"),
        (p.attributes().log, d.log, "log"),
        (p.attributes().spec_allow, d.spec_allow, "spec-allow"),
    ] {
        if on != dflt {
            let _ = writeln!(out, "option {name} {}", if on { "on" } else { "off" });
        }
    }
    let common: Vec<&Rule> = p.rules().iter().filter(|r| r.arch.is_none()).collect();
    if !common.is_empty() || unnamed(p, None).next().is_some() {
        out.push('\n');
        rules(&mut out, &common, None, "");
        for line in unnamed(p, None) {
            out.push_str(&line);
        }
    }
    let mut sections: Vec<Arch> = p.arches().to_vec();
    for r in p.rules() {
        if let Some(a) = r.arch {
            if !sections.contains(&a) {
                sections.push(a);
            }
        }
    }
    for a in sections {
        let own: Vec<&Rule> = p.rules().iter().filter(|r| r.arch == Some(a)).collect();
        if own.is_empty() && unnamed(p, Some(a)).next().is_none() {
            continue;
        }
        let _ = writeln!(out, "\narch {} {{", a.name());
        rules(&mut out, &own, Some(a), "    ");
        for line in unnamed(p, Some(a)) {
            let _ = write!(out, "    {line}");
        }
        out.push_str("}\n");
    }
    let other: Vec<&Rule> = p.other_rules().iter().collect();
    if !other.is_empty() {
        out.push_str("\narch other {\n");
        rules(&mut out, &other, None, "    ");
        out.push_str("}\n");
    }
    out
}

/// The `ACTION unnamed A..=B` lines of one scope.
fn unnamed(p: &Policy, arch: Option<Arch>) -> impl Iterator<Item = String> + '_ {
    p.number_ranges()
        .iter()
        .filter(move |r| r.arch == arch)
        .map(|r| {
            let v = |n: u32| value(n as u64);
            let range = if r.hi == u32::MAX {
                format!("{}..", v(r.lo))
            } else if r.lo == r.hi {
                format!("{}..={}", v(r.lo), v(r.lo))
            } else {
                format!("{}..={}", v(r.lo), v(r.hi))
            };
            format!("{} unnamed {range}\n", action(r.action))
        })
}
