//! Kernel overhead per syscall of a loaded filter, against no filter, for
//! Docker's default profile compiled by syscage and by libseccomp
//! (`SCMP_FLTATR_CTL_OPTIMIZE` 1: linear, 2: binary tree), side by side in
//! one run: a cached syscall (`getppid`), a denied one (`acct`, EPERM by
//! the default action) and an argument-dependent one (`personality(0xffffffff)`).
//!
//! Each filter is loaded in its own child process (filters cannot be
//! removed); the child times N raw syscalls several times and reports the
//! best nanoseconds per call. Run: `cargo bench -p syscage-linux --bench kernel_overhead`
//! (`SYSCAGE_BENCH_ITERS` sets N, default 200000).

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use std::io::{Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Program};
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{CmpOp, Policy, SyscallId};
use syscage::profile::{self, KernelVersion, ResolveOptions};
use syscage_linux::install::{self, InstallOptions};

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/docker-default-seccomp.json"
);

fn docker_policy() -> Policy {
    let text = std::fs::read_to_string(DOCKER).expect("shared/data/docker-default-seccomp.json");
    let p = profile::parse(&text).expect("parse");
    // No ENOSYS stub: libseccomp alone cannot express it, so both sides go without.
    let opts = ResolveOptions {
        enosys_unknown: false,
        ..ResolveOptions::docker(vec![Arch::X86_64], KernelVersion { major: 6, minor: 1 })
    };
    p.to_policy(&opts).expect("resolve").0
}

fn scmp_action(a: Action) -> ScmpAction {
    match a {
        Action::Allow => ScmpAction::Allow,
        Action::Log => ScmpAction::Log,
        Action::Errno(e) => ScmpAction::Errno(e as i32),
        Action::Trap(_) => ScmpAction::Trap,
        Action::Trace(d) => ScmpAction::Trace(d),
        Action::UserNotif => ScmpAction::Notify,
        Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
    }
}

fn scmp_arch(a: Arch) -> ScmpArch {
    match a {
        Arch::X86_64 => ScmpArch::X8664,
        Arch::X86 => ScmpArch::X86,
        Arch::X32 => ScmpArch::X32,
        other => panic!("the benchmark runs on x86 hosts, not {other:?}"),
    }
}

/// libseccomp's filter for the same policy, exported as BPF.
fn libseccomp_program(policy: &Policy, optimize: u32) -> (Program, usize) {
    let mut ctx = ScmpFilterContext::new(scmp_action(policy.default_action)).unwrap();
    ctx.set_act_badarch(scmp_action(policy.bad_arch_action))
        .unwrap();
    ctx.set_ctl_optimize(optimize).unwrap();
    for a in &policy.arches {
        ctx.add_arch(scmp_arch(*a)).unwrap();
    }
    let mut skipped = 0;
    for rule in &policy.rules {
        let sys = match &rule.syscall {
            SyscallId::Name(n) => match ScmpSyscall::from_name(n) {
                Ok(s) => s,
                Err(_) => {
                    skipped += 1;
                    continue;
                }
            },
            SyscallId::Nr(n) => ScmpSyscall::from(*n as i32),
        };
        let conds: Vec<ScmpArgCompare> = rule
            .conditions
            .iter()
            .map(|c| {
                let (op, datum) = match c.op {
                    CmpOp::Eq(v) => (ScmpCompareOp::Equal, v),
                    CmpOp::Ne(v) => (ScmpCompareOp::NotEqual, v),
                    CmpOp::Lt(v) => (ScmpCompareOp::Less, v),
                    CmpOp::Le(v) => (ScmpCompareOp::LessOrEqual, v),
                    CmpOp::Gt(v) => (ScmpCompareOp::Greater, v),
                    CmpOp::Ge(v) => (ScmpCompareOp::GreaterEqual, v),
                    CmpOp::MaskedEq { mask, value } => (ScmpCompareOp::MaskedEqual(mask), value),
                };
                ScmpArgCompare::new(c.arg as u32, op, datum)
            })
            .collect();
        if ctx
            .add_rule_conditional(scmp_action(rule.action), sys, &conds)
            .is_err()
        {
            skipped += 1;
        }
    }
    let mut file = tempfile();
    ctx.export_bpf(&file).unwrap();
    let mut bytes = Vec::new();
    file.rewind().unwrap();
    file.read_to_end(&mut bytes).unwrap();
    (
        Program::from_bytes(&bytes, ByteOrder::Little).expect("libseccomp's BPF decodes"),
        skipped,
    )
}

fn tempfile() -> std::fs::File {
    // SAFETY: memfd_create with a static NUL-terminated name; the fd is owned by the File.
    unsafe {
        let fd = libc::memfd_create(c"syscage-bench".as_ptr(), libc::MFD_CLOEXEC);
        assert!(fd >= 0);
        std::fs::File::from_raw_fd(fd)
    }
}

/// The measured syscalls: (label, number, arg 0).
const CASES: [(&str, libc::c_long, u64); 3] = [
    ("getppid (cached)", libc::SYS_getppid, 0),
    ("acct (denied)", libc::SYS_acct, 1),
    ("personality (args)", libc::SYS_personality, 0xffff_ffff),
];

fn time_calls(nr: libc::c_long, a0: u64, iters: u32) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = std::time::Instant::now();
        for _ in 0..iters {
            // SAFETY: getppid, acct with an invalid pointer (EFAULT or EPERM) and
            // personality's query change nothing.
            unsafe { libc::syscall(nr, a0) };
        }
        best = best.min(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    best
}

/// Loads `prog` (if any) in a child and returns ns per call for each case.
fn measure(prog: Option<&Program>, spec_allow: bool, iters: u32) -> Vec<f64> {
    let raw = prog.map(install::raw_filter);
    let mut fds = [0; 2];
    // SAFETY: pipe writes two fds.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child loads the filter, times syscalls, writes and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        if let Some(raw) = &raw {
            let mut opts = InstallOptions::default();
            opts.flags.spec_allow = spec_allow;
            install::install_raw(raw, &opts).expect("load");
        }
        let times: Vec<f64> = CASES
            .iter()
            .map(|(_, nr, a0)| time_calls(*nr, *a0, iters))
            .collect();
        // SAFETY: fds[1] is our pipe's write end.
        let mut w = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        let text = times
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let _ = w.write_all(text.as_bytes());
        drop(w);
        // SAFETY: ends the child.
        unsafe { libc::_exit(0) };
    }
    // SAFETY: closes our copy of the write end.
    unsafe { libc::close(fds[1]) };
    // SAFETY: fds[0] is our pipe's read end.
    let mut r = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let mut text = String::new();
    r.read_to_string(&mut text).unwrap();
    let mut status = 0;
    // SAFETY: waits for our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let _ = r.as_raw_fd();
    text.split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let iters: u32 = std::env::var("SYSCAGE_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let policy = docker_policy();
    let ours = compile(&policy, &CompileOptions::default()).expect("compile");
    let (lin, skipped1) = libseccomp_program(&policy, 1);
    let (tree, skipped2) = libseccomp_program(&policy, 2);
    let filters: Vec<(&str, Option<&Program>, bool)> = vec![
        ("no filter", None, false),
        ("syscage", Some(&ours), false),
        ("libseccomp, optimize 1 (linear)", Some(&lin), false),
        ("libseccomp, optimize 2 (binary tree)", Some(&tree), false),
        ("syscage, SPEC_ALLOW", Some(&ours), true),
        ("libseccomp tree, SPEC_ALLOW", Some(&tree), true),
    ];
    // Interleave the filters over several rounds and keep each one's best.
    let mut best: Vec<Vec<f64>> = vec![vec![f64::MAX; CASES.len()]; filters.len()];
    for _ in 0..3 {
        for (i, (_, p, spec)) in filters.iter().enumerate() {
            for (j, t) in measure(*p, *spec, iters).into_iter().enumerate() {
                best[i][j] = best[i][j].min(t);
            }
        }
    }
    println!("Docker default profile (x86_64 host: x86_64, x86, x32), {iters} calls x 7 x 3 rounds, best ns/call");
    if skipped1 + skipped2 > 0 {
        println!("(libseccomp skipped {skipped1} rules it could not add)");
    }
    print!("| filter | instructions |");
    for (label, _, _) in CASES {
        print!(" {label} |");
    }
    println!();
    println!("|---|---:|{}", "---:|".repeat(CASES.len()));
    for (i, (name, p, _)) in filters.iter().enumerate() {
        let len = p.map_or("-".to_string(), |p| p.len().to_string());
        print!("| {name} | {len} |");
        for j in 0..CASES.len() {
            // A denied syscall never runs: its overhead is against the
            // cheapest unfiltered syscall, getppid.
            let base = if CASES[j].0.contains("denied") {
                best[0][0]
            } else {
                best[0][j]
            };
            if i == 0 {
                print!(" {:.1} |", best[i][j]);
            } else {
                print!(" {:.1} ({:+.1}) |", best[i][j], best[i][j] - base);
            }
        }
        println!();
    }
    println!("(in parentheses: against no filter; for the denied acct, against unfiltered getppid, since a denied call does no work)");
    println!();
    println!("Instructions each filter runs per call (emulator; the kernel's action cache skips the filter for cacheable calls):");
    print!("| filter |");
    for (label, _, _) in CASES {
        print!(" {label} |");
    }
    println!();
    println!("|---|{}", "---:|".repeat(CASES.len()));
    for (name, p, spec) in &filters {
        let (Some(p), false) = (p, spec) else {
            continue;
        };
        print!("| {name} |");
        for (_, nr, a0) in CASES {
            let d = syscage::bpf::data::SeccompData {
                nr: nr as u32,
                arch: Arch::X86_64.audit(),
                args: [a0, 0, 0, 0, 0, 0],
                ..Default::default()
            };
            let out = syscage::emu::run(p, &d, ByteOrder::Little).expect("runs");
            print!(" {} ({}) |", out.steps, out.action);
        }
        println!();
    }
}
