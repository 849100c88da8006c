//! Differential test against the real libseccomp 2.5.4, in separate
//! processes: random rule sets are built through the C API by
//! `data/diff_driver.c` (all seven comparison operators, 32- and 64-bit
//! data, x86_64 with x86, x32 and aarch64, every action, the bad-arch
//! action, optimize level, arch removal), once with the system's library
//! and once with syscage's first on `LD_LIBRARY_PATH`. Every call must
//! return the same value, and both exported programs must decide the same
//! on every named syscall (and its x86 multiplexer) × boundary arguments,
//! plus unnamed numbers, x32 numbers, `-1` and a foreign arch, in
//! syscage's emulator.
//!
//! The rule sets stay clear of libseccomp 2.5.4's known miscompilations
//! and of the one semantic difference (see crates/syscage/tests/
//! libseccomp_random.rs, which pins each down): one action per syscall
//! (overlapping rules of different actions are decided by libseccomp's
//! tree order, by severity in syscage), each argument in at most one rule
//! of a syscall (the stale-accumulator bug; the multiplexed socket calls
//! count as one syscall, `socketcall`, for this), and only syscalls every
//! arch has (the missing `nr` load).
//!
//! `SYSCAGE_CAPI_DIFF_CASES=N` sets the number of rule sets (default 1500).

mod support;

use std::fmt::Write;
use support::{data, gcc, have_toolchain, run, Lib};
use syscage::action::Action;
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::bpf::data::SeccompData;
use syscage::bpf::Program;

/// Syscalls x86_64, x86, x32 and aarch64 all have (socket and bind are
/// multiplexed through socketcall on x86).
const NAMES: [&str; 14] = [
    "read", "write", "openat", "close", "mmap", "ioctl", "clone", "futex", "getpid", "ptrace",
    "mount", "keyctl", "socket", "bind",
];

const EDGES: [u64; 11] = [
    0,
    1,
    0x7fff_ffff,
    1 << 31,
    0xffff_ffff,
    1 << 32,
    0x1_0000_0001,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
    0xffff_ffff_0000_0000,
];

const TOKENS: [(Arch, u32); 3] = [
    (Arch::X86, 0x4000_0003),
    (Arch::X32, 0x4000_003e),
    (Arch::Aarch64, 0xc000_00b7),
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
}

fn action(rng: &mut Rng) -> u32 {
    let a = match rng.below(8) {
        0 => Action::Allow,
        1 => Action::Log,
        2 => Action::Trace(rng.below(3) as u16),
        3 | 4 => Action::Errno(1 + rng.below(3) as u16),
        5 => Action::Trap(0),
        6 => Action::KillThread,
        _ => Action::KillProcess,
    };
    a.to_ret()
}

fn value(rng: &mut Rng) -> u64 {
    let v = match rng.below(5) {
        0..=2 => EDGES[rng.below(EDGES.len() as u64) as usize],
        3 => rng.next(),
        _ => rng.below(8),
    };
    // 32-bit data (SCMP_A0_32 only truncates the datum) or 64-bit.
    if rng.chance(40) {
        v & 0xffff_ffff
    } else {
        v
    }
}

/// One random case: the script, the arches it ends with, and the
/// argument values worth trying.
struct Case {
    script: String,
    arches: Vec<Arch>,
    values: Vec<u64>,
    names: Vec<&'static str>,
}

fn case(seed: u64) -> Case {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut s = String::new();
    let default = action(&mut rng);
    let _ = writeln!(s, "init {default}");
    let mut arches = vec![Arch::X86_64];
    for (arch, token) in TOKENS {
        if rng.chance(45) {
            let _ = writeln!(s, "arch {token}");
            arches.push(arch);
        }
    }
    if arches.len() > 1 && rng.chance(20) {
        let _ = writeln!(s, "unarch 0");
        arches.remove(0);
    }
    let _ = writeln!(s, "attr 2 {}", action(&mut rng));
    let _ = writeln!(s, "attr 8 {}", 1 + rng.below(2));
    let mut values: Vec<u64> = EDGES.to_vec();
    let mut names = Vec::new();
    let mut mux_used: Vec<u64> = Vec::new();
    for _ in 0..rng.below(10) {
        let name = NAMES[rng.below(NAMES.len() as u64) as usize];
        if names.contains(&name) {
            continue;
        }
        names.push(name);
        let mut act = action(&mut rng);
        if rng.chance(5) {
            act = default; // refused by both: -EACCES
        }
        let muxed = matches!(name, "socket" | "bind");
        let mut used: Vec<u64> = if muxed { mux_used.clone() } else { Vec::new() };
        if muxed {
            used.push(0);
        }
        let rules = if rng.chance(25) { 0 } else { 1 + rng.below(3) };
        if rules == 0 {
            let _ = writeln!(s, "rule {act} {name} 0");
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
                let op = 1 + rng.below(7);
                let (a, b) = (value(&mut rng), value(&mut rng));
                for k in [a, b] {
                    values.extend([k, k.wrapping_add(1), k.wrapping_sub(1), k ^ (1 << 32)]);
                }
                values.push(b | !a);
                let _ = write!(conds, " {arg} {op} {a} {b}");
                n += 1;
            }
            if n > 0 {
                let _ = writeln!(s, "rule {act} {name} {n}{conds}");
            }
        }
        if muxed {
            mux_used = used;
        }
    }
    if rng.chance(5) {
        // Argument index 6: -EINVAL from both.
        let _ = writeln!(s, "rule {} read 1 6 4 1 0", action(&mut rng));
    }
    let _ = writeln!(s, "export");
    values.sort_unstable();
    values.dedup();
    Case {
        script: s,
        arches,
        values,
        names,
    }
}

/// The numbers to try on one arch.
fn numbers(arch: Arch, names: &[&str]) -> Vec<u32> {
    let mut v: Vec<u32> = names.iter().filter_map(|n| arch.syscall_nr(n)).collect();
    if arch == Arch::X86 {
        v.extend([102, 117]); // socketcall, ipc
    }
    let base = if arch == Arch::X32 {
        X32_SYSCALL_BIT
    } else {
        0
    };
    v.extend([
        base,
        base + 3,
        base + 39,
        base + 1000,
        u32::MAX,
        0x3fff_ffff,
    ]);
    v
}

/// Splits the driver's output into cases: (call results, program bytes).
fn parse(out: &str) -> Vec<(Vec<String>, Option<Vec<u8>>)> {
    let mut cases = Vec::new();
    let mut lines = Vec::new();
    let mut prog = None;
    for l in out.lines() {
        if l == "end" {
            cases.push((std::mem::take(&mut lines), prog.take()));
        } else if let Some(hex) = l.strip_prefix("bpf ") {
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            prog = Some(bytes);
        } else {
            lines.push(l.to_string());
        }
    }
    cases
}

fn cases() -> u64 {
    std::env::var("SYSCAGE_CAPI_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500)
}

#[test]
fn same_results_and_decisions_as_libseccomp() {
    if !have_toolchain() {
        return;
    }
    let driver = gcc(&data("diff_driver.c"));
    let n = cases();
    let generated: Vec<Case> = (0..n).map(case).collect();
    let script: String = generated.iter().map(|c| c.script.as_str()).collect();
    let real = run(&driver, &[], Lib::Real, script.as_bytes());
    let ours = run(&driver, &[], Lib::Ours, script.as_bytes());
    assert!(real.status.success(), "driver with libseccomp: {real:?}");
    assert!(
        ours.status.success(),
        "driver with syscage: {:?}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let real = parse(&String::from_utf8_lossy(&real.stdout));
    let ours = parse(&String::from_utf8_lossy(&ours.stdout));
    assert_eq!(real.len(), generated.len());
    assert_eq!(ours.len(), generated.len());
    let (mut exported, mut inputs) = (0, 0u64);
    for (i, c) in generated.iter().enumerate() {
        let (rl, rp) = &real[i];
        let (ol, op) = &ours[i];
        assert_eq!(rl, ol, "case {i}: call results differ\n{}", c.script);
        let (Some(rp), Some(op)) = (rp, op) else {
            assert_eq!(
                rp.is_some(),
                op.is_some(),
                "case {i}: one export failed\n{}",
                c.script
            );
            continue;
        };
        exported += 1;
        let order = c.arches[0].byte_order();
        let theirs = Program::from_bytes(rp, order).expect("libseccomp's program decodes");
        let mine = Program::from_bytes(op, order).expect("syscage's program decodes");
        let mut rng = Rng(i as u64 + 7);
        let mut audits: Vec<(u32, Arch)> = c.arches.iter().map(|&a| (a.audit(), a)).collect();
        audits.push((Arch::X86_64.audit(), Arch::X32));
        audits.push((Arch::Arm.audit(), Arch::Arm));
        audits.dedup();
        for &(audit, arch) in &audits {
            for nr in numbers(arch, &c.names) {
                for round in 0..12 {
                    let mut d = SeccompData {
                        nr,
                        arch: audit,
                        instruction_pointer: 0,
                        args: [0; 6],
                    };
                    if round > 0 {
                        for a in &mut d.args {
                            *a = c.values[rng.below(c.values.len() as u64) as usize];
                        }
                    }
                    if arch == Arch::X86 {
                        for a in &mut d.args {
                            *a &= 0xffff_ffff;
                        }
                    }
                    let a = syscage::emu::run(&mine, &d, order).expect("syscage's runs");
                    let b = syscage::emu::run(&theirs, &d, order).expect("libseccomp's runs");
                    inputs += 1;
                    assert_eq!(
                        a.ret, b.ret,
                        "case {i}: syscage {} vs libseccomp {} on {d:x?}\n{}",
                        a.action, b.action, c.script
                    );
                }
            }
        }
    }
    eprintln!("{n} rule sets, {exported} exported by both, {inputs} inputs compared");
    assert!(exported * 2 > n, "most cases must export");
}
