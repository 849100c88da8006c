//! Writers: a [`Profile`] in the Docker dialect, the resolved OCI object,
//! and a [`Policy`] as a profile (what `syscage record` emits).
//!
//! Output is pretty-printed JSON with a fixed key order, so equal profiles
//! give equal text and [`super::parse`] reads back exactly what was written.

use super::error::{ProfileError, ProfileErrorKind};
use super::model::*;
use super::select::OciSeccomp;
use crate::action::Action;
use crate::policy::{Policy, SyscallId, Width};

/// A JSON value to print.
enum J {
    Str(String),
    Num(u64),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

fn escape(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl J {
    fn print(&self, indent: usize, out: &mut String) {
        let pad = |n: usize, out: &mut String| {
            for _ in 0..n {
                out.push('\t');
            }
        };
        match self {
            J::Str(s) => escape(s, out),
            J::Num(n) => out.push_str(&n.to_string()),
            J::Arr(items) if items.is_empty() => out.push_str("[]"),
            J::Obj(items) if items.is_empty() => out.push_str("{}"),
            J::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(indent + 1, out);
                    item.print(indent + 1, out);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(indent, out);
                out.push(']');
            }
            J::Obj(items) => {
                out.push_str("{\n");
                for (i, (k, v)) in items.iter().enumerate() {
                    pad(indent + 1, out);
                    escape(k, out);
                    out.push_str(": ");
                    v.print(indent + 1, out);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(indent, out);
                out.push('}');
            }
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        self.print(0, &mut out);
        out.push('\n');
        out
    }
}

fn strs(v: &[String]) -> J {
    J::Arr(v.iter().map(|s| J::Str(s.clone())).collect())
}

fn args(args: &[ArgCond]) -> J {
    J::Arr(
        args.iter()
            .map(|a| {
                let mut o = vec![
                    ("index", J::Num(a.index.into())),
                    ("value", J::Num(a.value)),
                ];
                if a.value_two != 0 || a.op == OpName::MaskedEq {
                    o.push(("valueTwo", J::Num(a.value_two)));
                }
                o.push(("op", J::Str(a.op.as_str().to_string())));
                J::Obj(o)
            })
            .collect(),
    )
}

fn filter(f: &Filter) -> J {
    let mut o = Vec::new();
    if !f.arches.is_empty() {
        o.push(("arches", strs(&f.arches)));
    }
    if !f.caps.is_empty() {
        o.push(("caps", strs(&f.caps)));
    }
    if let Some(k) = f.min_kernel {
        o.push(("minKernel", J::Str(k.to_string())));
    }
    J::Obj(o)
}

fn header(
    o: &mut Vec<(&'static str, J)>,
    flags: &[FlagName],
    listener_path: &Option<String>,
    listener_metadata: &Option<String>,
) {
    if !flags.is_empty() {
        o.push((
            "flags",
            J::Arr(
                flags
                    .iter()
                    .map(|f| J::Str(f.as_str().to_string()))
                    .collect(),
            ),
        ));
    }
    if let Some(p) = listener_path {
        o.push(("listenerPath", J::Str(p.clone())));
    }
    if let Some(m) = listener_metadata {
        o.push(("listenerMetadata", J::Str(m.clone())));
    }
}

impl Profile {
    /// The profile as Docker-dialect JSON text.
    pub fn to_json(&self) -> String {
        let mut o = vec![(
            "defaultAction",
            J::Str(self.default_action.as_str().to_string()),
        )];
        if let Some(e) = self.default_errno_ret {
            o.push(("defaultErrnoRet", J::Num(e.into())));
        }
        if let Some(e) = &self.default_errno {
            o.push(("defaultErrno", J::Str(e.clone())));
        }
        if !self.architectures.is_empty() {
            o.push(("architectures", strs(&self.architectures)));
        }
        if !self.arch_map.is_empty() {
            let entries = self
                .arch_map
                .iter()
                .map(|e| {
                    let mut m = vec![("architecture", J::Str(e.architecture.clone()))];
                    if let Some(subs) = &e.sub_architectures {
                        m.push(("subArchitectures", strs(subs)));
                    }
                    J::Obj(m)
                })
                .collect();
            o.push(("archMap", J::Arr(entries)));
        }
        header(
            &mut o,
            &self.flags,
            &self.listener_path,
            &self.listener_metadata,
        );
        let calls = self
            .syscalls
            .iter()
            .map(|s| {
                let mut m = Vec::new();
                if let Some(n) = &s.name {
                    m.push(("name", J::Str(n.clone())));
                }
                if !s.names.is_empty() {
                    m.push(("names", strs(&s.names)));
                }
                m.push(("action", J::Str(s.action.as_str().to_string())));
                if let Some(e) = s.errno_ret {
                    m.push(("errnoRet", J::Num(e.into())));
                }
                if let Some(e) = &s.errno {
                    m.push(("errno", J::Str(e.clone())));
                }
                if !s.args.is_empty() {
                    m.push(("args", args(&s.args)));
                }
                if let Some(c) = &s.comment {
                    m.push(("comment", J::Str(c.clone())));
                }
                if let Some(f) = &s.includes {
                    m.push(("includes", filter(f)));
                }
                if let Some(f) = &s.excludes {
                    m.push(("excludes", filter(f)));
                }
                J::Obj(m)
            })
            .collect();
        o.push(("syscalls", J::Arr(calls)));
        J::Obj(o).text()
    }

    /// The profile that denotes `policy` for runc + libseccomp: `architectures`
    /// lists the policy's arches, unconditional rules are grouped by action.
    ///
    /// Fails on what the JSON cannot say with the same meaning: 32-bit
    /// comparisons, two conditions on one argument (runc would OR them),
    /// rules for one arch only, syscall numbers without a name, and a
    /// syscall with rules of several actions one of which is unconditional
    /// (libseccomp would keep only the first). The bad-arch and
    /// unknown-syscall actions are not part of the format.
    pub fn from_policy(policy: &Policy) -> Result<Profile, ProfileError> {
        let bad = |i: usize, msg: String| ProfileError {
            path: format!("rules[{i}]"),
            pos: None,
            kind: ProfileErrorKind::Inexpressible(msg),
        };
        if let Some(r) = policy.other_rules().first() {
            return Err(ProfileError {
                path: "arch other".to_string(),
                pos: None,
                kind: ProfileErrorKind::Inexpressible(format!(
                    "an `arch other` section: {} rule(s) by syscall number for the arches the policy does not list (e.g. {} for number {}), and a profile gives those arches one action (the bad-arch action) and no rule",
                    policy.other_rules().len(),
                    r.action,
                    match &r.syscall {
                        SyscallId::Nr(n) => format!("{n:#x}"),
                        SyscallId::Name(n) => n.clone(),
                    }
                )),
            });
        }
        if matches!(policy.default_action(), Action::Trap(d) if d != 0) {
            return Err(ProfileError {
                path: "defaultAction".to_string(),
                pos: None,
                kind: ProfileErrorKind::Inexpressible(format!(
                    "{} (a profile's TRAP carries 0)",
                    policy.default_action()
                )),
            });
        }
        let (default_action, default_errno_ret) = ActionName::from_action(policy.default_action());
        let mut profile = Profile::new(default_action);
        profile.default_errno_ret = default_errno_ret.filter(|_| default_action.takes_data());
        profile.architectures = policy.arches().iter().map(|a| a.oci_name()).collect();
        if policy.attributes().tsync {
            profile.flags.push(FlagName::Tsync);
        }
        if policy.attributes().log {
            profile.flags.push(FlagName::Log);
        }
        if policy.attributes().spec_allow {
            profile.flags.push(FlagName::SpecAllow);
        }
        let mut names_of: Vec<String> = Vec::new();
        for (i, rule) in policy.rules().iter().enumerate() {
            if rule.arch.is_some() && policy.arches().len() > 1 {
                return Err(bad(i, "a rule for one arch only".to_string()));
            }
            let name = match &rule.syscall {
                SyscallId::Name(n) => n.clone(),
                SyscallId::Nr(nr) => policy
                    .arches()
                    .iter()
                    .find_map(|a| a.syscall_name(*nr))
                    .ok_or_else(|| bad(i, format!("syscall number {nr} has no name")))?
                    .to_string(),
            };
            for (j, c) in rule.conditions.iter().enumerate() {
                if c.width == Width::Bits32 && policy.arches().iter().any(|a| a.args_64bit()) {
                    return Err(bad(i, "a 32-bit comparison".to_string()));
                }
                if rule.conditions[..j].iter().any(|d| d.arg == c.arg) {
                    return Err(bad(i, format!("two conditions on argument {}", c.arg)));
                }
            }
            let same: Vec<&crate::policy::Rule> = policy
                .rules()
                .iter()
                .filter(|r| r.syscall == rule.syscall && r.action != rule.action)
                .collect();
            if !same.is_empty()
                && (rule.conditions.is_empty() || same.iter().any(|r| r.conditions.is_empty()))
            {
                return Err(bad(
                    i,
                    format!("'{name}' has an unconditional rule and rules of other actions"),
                ));
            }
            if matches!(rule.action, Action::Trap(d) if d != 0) {
                return Err(bad(
                    i,
                    format!("{} (a profile's TRAP carries 0)", rule.action),
                ));
            }
            if rule.action == policy.default_action() {
                continue;
            }
            let (action, errno_ret) = ActionName::from_action(rule.action);
            let args: Vec<ArgCond> = rule
                .conditions
                .iter()
                .map(|c| {
                    let (op, value, value_two) = OpName::from_cmp(c.op);
                    ArgCond {
                        index: c.arg,
                        value,
                        value_two,
                        op,
                    }
                })
                .collect();
            if args.is_empty() {
                let group = profile
                    .syscalls
                    .iter_mut()
                    .find(|s| s.args.is_empty() && s.action == action && s.errno_ret == errno_ret);
                if let Some(g) = group {
                    if !g.names.contains(&name) {
                        g.names.push(name.clone());
                    }
                    continue;
                }
            }
            if !names_of.contains(&name) {
                names_of.push(name.clone());
            }
            profile.syscalls.push(SyscallEntry {
                name: None,
                names: vec![name],
                action,
                errno_ret,
                errno: None,
                args,
                comment: None,
                includes: None,
                excludes: None,
            });
        }
        for s in &mut profile.syscalls {
            if s.args.is_empty() {
                s.names.sort();
            }
        }
        Ok(profile)
    }
}

impl OciSeccomp {
    /// The resolved OCI `linux.seccomp` object as JSON text.
    pub fn to_json(&self) -> String {
        let mut o = vec![(
            "defaultAction",
            J::Str(self.default_action.as_str().to_string()),
        )];
        if let Some(e) = self.default_errno_ret {
            o.push(("defaultErrnoRet", J::Num(e.into())));
        }
        if !self.architectures.is_empty() {
            o.push(("architectures", strs(&self.architectures)));
        }
        header(
            &mut o,
            &self.flags,
            &self.listener_path,
            &self.listener_metadata,
        );
        let calls = self
            .syscalls
            .iter()
            .map(|s| {
                let mut m = vec![
                    ("names", strs(&s.names)),
                    ("action", J::Str(s.action.as_str().to_string())),
                ];
                if let Some(e) = s.errno_ret {
                    m.push(("errnoRet", J::Num(e.into())));
                }
                if !s.args.is_empty() {
                    m.push(("args", args(&s.args)));
                }
                J::Obj(m)
            })
            .collect();
        o.push(("syscalls", J::Arr(calls)));
        J::Obj(o).text()
    }
}

/// `policy` as a Docker-dialect profile (see [`Profile::from_policy`]).
pub fn write_docker(policy: &Policy) -> Result<String, ProfileError> {
    Ok(Profile::from_policy(policy)?.to_json())
}

/// `policy` as an OCI `linux.seccomp` object: the same JSON, which uses no
/// Docker-only field.
pub fn write_oci(policy: &Policy) -> Result<String, ProfileError> {
    write_docker(policy)
}
