//! From a context to a checked program: syscage's compiler, then the
//! proof of equivalence `syscage compile` runs (lifting the program and
//! checking it against the policy). A program that is not proven
//! equivalent is never exported or loaded (`-EFAULT`, libseccomp's
//! "internal error").

use crate::ctx::{Ctx, Errno};
use std::fmt::Write;
use syscage::action::Action;
use syscage::bpf::{ByteOrder, Program};
use syscage::policy::{CmpOp, SyscallId};
use syscage_linux::load::LoadError;

/// The compiled, proven program and the byte order of its arches.
pub fn program(ctx: &Ctx) -> Result<(Program, ByteOrder), Errno> {
    syscage_linux::load::proven_program(&ctx.policy()).map_err(|e| load_errno(&e))
}

/// libseccomp's errno for a policy that did not compile or prove: no arch
/// is `-EINVAL`, the rest an internal error (`-EFAULT`).
pub fn load_errno(e: &LoadError) -> Errno {
    match e {
        LoadError::NoArch => -libc::EINVAL,
        LoadError::Install(e) => -e.raw_os_error().unwrap_or(libc::EFAULT),
        _ => -libc::EFAULT,
    }
}

/// The exported bytes (`struct sock_filter` array in the arches' order).
pub fn bpf(ctx: &Ctx) -> Result<Vec<u8>, Errno> {
    let (prog, order) = program(ctx)?;
    Ok(prog.to_bytes(order))
}

fn action_pfc(a: Action) -> String {
    match a {
        Action::KillProcess => "KILL_PROCESS".into(),
        Action::KillThread => "KILL".into(),
        Action::Trap(_) => "TRAP".into(),
        Action::Errno(e) => format!("ERRNO({e})"),
        Action::Trace(t) => format!("TRACE({t})"),
        Action::Log => "LOG".into(),
        Action::Allow => "ALLOW".into(),
        Action::UserNotif => "NOTIFY".into(),
        // An action newer than libseccomp's PFC vocabulary: ours.
        other => other.to_string(),
    }
}

fn cond_pfc(c: &syscage::policy::Condition) -> String {
    let a = format!("$a{}", c.arg);
    let a = if c.width == syscage::policy::Width::Bits32 {
        format!("{a}.lo32")
    } else {
        a
    };
    match c.op {
        CmpOp::Eq(v) => format!("{a} == {v}"),
        CmpOp::Ne(v) => format!("{a} != {v}"),
        CmpOp::Lt(v) => format!("{a} < {v}"),
        CmpOp::Le(v) => format!("{a} <= {v}"),
        CmpOp::Gt(v) => format!("{a} > {v}"),
        CmpOp::Ge(v) => format!("{a} >= {v}"),
        CmpOp::MaskedEq { mask, value } => format!("({a} & {mask:#x}) == {value}"),
    }
}

/// `seccomp_export_pfc`: libseccomp's pseudo filter code layout (per arch,
/// per syscall, the rules and their actions). It describes the policy;
/// the order of checks in the BPF program is syscage's, not this one.
pub fn pfc(ctx: &Ctx) -> String {
    let p = ctx.policy();
    let mut s = String::from("#\n# pseudo filter code start\n#\n");
    for &arch in p.arches() {
        let _ = writeln!(
            s,
            "# filter for arch {} ({})",
            arch.name(),
            crate::tokens::token_of_arch(arch)
        );
        let _ = writeln!(s, "if ($arch == {})", arch.audit());
        for r in p.rules().iter().filter(|r| r.arch == Some(arch)) {
            let SyscallId::Nr(nr) = r.syscall else {
                continue;
            };
            let name = arch.syscall_name(nr).unwrap_or("UNKNOWN");
            let _ = writeln!(s, "  # filter for syscall \"{name}\" ({nr})");
            let _ = writeln!(s, "  if ($syscall == {nr})");
            if r.conditions.is_empty() {
                let _ = writeln!(s, "    action {};", action_pfc(r.action));
            } else {
                let conds: Vec<String> = r.conditions.iter().map(cond_pfc).collect();
                let _ = writeln!(s, "    if ({})", conds.join(" && "));
                let _ = writeln!(s, "      action {};", action_pfc(r.action));
            }
        }
        let _ = writeln!(
            s,
            "  # default action\n  action {};",
            action_pfc(p.default_action())
        );
    }
    let _ = writeln!(
        s,
        "# invalid architecture action\naction {};",
        action_pfc(p.bad_arch_action())
    );
    s.push_str("#\n# pseudo filter code end\n#\n");
    s
}
