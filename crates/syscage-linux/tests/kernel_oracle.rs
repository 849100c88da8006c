//! The kernel as the oracle: for fixed and randomly generated policies,
//! compile, install in a forked child (never in the test process), make
//! real, harmless syscalls with chosen arguments (invalid file descriptors,
//! queries) and check that what the kernel did — return value or errno,
//! SIGSYS with its siginfo, a killed thread or process, a user
//! notification — is what the emulator predicts from the compiled program.
//!
//! Covered: x86_64 `syscall`, i386 `int 0x80` from the 64-bit process, x32
//! numbers (bit 30), arguments whose high 32 bits decide, every action the
//! kernel offers (USER_NOTIF with and without a listener, TRACE without a
//! tracer), stacked filters (the kernel's "most severe, newest first on a
//! tie"), and TSYNC (the filter installed by one thread, the calls made by
//! another). Seeds: `SYSCAGE_ORACLE_SEED` (default fixed), printed on failure.
#![cfg(target_arch = "x86_64")]

#[path = "kernel_oracle/calls.rs"]
mod calls;
mod child;
#[path = "kernel_oracle/forked_child.rs"]
mod forked_child;
#[path = "kernel_oracle/outcome.rs"]
mod outcome;
#[path = "kernel_oracle/rng.rs"]
mod rng;

use calls::{int80, Abi, Call};
use forked_child::{shared_map, Shared};
use outcome::{observe, predict};
use rng::{random_call, random_policy, value, Rng};
use std::sync::atomic::Ordering;
use syscage::action::Action;
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::bpf::{ByteOrder, Program};
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{CmpOp, Condition, Policy, Rule};
use syscage_linux::install::{self, FilterFlags, InstallOptions};

// ---------------------------------------------------------------- set-up

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether `int 0x80` works in a 64-bit process here (IA32 emulation).
fn has_ia32() -> bool {
    let ended = child::in_child(|| {
        // SAFETY: getpid takes no argument.
        let me = unsafe { libc::getpid() };
        if int80(20, [0; 6]) == me {
            0
        } else {
            1
        }
    });
    let ok = ended == child::Ended::Exit(0);
    assert!(
        ok || !ci(),
        "CI needs IA32 emulation (int 0x80) for the i386 cases"
    );
    if !ok {
        eprintln!("NOT CHECKED: the i386 cases need IA32 emulation (int 0x80)");
    }
    ok
}

fn require_kernel() -> bool {
    let ok = syscage_linux::probe::has_seccomp() && install::has_cap_sys_admin();
    assert!(ok || !ci(), "CI needs root and a kernel with seccomp");
    if !ok {
        eprintln!("NOT CHECKED: needs root and a kernel with seccomp");
    }
    ok
}

fn seed() -> u64 {
    std::env::var("SYSCAGE_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5ecc_a9e0)
}

/// Compiles, checks, runs and compares one case; returns the number of filtered calls made.
fn check_case(
    s: &'static Shared,
    label: &str,
    policies: &[Policy],
    flags: &[FilterFlags],
    calls: &[Call],
    tsync: bool,
) -> usize {
    let programs: Vec<Program> = policies
        .iter()
        .map(|p| {
            compile(p, &CompileOptions::default())
                .unwrap_or_else(|e| panic!("{label}: compile: {e}\n{p:#?}"))
        })
        .collect();
    for (p, prog) in policies.iter().zip(&programs) {
        for c in calls {
            let d = c.data();
            let emu = syscage::emu::run(prog, &d, ByteOrder::Little)
                .unwrap()
                .action;
            assert_eq!(
                emu,
                p.evaluate(&d),
                "{label}: compiled program disagrees with the policy on {c:?}"
            );
        }
    }
    let filters: Vec<(Vec<libc::sock_filter>, InstallOptions)> = programs
        .iter()
        .zip(flags)
        .enumerate()
        .map(|(i, (p, f))| {
            let opts = InstallOptions {
                flags: *f,
                no_new_privs: i == 0,
            };
            install::check(
                p,
                &InstallOptions {
                    no_new_privs: true,
                    ..opts
                },
            )
            .unwrap_or_else(|e| panic!("{label}: {e}"));
            (install::raw_filter(p), opts)
        })
        .collect();
    let listener_at = flags
        .iter()
        .position(|f| f.contains(FilterFlags::NEW_LISTENER));
    let observed = observe(label, s, &filters, calls, tsync);
    for (i, (got, baseline)) in observed.iter().enumerate() {
        let want = predict(&programs, listener_at, &calls[i], *baseline);
        assert_eq!(
            *got, want,
            "{label}: call {i} {:?} (baseline {baseline})",
            calls[i]
        );
    }
    observed.len()
}

// ---------------------------------------------------------------- tests

#[test]
fn fixed_policies_every_action_and_abi() {
    if !require_kernel() {
        return;
    }
    let i386 = has_ia32();
    let s = shared_map();
    let x64 = |name: &str, args: [u64; 6]| Call {
        abi: Abi::X64,
        nr: Arch::X86_64.syscall_nr(name).unwrap(),
        args,
    };
    let bad = 0xffff_ffffu64;
    // Every action on getppid; the high half of arg 0 of close decides.
    let actions = [
        Action::Allow,
        Action::Log,
        Action::Errno(0),
        Action::Errno(13),
        Action::Errno(5000),
        Action::Trap(9),
        Action::Trace(3),
        Action::UserNotif,
        Action::KillThread,
        Action::KillProcess,
    ];
    let mut made = 0;
    for (k, a) in actions.iter().enumerate() {
        for listener in [false, true] {
            let mut p = Policy::init(Action::Allow).unwrap();
            p.set_arches(vec![Arch::X86_64]).unwrap();
            p.rule_add_verbatim(Rule::new("getppid", *a));
            p.rule_add_verbatim(
                Rule::new("close", Action::Errno(77))
                    .with(Condition::new(0, CmpOp::Ge(0x1_0000_0000))),
            );
            let mut flags = FilterFlags::empty();
            flags.set(FilterFlags::NEW_LISTENER, listener);
            let calls = [
                x64("close", [bad, 0, 0, 0, 0, 0]),
                x64("close", [(1 << 32) | bad, 0, 0, 0, 0, 0]),
                x64("getppid", [0; 6]),
                x64("getpid", [0; 6]),
            ];
            made += check_case(
                s,
                &format!("action {k} listener {listener}"),
                &[p],
                &[flags],
                &calls,
                false,
            );
        }
    }
    // An i386 policy and an x86_64 one: int 0x80 takes only the i386 rules.
    if i386 {
        let mut p = Policy::init(Action::Allow).unwrap();
        p.set_arches(vec![Arch::X86_64, Arch::X86]).unwrap();
        p.rule_add_verbatim(Rule::new("getpid", Action::Errno(11)).on_arch(Arch::X86));
        p.rule_add_verbatim(Rule::new("getpid", Action::Errno(22)).on_arch(Arch::X86_64));
        let calls = [
            Call {
                abi: Abi::I386,
                nr: 20,
                args: [0; 6],
            },
            x64("getpid", [0; 6]),
            Call {
                abi: Abi::I386,
                nr: 39,
                args: [0; 6],
            },
        ];
        made += check_case(
            s,
            "i386 vs x86_64",
            &[p],
            &[FilterFlags::empty()],
            &calls,
            false,
        );
    }
    // x32 numbers without x32 in the policy: the bad-arch action.
    let mut p = Policy::init(Action::Allow).unwrap();
    p.set_arches(vec![Arch::X86_64]).unwrap();
    p.set_bad_arch_action(Action::Errno(33)).unwrap();
    let calls = [
        Call {
            abi: Abi::X32,
            nr: 39 | X32_SYSCALL_BIT,
            args: [0; 6],
        },
        x64("getpid", [0; 6]),
    ];
    made += check_case(
        s,
        "x32 bad arch",
        &[p],
        &[FilterFlags::empty()],
        &calls,
        false,
    );
    assert!(made >= 80, "{made}");
}

#[test]
fn log_action_writes_one_audit_record_per_logged_call() {
    if !require_kernel() {
        return;
    }
    let collector = match syscage_linux::audit::Collector::start_netlink() {
        Ok(c) => c,
        Err(e) => {
            assert!(!ci(), "CI runs as root without an audit daemon: {e}");
            eprintln!("NOT CHECKED: audit netlink (needs root and no other audit daemon): {e}");
            return;
        }
    };
    let s = shared_map();
    let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
    let mut p = Policy::init(Action::Allow).unwrap();
    p.set_arches(vec![Arch::X86_64]).unwrap();
    p.rule_add_verbatim(Rule::new("getppid", Action::Log));
    p.rule_add_verbatim(Rule::new("close", Action::Log).with(Condition::new(
        0,
        CmpOp::MaskedEq {
            mask: 1 << 32,
            value: 1 << 32,
        },
    )));
    let mut rng = Rng(seed());
    let calls: Vec<Call> = (0..40)
        .map(|_| {
            let name = rng.pick(&["getppid", "getpid", "close", "close"]);
            Call {
                abi: Abi::X64,
                nr: nr(name),
                args: [value(&mut rng), 0, 0, 0, 0, 0],
            }
        })
        .collect();
    let prog = compile(&p, &CompileOptions::default()).unwrap();
    let logged = calls
        .iter()
        .filter(|c| {
            syscage::emu::run(&prog, &c.data(), ByteOrder::Little)
                .unwrap()
                .action
                == Action::Log
        })
        .count();
    check_case(s, "log", &[p], &[FilterFlags::empty()], &calls, false);
    let pid = s.caller_pid.load(Ordering::Acquire) as u32;
    let got = collector.finish();
    let records: Vec<_> = got.records.iter().filter(|r| r.pid == pid).collect();
    assert_eq!(records.len(), logged, "one record per logged call");
    assert!(records
        .iter()
        .all(|r| r.code == Action::Log.to_ret() && r.arch == Arch::X86_64.audit()));
    let logged_nrs: Vec<u32> = calls
        .iter()
        .filter(|c| {
            syscage::emu::run(&prog, &c.data(), ByteOrder::Little)
                .unwrap()
                .action
                == Action::Log
        })
        .map(|c| c.nr)
        .collect();
    assert_eq!(
        records.iter().map(|r| r.syscall).collect::<Vec<_>>(),
        logged_nrs
    );
}

#[test]
fn tsync_reaches_the_other_threads() {
    if !require_kernel() {
        return;
    }
    let s = shared_map();
    let mut p = Policy::init(Action::Allow).unwrap();
    p.set_arches(vec![Arch::X86_64]).unwrap();
    p.rule_add_verbatim(Rule::new("getppid", Action::Errno(44)));
    p.rule_add_verbatim(Rule::new("gettid", Action::KillThread));
    let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
    let calls = [
        Call {
            abi: Abi::X64,
            nr: nr("getppid"),
            args: [0; 6],
        },
        Call {
            abi: Abi::X64,
            nr: nr("getpid"),
            args: [0; 6],
        },
        Call {
            abi: Abi::X64,
            nr: nr("gettid"),
            args: [0; 6],
        },
    ];
    let flags = FilterFlags::TSYNC;
    let made = check_case(s, "tsync", &[p], &[flags], &calls, true);
    assert_eq!(made, 3);
}

#[test]
fn random_policies_agree_with_the_emulator() {
    if !require_kernel() {
        return;
    }
    let i386 = has_ia32();
    let s = shared_map();
    let seed = seed();
    let mut rng = Rng(seed);
    let mut made = 0;
    let cases = 48;
    for case in 0..cases {
        let tsync = rng.chance(20);
        let notif = !tsync && rng.chance(40);
        let stacked = if rng.chance(30) { 2 + rng.below(2) } else { 1 };
        let mut policies = Vec::new();
        let mut flags = Vec::new();
        let listener_at = if notif {
            Some(rng.below(stacked))
        } else {
            None
        };
        for i in 0..stacked {
            let mut p = random_policy(&mut rng, notif, i386);
            if i + 1 < stacked {
                // Later filters are installed through the earlier ones.
                p.rule_add_verbatim(Rule::new("seccomp", Action::Allow).on_arch(Arch::X86_64));
                if !p.arches().contains(&Arch::X86_64) {
                    p.arch_add(Arch::X86_64).unwrap();
                }
            }
            policies.push(p);
            let mut f = FilterFlags::empty();
            f.set(FilterFlags::NEW_LISTENER, listener_at == Some(i));
            f.set(FilterFlags::LOG, rng.chance(20));
            f.set(FilterFlags::SPEC_ALLOW, rng.chance(20));
            flags.push(f);
        }
        if tsync {
            for f in &mut flags {
                f.insert(FilterFlags::TSYNC);
                let listener = f.contains(FilterFlags::NEW_LISTENER);
                f.set(FilterFlags::TSYNC_ESRCH, listener);
            }
        }
        let calls: Vec<Call> = (0..64).map(|_| random_call(&mut rng, i386)).collect();
        if std::env::var("SYSCAGE_ORACLE_DUMP").ok() == Some(case.to_string()) {
            eprintln!("{policies:#?}\n{flags:?} tsync {tsync}");
        }
        made += check_case(
            s,
            &format!("seed {seed} case {case}"),
            &policies,
            &flags,
            &calls,
            tsync,
        );
    }
    assert!(made >= 2500, "only {made} filtered syscalls were made");
    eprintln!("kernel oracle: {made} filtered syscalls, seed {seed}");
}
