//! Syscall frequencies, to weight the number search ([`super::search`]):
//! a syscall that programs make often should resolve in few steps.
//!
//! The default mix is a hand-made estimate of a busy server and desktop
//! process (event loops, I/O, locks, memory, signals), in parts per
//! thousand; the exact figures matter little, the order does.

use super::decision::{Decision, Decisions};
use super::ranges::NumberLine;
use super::CompileOptions;
use crate::arch::Arch;

/// Relative frequencies of syscalls, by name.
#[derive(Clone, Debug, PartialEq)]
pub struct FrequencyTable {
    /// `(name, relative frequency)` pairs.
    pub entries: Vec<(String, f64)>,
}

/// The default mix, parts per thousand.
const DEFAULT_MIX: &[(&str, f64)] = &[
    ("read", 110.0),
    ("write", 90.0),
    ("futex", 90.0),
    ("epoll_wait", 50.0),
    ("epoll_pwait", 40.0),
    ("recvfrom", 35.0),
    ("sendto", 30.0),
    ("recvmsg", 30.0),
    ("sendmsg", 25.0),
    ("poll", 25.0),
    ("ppoll", 20.0),
    ("close", 30.0),
    ("openat", 25.0),
    ("newfstatat", 20.0),
    ("fstat", 20.0),
    ("statx", 10.0),
    ("mmap", 20.0),
    ("munmap", 15.0),
    ("mprotect", 10.0),
    ("madvise", 10.0),
    ("brk", 8.0),
    ("rt_sigprocmask", 25.0),
    ("rt_sigaction", 5.0),
    ("rt_sigreturn", 5.0),
    ("clock_gettime", 20.0),
    ("clock_nanosleep", 10.0),
    ("nanosleep", 10.0),
    ("gettimeofday", 5.0),
    ("getpid", 8.0),
    ("gettid", 8.0),
    ("lseek", 10.0),
    ("ioctl", 15.0),
    ("fcntl", 10.0),
    ("sched_yield", 10.0),
    ("writev", 15.0),
    ("readv", 8.0),
    ("pread64", 10.0),
    ("pwrite64", 8.0),
    ("accept4", 5.0),
    ("epoll_ctl", 15.0),
    ("getrandom", 5.0),
    ("select", 5.0),
    ("pselect6", 5.0),
    ("io_uring_enter", 8.0),
    ("getdents64", 5.0),
    ("access", 3.0),
    ("faccessat", 3.0),
    ("wait4", 3.0),
    ("getuid", 3.0),
    ("geteuid", 3.0),
    ("dup", 2.0),
    ("pipe2", 2.0),
    ("fsync", 3.0),
];

impl FrequencyTable {
    /// The built-in mix: `read`, `write`, `futex`, `epoll_wait` and friends first.
    pub fn default_mix() -> Self {
        FrequencyTable {
            entries: DEFAULT_MIX
                .iter()
                .map(|&(n, f)| (n.to_string(), f))
                .collect(),
        }
    }

    /// Frequency of syscall `nr` on `arch` (0 if absent), as a share of the
    /// whole table.
    pub fn share(&self, arch: Arch, nr: u32) -> f64 {
        let total: f64 = self.entries.iter().map(|e| e.1).sum();
        if total <= 0.0 {
            return 0.0;
        }
        arch.syscall_name(nr)
            .and_then(|name| self.entries.iter().find(|e| e.0 == name))
            .map_or(0.0, |e| e.1 / total)
    }
}

/// Per-number weights of one compilation: each known syscall weighs 1,
/// plus its share of the frequency table times the number of known
/// syscalls times `FREQUENCY_SCALE`, times the arch's weight; a range
/// adds `RANGE_FLOOR` and is multiplied by `ARG_LEAF_WEIGHT` when its
/// decision checks arguments.
#[derive(Clone, Debug)]
pub struct Weights {
    per_arch: Vec<(Arch, Vec<(u32, f64)>)>,
}

/// Weight of a range before its syscalls are counted, so ranges of
/// unknown numbers still count a little. Small: unknown numbers are rare
/// at run time (Docker default: 0.05 gave a mean of 9.23 over x86_64's
/// syscalls and a frequency-weighted mean of 8.11; 0.01 gives 9.20 and 8.00).
const RANGE_FLOOR: f64 = 0.01;

/// How much the frequency table adds: the hot set together weighs this
/// share of all known syscalls. Measured on the Docker default profile
/// (BENCHMARKS.md): at 1.0, `read`/`write` resolve two steps sooner but
/// the mean over all syscalls grows by 0.25 step; 0.1 keeps the mean.
const FREQUENCY_SCALE: f64 = 0.1;

/// Weight multiplier of a range whose syscalls check arguments: their
/// leaves run 4 or more more instructions, so they are pulled up the
/// tree to keep the longest path short (Docker default: max 16 → 14).
const ARG_LEAF_WEIGHT: f64 = 6.0;

impl Weights {
    /// Weights for the arches of one compilation (the first is primary).
    pub fn new(opts: &CompileOptions, arches: &[Arch]) -> Self {
        let per_arch = arches
            .iter()
            .enumerate()
            .map(|(i, &arch)| {
                let aw = if i == 0 {
                    1.0
                } else {
                    opts.secondary_arch_weight
                };
                let table = arch.syscalls();
                let known = table.len() as f64;
                let mut hot: Vec<(u32, f64)> = Vec::new();
                if let Some(f) = &opts.frequency {
                    let total: f64 = f.entries.iter().map(|e| e.1).sum();
                    if total > 0.0 {
                        for (name, freq) in &f.entries {
                            if let Some(nr) = arch.syscall_nr(name) {
                                hot.push((nr, freq / total * known * FREQUENCY_SCALE));
                            }
                        }
                    }
                }
                // Both in number order: one merge (sums in table order, as before).
                hot.sort_by_key(|h| h.0);
                let mut k = 0;
                let w = table
                    .iter()
                    .map(|s| {
                        while k < hot.len() && hot[k].0 < s.nr {
                            k += 1;
                        }
                        let boost: f64 = hot[k..]
                            .iter()
                            .take_while(|h| h.0 == s.nr)
                            .map(|h| h.1)
                            .sum();
                        (s.nr, aw * (1.0 + boost))
                    })
                    .collect();
                (arch, w)
            })
            .collect();
        Weights { per_arch }
    }

    /// The weight of each range of `line`.
    pub fn range_weights(&self, line: &NumberLine, decisions: &Decisions) -> Vec<f64> {
        let mut out: Vec<f64> = vec![RANGE_FLOOR; line.ranges.len()];
        for win in &line.windows {
            let Some(arch) = win.arch else { continue };
            let Some((_, w)) = self.per_arch.iter().find(|p| p.0 == arch) else {
                continue;
            };
            let mut ri = 0;
            for &(nr, weight) in w {
                if nr < win.lo || nr > win.hi {
                    continue;
                }
                while line.ranges[ri].hi < nr {
                    ri += 1;
                }
                out[ri] += weight;
            }
        }
        for (w, r) in out.iter_mut().zip(&line.ranges) {
            if matches!(decisions.get(r.decision), Decision::Args(_)) {
                *w *= ARG_LEAF_WEIGHT;
            }
        }
        out
    }
}
