//! Reading back `SECCOMP_RET_LOG` (and kill) records: type 1326
//! (`AUDIT_SECCOMP`) audit records, the `ausearch` step built in.
//!
//! Where syscage may (root, no other audit daemon registered), it
//! registers itself as the audit daemon over the audit netlink socket
//! (`NETLINK_AUDIT`, `AUDIT_SET` with `AUDIT_STATUS_PID`) and receives every
//! record. Beside a registered daemon (auditd), it joins the socket's
//! read-only log group (`AUDIT_NLGRP_READLOG`), which gets a copy of every
//! record. Without privileges the kernel prints the records to its log
//! under a rate limit (`printk_ratelimit`); syscage then reads `/dev/kmsg`
//! and counts the records lost from the gaps in the records' serial
//! numbers (see [`Collector::finish`]).
//!
//! Records come from every process of the machine and name the caller by
//! pid; [`crate::proc_events`] tells which pids are the program's.

mod anchor;
mod attribution;
mod daemon;
mod record;

pub use attribution::Owner;
pub use record::{parse_record, SeccompRecord, AUDIT_SECCOMP};

use crate::error::{Error, Result};
use crate::netlink;
use anchor::{
    anchor_name, anchor_token, kmsg_lost, log_anchor, read_until_stopped, Received, DRAIN, RUNNING,
};
use daemon::{
    audit_get, audit_set_pid, netlink_socket, recv, AuditStatus, AUDIT_NLGRP_READLOG, DATAGRAM,
};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Where records were read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The audit netlink socket, registered as the audit daemon: records are
    /// lost only when the kernel's audit backlog drops them (counted).
    Netlink,
    /// The audit netlink socket's read-only log group: a copy of every
    /// record, whoever the audit daemon is (auditd, or none where syscage
    /// may not register, as in a pid namespace).
    ReadLog,
    /// The kernel log (`/dev/kmsg`), under the kernel's rate limit.
    Kmsg,
}

/// What was collected.
#[derive(Clone, Debug)]
pub struct Collected {
    /// Where from.
    pub source: Source,
    /// The records, in arrival order.
    pub records: Vec<SeccompRecord>,
    /// Records the kernel dropped meanwhile: from the kernel log, gaps in
    /// serial numbers; over netlink, the growth of the kernel's `lost`
    /// counter (system-wide, so an upper bound). `None` when it cannot be
    /// known (the socket overflowed, or no anchor record arrived).
    pub lost: Option<u64>,
}

/// A running collector of records.
pub struct Collector {
    source: Source,
    /// From the kernel log: the token of the anchor logged at the start.
    start_anchor: Option<u32>,
    stop: Arc<AtomicU32>,
    thread: Option<JoinHandle<Received>>,
}

impl Collector {
    /// Starts collecting: as the audit daemon when none is registered;
    /// beside the registered one (auditd) on its read-only log group;
    /// else, without the privileges for either, from `/dev/kmsg` (only
    /// records logged from now on).
    pub fn start() -> Result<Collector> {
        Collector::start_netlink()
            .or_else(|_| Collector::start_readlog())
            .or_else(|_| Collector::start_kmsg())
    }

    /// Registers as the audit daemon (`AUDIT_SET` with `AUDIT_STATUS_PID`,
    /// `CAP_AUDIT_CONTROL`) and receives records in a thread. Records then
    /// no longer go to the kernel log. `EBUSY` when another daemon is
    /// registered.
    pub fn start_netlink() -> Result<Collector> {
        let fd = netlink_socket()?;
        let st = audit_get(&fd)?;
        if st.pid != 0 {
            return Err(Error::errno(
                "AUDIT_SET (another audit daemon is registered)",
                libc::EBUSY,
            ));
        }
        netlink::enlarge_receive_buffer(&fd);
        audit_set_pid(&fd, std::process::id())?;
        Ok(Collector::receive_netlink(fd, st, Source::Netlink))
    }

    /// Joins the audit socket's read-only log group (`AUDIT_NLGRP_READLOG`,
    /// `CAP_AUDIT_READ`; the group journald reads), to which the kernel
    /// sends a copy of every record whoever the audit daemon is: the way
    /// to read records beside a running auditd.
    pub fn start_readlog() -> Result<Collector> {
        let fd = netlink_socket()?;
        netlink::bind_groups(
            &fd,
            1 << (AUDIT_NLGRP_READLOG - 1),
            "bind(NETLINK_AUDIT, AUDIT_NLGRP_READLOG)",
        )?;
        // After the bind (a socket that has sent is bound to its port): the
        // records that arrive meanwhile predate the program and are dropped.
        let st = audit_get(&fd).unwrap_or_default();
        netlink::enlarge_receive_buffer(&fd);
        Ok(Collector::receive_netlink(fd, st, Source::ReadLog))
    }

    /// The reader thread of both netlink ways.
    fn receive_netlink(fd: OwnedFd, before: AuditStatus, source: Source) -> Collector {
        let stop = Arc::new(AtomicU32::new(RUNNING));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut overflowed = false;
            let mut buf = vec![0u8; DATAGRAM];
            let mut read = read_until_stopped(&stop2, |records| {
                match recv(&fd, &mut buf, Duration::from_millis(50)) {
                    Ok(msgs) => {
                        let got = !msgs.is_empty();
                        records.extend(
                            msgs.iter()
                                .filter(|(ty, _)| *ty == AUDIT_SECCOMP)
                                .filter_map(|(_, p)| parse_record(&String::from_utf8_lossy(p))),
                        );
                        got
                    }
                    Err(_) => {
                        overflowed = true;
                        false
                    }
                }
            });
            if source == Source::Netlink {
                let _ = audit_set_pid(&fd, 0);
            }
            // The kernel's own count of dropped records (backlog full, out of
            // memory) is system-wide: its growth bounds what this run lost.
            read.lost = match audit_get(&fd) {
                Ok(after) if !overflowed => Some(u64::from(after.lost.wrapping_sub(before.lost))),
                _ => None,
            };
            read
        });
        Collector {
            source,
            start_anchor: None,
            stop,
            thread: Some(thread),
        }
    }

    /// Reads `/dev/kmsg` from its current end, in a thread.
    pub fn start_kmsg() -> Result<Collector> {
        let path = "/dev/kmsg";
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags_nonblock()
            .open(path)
            .map_err(|source| Error::Io {
                path: path.into(),
                source,
            })?;
        // SAFETY: lseek on our own fd; SEEK_END on /dev/kmsg moves to the newest record.
        unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_END) };
        let stop = Arc::new(AtomicU32::new(RUNNING));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 8192];
            read_until_stopped(&stop2, |records| {
                // One read, one kernel log record; EPIPE: records were
                // overwritten before we read them (the serial gaps count them).
                match file.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        let line = String::from_utf8_lossy(&buf[..n]);
                        if line.contains("type=1326") {
                            records.extend(parse_record(&line));
                        }
                        true
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EPIPE) => true,
                    _ => {
                        std::thread::sleep(Duration::from_millis(20));
                        false
                    }
                }
            })
        });
        // A first anchor opens the window whose lost records `finish` counts.
        let token = anchor_token();
        Ok(Collector {
            source: Source::Kmsg,
            start_anchor: log_anchor(token).then_some(token),
            stop,
            thread: Some(thread),
        })
    }

    /// Where records come from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Stops and returns what was collected. Call it after the program has
    /// ended.
    ///
    /// syscage then logs one syscall of its own from a child (the anchor)
    /// and reads until the anchor's record arrives: the kernel queues
    /// records in order, so every record of the program is in by then,
    /// however busy the rest of the machine keeps the log.
    ///
    /// From the kernel log, the records the rate limit dropped are counted
    /// from serial numbers: syscage first waits for the printk rate limit to
    /// reset (`/proc/sys/kernel/printk_ratelimit` seconds) so the anchor
    /// gets through; every serial number between the anchor logged when
    /// collecting started (or, if the rate limit dropped that one, the first
    /// record seen) and the final anchor that was not seen was dropped
    /// (other audit events of the system in that time count too).
    pub fn finish(mut self) -> Collected {
        if self.source == Source::Kmsg {
            let secs = std::fs::read_to_string("/proc/sys/kernel/printk_ratelimit")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(5);
            std::thread::sleep(Duration::from_millis(secs * 1000 + 100));
        }
        // The reader looks for the anchor from now on, so that its record
        // ends the reading as soon as it arrives (told after the anchor's
        // child had ended, the reader noticed only when its next receive
        // timed out: 50 ms more).
        let token = anchor_token();
        self.stop.store(token, Ordering::Release);
        if !log_anchor(token) {
            self.stop.store(DRAIN, Ordering::Release);
        }
        let read = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let mut records = read.records;
        let lost = match (self.source, read.anchor) {
            // Without the anchor, records may still have been on their way.
            (Source::Netlink | Source::ReadLog, None) => None,
            (Source::Netlink | Source::ReadLog, Some(_)) => read.lost,
            (Source::Kmsg, end) => {
                let name = self.start_anchor.map(anchor_name);
                let start = records
                    .iter()
                    .filter(|r| Some(&r.comm) == name.as_ref())
                    .map(|r| r.serial)
                    .min();
                let lost = kmsg_lost(&records, start, end);
                records.retain(|r| Some(&r.comm) != name.as_ref());
                lost
            }
        };
        Collected {
            source: self.source,
            records,
            lost,
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(DRAIN, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for std::fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}
