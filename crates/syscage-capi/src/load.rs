//! What touches the kernel: `seccomp_load` through `syscage-linux`'s
//! installer with the context's attributes, the attributes themselves
//! (gated by the API level as libseccomp gates them), writing exports to
//! a file descriptor, and the user-notification calls.

use crate::ctx::{Ctx, Errno};
use crate::{export, level, tokens};
use std::os::fd::IntoRawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use syscage::action::Action;
use syscage_linux::error::Error;
use syscage_linux::filter_flags::FilterFlags;
use syscage_linux::load::LoadError;

/// `struct seccomp_notif`.
pub type ScmpNotif = libc::seccomp_notif;
/// `struct seccomp_notif_resp`.
pub type ScmpNotifResp = libc::seccomp_notif_resp;

/// The listener of the last load with `SCMP_ACT_NOTIFY` rules (libseccomp
/// keeps it in its global state too).
static NOTIFY_FD: AtomicI32 = AtomicI32::new(-1);

/// `seccomp_load`: compile, prove, install ([`syscage_linux::load`]), with
/// a listener whenever a `SCMP_ACT_NOTIFY` rule was added.
pub fn load(c: &Ctx) -> Result<(), Errno> {
    let policy = c.policy();
    let opts = syscage_linux::load::install_options(&policy, c.notify_used);
    match syscage_linux::load::load_with(&policy, &opts) {
        Ok(installed) => {
            if let Some(fd) = installed.listener {
                NOTIFY_FD.store(fd.into_raw_fd(), Ordering::Relaxed);
            }
            Ok(())
        }
        Err(LoadError::Install(e)) => Err(match e {
            Error::Tsync(_) => -libc::ESRCH,
            e if c.attrs.api_sysrawrc => -raw_errno(&e),
            _ => -libc::ECANCELED,
        }),
        Err(e) => Err(export::load_errno(&e)),
    }
}

/// The kernel's errno behind an installer error (`SCMP_FLTATR_API_SYSRAWRC`).
fn raw_errno(e: &Error) -> i32 {
    match e {
        Error::NeedsNoNewPrivs => libc::EACCES,
        Error::StackLimit { .. } => libc::ENOMEM,
        Error::ListenerBusy => libc::EBUSY,
        other => other.raw_os_error().unwrap_or(libc::EINVAL),
    }
}

/// Writes an export to `fd` (errors as libseccomp's `_rc_filter_sys`).
pub fn write_all(c: &Ctx, fd: i32, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        // SAFETY: writes from a live slice; fd is the caller's.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let errno = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            if errno == libc::EINTR {
                continue;
            }
            return Err(if c.attrs.api_sysrawrc {
                -errno
            } else {
                -libc::ECANCELED
            });
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// `enum scmp_filter_attr` values.
mod attr {
    pub const ACT_DEFAULT: u32 = 1;
    pub const ACT_BADARCH: u32 = 2;
    pub const CTL_NNP: u32 = 3;
    pub const CTL_TSYNC: u32 = 4;
    pub const API_TSKIP: u32 = 5;
    pub const CTL_LOG: u32 = 6;
    pub const CTL_SSB: u32 = 7;
    pub const CTL_OPTIMIZE: u32 = 8;
    pub const API_SYSRAWRC: u32 = 9;
    /// libseccomp 2.6.
    pub const CTL_WAITKILL: u32 = 10;
}

/// `seccomp_attr_get`.
pub fn attr_get(c: &Ctx, a: u32) -> Result<u32, Errno> {
    let at = &c.attrs;
    Ok(match a {
        attr::ACT_DEFAULT => c.default.to_ret(),
        attr::ACT_BADARCH => c.bad_arch.to_ret(),
        attr::CTL_NNP => at.no_new_privs.into(),
        attr::CTL_TSYNC => at.tsync.into(),
        attr::API_TSKIP => at.api_tskip.into(),
        attr::CTL_LOG => at.log.into(),
        attr::CTL_SSB => at.spec_allow.into(),
        attr::CTL_OPTIMIZE => at.optimize.into(),
        attr::API_SYSRAWRC => at.api_sysrawrc.into(),
        attr::CTL_WAITKILL => at.wait_kill.into(),
        _ => return Err(-libc::EINVAL),
    })
}

/// `seccomp_attr_set`.
pub fn attr_set(c: &mut Ctx, a: u32, value: u32) -> Result<(), Errno> {
    let on = value != 0;
    let gated = |flag| {
        if level::flag_ok(flag) {
            Ok(on)
        } else {
            Err(-libc::EOPNOTSUPP)
        }
    };
    match a {
        attr::ACT_DEFAULT => return Err(-libc::EACCES),
        attr::ACT_BADARCH => {
            c.bad_arch = tokens::action_of(value)
                .filter(|x| level::action_ok(*x))
                .ok_or(-libc::EINVAL)?;
        }
        attr::CTL_NNP => c.attrs.no_new_privs = on,
        attr::CTL_TSYNC => {
            let v = gated(FilterFlags::TSYNC)?;
            if v && c.notify_used && !level::flag_ok(FilterFlags::TSYNC_ESRCH) {
                return Err(-libc::EINVAL);
            }
            c.attrs.tsync = v;
        }
        attr::API_TSKIP => c.attrs.api_tskip = on,
        attr::CTL_LOG => c.attrs.log = gated(FilterFlags::LOG)?,
        attr::CTL_SSB => c.attrs.spec_allow = gated(FilterFlags::SPEC_ALLOW)?,
        attr::CTL_OPTIMIZE => match value {
            1 | 2 => c.attrs.optimize = value as u8,
            _ => return Err(-libc::EOPNOTSUPP),
        },
        attr::API_SYSRAWRC => c.attrs.api_sysrawrc = on,
        attr::CTL_WAITKILL => c.attrs.wait_kill = gated(FilterFlags::WAIT_KILLABLE_RECV)?,
        _ => return Err(-libc::EINVAL),
    }
    Ok(())
}

/// The kernel's notification struct sizes (`SECCOMP_GET_NOTIF_SIZES`).
fn notif_sizes() -> Result<(usize, usize), Errno> {
    if !level::action_ok(Action::UserNotif) {
        return Err(-libc::EOPNOTSUPP);
    }
    let s = syscage_linux::probe::notif_sizes().map_err(|_| -libc::ECANCELED)?;
    Ok((
        usize::from(s.notif).max(std::mem::size_of::<ScmpNotif>()),
        usize::from(s.resp).max(std::mem::size_of::<ScmpNotifResp>()),
    ))
}

/// `seccomp_notify_alloc`.
///
/// # Safety
/// `req` and `resp` are NULL or writable.
pub unsafe fn notify_alloc(
    req: *mut *mut ScmpNotif,
    resp: *mut *mut ScmpNotifResp,
) -> Result<(), Errno> {
    let (nq, np) = notif_sizes()?;
    if !req.is_null() {
        // SAFETY: calloc of the kernel's size; req is writable.
        unsafe {
            let p = libc::calloc(1, nq).cast::<ScmpNotif>();
            if p.is_null() {
                return Err(-libc::ENOMEM);
            }
            *req = p;
        }
    }
    if !resp.is_null() {
        // SAFETY: as above.
        unsafe {
            let p = libc::calloc(1, np).cast::<ScmpNotifResp>();
            if p.is_null() {
                if !req.is_null() {
                    libc::free((*req).cast());
                    *req = std::ptr::null_mut();
                }
                return Err(-libc::ENOMEM);
            }
            *resp = p;
        }
    }
    Ok(())
}

/// `seccomp_notify_receive`.
///
/// # Safety
/// `req` is NULL or from [`notify_alloc`].
pub unsafe fn notify_receive(fd: i32, req: *mut ScmpNotif) -> Result<(), Errno> {
    let (nq, _) = notif_sizes()?;
    // SAFETY: a non-NULL req holds nq bytes (allocated by notify_alloc);
    // the kernel fills it, and refuses a NULL one (EFAULT).
    let r = unsafe {
        if !req.is_null() {
            std::ptr::write_bytes(req.cast::<u8>(), 0, nq);
        }
        libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, req)
    };
    if r < 0 {
        return Err(-libc::ECANCELED);
    }
    Ok(())
}

/// `seccomp_notify_respond`.
///
/// # Safety
/// `resp` is NULL or from [`notify_alloc`].
pub unsafe fn notify_respond(fd: i32, resp: *mut ScmpNotifResp) -> Result<(), Errno> {
    notif_sizes()?;
    // SAFETY: resp is NULL (the kernel refuses it) or a live
    // seccomp_notif_resp; the kernel reads it.
    if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, resp) } < 0 {
        return Err(-libc::ECANCELED);
    }
    Ok(())
}

/// `seccomp_notify_id_valid`.
pub fn notify_id_valid(fd: i32, id: u64) -> Result<(), Errno> {
    notif_sizes()?;
    let mut id = id;
    // SAFETY: the kernel reads one u64 from a live local.
    if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut id as *mut u64) } < 0 {
        return Err(-libc::ENOENT);
    }
    Ok(())
}

/// `seccomp_notify_fd`.
pub fn notify_fd() -> i32 {
    match NOTIFY_FD.load(Ordering::Relaxed) {
        fd if fd >= 0 => fd,
        _ => -libc::EFAULT,
    }
}
