//! Knowing when every record of a program has arrived, and how many the
//! kernel log dropped: after the program, syscage logs one call of its own
//! from a child (the anchor) and reads until the anchor's record is in.

use super::record::SeccompRecord;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The command name (`comm`, 15 bytes) of the anchor child with `token`.
/// Records are told apart by it, not by pid: in a pid namespace the pid
/// `fork` returns is not the one the records carry.
pub(super) fn anchor_name(token: u32) -> String {
    format!("syscage{token:08x}")
}

/// A token for this run's anchor: neither [`RUNNING`] nor [`DRAIN`].
pub(super) fn anchor_token() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let t = nanos ^ std::process::id().rotate_left(16);
    t.clamp(RUNNING + 1, DRAIN - 1)
}

/// Forks a child named [`anchor_name`]`(token)` that logs one `getppid`
/// (SECCOMP_RET_LOG) and exits; says, once it has ended, whether it could
/// log.
pub(super) fn log_anchor(token: u32) -> bool {
    let raw = [libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: syscage::action::SECCOMP_RET_LOG,
    }];
    let mut name = anchor_name(token).into_bytes();
    name.push(0);
    // SAFETY: the child makes only async-signal-safe calls (prctl, seccomp,
    // getppid, _exit) on `raw` and `name`, built before the fork.
    let forked = unsafe {
        crate::fork_exec::fork_child(|| {
            // PR_SET_NAME reads the NUL-terminated `name`.
            libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0);
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let r = crate::install::load(&raw, crate::install::FilterFlags::empty());
            if r >= 0 || r == crate::install::PRCTL_USED {
                libc::syscall(libc::SYS_getppid);
                libc::_exit(0)
            }
            libc::_exit(1)
        })
    };
    let Ok(pid) = forked else {
        return false;
    };
    // No record will come from a child that could not install its filter
    // (syscage itself under a filter that refuses seccomp(2), say).
    let pid = nix::unistd::Pid::from_raw(pid);
    matches!(
        nix::sys::wait::waitpid(pid, None),
        Ok(nix::sys::wait::WaitStatus::Exited(p, 0)) if p == pid
    )
}

/// What the reader thread is asked to do: [`RUNNING`], [`DRAIN`], or an
/// anchor token: stop once a record of the anchor (a child named
/// [`anchor_name`]`(token)` that logs after the program ended) has arrived.
pub(super) const RUNNING: u32 = 0;
/// Stop after 150 ms without records (no anchor could be logged).
pub(super) const DRAIN: u32 = u32::MAX;
/// How long to wait for the anchor's record before giving up on it.
const ANCHOR_WAIT: Duration = Duration::from_secs(3);

/// What a reader thread hands back.
#[derive(Default)]
pub(super) struct Received {
    /// Every record but the anchor's.
    pub(super) records: Vec<SeccompRecord>,
    /// The serial number of the anchor's first record, if it arrived.
    pub(super) anchor: Option<u64>,
    /// Over netlink: the growth of the kernel's `lost` counter, if known.
    pub(super) lost: Option<u64>,
}

/// The loop both readers share: `read` appends what arrived (waiting up to
/// about 50 ms) and says whether anything did; `stop` says when to end.
///
/// Records are queued by the kernel in the order they were made, so once
/// the anchor's record is in, every record of the program is too. Other
/// processes may keep logging: waiting for silence alone could never end.
pub(super) fn read_until_stopped(
    stop: &AtomicU32,
    mut read: impl FnMut(&mut Vec<SeccompRecord>) -> bool,
) -> Received {
    let mut out = Received::default();
    let mut stopped_at: Option<Instant> = None;
    let mut quiet_since = Instant::now();
    let mut scanned = 0usize;
    loop {
        if read(&mut out.records) {
            quiet_since = Instant::now();
        }
        let state = stop.load(Ordering::Acquire);
        if state == RUNNING {
            continue;
        }
        let since_stop = stopped_at.get_or_insert_with(Instant::now).elapsed();
        if state == DRAIN {
            if quiet_since.elapsed() > Duration::from_millis(150) || since_stop > ANCHOR_WAIT {
                return out;
            }
            continue;
        }
        let anchor = anchor_name(state);
        if let Some(i) = out.records[scanned..].iter().position(|r| r.comm == anchor) {
            out.anchor = Some(out.records[scanned + i].serial);
            out.records.retain(|r| r.comm != anchor);
            return out;
        }
        scanned = out.records.len();
        if since_stop > ANCHOR_WAIT {
            return out;
        }
    }
}

/// Missing serial numbers between the first and last record: a lower bound
/// on the records dropped (other audit events share the serial counter).
pub(super) fn serial_gaps(records: &[SeccompRecord]) -> Option<u64> {
    let serials: BTreeSet<u64> = records.iter().map(|r| r.serial).collect();
    let (first, last) = (serials.first()?, serials.last()?);
    Some(last - first + 1 - serials.len() as u64)
}

/// Records the kernel log dropped between two anchors: every serial number
/// strictly between the start anchor's record and the end anchor's that was
/// not seen (other audit events of the machine count too). Without the
/// start anchor (rate-limited itself), the window starts at the first record
/// seen; with no record seen before the end, or no end anchor, the count is
/// unknown (`serial_gaps` still gives a lower bound without an end).
pub(super) fn kmsg_lost(
    records: &[SeccompRecord],
    start: Option<u64>,
    end: Option<u64>,
) -> Option<u64> {
    let Some(end) = end else {
        return serial_gaps(records);
    };
    let seen_from = |first: u64| {
        records
            .iter()
            .filter(|r| (first..end).contains(&r.serial))
            .count()
    };
    match start {
        Some(start) if end > start => {
            let between = seen_from(start + 1) as u64;
            Some((end - start - 1).saturating_sub(between))
        }
        Some(_) => None,
        None => {
            let first = records
                .iter()
                .map(|r| r.serial)
                .filter(|&s| s < end)
                .min()?;
            Some((end - first).saturating_sub(seen_from(first) as u64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(serials: &[u64]) -> Vec<SeccompRecord> {
        serials
            .iter()
            .map(|&serial| SeccompRecord {
                serial,
                ..SeccompRecord::default()
            })
            .collect()
    }

    #[test]
    fn kmsg_loss_between_the_anchors() {
        // Start anchor at 10, end at 20: 11..=19 are 9 records, 3 seen.
        assert_eq!(
            kmsg_lost(&at(&[10, 11, 12, 15]), Some(10), Some(20)),
            Some(6)
        );
        // Nothing seen between the anchors: all 9 lost, not "none".
        assert_eq!(kmsg_lost(&at(&[10]), Some(10), Some(20)), Some(9));
        // Without the start anchor the window starts at the first record.
        assert_eq!(kmsg_lost(&at(&[12, 13, 19]), None, Some(20)), Some(5));
        // Neither a start anchor nor a record before the end: unknown.
        assert_eq!(kmsg_lost(&at(&[]), None, Some(20)), None);
        assert_eq!(kmsg_lost(&at(&[21]), None, Some(20)), None);
        // No end anchor: the gaps between the records seen, a lower bound.
        assert_eq!(kmsg_lost(&at(&[3, 4, 9]), None, None), Some(4));
    }

    #[test]
    fn serial_gaps_count_missing_numbers() {
        let mk = |serial| SeccompRecord {
            serial,
            ..SeccompRecord::default()
        };
        assert_eq!(serial_gaps(&[mk(3), mk(4), mk(9)]), Some(4));
        assert_eq!(serial_gaps(&[]), None);
    }
}
