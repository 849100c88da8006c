//! Statements to a [`Policy`], through the checked builder
//! ([`Policy::init`], [`Policy::arch_add`], [`Policy::rule_add`]):
//! includes are followed first, then the settings are applied, then the
//! rules added in the order they are written.

use super::ast::{FilterOption, RuleStmt, Stmt, StmtKind, Target};
use super::conds::dnf;
use super::error::{LangError, Location, Pos};
use super::groups;
use super::lexer::tokenize;
use super::parser::{Defines, Parser};
use super::Loader;
use crate::action::Action;
use crate::arch::Arch;
use crate::policy::{Condition, NumberRange, Policy, PolicyError, Rule, SyscallId};

/// Deepest chain of includes.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Most files one policy may read, includes counted.
pub const MAX_FILES: usize = 256;
/// Largest file read, in bytes.
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// Most rules one policy may have after expansion (listed arches' and
/// `arch other`'s together).
pub const MAX_RULES: usize = 500_000;

/// An error at `loc` if `policy` already has [`MAX_RULES`] rules (those of
/// the listed arches and of `arch other` together).
fn room_for_a_rule(policy: &Policy, loc: &Location) -> Result<(), LangError> {
    if policy.rules().len() + policy.other_rules().len() >= MAX_RULES {
        return Err(LangError::at(
            loc,
            format!("the policy has more than {MAX_RULES} rules"),
        ));
    }
    Ok(())
}

/// Parses a policy file and what it includes, and builds the policy.
pub fn build(file: &str, text: &str, loader: &mut dyn Loader) -> Result<Policy, LangError> {
    let mut files = 0;
    let mut stack = vec![loader.canonical(file)];
    let mut defines = Defines::new();
    let stmts = collect(file, text, loader, &mut stack, &mut files, &mut defines)?;
    assemble(file, &stmts)
}

fn collect(
    file: &str,
    text: &str,
    loader: &mut dyn Loader,
    stack: &mut Vec<String>,
    files: &mut usize,
    defines: &mut Defines,
) -> Result<Vec<Stmt>, LangError> {
    *files += 1;
    if text.len() > MAX_FILE_BYTES {
        return Err(LangError::new(
            file,
            Pos { line: 1, col: 1 },
            format!("the file is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let tokens = tokenize(file, text)?;
    let mut out = Vec::new();
    let mut parser = Parser::new(file, &tokens, std::mem::take(defines));
    while !parser.at_end() {
        let stmt = parser.stmt()?;
        let StmtKind::Include(name) = &stmt.kind else {
            out.push(stmt);
            continue;
        };
        let path = resolve(file, name);
        let key = loader.canonical(&path);
        let at = |msg: String| LangError::at(&stmt.loc, msg);
        if let Some(i) = stack.iter().position(|k| *k == key) {
            let mut cycle: Vec<&str> = stack[i..].iter().map(String::as_str).collect();
            cycle.push(&key);
            return Err(at(format!("include cycle: {}", cycle.join(" -> "))));
        }
        if stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(at(format!(
                "includes nest deeper than {MAX_INCLUDE_DEPTH} files"
            )));
        }
        if *files >= MAX_FILES {
            return Err(at(format!("more than {MAX_FILES} files included")));
        }
        let inner = loader
            .read(&path)
            .map_err(|e| at(format!("cannot include {path:?}: {e}")))?;
        stack.push(key);
        let mut inner_defines = std::mem::take(&mut parser.defines);
        let got =
            collect(&path, &inner, loader, stack, files, &mut inner_defines).map_err(|mut e| {
                e.included_from.push(stmt.loc.clone());
                e
            })?;
        parser.defines = inner_defines;
        stack.pop();
        out.extend(got);
    }
    *defines = parser.defines;
    Ok(out)
}

/// `name` relative to the directory of `from` (absolute names stay).
fn resolve(from: &str, name: &str) -> String {
    let p = std::path::Path::new(name);
    if p.is_absolute() {
        return name.to_string();
    }
    match std::path::Path::new(from).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(p).to_string_lossy().into_owned(),
        _ => name.to_string(),
    }
}

fn once<T: Clone>(
    slot: &mut Option<(T, Location)>,
    v: &T,
    loc: &Location,
    what: &str,
) -> Result<(), LangError> {
    if let Some((_, first)) = slot {
        return Err(LangError::at(
            loc,
            format!("{what} is already set at {first} (expected it once per policy)"),
        ));
    }
    *slot = Some((v.clone(), loc.clone()));
    Ok(())
}

fn assemble(file: &str, stmts: &[Stmt]) -> Result<Policy, LangError> {
    let mut default = None;
    let mut bad_arch = None;
    let mut unknown = None;
    let mut arches: Option<(Vec<Arch>, Location)> = None;
    let mut options: Vec<(FilterOption, bool)> = Vec::new();
    for s in stmts {
        match &s.kind {
            StmtKind::Default(a) => once(&mut default, a, &s.loc, "the default action")?,
            StmtKind::BadArch(a) => once(&mut bad_arch, a, &s.loc, "the bad-arch action")?,
            StmtKind::Unknown(a) => once(&mut unknown, a, &s.loc, "the unknown-syscall action")?,
            StmtKind::Arches(v) => once(&mut arches, v, &s.loc, "the arch list")?,
            StmtKind::Option(o, on) => options.push((*o, *on)),
            _ => {}
        }
    }
    let Some((default, dloc)) = default else {
        return Err(LangError::new(
            file,
            Pos { line: 1, col: 1 },
            "the policy has no default action (expected e.g. `default kill-process`)".into(),
        ));
    };
    let mut policy = Policy::init(default).map_err(|e| LangError::at(&dloc, e.to_string()))?;
    if let Some((list, loc)) = &arches {
        policy
            .set_arches([])
            .map_err(|e| LangError::at(loc, e.to_string()))?;
        for &a in list {
            policy.arch_add(a).map_err(|e| match e {
                PolicyError::ArchPresent(a) => {
                    LangError::at(loc, format!("architecture {a} is listed twice"))
                }
                e => LangError::at(loc, e.to_string()),
            })?;
        }
    }
    if let Some((a, loc)) = bad_arch {
        policy
            .set_bad_arch_action(a)
            .map_err(|e| LangError::at(&loc, e.to_string()))?;
    }
    if let Some((a, loc)) = unknown {
        policy
            .set_unknown_action(Some(a))
            .map_err(|e| LangError::at(&loc, e.to_string()))?;
    }
    let mut attrs = *policy.attributes();
    for (o, on) in options {
        match o {
            FilterOption::NoNewPrivs => attrs.no_new_privs = on,
            FilterOption::Tsync => attrs.tsync = on,
            FilterOption::Log => attrs.log = on,
            FilterOption::SpecAllow => attrs.spec_allow = on,
        };
    }
    policy
        .set_attributes(attrs)
        .map_err(|e| LangError::new(file, Pos { line: 1, col: 1 }, e.to_string()))?;
    for s in stmts {
        match &s.kind {
            StmtKind::Rules(rules) => {
                for r in rules {
                    add_rule(&mut policy, None, r)?;
                }
            }
            StmtKind::ArchSection(None, rules) => {
                for r in rules {
                    add_other_rule(&mut policy, r)?;
                }
            }
            StmtKind::ArchSection(Some(arch), rules) => {
                if !policy.arch_exist(*arch) {
                    return Err(LangError::at(
                        &s.loc,
                        format!(
                            "a section for {arch}, which the policy does not cover (add it to `arches`)"
                        ),
                    ));
                }
                for r in rules {
                    add_rule(&mut policy, Some(*arch), r)?;
                }
            }
            _ => {}
        }
    }
    Ok(policy)
}

/// A rule of the `arch other` section: numbers only (a name means
/// nothing on an arch the policy does not list), arguments `arg0`..`arg5`.
fn add_other_rule(policy: &mut Policy, r: &RuleStmt) -> Result<(), LangError> {
    for t in &r.targets {
        let (nr, loc) = match t {
            Target::Nr(nr, loc) => (*nr, loc),
            Target::Name(n, loc) => {
                return Err(LangError::at(
                    loc,
                    format!("syscall name `{n}` in `arch other`: the arches the policy does not list have no syscall names (expected a syscall number, e.g. 0x29)"),
                ))
            }
            Target::Group(g, loc) => {
                return Err(LangError::at(
                    loc,
                    format!("group `@{g}` in `arch other`: the arches the policy does not list have no syscall names (expected a syscall number)"),
                ))
            }
            Target::Unnamed(_, _, loc) => {
                return Err(LangError::at(
                    loc,
                    "`unnamed` in `arch other`: numbers no rule names there take the `bad-arch` action (expected a syscall number)".into(),
                ))
            }
        };
        let alternatives = match &r.cond {
            Some(c) => dnf(c, None)?,
            None => vec![Vec::new()],
        };
        for conds in alternatives {
            room_for_a_rule(policy, &r.loc)?;
            policy
                .other_rule_add(r.action, nr, &conds)
                .map_err(|e| LangError::at(loc, e.to_string()))?;
        }
    }
    Ok(())
}

/// The arches a rule applies to.
fn scope(policy: &Policy, arch: Option<Arch>) -> Vec<Arch> {
    arch.map_or_else(|| policy.arches().to_vec(), |a| vec![a])
}

fn add_rule(policy: &mut Policy, arch: Option<Arch>, r: &RuleStmt) -> Result<(), LangError> {
    let arches = scope(policy, arch);
    let known = |n: &str| arches.iter().any(|a| a.syscall_nr(n).is_some());
    for t in &r.targets {
        let ids: Vec<(SyscallId, Location)> = match t {
            Target::Name(n, loc) => vec![(SyscallId::Name(n.clone()), loc.clone())],
            Target::Nr(nr, loc) => vec![(SyscallId::Nr(*nr), loc.clone())],
            Target::Unnamed(lo, hi, loc) => {
                if r.cond.is_some() {
                    return Err(LangError::at(
                        loc,
                        "`unnamed` numbers take no condition (they are the numbers no rule names; write a rule per number to test arguments)".into(),
                    ));
                }
                let range = NumberRange {
                    arch,
                    lo: *lo,
                    hi: *hi,
                    action: r.action,
                };
                policy
                    .add_number_range(range)
                    .map_err(|e| LangError::at(loc, e.to_string()))?;
                continue;
            }
            Target::Group(g, loc) => {
                let Some(members) = groups::expand(g) else {
                    let names: Vec<String> = groups::GROUPS
                        .iter()
                        .map(|g| format!("@{}", g.name))
                        .collect();
                    return Err(LangError::at(
                        loc,
                        format!(
                            "unknown group `@{g}` (expected one of {})",
                            names.join(", ")
                        ),
                    ));
                };
                members
                    .into_iter()
                    .filter(|m| known(m))
                    .map(|m| (SyscallId::Name(m.to_string()), loc.clone()))
                    .collect()
            }
        };
        for (id, loc) in ids {
            // The name whose parameter names the condition may use.
            let name = match &id {
                SyscallId::Name(n) => Some(n.clone()),
                SyscallId::Nr(nr) => arch.and_then(|a| a.syscall_name(*nr)).map(str::to_string),
            };
            let alternatives = match &r.cond {
                Some(c) => dnf(c, name.as_deref())?,
                None => vec![Vec::new()],
            };
            for conds in alternatives {
                room_for_a_rule(policy, &r.loc)?;
                add_checked(policy, arch, r.action, id.clone(), conds)
                    .map_err(|e| LangError::at(&loc, e.to_string()))?;
            }
        }
    }
    Ok(())
}

/// Adds a rule through the builder, exactly as written: a rule names one
/// syscall, so unlike [`Policy::rule_add`] it is not also rewritten to
/// x86's `socketcall`/`ipc` multiplexers (write those rules yourself; a
/// decompiled filter prints both when it has both). The builder refuses
/// more than six conditions (libseccomp's limit), which a lifted filter
/// can need (both words of several arguments); such a rule is checked six
/// conditions at a time as the builder would check it, then added.
fn add_checked(
    policy: &mut Policy,
    arch: Option<Arch>,
    action: Action,
    id: SyscallId,
    conds: Vec<Condition>,
) -> Result<(), PolicyError> {
    if let (Some(a), true) = (arch, conds.len() <= 6) {
        policy.rule_add_arch(a, action, id, &conds)?;
        return Ok(());
    }
    let mut rule = Rule::new(id, action);
    rule.arch = arch;
    if conds.is_empty() {
        policy.validate_rule(&rule)?;
    }
    for chunk in conds.chunks(6) {
        rule.conditions = chunk.to_vec();
        policy.validate_rule(&rule)?;
    }
    rule.conditions = conds;
    policy.rule_add_verbatim(rule);
    Ok(())
}
