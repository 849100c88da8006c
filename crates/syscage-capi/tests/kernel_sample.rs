//! The kernel sample of the differential test (issue 12): random rule sets
//! over harmless syscalls are built through the C API by
//! `data/kernel_driver.c`, once with the real libseccomp 2.5.4 and once
//! with syscage's `libseccomp.so.2` first on `LD_LIBRARY_PATH`. For each
//! call the driver forks a child that loads the filter with `seccomp_load`
//! and makes one syscall with chosen arguments through syscall(2); the
//! outcome (success, errno, trap, signal) of both libraries' runs must be
//! the same, and must be what syscage's emulator decides on syscage's
//! exported program (and on libseccomp's).
//!
//! Conditions use all seven operators, 64-bit (`SCMP_CMP64`) and 32-bit
//! (`SCMP_CMP32`, i.e. `SCMP_A0_32`…) data; arguments sit at the rule
//! constants' boundaries (c-1, c, c+1, high word set and cleared). Actions:
//! ALLOW, LOG, ERRNO with a distinct errno per syscall, TRAP, KILL_THREAD,
//! KILL_PROCESS. The rule sets avoid libseccomp 2.5.4's documented
//! differences as `differential.rs` does: one action per syscall and each
//! argument in at most one rule of a syscall.
//!
//! Only syscalls without effects outside the calling child are made; the
//! arguments the kernel would act on (uname's buffer, getpgid's pid,
//! getpriority's which/who) are always 0.
//!
//! `SYSCAGE_CAPI_KERNEL_CASES=N` sets the number of rule sets (default 100),
//! `SYSCAGE_CAPI_KERNEL_SEED=S` the first seed (default 0). A failure names
//! its seed and script; `SYSCAGE_CAPI_KERNEL_SEED=S SYSCAGE_CAPI_KERNEL_CASES=1`
//! reruns that case alone.

mod support;

use std::fmt::Write;
use support::{data, gcc, have_toolchain, require, run, Lib};
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Program};

/// Harmless syscalls and how many leading arguments are forced to 0 (the
/// kernel would use them as a pointer or a pid).
const SYSCALLS: [(&str, usize); 13] = [
    ("getppid", 0),
    ("getpid", 0),
    ("getuid", 0),
    ("getgid", 0),
    ("geteuid", 0),
    ("getegid", 0),
    ("gettid", 0),
    ("sched_yield", 0),
    ("getpgrp", 0),
    ("umask", 0),
    ("uname", 1),
    ("getpgid", 1),
    ("getpriority", 2),
];

/// The outcome of each syscall when allowed (uname(NULL) is EFAULT).
fn native(name: &str) -> String {
    if name == "uname" {
        format!("errno {}", libc::EFAULT)
    } else {
        "ok".to_string()
    }
}

const EDGES: [u64; 9] = [
    0,
    1,
    0x7fff_ffff,
    1 << 31,
    0xffff_ffff,
    1 << 32,
    1 << 63,
    u64::MAX,
    0xffff_ffff_0000_0000,
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// A random action; ERRNO carries `errno`.
fn action(rng: &mut Rng, errno: u16) -> Action {
    match rng.below(7) {
        0 => Action::Allow,
        1 => Action::Log,
        2 | 3 => Action::Errno(errno),
        4 => Action::Trap(0),
        5 => Action::KillThread,
        _ => Action::KillProcess,
    }
}

fn datum(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 | 1 => rng.pick(&EDGES),
        2 => rng.next(),
        _ => rng.below(8),
    }
}

/// The values worth trying around one constant.
fn around(c: u64) -> [u64; 6] {
    [
        c,
        c.wrapping_sub(1),
        c.wrapping_add(1),
        c ^ (1 << 32),
        c & 0xffff_ffff,
        c | 0xffff_ffff_0000_0000,
    ]
}

/// One random case: the script and the calls it makes.
struct Case {
    seed: u64,
    script: String,
    calls: Vec<(&'static str, [u64; 6])>,
}

fn case(seed: u64) -> Case {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut s = String::new();
    let default = action(&mut rng, 99);
    let _ = writeln!(s, "init {}", default.to_ret());
    // Per syscall: the values worth trying for each argument.
    let mut named: Vec<(&'static str, usize, [Vec<u64>; 6])> = Vec::new();
    for k in 0..1 + rng.below(5) {
        let (name, forced) = rng.pick(&SYSCALLS);
        if named.iter().any(|n| n.0 == name) {
            continue;
        }
        let mut act = action(&mut rng, 100 + k as u16);
        if act.to_ret() == default.to_ret() {
            act = Action::Errno(100 + k as u16);
        }
        let mut values: [Vec<u64>; 6] = Default::default();
        let mut used = Vec::new();
        let rules = if rng.chance(20) { 0 } else { 1 + rng.below(3) };
        if rules == 0 {
            let _ = writeln!(s, "rule {} {name} 0", act.to_ret());
        }
        for _ in 0..rules {
            let mut conds = String::new();
            let mut n = 0;
            for _ in 0..1 + rng.below(3) {
                let arg = rng.below(6);
                if used.contains(&arg) {
                    continue;
                }
                used.push(arg);
                let op = 1 + rng.below(7); // SCMP_CMP_NE ..= SCMP_CMP_MASKED_EQ
                let (a, b) = (datum(&mut rng), datum(&mut rng));
                let width = if rng.chance(40) { 32 } else { 64 };
                let vals = &mut values[arg as usize];
                for k in [a, b] {
                    vals.extend(around(k));
                }
                vals.push(b | !a);
                vals.push(b & a);
                let _ = write!(conds, " {arg} {op} {a} {b} {width}");
                n += 1;
            }
            if n > 0 {
                let _ = writeln!(s, "rule {} {name} {n}{conds}", act.to_ret());
            }
        }
        named.push((name, forced, values));
    }
    let _ = writeln!(s, "export");
    let mut calls = Vec::new();
    for (name, forced, values) in &named {
        for round in 0..6 {
            let mut args = [0u64; 6];
            if round > 0 {
                for (i, a) in args.iter_mut().enumerate() {
                    *a = if !values[i].is_empty() && rng.chance(85) {
                        rng.pick(&values[i])
                    } else {
                        rng.pick(&EDGES)
                    };
                }
            }
            for a in &mut args[..*forced] {
                *a = 0;
            }
            calls.push((*name, args));
        }
    }
    // A syscall the rules do not name: the default action.
    let (name, forced) = rng.pick(&SYSCALLS);
    if !named.iter().any(|n| n.0 == name) {
        let mut args = [0u64; 6];
        for a in &mut args[forced..] {
            *a = rng.pick(&EDGES);
        }
        calls.push((name, args));
    }
    for (name, a) in &calls {
        let _ = writeln!(
            s,
            "call {name} {} {} {} {} {} {}",
            a[0], a[1], a[2], a[3], a[4], a[5]
        );
    }
    Case {
        seed,
        script: s,
        calls,
    }
}

/// One case of the driver's output: `rc`/`out` lines and the program.
struct Ran {
    lines: Vec<String>,
    outs: Vec<String>,
    prog: Option<Vec<u8>>,
}

fn parse(out: &str) -> Vec<Ran> {
    let mut cases = Vec::new();
    let mut cur = Ran {
        lines: Vec::new(),
        outs: Vec::new(),
        prog: None,
    };
    for l in out.lines() {
        if l == "end" {
            cases.push(std::mem::replace(
                &mut cur,
                Ran {
                    lines: Vec::new(),
                    outs: Vec::new(),
                    prog: None,
                },
            ));
        } else if let Some(hex) = l.strip_prefix("bpf ") {
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            cur.prog = Some(bytes);
        } else {
            if let Some(o) = l.strip_prefix("out ") {
                cur.outs.push(o.to_string());
            }
            cur.lines.push(l.to_string());
        }
    }
    cases
}

/// What the kernel reports to the driver for `action` on `name`.
fn expected(action: Action, name: &str) -> String {
    match action {
        Action::Allow | Action::Log => native(name),
        Action::Errno(n) => format!("errno {n}"),
        Action::Trap(_) => "trap".to_string(),
        Action::KillThread | Action::KillProcess => format!("signal {}", libc::SIGSYS),
        other => format!("unexpected action {other}"),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn kernel_decides_the_same_with_both_libraries_and_the_emulator() {
    if !have_toolchain() {
        return;
    }
    if !require(
        "x86_64 (the sample's syscall numbers)",
        cfg!(target_arch = "x86_64"),
    ) {
        return;
    }
    let driver = gcc(&data("kernel_driver.c"));
    let n = env_u64("SYSCAGE_CAPI_KERNEL_CASES", 100);
    let first = env_u64("SYSCAGE_CAPI_KERNEL_SEED", 0);
    let generated: Vec<Case> = (first..first + n).map(case).collect();
    let script: String = generated.iter().map(|c| c.script.as_str()).collect();
    let real = run(&driver, &[], Lib::Real, script.as_bytes());
    let ours = run(&driver, &[], Lib::Ours, script.as_bytes());
    assert!(
        real.status.success(),
        "driver with libseccomp: {:?}",
        String::from_utf8_lossy(&real.stderr)
    );
    assert!(
        ours.status.success(),
        "driver with syscage: {:?}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let real = parse(&String::from_utf8_lossy(&real.stdout));
    let ours = parse(&String::from_utf8_lossy(&ours.stdout));
    assert_eq!(real.len(), generated.len());
    assert_eq!(ours.len(), generated.len());
    let audit = Arch::X86_64.audit();
    let mut calls = 0;
    // Syscalls whose calls in one case ended differently: the conditions decided.
    let mut split = 0;
    let mut seen: Vec<String> = Vec::new();
    for (i, c) in generated.iter().enumerate() {
        let (r, o) = (&real[i], &ours[i]);
        let seed = c.seed;
        assert_eq!(
            r.lines, o.lines,
            "seed {seed}: libseccomp (left) and syscage (right) differ\n{}",
            c.script
        );
        assert_eq!(o.outs.len(), c.calls.len(), "seed {seed}: one out per call");
        let progs = [("syscage", &o.prog), ("libseccomp", &r.prog)];
        for (who, prog) in progs {
            let bytes = prog
                .as_ref()
                .unwrap_or_else(|| panic!("seed {seed}: {who} did not export\n{}", c.script));
            let prog = Program::from_bytes(bytes, ByteOrder::Little)
                .unwrap_or_else(|e| panic!("seed {seed}: {who}'s program: {e}"));
            for ((name, args), out) in c.calls.iter().zip(&o.outs) {
                let d = SeccompData {
                    nr: Arch::X86_64.syscall_nr(name).expect("x86_64 number"),
                    arch: audit,
                    instruction_pointer: 0,
                    args: *args,
                };
                let emu = syscage::emu::run(&prog, &d, ByteOrder::Little)
                    .unwrap_or_else(|e| panic!("seed {seed}: {who}'s program: {e}"));
                assert_eq!(
                    out,
                    &expected(emu.action, name),
                    "seed {seed}: the kernel vs {who}'s program in the emulator ({}) on {name} {args:x?}\n{}",
                    emu.action,
                    c.script
                );
            }
        }
        calls += c.calls.len();
        let mut names: Vec<&str> = c.calls.iter().map(|(n, _)| *n).collect();
        names.dedup();
        for name in names {
            let mut kinds: Vec<&String> = c
                .calls
                .iter()
                .zip(&o.outs)
                .filter(|((n, _), _)| *n == name)
                .map(|(_, out)| out)
                .collect();
            kinds.sort();
            kinds.dedup();
            if kinds.len() > 1 {
                split += 1;
            }
        }
        for out in &o.outs {
            let kind = out.split(' ').next().unwrap_or("").to_string();
            if !seen.contains(&kind) {
                seen.push(kind);
            }
        }
    }
    eprintln!(
        "{n} rule sets (seeds {first}..{}), {calls} calls in forked children per library, \
         {split} syscalls decided by their arguments, outcomes seen: {seen:?}",
        first + n
    );
    assert!(split > 0, "no call's arguments changed its outcome");
    for kind in ["ok", "errno", "trap", "signal"] {
        assert!(seen.iter().any(|s| s == kind), "no call ended with {kind}");
    }
}
