//! The audit netlink socket (`NETLINK_AUDIT`): the kernel's audit status,
//! registering as the audit daemon, and receiving records.

use crate::error::{Error, Result};
use crate::netlink::{self, Datagram};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

const AUDIT_GET: u16 = 1000;
const AUDIT_SET: u16 = 1001;
const AUDIT_STATUS_PID: u32 = 4;
/// `AUDIT_NLGRP_READLOG`: the multicast group of read-only log listeners.
pub(super) const AUDIT_NLGRP_READLOG: u32 = 1;
const NLMSG_ERROR: u16 = 2;

pub(super) fn netlink_socket() -> Result<OwnedFd> {
    netlink::socket(libc::NETLINK_AUDIT, "socket(NETLINK_AUDIT)")
}

pub(super) fn send(fd: &OwnedFd, ty: u16, payload: &[u8]) -> Result<()> {
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

/// The size of the buffer [`recv`] needs for one datagram.
pub(super) const DATAGRAM: usize = 65536;

/// Receives one netlink datagram into `buf` (waiting at most `timeout`), as
/// (type, payload) pairs; `Err` with `ENOBUFS` when the socket overflowed.
pub(super) fn recv(fd: &OwnedFd, buf: &mut [u8], timeout: Duration) -> Result<Vec<(u16, Vec<u8>)>> {
    let r = match netlink::receive(fd, buf, timeout, "recv(NETLINK_AUDIT)")? {
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
pub(super) struct AuditStatus {
    /// The registered daemon's pid, 0 if none.
    pub(super) pid: u32,
    /// Records the kernel dropped since boot.
    pub(super) lost: u32,
}

pub(super) fn audit_get(fd: &OwnedFd) -> Result<AuditStatus> {
    send(fd, AUDIT_GET, &[])?;
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = vec![0u8; DATAGRAM];
    while Instant::now() < deadline {
        for (ty, p) in recv(fd, &mut buf, Duration::from_millis(200))? {
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

pub(super) fn audit_set_pid(fd: &OwnedFd, pid: u32) -> Result<()> {
    let mut status = [0u32; 10];
    status[0] = AUDIT_STATUS_PID;
    status[3] = pid;
    let bytes: Vec<u8> = status.iter().flat_map(|w| w.to_ne_bytes()).collect();
    send(fd, AUDIT_SET, &bytes)?;
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = vec![0u8; DATAGRAM];
    while Instant::now() < deadline {
        for (ty, p) in recv(fd, &mut buf, Duration::from_millis(200))? {
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
