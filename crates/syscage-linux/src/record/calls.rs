//! The bookkeeping both recorders share: one slot per (audit arch, number)
//! seen, with its count, first caller and, with `--args`, the distinct
//! values of the risk-deciding arguments; turned into a [`Recording`] at
//! the end; and the progress callback both call.

use super::args::{self, ArgSource};
use super::recording::{arch_of, Recording};
use super::Progress;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use syscage::arch::Arch;

/// How often the progress callback is called at most.
pub(crate) const PROGRESS_PERIOD: Duration = Duration::from_millis(200);

/// What is known about one (audit arch, nr).
struct Slot {
    arch: Option<Arch>,
    source: Option<ArgSource>,
    count: u64,
    first_pid: libc::pid_t,
    keys: HashSet<Vec<u64>>,
}

/// Every call seen so far.
pub(crate) struct Calls {
    with_args: bool,
    slots: HashMap<(u32, u32), Slot>,
    total: u64,
}

impl Calls {
    /// Nothing seen yet; `with_args`: keep the risk-deciding values.
    pub(crate) fn new(with_args: bool) -> Self {
        Calls {
            with_args,
            slots: HashMap::new(),
            total: 0,
        }
    }

    /// Notes one call by `pid` (`seccomp_data`'s `arch`, `nr`, `args`).
    /// `read_u64(addr)` reads the caller's memory, for `clone3`'s flags
    /// (`None` when unreadable: the call then fails with EFAULT, no key).
    pub(crate) fn add(
        &mut self,
        pid: libc::pid_t,
        audit_arch: u32,
        nr: u32,
        args: &[u64; 6],
        read_u64: impl FnOnce(u64) -> Option<u64>,
    ) {
        self.total += 1;
        let with_args = self.with_args;
        let slot = self.slots.entry((audit_arch, nr)).or_insert_with(|| {
            let a = arch_of(audit_arch, nr);
            let source = match (with_args, a) {
                (true, Some(a)) => a.syscall_name(nr).and_then(|name| args::risk_args(a, name)),
                _ => None,
            };
            Slot {
                arch: a,
                source,
                count: 0,
                first_pid: pid,
                keys: HashSet::new(),
            }
        });
        slot.count += 1;
        match slot.source {
            None => {}
            Some(ArgSource::Registers(fields)) => {
                let wide = slot.arch.is_some_and(|a| a.is_64bit() || a == Arch::X32);
                slot.keys
                    .insert(args::key_from_registers(fields, args, wide));
            }
            Some(ArgSource::Clone3Flags) => {
                // struct clone_args starts with `__aligned_u64 flags`.
                if let Some(flags) = read_u64(args[0]) {
                    slot.keys.insert(args::key_from_clone3_flags(flags));
                }
            }
        }
    }

    /// Calls seen.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Distinct (arch, number) pairs seen.
    pub(crate) fn distinct(&self) -> usize {
        self.slots.len()
    }

    /// The recording so far.
    pub(crate) fn recording(&self) -> Recording {
        let mut r = Recording::new(self.with_args);
        for (&(audit, nr), slot) in &self.slots {
            let Some(arch) = slot.arch else {
                continue;
            };
            debug_assert_eq!(arch_of(audit, nr), Some(arch));
            r.count(arch, nr, slot.first_pid, slot.count);
            for key in &slot.keys {
                r.add_key(arch, nr, key.clone());
            }
        }
        r
    }
}

/// Calls the caller's progress callback at most every [`PROGRESS_PERIOD`].
pub(crate) struct Reporter<'p> {
    started: Instant,
    last: Instant,
    callback: Option<&'p mut dyn FnMut(&Progress)>,
}

impl<'p> Reporter<'p> {
    /// Starts the clock.
    pub(crate) fn new(callback: Option<&'p mut dyn FnMut(&Progress)>) -> Self {
        let now = Instant::now();
        Reporter {
            started: now,
            last: now,
            callback,
        }
    }

    /// Whether there is a callback at all.
    pub(crate) fn wanted(&self) -> bool {
        self.callback.is_some()
    }

    /// Reports `calls` and `tasks` if the period has passed.
    pub(crate) fn tick(&mut self, calls: &Calls, tasks: usize) {
        let Some(cb) = self.callback.as_mut() else {
            return;
        };
        let now = Instant::now();
        if now.duration_since(self.last) < PROGRESS_PERIOD {
            return;
        }
        self.last = now;
        cb(&Progress {
            syscalls: calls.total(),
            distinct: calls.distinct(),
            tasks,
            elapsed: now.duration_since(self.started),
        });
    }
}
