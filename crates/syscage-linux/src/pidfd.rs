//! Process file descriptors: `pidfd_open(2)` (Linux 5.3) and
//! `pidfd_getfd(2)` (Linux 5.6), with which the parent takes a copy of the
//! user-notification listener its child installed (`record`'s listener,
//! `run`'s refusal naming in [`crate::denials`]).
//!
//! Raw `syscall(2)`s: nix 0.30 wraps neither call.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// `pidfd_open(pid, 0)`: a pidfd of process `pid` (readable once it has
/// exited).
pub fn open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only. Raw: nix has no pidfd_open.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_getfd(pidfd, fd, 0)`: a copy of descriptor `fd` of the process
/// behind `pidfd` (close-on-exec; needs `PTRACE_MODE_ATTACH_REALCREDS`
/// over it, as over one's own child).
pub fn copy_fd(pidfd: BorrowedFd<'_>, fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only. Raw: nix has no pidfd_getfd.
    let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if copy < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(copy as RawFd) })
}

/// Whether this kernel has `pidfd_getfd(2)` (an invalid pidfd then gives
/// `EBADF`, not `ENOSYS`).
pub fn copy_fd_available() -> bool {
    // SAFETY: pidfd_getfd on an invalid pidfd only returns an error.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_getfd, -1, 0, 0) };
    r == -1 && io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
}
