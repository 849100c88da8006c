//! runc's `InitSeccomp` over the `libseccomp` crate: the filter runc
//! builds for a resolved OCI profile, exported as BPF.

// Shared by several test crates and the compiler benchmark, each using a part.
#![allow(dead_code)]

use libseccomp::{ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use syscage::arch::Arch;
use syscage::bpf::Program;
use syscage::profile::{self, OciSeccomp, OpName};

#[path = "../libseccomp_bridge/mod.rs"]
mod libseccomp_bridge;

use libseccomp_bridge::runc_action;
pub use libseccomp_bridge::{arch as scmp_arch, export};

/// Docker's selection on an x86_64 host (its x86 and x32 sub-arches,
/// Docker's default capabilities, kernel 6.18) without the ENOSYS stub,
/// which libseccomp cannot express: the policy the benchmarks compile with
/// both syscage and libseccomp.
pub fn docker_x86_64_options() -> profile::ResolveOptions {
    let mut o = profile::ResolveOptions::docker(
        vec![Arch::X86_64],
        profile::KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    o.enosys_unknown = false;
    o
}

/// runc's `getCondition`.
fn runc_condition(a: &profile::ArgCond) -> ScmpArgCompare {
    let (op, datum) = match a.op {
        OpName::Ne => (ScmpCompareOp::NotEqual, a.value),
        OpName::Lt => (ScmpCompareOp::Less, a.value),
        OpName::Le => (ScmpCompareOp::LessOrEqual, a.value),
        OpName::Eq => (ScmpCompareOp::Equal, a.value),
        OpName::Ge => (ScmpCompareOp::GreaterEqual, a.value),
        OpName::Gt => (ScmpCompareOp::Greater, a.value),
        OpName::MaskedEq => (ScmpCompareOp::MaskedEqual(a.value), a.value_two),
    };
    ScmpArgCompare::new(u32::from(a.index), op, datum)
}

/// The filter runc's `InitSeccomp` builds: same default action, arch adds
/// (plus the native arch libseccomp always has, unless `native` differs
/// from the host and the host's arch is removed), same rule adds.
pub fn runc_filter(oci: &OciSeccomp, native: Arch) -> Program {
    try_runc_filter(oci, native).unwrap()
}

/// [`runc_filter`], or the error with which runc would fail.
pub fn try_runc_filter(oci: &OciSeccomp, native: Arch) -> Result<Program, String> {
    runc_context(oci, native, None).map(|ctx| export(&ctx))
}

/// runc's filter context before export, at libseccomp's optimize `level`
/// (`None`: libseccomp's default, as runc leaves it), or runc's error.
pub fn runc_context(
    oci: &OciSeccomp,
    native: Arch,
    level: Option<u32>,
) -> Result<ScmpFilterContext, String> {
    let default = runc_action(oci.default_action, oci.default_errno_ret);
    let mut ctx = ScmpFilterContext::new(default).unwrap();
    if let Some(level) = level {
        ctx.set_ctl_optimize(level)
            .expect("SCMP_FLTATR_CTL_OPTIMIZE");
    }
    ctx.add_arch(scmp_arch(native)).unwrap();
    for name in &oci.architectures {
        let arch = profile::names::scmp_arch(name).expect("test profiles use supported arches");
        ctx.add_arch(scmp_arch(arch)).unwrap();
    }
    if native != Arch::X86_64 && !oci.architectures.iter().any(|a| a == "SCMP_ARCH_X86_64") {
        ctx.remove_arch(ScmpArch::X8664).unwrap();
    }
    for call in &oci.syscalls {
        let act = runc_action(call.action, call.errno_ret);
        if act == default {
            continue;
        }
        for name in &call.names {
            let Ok(nr) = ScmpSyscall::from_name(name) else {
                continue;
            };
            if call.args.is_empty() {
                ctx.add_rule(act, nr).map_err(|e| format!("{name}: {e}"))?;
                continue;
            }
            let conds: Vec<ScmpArgCompare> = call.args.iter().map(runc_condition).collect();
            let repeated = (0..6u8).any(|i| call.args.iter().filter(|a| a.index == i).count() > 1);
            if repeated {
                for c in conds {
                    ctx.add_rule_conditional(act, nr, &[c])
                        .map_err(|e| format!("{name}: {e}"))?;
                }
            } else {
                ctx.add_rule_conditional(act, nr, &conds)
                    .map_err(|e| format!("{name}: {e}"))?;
            }
        }
    }
    Ok(ctx)
}
