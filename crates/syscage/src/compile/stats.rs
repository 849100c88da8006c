//! Statistics of a compiled program (`syscage compile --stats`): its
//! length, and per arch the instructions executed for every syscall number
//! (emulated, arguments zero), a frequency-weighted mean, and how many
//! syscalls the kernel's action cache can answer.
//!
//! The action cache (Linux ≥ 5.11, `seccomp_cache_prepare_bitmap`)
//! emulates the filter for each (arch, nr) with `seccomp_is_const_allow`,
//! which follows only loads of `nr` and `arch`, `JA`, conditional jumps on
//! constants, `A &= k` and `RET k`; a syscall whose run reaches `RET ALLOW`
//! that way is allowed without running the filter. [`ArchStats::const_paths`]
//! counts the syscalls whose decision that emulation reaches whatever it is.

use super::FrequencyTable;
use crate::action::SECCOMP_RET_ALLOW;
use crate::arch::{x32_nr, Arch};
use crate::bpf::data::{SeccompData, OFF_ARCH, OFF_NR};
use crate::bpf::{AluOp, Insn, Program, Src};

/// Numbers past the arch's highest syscall that are measured too.
pub const MARGIN: u32 = 64;

/// Statistics of one program.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Number of instructions.
    pub len: usize,
    /// Per arch.
    pub arches: Vec<ArchStats>,
}

/// Statistics of one arch of a program.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchStats {
    /// The arch.
    pub arch: Arch,
    /// Numbers measured: from the arch's first number (0, or bit 30 for
    /// x32) to its highest syscall plus [`MARGIN`].
    pub numbers: usize,
    /// Mean instructions executed over those numbers.
    pub mean: f64,
    /// Most instructions executed over those numbers.
    pub max: usize,
    /// Syscalls in the arch's table.
    pub known: usize,
    /// Mean instructions executed over the table's syscalls.
    pub known_mean: f64,
    /// Most instructions executed over the table's syscalls.
    pub known_max: usize,
    /// Mean weighted by the default frequency mix.
    pub weighted_mean: f64,
    /// Table syscalls decided by loads of `arch` and `nr` only.
    pub const_paths: usize,
    /// Table syscalls the kernel's action cache allows without running the filter.
    pub cache_allow: usize,
}

/// Measures `prog` for each of `arches` (64-bit fields laid out in each
/// arch's byte order).
pub fn stats(prog: &Program, arches: &[Arch]) -> Stats {
    let freq = FrequencyTable::default_mix();
    let arches = arches
        .iter()
        .map(|&arch| {
            let table = arch.syscalls();
            let base = if arch == Arch::X32 { x32_nr(0) } else { 0 };
            let top = table.last().map_or(base, |s| s.nr).saturating_add(MARGIN);
            let steps = |nr: u32| {
                let d = SeccompData {
                    nr,
                    arch: arch.audit(),
                    ..Default::default()
                };
                crate::emu::run(prog, &d, arch.byte_order()).map_or(0, |o| o.steps)
            };
            let all: Vec<usize> = (base..=top).map(steps).collect();
            let known: Vec<(u32, usize)> = table.iter().map(|s| (s.nr, steps(s.nr))).collect();
            let mean = |v: &mut dyn Iterator<Item = usize>, n: usize| {
                v.map(|x| x as f64).sum::<f64>() / n.max(1) as f64
            };
            let (mut wsum, mut wtot) = (0.0, 0.0);
            for &(nr, s) in &known {
                let w = freq.share(arch, nr);
                wsum += w * s as f64;
                wtot += w;
            }
            let consts: Vec<Option<u32>> = known
                .iter()
                .map(|&(nr, _)| const_ret(prog, arch.audit(), nr))
                .collect();
            ArchStats {
                arch,
                numbers: all.len(),
                mean: mean(&mut all.iter().copied(), all.len()),
                max: all.iter().copied().max().unwrap_or(0),
                known: known.len(),
                known_mean: mean(&mut known.iter().map(|k| k.1), known.len()),
                known_max: known.iter().map(|k| k.1).max().unwrap_or(0),
                weighted_mean: if wtot > 0.0 { wsum / wtot } else { 0.0 },
                const_paths: consts.iter().filter(|c| c.is_some()).count(),
                cache_allow: consts
                    .iter()
                    .filter(|c| **c == Some(SECCOMP_RET_ALLOW))
                    .count(),
            }
        })
        .collect();
    Stats {
        len: prog.len(),
        arches,
    }
}

/// The return value `seccomp_is_const_allow`'s emulation reaches for
/// (`audit`, `nr`), or `None` when the path depends on anything else.
pub fn const_ret(prog: &Program, audit: u32, nr: u32) -> Option<u32> {
    let mut a = 0u32;
    let mut pc = 0usize;
    loop {
        match *prog.insns.get(pc)? {
            Insn::LdAbs(OFF_NR) => a = nr,
            Insn::LdAbs(OFF_ARCH) => a = audit,
            Insn::Alu(AluOp::And, Src::K(k)) => a &= k,
            Insn::Ja(k) => pc = pc.checked_add(k as usize)?,
            Insn::Jmp {
                cond,
                src: Src::K(k),
                jt,
                jf,
            } => {
                pc += if cond.holds(a, k) { jt } else { jf } as usize;
            }
            Insn::Ret(k) => return Some(k),
            _ => return None,
        }
        pc += 1;
    }
}
