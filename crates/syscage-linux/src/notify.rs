//! The user-notification listener (`SECCOMP_RET_USER_NOTIF`): receive a
//! notification (`SECCOMP_IOCTL_NOTIF_RECV`) and answer it
//! (`SECCOMP_IOCTL_NOTIF_SEND`).

use crate::error::{Error, Result};
use std::os::fd::{AsRawFd, BorrowedFd};
use syscage::bpf::data::SeccompData;

/// One notification (`struct seccomp_notif`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Cookie to answer with.
    pub id: u64,
    /// Thread id of the caller, in the listener's pid namespace.
    pub pid: u32,
    /// The syscall as the filter saw it.
    pub data: SeccompData,
}

/// The answer (`struct seccomp_notif_resp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// Fail the syscall with this errno (`error = -errno`).
    Errno(i32),
    /// Return this value without running the syscall.
    Value(i64),
    /// Run the syscall (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
    Continue,
}

/// Blocks until a notification arrives on `listener`.
pub fn recv(listener: BorrowedFd<'_>) -> Result<Notification> {
    // SAFETY: seccomp_notif is plain old data; all-zero is a valid value and
    // the kernel requires the buffer zeroed.
    let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: the ioctl writes one struct seccomp_notif into `n`, which is that size.
        // Raw: nix has no seccomp notify ioctls.
        let r = unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV as _,
                &mut n as *mut libc::seccomp_notif,
            )
        };
        if r == 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::Sys {
                call: "ioctl(SECCOMP_IOCTL_NOTIF_RECV)",
                source: e,
            });
        }
    }
    Ok(Notification {
        id: n.id,
        pid: n.pid,
        data: SeccompData {
            nr: n.data.nr as u32,
            arch: n.data.arch,
            instruction_pointer: n.data.instruction_pointer,
            args: n.data.args,
        },
    })
}

/// Answers notification `id`.
pub fn respond(listener: BorrowedFd<'_>, id: u64, response: Response) -> Result<()> {
    let (val, error, flags) = match response {
        Response::Errno(e) => (0, -e, 0),
        Response::Value(v) => (v, 0, 0),
        Response::Continue => (0, 0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32),
    };
    let mut resp = libc::seccomp_notif_resp {
        id,
        val,
        error,
        flags,
    };
    // SAFETY: the ioctl reads one struct seccomp_notif_resp from `resp`.
    // Raw: nix has no seccomp notify ioctls.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND as _,
            &mut resp as *mut libc::seccomp_notif_resp,
        )
    };
    if r != 0 {
        return Err(Error::last("ioctl(SECCOMP_IOCTL_NOTIF_SEND)"));
    }
    Ok(())
}

/// Whether notification `id` is still pending
/// (`SECCOMP_IOCTL_NOTIF_ID_VALID`): its caller has not been killed
/// meanwhile, so what was read of the caller's memory was read from it.
pub fn id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    let mut id = id;
    // SAFETY: the ioctl reads one u64 from `id`. Raw: nix has no seccomp
    // notify ioctls.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID as _,
            &mut id as *mut u64,
        ) == 0
    }
}
