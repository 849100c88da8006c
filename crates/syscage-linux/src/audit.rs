//! Reading back `SECCOMP_RET_LOG` (and kill) records: type 1326
//! (`AUDIT_SECCOMP`) audit records, the `ausearch` step built in.
//!
//! Where syscage may (root, no other audit daemon registered), it
//! registers itself as the audit daemon over the audit netlink socket
//! (`NETLINK_AUDIT`, `AUDIT_SET` with `AUDIT_STATUS_PID`) and receives every
//! record. Otherwise the kernel prints the records to its log under a rate
//! limit (`printk_ratelimit`); syscage then reads `/dev/kmsg` and counts
//! the records lost from the gaps in the records' serial numbers (see
//! [`Collector::finish`]).

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `AUDIT_SECCOMP`, the record type of seccomp's log.
pub const AUDIT_SECCOMP: u16 = 1326;
const AUDIT_GET: u16 = 1000;
const AUDIT_SET: u16 = 1001;
const AUDIT_STATUS_PID: u32 = 4;
const NLMSG_ERROR: u16 = 2;

/// One `AUDIT_SECCOMP` record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeccompRecord {
    /// The record's serial number (`audit(TIME:SERIAL)`).
    pub serial: u64,
    /// Thread id of the caller (`pid=`).
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
    /// The audit netlink socket, registered as the audit daemon: no record lost.
    Netlink,
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
    /// Records the kernel dropped meanwhile (gaps in serial numbers); `None`
    /// when it cannot be known.
    pub lost: Option<u64>,
}

/// A running collector of records.
pub struct Collector {
    source: Source,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<SeccompRecord>>>,
}

fn netlink_socket() -> Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the fd is owned by the returned OwnedFd.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_AUDIT,
        )
    };
    if fd < 0 {
        return Err(Error::last("socket(NETLINK_AUDIT)"));
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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

/// Receives one netlink datagram (waiting at most `timeout`), as (type, payload) pairs.
fn recv(fd: &OwnedFd, timeout: Duration) -> Result<Vec<(u16, Vec<u8>)>> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
    if n <= 0 {
        return Ok(Vec::new());
    }
    let mut buf = vec![0u8; 65536];
    // SAFETY: buf is writable for its length.
    let r = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if r < 0 {
        let e = std::io::Error::last_os_error();
        if matches!(
            e.raw_os_error(),
            Some(libc::EAGAIN) | Some(libc::EINTR) | Some(libc::ENOBUFS)
        ) {
            return Ok(Vec::new());
        }
        return Err(Error::Sys {
            call: "recv(NETLINK_AUDIT)",
            source: e,
        });
    }
    let mut out = Vec::new();
    let mut off = 0usize;
    let total = r as usize;
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

/// `struct audit_status` as `AUDIT_GET` returns it: the daemon's pid (word 3).
#[derive(Clone, Copy, Debug, Default)]
struct AuditStatus {
    pid: u32,
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
                return Ok(AuditStatus { pid: w(3) });
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

/// Forks a child that logs one `getppid` (SECCOMP_RET_LOG) and exits;
/// returns its pid once it has ended.
fn log_anchor() -> Option<u32> {
    let raw = [libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: syscage::action::SECCOMP_RET_LOG,
    }];
    // SAFETY: the child makes only async-signal-safe calls (prctl, seccomp,
    // getppid, _exit); `raw` was built before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return None;
    }
    if pid == 0 {
        // SAFETY: as above.
        unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let r = crate::install::load(&raw, 0);
            if r >= 0 || r == crate::install::PRCTL_USED {
                libc::syscall(libc::SYS_getppid);
            }
            libc::_exit(0)
        }
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    Some(pid as u32)
}

impl Collector {
    /// Starts collecting: over netlink when possible, else from `/dev/kmsg`
    /// (only records logged from now on).
    pub fn start() -> Result<Collector> {
        match Collector::start_netlink() {
            Ok(c) => Ok(c),
            Err(_) => Collector::start_kmsg(),
        }
    }

    /// Registers as the audit daemon and receives records in a thread.
    pub fn start_netlink() -> Result<Collector> {
        let fd = netlink_socket()?;
        let st = audit_get(&fd)?;
        if st.pid != 0 {
            return Err(Error::errno(
                "AUDIT_SET (another audit daemon is registered)",
                libc::EBUSY,
            ));
        }
        let bigger: libc::c_int = 8 << 20;
        // SAFETY: setsockopt reads one c_int; failure only leaves the default buffer size.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&bigger as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            );
        }
        audit_set_pid(&fd, std::process::id())?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut records = Vec::new();
            let mut quiet_since: Option<Instant> = None;
            loop {
                let msgs = recv(&fd, Duration::from_millis(50)).unwrap_or_default();
                let got = !msgs.is_empty();
                for (ty, p) in msgs {
                    if ty == AUDIT_SECCOMP {
                        if let Some(r) = parse_record(&String::from_utf8_lossy(&p)) {
                            records.push(r);
                        }
                    }
                }
                if stop2.load(Ordering::Acquire) {
                    // Drain what kauditd still sends: stop after 150 ms of silence.
                    let since = *quiet_since.get_or_insert_with(Instant::now);
                    if got {
                        quiet_since = Some(Instant::now());
                    } else if since.elapsed() > Duration::from_millis(150) {
                        break;
                    }
                }
            }
            let _ = audit_set_pid(&fd, 0);
            records
        });
        Ok(Collector {
            source: Source::Netlink,
            stop,
            thread: Some(thread),
        })
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
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut records = Vec::new();
            let mut buf = vec![0u8; 8192];
            let mut quiet_since: Option<Instant> = None;
            loop {
                match file.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        quiet_since = None;
                        let line = String::from_utf8_lossy(&buf[..n]);
                        if line.contains("type=1326") {
                            if let Some(r) = parse_record(&line) {
                                records.push(r);
                            }
                        }
                        continue;
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                    _ => {}
                }
                if stop2.load(Ordering::Acquire) {
                    let since = *quiet_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_millis(150) {
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            records
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

    /// Stops (after the records still in flight have arrived) and returns
    /// what was collected.
    ///
    /// From the kernel log, the records the rate limit dropped are counted
    /// from serial numbers: syscage waits for the printk rate limit to
    /// reset (`/proc/sys/kernel/printk_ratelimit` seconds), then logs one
    /// syscall of its own from a child (the anchor); every serial number
    /// between the first record seen and the anchor that was not seen was
    /// dropped (other audit events of the system in that time count too).
    pub fn finish(mut self) -> Collected {
        let anchor = match self.source {
            Source::Netlink => None,
            Source::Kmsg => {
                let secs = std::fs::read_to_string("/proc/sys/kernel/printk_ratelimit")
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .unwrap_or(5);
                std::thread::sleep(Duration::from_millis(secs * 1000 + 100));
                log_anchor()
            }
        };
        self.stop.store(true, Ordering::Release);
        let mut records = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let lost = match self.source {
            Source::Netlink => Some(0),
            Source::Kmsg => {
                let anchor = anchor.and_then(|pid| {
                    let i = records.iter().position(|r| r.pid == pid)?;
                    Some(records.remove(i).serial)
                });
                match (anchor, records.iter().map(|r| r.serial).min()) {
                    (Some(end), Some(first)) if end > first => {
                        let seen = records.iter().filter(|r| r.serial < end).count() as u64;
                        Some((end - first).saturating_sub(seen))
                    }
                    (Some(_), None) => Some(0),
                    _ => serial_gaps(&records),
                }
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
        self.stop.store(true, Ordering::Release);
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
