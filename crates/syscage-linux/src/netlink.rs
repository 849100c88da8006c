//! Netlink sockets shared by the audit collector ([`crate::audit`]) and the
//! process-events watch ([`crate::proc_events`]).

use crate::error::{Error, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// `socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol)`; `call` names it in errors.
pub(crate) fn socket(protocol: libc::c_int, call: &'static str) -> Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the fd is owned by the returned OwnedFd.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol,
        )
    };
    if fd < 0 {
        return Err(Error::last(call));
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Binds `fd` to the multicast `groups` (a bit mask, `nl_groups`).
pub(crate) fn bind_groups(fd: &OwnedFd, groups: u32, call: &'static str) -> Result<()> {
    // SAFETY: sockaddr_nl is plain data.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    addr.nl_groups = groups;
    // SAFETY: addr is valid for its length during the call.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if r < 0 {
        return Err(Error::last(call));
    }
    Ok(())
}

/// Asks for an 8 MiB receive buffer (`SO_RCVBUFFORCE`, root only), so that a
/// burst of messages is not dropped while the reader thread is descheduled.
/// Failure only leaves the default size.
pub(crate) fn enlarge_receive_buffer(fd: &OwnedFd) {
    let bigger: libc::c_int = 8 << 20;
    // SAFETY: setsockopt reads one c_int that lives across the call.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&bigger as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        );
    }
}

/// What one [`receive`] got.
pub(crate) enum Datagram {
    /// Nothing arrived within the timeout (or the call was interrupted).
    Nothing,
    /// The socket overflowed (`ENOBUFS`): the kernel dropped messages.
    Overflow,
    /// `len` bytes at the start of the buffer.
    Bytes(usize),
}

/// Waits at most `timeout` for one datagram and reads it into `buf`.
pub(crate) fn receive(
    fd: &OwnedFd,
    buf: &mut [u8],
    timeout: Duration,
    call: &'static str,
) -> Result<Datagram> {
    receive_or_wake(fd, None, buf, timeout, call)
}

/// As [`receive`], but the wait also ends (with [`Datagram::Nothing`]
/// unless a datagram is queued) as soon as `wake` is readable or its
/// other end is closed.
pub(crate) fn receive_or_wake(
    fd: &OwnedFd,
    wake: Option<BorrowedFd<'_>>,
    buf: &mut [u8],
    timeout: Duration,
    call: &'static str,
) -> Result<Datagram> {
    let mut fds =
        [fd.as_fd(), wake.unwrap_or(fd.as_fd())].map(|f| PollFd::new(f, PollFlags::POLLIN));
    let polled = if wake.is_some() {
        &mut fds[..]
    } else {
        &mut fds[..1]
    };
    let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    match poll(polled, ms) {
        Ok(n) if n > 0 => {}
        _ => return Ok(Datagram::Nothing),
    }
    // Any event of the socket (POLLIN, or POLLERR for a lost datagram,
    // which recv reports as ENOBUFS) is read; only the wake fd's are not.
    if polled[0].revents().is_none_or(|r| r.is_empty()) {
        return Ok(Datagram::Nothing);
    }
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
        return match e.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(Datagram::Nothing),
            Some(libc::ENOBUFS) => Ok(Datagram::Overflow),
            _ => Err(Error::Sys { call, source: e }),
        };
    }
    Ok(Datagram::Bytes(r as usize))
}
