//! `lint`: bypasses and mistakes, found on the lifted decision table (so
//! every finding is about what the filter really does, not how it looks).
//!
//! Finding ids follow seccomp-tools' `audit` where it has the same check
//! (`arch-unchecked`, `x32-guard`, `dangerous-allow`, `orw-chain`,
//! `permissive-default`, `syscall-alt-gap`), plus `arg-low-word-only`,
//! `unreachable`, `trace-no-tracer`, `notify-no-listener` and, for
//! profiles, `shadowed-rule`.
//!
//! What each rule flags, exactly (on the lifted table, per checked arch):
//! - `arch-unchecked`: no path compares `arch` with a constant and the
//!   program returns more than one verdict; or a path that permits takes
//!   an arch id it never pins to one value.
//! - `dangerous-allow`: some path permits a syscall of the dangerous list
//!   (the condition of the first such path is shown); `clone` when a
//!   permitting path admits a `CLONE_NEW*` bit in the low word of `flags`.
//! - `orw-chain`: some path permits an open-family, a read-family and a
//!   write-family syscall.
//! - `permissive-default`: numbers no syscall table of the arch knows
//!   (native ones, not -1) reach ALLOW on some path.
//! - `syscall-alt-gap`: a syscall is refused on every path, not only with
//!   `ERRNO(ENOSYS)` (the recommended "fall back" answer, e.g. for
//!   `clone3`), while an equivalent one is permitted on every path
//!   (argument-gated allows are the author's decision, not a gap).
//! - `x32-guard`: a native x86_64 number refused on every path whose x32
//!   number some path permits.
//! - `arg-low-word-only`: a permitting path bounds the low word of a 64-bit
//!   argument by value while leaving its high word free; not for parameters
//!   the kernel reads as 32 bits (`int fd`, `unsigned int cmd`: its syscall
//!   wrapper drops the high word; table in `lint/arg_widths.rs`).
//! - `kernel-refuses`: `seccomp()` would reject the program ([`kernel_refusal`]).
//! - `unreachable`: instructions no path executes.
//! - `trace-no-tracer` / `notify-no-listener`: some path returns TRACE /
//!   USER_NOTIF.
//! - `shadowed-rule`: an unconditional rule for the same syscall (and
//!   arch) at least as severe decides before it.

use super::describe::arg_conditions;
use super::domain::IntervalSet;
use super::lift::{DecisionTable, Leaf, WORD_ARCH};
use super::view::{arch_views, ArchView, Decision};
use crate::action::Action;
use crate::arch::{x32_nr, Arch, X32_NUMBERS};
use crate::bpf::data::{arg_offset, Half};
use crate::bpf::Program;
use crate::policy::{Policy, SyscallId};
use std::collections::BTreeSet;

/// How bad a finding is (as JSON, its [`Severity::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a weakness by itself.
    Info,
    /// A mistake with limited impact.
    Low,
    /// A weakness that needs a second bug to matter.
    Medium,
    /// A bypass or a direct escalation.
    High,
}

impl Severity {
    /// Lower-case name (`high`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Stable identifier of the check.
    pub id: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Why it matters.
    pub detail: String,
    /// The arch it concerns, if one.
    pub arch: Option<String>,
    /// The syscalls it concerns.
    pub syscalls: Vec<String>,
    /// The argument condition under which it happens, if any.
    pub condition: Option<String>,
    /// What to do about it.
    pub remediation: String,
    /// Instructions involved (indices; `instructions` in JSON).
    #[serde(rename = "instructions")]
    pub insns: Vec<usize>,
}

mod arg_widths;
mod catalog;
use catalog::{
    CLONE_NEW_FLAGS, DANGEROUS, ENOSYS, FAMILIES, OPEN_FAMILY, READ_FAMILY, WRITE_FAMILY,
};

fn arch_label(v: &ArchView<'_>) -> String {
    v.arch.map_or_else(
        || format!("{:#010x}", v.audit),
        |a| a.seccomp_tools_name().unwrap_or(a.name()).to_string(),
    )
}

fn permits(leaf: &Leaf) -> bool {
    leaf.verdict.action().is_none_or(Action::permits)
}

fn decision<'v, 't>(v: &'v ArchView<'t>, name: &str) -> Option<&'v Decision<'t>> {
    let arch = v.arch?;
    v.known.get(&arch.syscall_nr(name)?)
}

/// Why the kernel would refuse to load `prog` (the checks of
/// `seccomp(SECCOMP_SET_MODE_FILTER)`: `bpf_check_classic` and
/// `seccomp_check_filter`), if it would: a division by a constant 0, more
/// than `BPF_MAXINSNS` instructions, a jump out of range, ...
pub fn kernel_refusal(prog: &Program) -> Option<crate::bpf::ValidateError> {
    crate::bpf::validate::validate_program(prog).err()
}

/// Lints a lifted program. `extra` adds arch ids to look at (e.g. the
/// one the user named) when the program never checks the arch.
pub fn lint(table: &DecisionTable, prog: &Program, extra: &[u32]) -> Vec<Finding> {
    let views = arch_views(table, extra);
    let mut out = Vec::new();
    if let Some(e) = kernel_refusal(prog) {
        out.push(finding(
            "kernel-refuses",
            Severity::High,
            "The kernel would refuse this filter".into(),
            format!("seccomp() rejects it with EINVAL: {e}. Installing it fails, so the program it was meant for runs unfiltered or not at all; what else is reported here describes a filter that never runs."),
            "Fix the instruction named above (syscage asm/compile only emit filters the kernel accepts).",
        ));
    }
    arch_checks(table, &views, &mut out);
    for v in &views {
        per_arch(table, v, &mut out);
    }
    reachability(table, prog, &mut out);
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

fn finding(
    id: &'static str,
    severity: Severity,
    title: String,
    detail: String,
    remediation: &str,
) -> Finding {
    Finding {
        id,
        severity,
        title,
        detail,
        arch: None,
        syscalls: Vec::new(),
        condition: None,
        remediation: remediation.to_string(),
        insns: Vec::new(),
    }
}

const ARCH_FIX: &str = "Compare data[4] against your AUDIT_ARCH_* and KILL every architecture you do not explicitly handle.";

fn arch_checks(table: &DecisionTable, views: &[ArchView<'_>], out: &mut Vec<Finding>) {
    let checked: Vec<u32> = views
        .iter()
        .filter(|v| v.checked)
        .map(|v| v.audit)
        .collect();
    let verdicts: BTreeSet<_> = table
        .leaves
        .iter()
        .map(|l| format!("{:?}", l.verdict))
        .collect();
    if checked.is_empty() {
        if verdicts.len() > 1 {
            let mut f = finding(
                "arch-unchecked",
                Severity::High,
                "Architecture is never validated".into(),
                "The filter checks syscall numbers without ever comparing data[4] (arch). Numbers mean different syscalls under another AUDIT_ARCH, so the checks can be dodged by invoking through a different ABI (e.g. i386 numbering on amd64).".into(),
                ARCH_FIX,
            );
            f.insns = table
                .leaves
                .iter()
                .flat_map(|l| l.path.iter().copied())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            out.push(f);
        }
        return;
    }
    // Paths that permit on an arch id the filter does not single out.
    let leaks: Vec<&Leaf> = table
        .leaves
        .iter()
        .filter(|l| permits(l) && l.region[WORD_ARCH].intervals.as_single().is_none())
        .collect();
    if !leaks.is_empty() {
        let mut f = finding(
            "arch-unchecked",
            Severity::High,
            "Unlisted architectures reach ALLOW".into(),
            "Some paths reach ALLOW on an architecture the filter does not explicitly check, so a different-ABI call can slip past the syscall-number rules.".into(),
            ARCH_FIX,
        );
        f.insns = leaks[0].path.clone();
        out.push(f);
    }
}

fn per_arch(table: &DecisionTable, v: &ArchView<'_>, out: &mut Vec<Finding>) {
    let label = arch_label(v);
    let Some(arch) = v.arch else { return };
    let wide = arch.args_64bit();
    let with_arch = |mut f: Finding| {
        f.arch = Some(label.clone());
        f.title = format!("{} ({label})", f.title);
        f
    };
    let allowed = |name: &str| decision(v, name).is_some_and(Decision::may_permit);

    for &(name, severity, why) in DANGEROUS {
        let Some(d) = decision(v, name) else { continue };
        let leaves: Vec<&&Leaf> = d.paths.iter().filter(|l| permits(l)).collect();
        let Some(first) = leaves.first() else {
            continue;
        };
        let condition = (d.unconditional().is_none()).then(|| {
            arg_conditions(
                &first.region,
                table.order,
                crate::arch::params::syscall_params(name),
                wide,
            )
            .join(" && ")
        });
        let mut f = finding(
            "dangerous-allow",
            severity,
            format!("{name} is allowed"),
            format!("{name} reaches ALLOW - {why}."),
            &format!("Block {name} unless the program genuinely needs it."),
        );
        f.syscalls = vec![name.to_string()];
        f.condition = condition.filter(|c| !c.is_empty());
        f.insns = first.path.clone();
        out.push(with_arch(f));
    }
    // clone with namespace flags is unshare.
    if let Some(d) = decision(v, "clone") {
        let flags_arg = if matches!(arch, Arch::S390x) { 1 } else { 0 };
        let w = (arg_offset(flags_arg, Half::Low, table.order) / 4) as usize;
        if let Some(leaf) = d.paths.iter().find(|l| {
            let mut dom = l.region[w].clone();
            permits(l) && dom.exclude_masked(CLONE_NEW_FLAGS, 0) && dom.is_feasible()
        }) {
            let mut f = finding(
                "dangerous-allow",
                Severity::High,
                "clone with namespace flags is allowed".into(),
                "clone reaches ALLOW with CLONE_NEW* flags - it creates namespaces like unshare."
                    .into(),
                "Allow clone only when (flags & 0x7e020080) == 0, as container profiles do.",
            );
            f.syscalls = vec!["clone".into()];
            f.insns = leaf.path.clone();
            out.push(with_arch(f));
        }
    }
    // open + read + write all allowed.
    let first_allowed = |fam: &[&'static str]| fam.iter().copied().find(|n| allowed(n));
    if let (Some(o), Some(r), Some(w)) = (
        first_allowed(OPEN_FAMILY),
        first_allowed(READ_FAMILY),
        first_allowed(WRITE_FAMILY),
    ) {
        let mut f = finding(
            "orw-chain",
            Severity::High,
            "A file can be opened and its contents copied out".into(),
            format!("{o}, {r} and {w} all reach ALLOW, so the contents of an arbitrary file (e.g. the flag) can be copied straight back out."),
            "Deny the open-family syscalls unless the program genuinely needs arbitrary files.",
        );
        f.syscalls = vec![o.into(), r.into(), w.into()];
        out.push(with_arch(f));
    }
    // Default action permits: numbers no syscall table knows (syscalls
    // added after the filter was written) reach ALLOW. An allowlist that
    // allows most known syscalls (Docker's) is not a denylist.
    let unknown_native = |numbers: &IntervalSet| {
        let mut n = numbers.minus(&IntervalSet::single(u32::MAX));
        if arch == Arch::X86_64 {
            n = n.minus(&IntervalSet::range(X32_NUMBERS.0, X32_NUMBERS.1));
        }
        !n.is_empty()
    };
    let open_default = v
        .unknown
        .iter()
        .any(|(numbers, leaf)| permits(leaf) && unknown_native(numbers));
    if open_default {
        let mut f = finding(
            "permissive-default",
            Severity::High,
            "Default action is ALLOW (denylist)".into(),
            "Syscall numbers the filter does not list (any syscall added to the kernel later included) reach ALLOW; a denylist is bypassable by any syscall the author overlooked.".into(),
            "Use an allowlist: default to KILL/ERRNO and permit only the needed syscalls.",
        );
        // The path most numbers take to ALLOW.
        f.insns = table
            .leaves
            .iter()
            .filter(|l| permits(l) && l.region[WORD_ARCH].contains(v.audit))
            .max_by_key(|l| l.region[super::lift::WORD_NR].intervals.count())
            .map(|l| l.path.clone())
            .unwrap_or_default();
        out.push(with_arch(f));
    }
    // Equivalent syscalls: one refused whatever its arguments (not with
    // ENOSYS, which asks the caller to fall back, e.g. clone3 -> clone),
    // another allowed whatever its arguments (an argument-gated allow, such
    // as mprotect without PROT_EXEC, is a decision the author made).
    let blocked_for_real = |name: &str| {
        decision(v, name).is_some_and(|d| {
            !d.may_permit()
                && !d
                    .paths
                    .iter()
                    .all(|l| l.verdict.action() == Some(Action::Errno(ENOSYS)))
        })
    };
    let open_whatever_args = |name: &str| {
        decision(v, name).is_some_and(|d| {
            d.unconditional()
                .is_some_and(|x| x.action().is_none_or(Action::permits))
        })
    };
    for &(family, severity, fix) in FAMILIES {
        let blocked: Vec<&str> = family
            .iter()
            .copied()
            .filter(|n| blocked_for_real(n))
            .collect();
        let open: Vec<&str> = family
            .iter()
            .copied()
            .filter(|n| open_whatever_args(n))
            .collect();
        if blocked.is_empty() || open.is_empty() {
            continue;
        }
        let mut f = finding(
            "syscall-alt-gap",
            severity,
            format!("{} blocked but {} allowed", blocked.join("/"), open.join("/")),
            format!(
                "{} refused whatever the arguments, but the equivalent {} reaches ALLOW whatever the arguments - same capability, different syscall number. (Not reported: refusals with ENOSYS, which ask the caller to fall back, and argument-gated allows.)",
                blocked.join(", "),
                open.join(", ")
            ),
            &fix.replace("{}", &open.join(", ")),
        );
        f.syscalls = blocked.iter().chain(&open).map(|s| s.to_string()).collect();
        out.push(with_arch(f));
    }
    // x32 numbers reaching what x86_64 numbers deny.
    if arch == Arch::X86_64 {
        let mut leaking = Vec::new();
        for s in Arch::X86_64.syscalls() {
            let native_denied = v.known.get(&s.nr).is_some_and(|d| !d.may_permit());
            let x32_open = Arch::X32
                .syscall_nr(s.name)
                .and_then(|n| v.known.get(&n))
                .is_some_and(Decision::may_permit);
            if native_denied && x32_open {
                leaking.push(s.name.to_string());
            }
        }
        if !leaking.is_empty() {
            let mut f = finding(
                "x32-guard",
                Severity::High,
                "x32 ABI is not guarded".into(),
                format!(
                    "Syscalls blocked by their native number are reachable via their x32 number (nr | {:#x}): {}.",
                    x32_nr(0),
                    leaking.join(", ")
                ),
                &format!(
                    "After the arch check, KILL when sys_number >= {0:#x} (or jset {0:#x}).",
                    x32_nr(0)
                ),
            );
            f.syscalls = leaking;
            out.push(with_arch(f));
        }
    }
    // Comparisons of the low word only, on 64-bit arguments (a parameter
    // the kernel reads as 32 bits ignores the high word anyway).
    if arch.args_64bit() {
        for (&nr, d) in &v.known {
            // x32 is an ILP32 ABI: its arguments are 32-bit, as on i386.
            let x32 = arch.is_x32_nr(nr);
            if d.unconditional().is_some() || x32 {
                continue;
            }
            let name = v.name(nr);
            for leaf in d.paths.iter().filter(|l| permits(l)) {
                let low_only: Vec<u8> = (0..6u8)
                    .filter(|&i| !arg_widths::is_narrow(&name, i))
                    .filter(|&i| {
                        let lo = (arg_offset(i, Half::Low, table.order) / 4) as usize;
                        let hi = (arg_offset(i, Half::High, table.order) / 4) as usize;
                        !leaf.region[lo].intervals.is_full() && leaf.region[hi].is_any()
                    })
                    .collect();
                if let Some(&i) = low_only.first() {
                    let mut f = finding(
                        "arg-low-word-only",
                        Severity::Medium,
                        format!("{name} checks only the low 32 bits of args[{i}]"),
                        format!("A path to ALLOW compares the low word of the 64-bit args[{i}] with a value and ignores the high word, so a value with high bits set passes as its low bits (masks that only cover low bits are fine and not reported, and so are parameters the kernel reads as 32 bits, such as `int fd` or `unsigned int cmd`)."),
                        "Compare both halves (libseccomp's 64-bit SCMP_A* comparisons do), or mask explicitly.",
                    );
                    f.syscalls = vec![name.clone()];
                    f.insns = leaf.path.clone();
                    out.push(with_arch(f));
                    break;
                }
            }
        }
    }
}

fn reachability(table: &DecisionTable, prog: &Program, out: &mut Vec<Finding>) {
    let mut reached = vec![false; prog.len()];
    for leaf in &table.leaves {
        for &i in &leaf.path {
            if let Some(r) = reached.get_mut(i) {
                *r = true;
            }
        }
    }
    let dead: Vec<usize> = (0..prog.len()).filter(|&i| !reached[i]).collect();
    if !dead.is_empty() {
        let mut f = finding(
            "unreachable",
            Severity::Low,
            format!("{} instruction(s) can never run", dead.len()),
            "No input reaches these instructions (their branch conditions contradict earlier checks): dead code, or a check the author believes is effective and is not.".into(),
            "Remove them, or fix the jump that was meant to reach them.",
        );
        f.insns = dead;
        out.push(f);
    }
    for (action, id, why) in [
        (Action::Trace(0), "trace-no-tracer", "SECCOMP_RET_TRACE needs a ptrace tracer with PTRACE_O_TRACESECCOMP; without one the syscall fails with ENOSYS."),
        (Action::UserNotif, "notify-no-listener", "SECCOMP_RET_USER_NOTIF needs a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER); without one the syscall fails with ENOSYS."),
    ] {
        if let Some(leaf) = table.leaves.iter().find(|l| {
            l.verdict.action().is_some_and(|a| a.severity() == action.severity())
        }) {
            let mut f = finding(
                id,
                Severity::Info,
                format!("Some syscalls return {}", action.scmp_name()),
                why.into(),
                "Make sure whoever loads this filter also provides the tracer or listener.",
            );
            f.insns = leaf.path.clone();
            out.push(f);
        }
    }
}

/// Lints a policy's rules: rules that can never decide anything because a
/// rule for the same syscall, unconditional and at least as severe, always
/// matches too.
pub fn lint_policy(policy: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, r) in policy.rules().iter().enumerate() {
        let shadow = policy.rules().iter().enumerate().find(|&(j, s)| {
            j != i
                && s.syscall == r.syscall
                && s.conditions.is_empty()
                && (s.arch.is_none() || s.arch == r.arch)
                && (s.action > r.action || (s.action == r.action && j < i))
        });
        if let Some((j, s)) = shadow {
            let name = match &r.syscall {
                SyscallId::Name(n) => n.clone(),
                SyscallId::Nr(n) => format!("{n:#x}"),
            };
            let mut f = finding(
                "shadowed-rule",
                Severity::Low,
                format!("rule {i} for {name} never decides anything"),
                format!(
                    "Rule {j} ({}, unconditional) always matches {name} and is at least as severe, so rule {i} ({}) has no effect.",
                    s.action, r.action
                ),
                "Remove the shadowed rule, or make the intent explicit.",
            );
            f.syscalls = vec![name];
            out.push(f);
        }
    }
    out
}
