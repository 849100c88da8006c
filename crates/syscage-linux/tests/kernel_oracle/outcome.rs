//! What the kernel did with each call and what the emulator predicts:
//! `observe` runs the calls in forked children, `predict` runs the compiled
//! programs through the emulator with the kernel's rule for stacked filters.

use super::calls::Call;
use super::forked_child::{
    child_main, reap, reset, Job, Shared, NOTIF_VALUE, ST_RETURNED, ST_STARTED,
};
use crate::child;
use std::sync::atomic::Ordering;
use syscage::action::{Action, SECCOMP_RET_ACTION_FULL};
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Program};
use syscage_linux::install::InstallOptions;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Returned(i64),
    Trapped { nr: u32, arch: u32, errno: i32 },
    ThreadKilled,
    ProcessKilled,
}

/// Runs the calls in as many children as needed (a kill ends a child) and
/// returns what the kernel did for each, with the unfiltered baselines.
pub fn observe(
    label: &str,
    s: &'static Shared,
    filters: &[(Vec<libc::sock_filter>, InstallOptions)],
    calls: &[Call],
    tsync: bool,
) -> Vec<(Outcome, i64)> {
    let mut out = Vec::with_capacity(calls.len());
    let mut start = 0;
    while start < calls.len() {
        reset(s);
        let job = Job {
            filters,
            calls,
            start,
            tsync_sibling: tsync,
        };
        // SAFETY: the child runs child_main, which never returns (the test process kills it).
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            child_main(s, &job);
        }
        let ended = reap(s, pid, label);
        assert_eq!(
            s.install_errno.load(Ordering::Acquire),
            0,
            "{label}: the kernel refused a checked filter"
        );
        let mut progressed = false;
        let from = start;
        for i in from..calls.len() {
            let slot = &s.slots[i];
            let baseline = slot.baseline.load(Ordering::Relaxed);
            let state = slot.state.load(Ordering::Acquire);
            if state == 0 {
                break;
            }
            progressed = true;
            start = i + 1;
            if slot.trapped.load(Ordering::Acquire) != 0 {
                let o = Outcome::Trapped {
                    nr: slot.si_nr.load(Ordering::Relaxed),
                    arch: slot.si_arch.load(Ordering::Relaxed),
                    errno: slot.si_errno.load(Ordering::Relaxed),
                };
                out.push((o, baseline));
                if state == ST_STARTED {
                    // Killed after the handler, on its way back (rt_sigreturn refused).
                    break;
                }
                continue;
            }
            if state == ST_RETURNED {
                out.push((
                    Outcome::Returned(slot.ret.load(Ordering::Relaxed)),
                    baseline,
                ));
                continue;
            }
            let o = if s.thread_died.load(Ordering::Acquire) != 0 {
                Outcome::ThreadKilled
            } else {
                assert_eq!(
                    ended,
                    child::Ended::Signal(libc::SIGSYS),
                    "call {i} started and never returned"
                );
                Outcome::ProcessKilled
            };
            out.push((o, baseline));
            break;
        }
        assert!(progressed, "{label}: a child made no call (ended {ended:?}, tsync {tsync}, {} filters, start {start}, stray trap {})", filters.len(), s.stray.load(Ordering::Relaxed) - 1);
    }
    out
}

/// The kernel's choice among stacked filters: newest first, the lowest
/// action (as s32) wins, ties keep the newer. Returns (ret, winner index).
fn stacked_ret(programs: &[Program], data: &SeccompData) -> (u32, usize) {
    let mut best: Option<(u32, usize)> = None;
    for (i, p) in programs.iter().enumerate().rev() {
        let ret = syscage::emu::run(p, data, ByteOrder::Little)
            .expect("valid program")
            .ret;
        let rank = (ret & SECCOMP_RET_ACTION_FULL) as i32;
        if best.is_none_or(|(b, _)| rank < (b & SECCOMP_RET_ACTION_FULL) as i32) {
            best = Some((ret, i));
        }
    }
    best.expect("at least one filter")
}

pub fn predict(
    programs: &[Program],
    listener_at: Option<usize>,
    call: &Call,
    baseline: i64,
) -> Outcome {
    let data = call.data();
    let (ret, winner) = stacked_ret(programs, &data);
    match Action::from_ret(ret) {
        Action::Allow | Action::Log => Outcome::Returned(baseline),
        Action::Errno(d) => Outcome::Returned(-(d.min(4095) as i64)),
        Action::Trace(_) => Outcome::Returned(-(libc::ENOSYS as i64)),
        Action::UserNotif if listener_at == Some(winner) => Outcome::Returned(NOTIF_VALUE),
        Action::UserNotif => Outcome::Returned(-(libc::ENOSYS as i64)),
        Action::Trap(d) => Outcome::Trapped {
            nr: data.nr,
            arch: data.arch,
            errno: d as i32,
        },
        Action::KillThread => Outcome::ThreadKilled,
        Action::KillProcess => Outcome::ProcessKilled,
        other => panic!("the oracle cannot predict {other:?}"),
    }
}
