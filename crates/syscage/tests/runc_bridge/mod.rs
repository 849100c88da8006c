//! runc's `InitSeccomp` over the `libseccomp` crate: the filter runc
//! builds for a resolved OCI profile, exported as BPF.

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use std::io::{Read, Seek};
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Program};
use syscage::profile::{self, ActionName, OciSeccomp, OpName};

pub fn scmp_arch(a: Arch) -> ScmpArch {
    match a {
        Arch::X86_64 => ScmpArch::X8664,
        Arch::X86 => ScmpArch::X86,
        Arch::X32 => ScmpArch::X32,
        Arch::Aarch64 => ScmpArch::Aarch64,
        Arch::Arm => ScmpArch::Arm,
        other => panic!("no libseccomp arch for {other} in this test"),
    }
}

/// runc's `getAction`.
fn runc_action(name: ActionName, errno_ret: Option<u16>) -> ScmpAction {
    let data = errno_ret.unwrap_or(1);
    match name {
        ActionName::Kill | ActionName::KillThread => ScmpAction::KillThread,
        ActionName::KillProcess => ScmpAction::KillProcess,
        ActionName::Trap => ScmpAction::Trap,
        ActionName::Errno => ScmpAction::Errno(i32::from(data)),
        ActionName::Trace => ScmpAction::Trace(data),
        ActionName::Allow => ScmpAction::Allow,
        ActionName::Log => ScmpAction::Log,
        ActionName::Notify => ScmpAction::Notify,
    }
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
    let default = runc_action(oci.default_action, oci.default_errno_ret);
    let mut ctx = ScmpFilterContext::new(default).unwrap();
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
    let mut file = tempfile();
    ctx.export_bpf(&file).unwrap();
    let mut bytes = Vec::new();
    file.rewind().unwrap();
    file.read_to_end(&mut bytes).unwrap();
    Ok(Program::from_bytes(&bytes, ByteOrder::Little).expect("libseccomp's BPF decodes"))
}

fn tempfile() -> std::fs::File {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "syscage-libseccomp-{}-{}.bpf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    f
}
