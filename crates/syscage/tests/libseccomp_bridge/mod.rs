//! Builds a libseccomp 2.5 filter from a syscage [`Policy`] (through the
//! `libseccomp` crate) and exports it as a syscage [`Program`], for the
//! differential tests (`runc_bridge` builds on it for profiles).
//!
//! Only what both sides mean the same way translates: rules by name,
//! 64-bit conditions (libseccomp's `SCMP_A0_32` merely truncates the datum
//! and still compares 64 bits, see `seccomp.h`'s `_SCMP_CMP32_1`), no
//! unknown-syscall action (libseccomp has none).

#![allow(dead_code)]

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Program};
use syscage::policy::{CmpOp, Policy, SyscallId, Width};

/// libseccomp's action for ours.
pub fn action(a: Action) -> ScmpAction {
    match a {
        Action::Allow => ScmpAction::Allow,
        Action::Log => ScmpAction::Log,
        Action::Trace(d) => ScmpAction::Trace(d),
        Action::UserNotif => ScmpAction::Notify,
        Action::Errno(d) => ScmpAction::Errno(i32::from(d)),
        Action::Trap(_) => ScmpAction::Trap,
        Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        other => panic!("the bridge does not know the action {other:?}"),
    }
}

/// libseccomp's arch token for ours.
pub fn arch(a: Arch) -> ScmpArch {
    match a {
        Arch::X86_64 => ScmpArch::X8664,
        Arch::X86 => ScmpArch::X86,
        Arch::X32 => ScmpArch::X32,
        Arch::Aarch64 => ScmpArch::Aarch64,
        Arch::Arm => ScmpArch::Arm,
        Arch::Riscv64 => ScmpArch::Riscv64,
        Arch::S390x => ScmpArch::S390X,
        Arch::Ppc64le => ScmpArch::Ppc64Le,
        Arch::Ppc64 => ScmpArch::Ppc64,
        Arch::Ppc => ScmpArch::Ppc,
        Arch::Mips => ScmpArch::Mips,
        Arch::Mipsel => ScmpArch::Mipsel,
        Arch::Mips64 => ScmpArch::Mips64,
        Arch::Mipsel64 => ScmpArch::Mipsel64,
        Arch::Loongarch64 => ScmpArch::Native,
        other => panic!("the bridge does not know the arch {other:?}"),
    }
}

/// Why a policy could not be given to libseccomp.
#[derive(Debug)]
pub enum BridgeError {
    /// A construct libseccomp cannot express the same way.
    Untranslatable(String),
    /// libseccomp refused rule `index`.
    Rule { index: usize, error: String },
    /// Another libseccomp call failed.
    Other(String),
}

/// The libseccomp filter context of `policy`, at optimize level `optimize`
/// (1: linear, 2: binary tree). Rules libseccomp refuses are errors.
pub fn build(policy: &Policy, optimize: u32) -> Result<ScmpFilterContext, BridgeError> {
    let other = |e: libseccomp::error::SeccompError| BridgeError::Other(e.to_string());
    if policy.unknown_action().is_some() {
        return Err(BridgeError::Untranslatable("unknown-syscall action".into()));
    }
    let mut ctx = ScmpFilterContext::new(action(policy.default_action())).map_err(other)?;
    ctx.set_act_badarch(action(policy.bad_arch_action()))
        .map_err(other)?;
    ctx.set_ctl_optimize(optimize).map_err(other)?;
    for &a in policy.arches() {
        if !ctx.is_arch_present(arch(a)).map_err(other)? {
            ctx.add_arch(arch(a)).map_err(other)?;
        }
    }
    if !policy.arches().contains(&Arch::native()) {
        ctx.remove_arch(ScmpArch::native()).map_err(other)?;
    }
    for (index, rule) in policy.rules().iter().enumerate() {
        let SyscallId::Name(name) = &rule.syscall else {
            return Err(BridgeError::Untranslatable("rule by number".into()));
        };
        if rule.arch.is_some() {
            return Err(BridgeError::Untranslatable(
                "rule restricted to one arch".into(),
            ));
        }
        let sc = ScmpSyscall::from_name(name).map_err(|e| BridgeError::Rule {
            index,
            error: e.to_string(),
        })?;
        let mut cmps = Vec::new();
        for c in &rule.conditions {
            if c.width == Width::Bits32 {
                return Err(BridgeError::Untranslatable("32-bit comparison".into()));
            }
            let (op, datum) = match c.op {
                CmpOp::Eq(v) => (ScmpCompareOp::Equal, v),
                CmpOp::Ne(v) => (ScmpCompareOp::NotEqual, v),
                CmpOp::Lt(v) => (ScmpCompareOp::Less, v),
                CmpOp::Le(v) => (ScmpCompareOp::LessOrEqual, v),
                CmpOp::Gt(v) => (ScmpCompareOp::Greater, v),
                CmpOp::Ge(v) => (ScmpCompareOp::GreaterEqual, v),
                CmpOp::MaskedEq { mask, value } => (ScmpCompareOp::MaskedEqual(mask), value),
            };
            cmps.push(ScmpArgCompare::new(u32::from(c.arg), op, datum));
        }
        ctx.add_rule_conditional(action(rule.action), sc, &cmps)
            .map_err(|e| BridgeError::Rule {
                index,
                error: e.to_string(),
            })?;
    }
    Ok(ctx)
}

/// The filter libseccomp generates for `ctx` (`seccomp_export_bpf`).
pub fn export(ctx: &ScmpFilterContext) -> Program {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "syscage-libseccomp-{}-{}.bpf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::File::create(&path).expect("temp file");
    ctx.export_bpf(&file).expect("seccomp_export_bpf");
    drop(file);
    let bytes = std::fs::read(&path).expect("read back");
    let _ = std::fs::remove_file(&path);
    Program::from_bytes(&bytes, ByteOrder::native()).expect("libseccomp emits valid BPF")
}

/// runc's `getAction` for an OCI action name (errno / trace data default 1).
pub fn runc_action(name: syscage::profile::ActionName, ret: Option<u16>) -> ScmpAction {
    use syscage::profile::ActionName as N;
    let data = ret.unwrap_or(1);
    match name {
        N::Kill | N::KillThread => ScmpAction::KillThread,
        N::KillProcess => ScmpAction::KillProcess,
        N::Trap => ScmpAction::Trap,
        N::Errno => ScmpAction::Errno(i32::from(data)),
        N::Trace => ScmpAction::Trace(data),
        N::Allow => ScmpAction::Allow,
        N::Log => ScmpAction::Log,
        N::Notify => ScmpAction::Notify,
        other => panic!("the bridge does not know the action name {other:?}"),
    }
}
