//! A [`Policy`] as policy-language text: settings first, then the rules
//! for every arch, then one `arch` section per arch with rules of its own.
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

/// The conditions of a rule, joined with `&&`.
pub fn conditions(syscall: Option<&str>, conds: &[Condition]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < conds.len() {
        let c = conds[i];
        let name = arg_name(syscall, c.arg, c.width);
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
                format!("{name} & {mask:#x} == {}", value(v))
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

/// Prints the rules of one scope (all arches, or one), with `indent`.
fn rules(out: &mut String, rs: &[&Rule], arch: Option<Arch>, indent: &str) {
    // Lines in order of first appearance: (action, condition text) → targets.
    let mut lines: Vec<(Action, String, Vec<String>)> = Vec::new();
    for r in rs {
        let cond = conditions(syscall_name(r, arch).as_deref(), &r.conditions);
        let t = target(&r.syscall);
        match lines
            .iter_mut()
            .find(|(a, c, ts)| *a == r.action && *c == cond && !ts.contains(&t))
        {
            Some((_, _, ts)) => ts.push(t),
            None => lines.push((r.action, cond, vec![t])),
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
            line.push_str(&cond);
        }
        out.push_str(&line);
        out.push('\n');
    }
}

/// The policy as policy-language text.
pub fn print(p: &Policy) -> String {
    let mut out = String::new();
    let names: Vec<&str> = p.arches.iter().map(|a| a.name()).collect();
    let _ = writeln!(out, "arches {}", names.join(", "));
    let _ = writeln!(out, "default {}", action(p.default_action));
    let _ = writeln!(out, "bad-arch {}", action(p.bad_arch_action));
    if let Some(u) = p.unknown_action {
        let _ = writeln!(out, "unknown-syscall {}", action(u));
    }
    let d = crate::policy::Attributes::default();
    for (on, dflt, name) in [
        (p.attrs.no_new_privs, d.no_new_privs, "no-new-privs"),
        (p.attrs.tsync, d.tsync, "tsync"),
        (p.attrs.log, d.log, "log"),
        (p.attrs.spec_allow, d.spec_allow, "spec-allow"),
    ] {
        if on != dflt {
            let _ = writeln!(out, "option {name} {}", if on { "on" } else { "off" });
        }
    }
    let common: Vec<&Rule> = p.rules.iter().filter(|r| r.arch.is_none()).collect();
    if !common.is_empty() {
        out.push('\n');
        rules(&mut out, &common, None, "");
    }
    let mut sections: Vec<Arch> = p.arches.clone();
    for r in &p.rules {
        if let Some(a) = r.arch {
            if !sections.contains(&a) {
                sections.push(a);
            }
        }
    }
    for a in sections {
        let own: Vec<&Rule> = p.rules.iter().filter(|r| r.arch == Some(a)).collect();
        if own.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\narch {} {{", a.name());
        rules(&mut out, &own, Some(a), "    ");
        out.push_str("}\n");
    }
    out
}
