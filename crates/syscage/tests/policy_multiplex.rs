//! `Policy::rule_add` rewrites x86's multiplexed socket and SysV IPC
//! syscalls as libseccomp does (`abi_rule_add`): a rule for `socket`
//! also applies to `socketcall(SYS_SOCKET, …)`. Differential against
//! libseccomp 2.5.4 (the `libseccomp` crate): the same rules added by name
//! through both APIs decide the same on `socket`, `socketcall`, `ipc`
//! and their neighbours with boundary arguments, on x86 alone and with
//! x86_64.

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::Program;
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{arg, Condition, Policy};

/// (name, action, conditions as (arg, op, value)).
type Spec = (&'static str, Action, Vec<(u8, ScmpCompareOp, u64)>);

fn scmp(a: Action) -> ScmpAction {
    match a {
        Action::Errno(e) => ScmpAction::Errno(i32::from(e)),
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Log => ScmpAction::Log,
        _ => ScmpAction::Allow,
    }
}

fn ours_cond(a: u8, op: ScmpCompareOp, v: u64) -> Condition {
    match op {
        ScmpCompareOp::Equal => arg(a).eq(v),
        ScmpCompareOp::NotEqual => arg(a).ne(v),
        ScmpCompareOp::Greater => arg(a).gt(v),
        _ => arg(a).le(v),
    }
}

#[path = "libseccomp_bridge/mod.rs"]
mod bridge;

fn export(ctx: &ScmpFilterContext) -> Program {
    bridge::export(ctx)
}

fn check(arches: &[Arch], default: Action, specs: &[Spec]) {
    let mut p = Policy::init(default).unwrap();
    p.arch_remove(Arch::native()).unwrap();
    let mut ctx = ScmpFilterContext::new(scmp(default)).unwrap();
    ctx.remove_arch(ScmpArch::native()).unwrap();
    for &a in arches {
        p.arch_add(a).unwrap();
        ctx.add_arch(if a == Arch::X86 {
            ScmpArch::X86
        } else {
            ScmpArch::X8664
        })
        .unwrap();
    }
    for (name, act, conds) in specs {
        let ours: Vec<Condition> = conds
            .iter()
            .map(|&(a, op, v)| ours_cond(a, op, v))
            .collect();
        p.rule_add(*act, *name, &ours).unwrap();
        let theirs: Vec<ScmpArgCompare> = conds
            .iter()
            .map(|&(a, op, v)| ScmpArgCompare::new(u32::from(a), op, v))
            .collect();
        ctx.add_rule_conditional(scmp(*act), ScmpSyscall::from_name(name).unwrap(), &theirs)
            .unwrap();
    }
    let ours = compile(&p, &CompileOptions::default()).unwrap();
    let theirs = export(&ctx);
    let values = [0u64, 1, 2, 3, 4, 5, 10, 11, 21, 24, 25, 0xffff_ffff];
    for &a in arches {
        let nrs: Vec<u32> = [
            "socket",
            "bind",
            "connect",
            "socketcall",
            "ipc",
            "shmget",
            "read",
        ]
        .iter()
        .filter_map(|n| a.syscall_nr(n))
        .collect();
        for nr in nrs {
            for &a0 in &values {
                for &a1 in &values {
                    let d = SeccompData {
                        nr,
                        arch: a.audit(),
                        instruction_pointer: 0,
                        args: [a0, a1, 0, 0, 0, 0],
                    };
                    let x = syscage::emu::run(&ours, &d, a.byte_order()).unwrap();
                    let y = syscage::emu::run(&theirs, &d, a.byte_order()).unwrap();
                    assert_eq!(
                        x.ret, y.ret,
                        "{specs:?} on {arches:?}: syscage {} vs libseccomp {} for {d:x?}",
                        x.action, y.action
                    );
                    assert_eq!(x.action, p.evaluate(&d));
                }
            }
        }
    }
}

#[test]
fn socket_rules_on_x86_decide_like_libseccomp() {
    use ScmpCompareOp::*;
    for arches in [vec![Arch::X86], vec![Arch::X86_64, Arch::X86]] {
        check(
            &arches,
            Action::Allow,
            &[("socket", Action::Errno(1), vec![])],
        );
        check(
            &arches,
            Action::Allow,
            &[("socket", Action::Errno(1), vec![(0, Equal, 2)])],
        );
        check(
            &arches,
            Action::Errno(1),
            &[
                (
                    "socket",
                    Action::Allow,
                    vec![(0, NotEqual, 5), (1, Greater, 3)],
                ),
                ("connect", Action::Allow, vec![]),
                ("shmget", Action::KillProcess, vec![(1, LessOrEqual, 10)]),
                ("read", Action::Allow, vec![]),
            ],
        );
    }
}
