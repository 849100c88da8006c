//! The user-notification entry points (`seccomp_notify_*`), over
//! [`crate::load`]'s ioctls.

use crate::{ctx_mut, guard, load, rc, ScmpNotif, ScmpNotifResp};
use std::ffi::{c_int, c_void};

/// `seccomp_notify_alloc`.
///
/// # Safety
/// `req` and `resp` are NULL or writable pointers.
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_alloc(
    req: *mut *mut ScmpNotif,
    resp: *mut *mut ScmpNotifResp,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(-libc::EFAULT, || {
        rc(unsafe { load::notify_alloc(req, resp) })
    })
}

/// `seccomp_notify_free`.
///
/// # Safety
/// Each is NULL or from [`seccomp_notify_alloc`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_free(req: *mut ScmpNotif, resp: *mut ScmpNotifResp) {
    // SAFETY: malloc'd by seccomp_notify_alloc (free(NULL) is a no-op).
    unsafe {
        libc::free(req.cast());
        libc::free(resp.cast());
    }
}

/// `seccomp_notify_receive`.
///
/// # Safety
/// `req` is NULL or from [`seccomp_notify_alloc`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_receive(fd: c_int, req: *mut ScmpNotif) -> c_int {
    // SAFETY: forwarded contract.
    guard(-libc::EFAULT, || {
        rc(unsafe { load::notify_receive(fd, req) })
    })
}

/// `seccomp_notify_respond`.
///
/// # Safety
/// `resp` is NULL or from [`seccomp_notify_alloc`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_respond(fd: c_int, resp: *mut ScmpNotifResp) -> c_int {
    // SAFETY: forwarded contract.
    guard(-libc::EFAULT, || {
        rc(unsafe { load::notify_respond(fd, resp) })
    })
}

/// `seccomp_notify_id_valid`: 0 if the request is still pending, else `-ENOENT`.
#[no_mangle]
pub extern "C" fn seccomp_notify_id_valid(fd: c_int, id: u64) -> c_int {
    guard(-libc::EFAULT, || rc(load::notify_id_valid(fd, id)))
}

/// `seccomp_notify_fd`: the listener of the last `seccomp_load`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`crate::seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_notify_fd(ctx: *mut c_void) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        match unsafe { ctx_mut(ctx) } {
            Some(c) if c.valid() => load::notify_fd(),
            _ => -libc::EINVAL,
        }
    })
}
