//! What the running kernel's seccomp supports: `SECCOMP_GET_ACTION_AVAIL`,
//! `SECCOMP_GET_NOTIF_SIZES`, `/proc/sys/kernel/seccomp/actions_avail` and
//! the filter flags.

use crate::error::{Error, Result};
use syscage::action::Action;

/// Path of the kernel's list of available actions.
pub const ACTIONS_AVAIL: &str = "/proc/sys/kernel/seccomp/actions_avail";

/// The sizes of the user-notification structures (`struct seccomp_notif_sizes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotifSizes {
    /// `sizeof(struct seccomp_notif)`.
    pub notif: u16,
    /// `sizeof(struct seccomp_notif_resp)`.
    pub resp: u16,
    /// `sizeof(struct seccomp_data)`.
    pub data: u16,
}

/// Raw `seccomp(2)` (nix has no wrapper for it): returns the result or
/// `-errno`.
pub(crate) fn seccomp_raw(op: libc::c_uint, flags: libc::c_ulong, args: *mut libc::c_void) -> i64 {
    // SAFETY: seccomp(2) takes an operation, flags and a pointer whose target
    // the caller provides for that operation; it does not keep the pointer.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, op, flags, args) };
    if r < 0 {
        -(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL) as i64)
    } else {
        r as i64
    }
}

/// Whether the kernel has `seccomp(2)` (Linux ≥ 3.17); older ones only have
/// `prctl(PR_SET_SECCOMP)`.
pub fn has_seccomp_syscall() -> bool {
    // An unknown operation gives EINVAL where seccomp(2) exists, ENOSYS where not.
    seccomp_raw(0xffff, 0, std::ptr::null_mut()) != -(libc::ENOSYS as i64)
}

/// Whether seccomp can be used here (`prctl(PR_GET_SECCOMP)` succeeds).
pub fn has_seccomp() -> bool {
    seccomp_mode().is_ok()
}

/// The calling thread's seccomp mode (`prctl(PR_GET_SECCOMP)`: 0 disabled,
/// 1 strict, 2 filter), or why it cannot be read: `EINVAL` where the kernel
/// has no seccomp (`CONFIG_SECCOMP`), another errno where something refuses
/// the call (a filter already in place, say).
pub fn seccomp_mode() -> std::io::Result<u32> {
    // SAFETY: PR_GET_SECCOMP takes no pointer and only reads our own mode.
    let r = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(r as u32)
}

/// Asks the kernel whether it offers an action (`SECCOMP_GET_ACTION_AVAIL`).
/// Kernels without that operation (before 4.14) offer the original five
/// actions: KILL_THREAD, TRAP, ERRNO, TRACE and ALLOW.
pub fn action_available(action: Action) -> Result<bool> {
    let mut ret: u32 = action.to_ret() & syscage::action::SECCOMP_RET_ACTION_FULL;
    let r = seccomp_raw(
        libc::SECCOMP_GET_ACTION_AVAIL,
        0,
        (&mut ret as *mut u32).cast(),
    );
    match r {
        0 => Ok(true),
        e if e == -(libc::EOPNOTSUPP as i64) => Ok(false),
        e if e == -(libc::EINVAL as i64) || e == -(libc::ENOSYS as i64) => {
            if !has_seccomp() {
                return Err(Error::Unsupported("filter"));
            }
            Ok(matches!(
                action,
                Action::KillThread
                    | Action::Trap(_)
                    | Action::Errno(_)
                    | Action::Trace(_)
                    | Action::Allow
            ))
        }
        e => Err(Error::errno("seccomp(SECCOMP_GET_ACTION_AVAIL)", -e as i32)),
    }
}

/// The user-notification structure sizes (`SECCOMP_GET_NOTIF_SIZES`, Linux ≥ 5.0).
pub fn notif_sizes() -> Result<NotifSizes> {
    let mut sizes = libc::seccomp_notif_sizes {
        seccomp_notif: 0,
        seccomp_notif_resp: 0,
        seccomp_data: 0,
    };
    let r = seccomp_raw(
        libc::SECCOMP_GET_NOTIF_SIZES,
        0,
        (&mut sizes as *mut libc::seccomp_notif_sizes).cast(),
    );
    if r < 0 {
        return Err(Error::errno("seccomp(SECCOMP_GET_NOTIF_SIZES)", -r as i32));
    }
    Ok(NotifSizes {
        notif: sizes.seccomp_notif,
        resp: sizes.seccomp_notif_resp,
        data: sizes.seccomp_data,
    })
}

/// The action names of `/proc/sys/kernel/seccomp/actions_avail`
/// (`kill_process kill_thread trap errno user_notif trace log allow`).
pub fn actions_avail_file() -> Result<Vec<String>> {
    let text = std::fs::read_to_string(ACTIONS_AVAIL).map_err(|source| Error::Io {
        path: ACTIONS_AVAIL.into(),
        source,
    })?;
    Ok(text.split_whitespace().map(str::to_string).collect())
}

/// The name an action has in `actions_avail` and `actions_logged`
/// ([`Action::sysctl_name`]).
pub const fn sysctl_name(action: Action) -> &'static str {
    action.sysctl_name()
}

/// Whether the kernel knows a filter flag (or a set of flags it takes
/// together: WAIT_KILLABLE_RECV only comes with NEW_LISTENER): installing
/// with an invalid program gives `EFAULT` for known flags, `EINVAL` for an
/// unknown one.
pub fn flag_available(flag: crate::filter_flags::FilterFlags) -> bool {
    // A null program pointer makes a kernel that accepts the flag fail with
    // EFAULT when copying the program; an unknown flag fails with EINVAL first.
    let r = seccomp_raw(
        libc::SECCOMP_SET_MODE_FILTER,
        flag.word(),
        std::ptr::null_mut(),
    );
    r == -(libc::EFAULT as i64)
}

/// Everything probed at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// `seccomp(2)` exists (else only `prctl`).
    pub seccomp_syscall: bool,
    /// Available actions, by their `actions_avail` name.
    pub actions: Vec<&'static str>,
    /// User-notification sizes, if the kernel has user notification.
    pub notif_sizes: Option<NotifSizes>,
}

/// Probes the kernel.
pub fn features() -> Result<Features> {
    if !has_seccomp() {
        return Err(Error::Unsupported("filter"));
    }
    let mut actions = Vec::new();
    for a in Action::ALL {
        if action_available(a)? {
            actions.push(sysctl_name(a));
        }
    }
    Ok(Features {
        seccomp_syscall: has_seccomp_syscall(),
        actions,
        notif_sizes: notif_sizes().ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_avail_agrees_with_sysctl_file() {
        let Ok(file) = actions_avail_file() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs {ACTIONS_AVAIL}"
            );
            eprintln!("NOT CHECKED: {ACTIONS_AVAIL} cannot be read");
            return;
        };
        let f = features().expect("probe");
        let mut from_op: Vec<String> = f.actions.iter().map(|s| s.to_string()).collect();
        let mut from_file = file;
        from_op.sort();
        from_file.sort();
        assert_eq!(from_op, from_file);
        assert!(f.seccomp_syscall);
    }

    #[test]
    fn notif_sizes_are_the_uapi_structs() {
        let s = notif_sizes().expect("SECCOMP_GET_NOTIF_SIZES");
        assert_eq!(s.data as usize, 64);
        assert_eq!(s.notif as usize, std::mem::size_of::<libc::seccomp_notif>());
        assert_eq!(
            s.resp as usize,
            std::mem::size_of::<libc::seccomp_notif_resp>()
        );
    }

    #[test]
    fn known_flags_are_known() {
        use crate::filter_flags::FilterFlags;
        for f in [
            FilterFlags::TSYNC,
            FilterFlags::LOG,
            FilterFlags::SPEC_ALLOW,
        ] {
            assert!(flag_available(f), "flag {f:?}");
        }
        assert!(!flag_available(FilterFlags::from_bits_retain(1 << 20)));
    }
}
