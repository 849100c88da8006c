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

use crate::error::{Error, Result};
use crate::netlink::{self, Datagram};
use std::collections::BTreeSet;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `AUDIT_SECCOMP`, the record type of seccomp's log.
pub const AUDIT_SECCOMP: u16 = 1326;
const AUDIT_GET: u16 = 1000;
const AUDIT_SET: u16 = 1001;
const AUDIT_STATUS_PID: u32 = 4;
/// `AUDIT_NLGRP_READLOG`: the multicast group of read-only log listeners.
const AUDIT_NLGRP_READLOG: u32 = 1;
const NLMSG_ERROR: u16 = 2;

/// One `AUDIT_SECCOMP` record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeccompRecord {
    /// The record's serial number (`audit(TIME:SERIAL)`).
    pub serial: u64,
    /// Process (thread group) id of the caller (`pid=`, the kernel's
    /// `task_tgid_nr`).
    pub pid: u32,
    /// Command name (`comm=`).
    pub comm: String,
    /// Signal that killed, 0 if none (`sig=`).
    pub sig: u32,
    /// `AUDIT_ARCH_*` of the call (`arch=`, hexadecimal).
    pub arch: u32,
    /// Syscall number as the filter saw it (`syscall=`).
    pub syscall: u32,
    /// The filter's return value (`code=`).
    pub code: u32,
}

/// Parses the text of one record (`... type=1326 audit(...): ... pid=...`,
/// or the payload of a netlink message, which starts at `audit(`).
pub fn parse_record(text: &str) -> Option<SeccompRecord> {
    let start = text.find("audit(")?;
    let rest = &text[start + 6..];
    let close = rest.find(')')?;
    let serial = rest[..close].split_once(':')?.1.parse().ok()?;
    let mut rec = SeccompRecord {
        serial,
        ..SeccompRecord::default()
    };
    let (mut have_arch, mut have_nr) = (false, false);
    for field in rest[close + 1..].split_whitespace() {
        let Some((k, v)) = field.split_once('=') else {
            continue;
        };
        match k {
            "pid" => rec.pid = v.parse().ok()?,
            "comm" => rec.comm = v.trim_matches('"').to_string(),
            "sig" => rec.sig = v.parse().ok()?,
            "arch" => {
                rec.arch = u32::from_str_radix(v, 16).ok()?;
                have_arch = true
            }
            "syscall" => {
                rec.syscall = v.parse().ok()?;
                have_nr = true
            }
            "code" => rec.code = u32::from_str_radix(v.trim_start_matches("0x"), 16).ok()?,
            _ => {}
        }
    }
    (have_arch && have_nr).then_some(rec)
}

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
    stop: Arc<AtomicU32>,
    thread: Option<JoinHandle<Received>>,
}

fn netlink_socket() -> Result<OwnedFd> {
    netlink::socket(libc::NETLINK_AUDIT, "socket(NETLINK_AUDIT)")
}

fn send(fd: &OwnedFd, ty: u16, payload: &[u8]) -> Result<()> {
    let len = 16 + payload.len();
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(&(len as u32).to_ne_bytes());
    msg.extend_from_slice(&ty.to_ne_bytes());
    msg.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(payload);
    // SAFETY: sockaddr_nl is plain data; zero is "the kernel" (pid 0, no groups).
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: msg and addr are valid for their lengths during the call.
    let r = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if r < 0 {
        return Err(Error::last("sendto(NETLINK_AUDIT)"));
    }
    Ok(())
}

/// Receives one netlink datagram (waiting at most `timeout`), as (type,
/// payload) pairs; `Err` with `ENOBUFS` when the socket overflowed.
fn recv(fd: &OwnedFd, timeout: Duration) -> Result<Vec<(u16, Vec<u8>)>> {
    let mut buf = vec![0u8; 65536];
    let r = match netlink::receive(fd, &mut buf, timeout, "recv(NETLINK_AUDIT)")? {
        Datagram::Nothing => return Ok(Vec::new()),
        Datagram::Overflow => return Err(Error::errno("recv(NETLINK_AUDIT)", libc::ENOBUFS)),
        Datagram::Bytes(n) => n,
    };
    let mut out = Vec::new();
    let mut off = 0usize;
    let total = r;
    while off + 16 <= total {
        let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap_or_default()) as usize;
        let ty = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap_or_default());
        if ty >= 1100 {
            // Audit records carry nlmsg_len without the header (audit_log_end's
            // "length quirk"), one record per datagram: take the rest.
            let end = (off + 16 + len).min(total);
            let body: Vec<u8> = buf[off + 16..end]
                .iter()
                .copied()
                .take_while(|&b| b != 0)
                .collect();
            out.push((ty, body));
            break;
        }
        if len < 16 || off + len > total {
            break;
        }
        out.push((ty, buf[off + 16..off + len].to_vec()));
        off += (len + 3) & !3;
    }
    Ok(out)
}

/// `struct audit_status` as `AUDIT_GET` returns it: the daemon's pid (word
/// 3) and the count of records the kernel dropped since boot (`lost`, word 6).
#[derive(Clone, Copy, Debug, Default)]
struct AuditStatus {
    pid: u32,
    lost: u32,
}

fn audit_get(fd: &OwnedFd) -> Result<AuditStatus> {
    send(fd, AUDIT_GET, &[])?;
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        for (ty, p) in recv(fd, Duration::from_millis(200))? {
            if ty == AUDIT_GET && p.len() >= 28 {
                let w = |i: usize| {
                    u32::from_ne_bytes(p[i * 4..i * 4 + 4].try_into().unwrap_or_default())
                };
                return Ok(AuditStatus {
                    pid: w(3),
                    lost: w(6),
                });
            }
            if ty == NLMSG_ERROR && p.len() >= 4 {
                let err = i32::from_ne_bytes(p[0..4].try_into().unwrap_or_default());
                if err < 0 {
                    return Err(Error::errno("AUDIT_GET", -err));
                }
            }
        }
    }
    Err(Error::errno("AUDIT_GET", libc::ETIMEDOUT))
}

fn audit_set_pid(fd: &OwnedFd, pid: u32) -> Result<()> {
    let mut status = [0u32; 10];
    status[0] = AUDIT_STATUS_PID;
    status[3] = pid;
    let bytes: Vec<u8> = status.iter().flat_map(|w| w.to_ne_bytes()).collect();
    send(fd, AUDIT_SET, &bytes)?;
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        for (ty, p) in recv(fd, Duration::from_millis(200))? {
            if ty == NLMSG_ERROR && p.len() >= 4 {
                let err = i32::from_ne_bytes(p[0..4].try_into().unwrap_or_default());
                if err < 0 {
                    return Err(Error::errno("AUDIT_SET", -err));
                }
                return Ok(());
            }
        }
    }
    Err(Error::errno("AUDIT_SET", libc::ETIMEDOUT))
}

/// The command name (`comm`, 15 bytes) of the anchor child with `token`.
/// Records are told apart by it, not by pid: in a pid namespace the pid
/// `fork` returns is not the one the records carry.
fn anchor_name(token: u32) -> String {
    format!("syscage{token:08x}")
}

/// A token for this run's anchor: neither [`RUNNING`] nor [`DRAIN`].
fn anchor_token() -> u32 {
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
fn log_anchor(token: u32) -> bool {
    let raw = [libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: syscage::action::SECCOMP_RET_LOG,
    }];
    let mut name = anchor_name(token).into_bytes();
    name.push(0);
    // SAFETY: the child makes only async-signal-safe calls (prctl, seccomp,
    // getppid, _exit); `raw` and `name` were built before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return false;
    }
    if pid == 0 {
        // SAFETY: as above; PR_SET_NAME reads the NUL-terminated `name`.
        unsafe {
            libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0);
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let r = crate::install::load(&raw, 0);
            if r >= 0 || r == crate::install::PRCTL_USED {
                libc::syscall(libc::SYS_getppid);
                libc::_exit(0)
            }
            libc::_exit(1)
        }
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    // No record will come from a child that could not install its filter
    // (syscage itself under a filter that refuses seccomp(2), say).
    r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

/// What the reader thread is asked to do: [`RUNNING`], [`DRAIN`], or an
/// anchor token: stop once a record of the anchor (a child named
/// [`anchor_name`]`(token)` that logs after the program ended) has arrived.
const RUNNING: u32 = 0;
/// Stop after 150 ms without records (no anchor could be logged).
const DRAIN: u32 = u32::MAX;
/// How long to wait for the anchor's record before giving up on it.
const ANCHOR_WAIT: Duration = Duration::from_secs(3);

/// What a reader thread hands back.
#[derive(Default)]
struct Received {
    /// Every record but the anchor's.
    records: Vec<SeccompRecord>,
    /// The serial number of the anchor's first record, if it arrived.
    anchor: Option<u64>,
    /// Over netlink: the growth of the kernel's `lost` counter, if known.
    lost: Option<u64>,
}

/// The loop both readers share: `read` appends what arrived (waiting up to
/// about 50 ms) and says whether anything did; `stop` says when to end.
///
/// Records are queued by the kernel in the order they were made, so once
/// the anchor's record is in, every record of the program is too. Other
/// processes may keep logging: waiting for silence alone could never end.
fn read_until_stopped(
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
            let mut read = read_until_stopped(&stop2, |records| {
                match recv(&fd, Duration::from_millis(50)) {
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
        Ok(Collector {
            source: Source::Kmsg,
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
    /// gets through; every serial number between the first record seen and
    /// the anchor that was not seen was dropped (other audit events of the
    /// system in that time count too).
    pub fn finish(mut self) -> Collected {
        if self.source == Source::Kmsg {
            let secs = std::fs::read_to_string("/proc/sys/kernel/printk_ratelimit")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(5);
            std::thread::sleep(Duration::from_millis(secs * 1000 + 100));
        }
        let token = anchor_token();
        let state = if log_anchor(token) { token } else { DRAIN };
        self.stop.store(state, Ordering::Release);
        let read = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let records = read.records;
        let lost = match (self.source, read.anchor) {
            // Without the anchor, records may still have been on their way.
            (Source::Netlink | Source::ReadLog, None) => None,
            (Source::Netlink | Source::ReadLog, Some(_)) => read.lost,
            (Source::Kmsg, Some(end)) => match records.iter().map(|r| r.serial).min() {
                Some(first) if end > first => {
                    let seen = records.iter().filter(|r| r.serial < end).count() as u64;
                    Some((end - first).saturating_sub(seen))
                }
                _ => Some(0),
            },
            (Source::Kmsg, None) => serial_gaps(&records),
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

/// Missing serial numbers between the first and last record: a lower bound
/// on the records dropped (other audit events share the serial counter).
fn serial_gaps(records: &[SeccompRecord]) -> Option<u64> {
    let serials: BTreeSet<u64> = records.iter().map(|r| r.serial).collect();
    let (first, last) = (serials.first()?, serials.last()?);
    Some(last - first + 1 - serials.len() as u64)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kmsg_and_netlink_records() {
        let kmsg = r#"5,123,774319092,-;audit: type=1326 audit(1795399962.861:7): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=13787 comm="logt" exe="/tmp/enf/logt" sig=0 arch=c000003e syscall=110 compat=0 ip=0x7fecc57f34f7 code=0x7ffc0000"#;
        let r = parse_record(kmsg).unwrap();
        assert_eq!(
            (r.serial, r.pid, r.sig, r.arch, r.syscall, r.code),
            (7, 13787, 0, 0xc000_003e, 110, 0x7ffc_0000)
        );
        assert_eq!(r.comm, "logt");
        let nl = "audit(1795399962.861:8): auid=0 uid=0 gid=0 ses=1 pid=5 comm=\"ab\" sig=31 arch=40000003 syscall=20 compat=1 ip=0x1 code=0x80000000";
        let r = parse_record(nl).unwrap();
        assert_eq!(
            (r.serial, r.sig, r.arch, r.syscall, r.code),
            (8, 31, 0x4000_0003, 20, 0x8000_0000)
        );
        assert!(parse_record("audit: type=1300 audit(1.2:3): foo=bar").is_none());
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
