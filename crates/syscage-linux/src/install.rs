//! Installing filters: `seccomp(SECCOMP_SET_MODE_FILTER)` with its flags,
//! the `prctl(PR_SET_SECCOMP)` fallback, strict mode and `PR_SET_NO_NEW_PRIVS`.
//!
//! [`check`] runs every test the kernel would run before loading, so that a
//! refusal is reported with its reason rather than as `EINVAL`; [`install`]
//! calls it first. Installing changes the calling thread (or, with TSYNC,
//! process) for good: call it in a child or right before `execve`.

use crate::error::{Error, Result};
use crate::limits::{self, MAX_INSNS_PER_PATH};
use crate::probe;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use syscage::action::Action;
use syscage::bpf::insn::BPF_MAXINSNS;
use syscage::bpf::{Insn, Program};

pub use crate::filter_flags::FilterFlags;

/// How to install a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstallOptions {
    /// Filter flags.
    pub flags: FilterFlags,
    /// Set `PR_SET_NO_NEW_PRIVS` first (libseccomp's `SCMP_FLTATR_CTL_NNP`).
    /// Without it the kernel requires CAP_SYS_ADMIN.
    pub no_new_privs: bool,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            flags: FilterFlags::empty(),
            no_new_privs: true,
        }
    }
}

/// What installing returned.
#[derive(Debug)]
pub struct Installed {
    /// The user-notification listener (with `new_listener`).
    pub listener: Option<OwnedFd>,
    /// Whether the `prctl(PR_SET_SECCOMP)` fallback was used.
    pub via_prctl: bool,
}

/// Instructions this process installed through [`install`], as the kernel
/// counts them for `MAX_INSNS_PER_PATH` (length + 4 per filter).
static STACKED: AtomicUsize = AtomicUsize::new(0);

/// Whether the calling thread holds CAP_SYS_ADMIN in its effective set.
pub fn has_cap_sys_admin() -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/thread-self/status") else {
        return false;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 21) != 0)
}

/// The kernel's count for `MAX_INSNS_PER_PATH` if `prog` is stacked on the
/// filters already installed (see [`limits`]): each filter counts its eBPF
/// length, each earlier one 4 more. Filters installed by other code (e.g. a
/// parent process) are counted at their smallest possible size.
pub fn stacked_total(prog: &Program) -> usize {
    let ours = STACKED.load(Ordering::Relaxed);
    let installed = crate::status::read_self()
        .ok()
        .and_then(|s| s.filters)
        .unwrap_or(0) as usize;
    let ours_count = OURS_COUNT.load(Ordering::Relaxed);
    let others = installed.saturating_sub(ours_count);
    limits::converted_len(prog)
        + ours
        + others * (limits::MIN_CONVERTED_LEN + limits::PER_FILTER_PENALTY)
}

static OURS_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Every check the kernel makes before loading `prog` with `opts`, as an
/// explicit error: the validator, 4096 instructions, the 32768-instruction
/// limit over stacked filters, actions the kernel lacks, flags it does not
/// know or refuses together, and no_new_privs.
pub fn check(prog: &Program, opts: &InstallOptions) -> Result<()> {
    if !probe::has_seccomp() {
        return Err(Error::Unsupported("filter"));
    }
    if prog.len() > BPF_MAXINSNS || prog.is_empty() {
        return Err(Error::Invalid(syscage::bpf::ValidateError::Length(
            prog.len(),
        )));
    }
    syscage::bpf::validate(&prog.to_raw())?;
    let total = stacked_total(prog);
    if total > MAX_INSNS_PER_PATH {
        return Err(Error::StackLimit { total: Some(total) });
    }
    let mut seen = Vec::new();
    for insn in &prog.insns {
        if let Insn::Ret(k) = insn {
            let a = Action::from_ret(*k);
            let kind = probe::sysctl_name(a);
            if !seen.contains(&kind) {
                seen.push(kind);
                if !probe::action_available(a)? {
                    return Err(refused_probe(a).unwrap_or(Error::ActionUnavailable(a)));
                }
            }
        }
    }
    check_flags(opts)?;
    if !opts.no_new_privs && !has_cap_sys_admin() && !no_new_privs_set() {
        return Err(Error::NeedsNoNewPrivs);
    }
    Ok(())
}

/// When `SECCOMP_GET_ACTION_AVAIL` says no to an action that
/// `/proc/sys/kernel/seccomp/actions_avail` lists, seccomp(2) itself
/// failed (`EINVAL`/`ENOSYS`, as on kernels before 4.14): something around
/// syscage answers it. That is said, with the errno, rather than blaming
/// the kernel.
fn refused_probe(a: Action) -> Option<Error> {
    let listed = probe::actions_avail_file().ok()?;
    if !listed.iter().any(|n| n == probe::sysctl_name(a)) {
        return None;
    }
    let mut ret: u32 = a.to_ret() & syscage::action::SECCOMP_RET_ACTION_FULL;
    let r = probe::seccomp_raw(
        libc::SECCOMP_GET_ACTION_AVAIL,
        0,
        (&mut ret as *mut u32).cast(),
    );
    (r < 0).then(|| {
        Error::errno(
            "seccomp(SECCOMP_GET_ACTION_AVAIL) failed although /proc/sys/kernel/seccomp/actions_avail \
             lists the filter's action: something around syscage (an outer seccomp filter?) answers seccomp(2)",
            -r as i32,
        )
    })
}

fn check_flags(opts: &InstallOptions) -> Result<()> {
    let f = opts.flags;
    if f.contains(FilterFlags::WAIT_KILLABLE_RECV) && !f.contains(FilterFlags::NEW_LISTENER) {
        return Err(Error::BadFlags("WAIT_KILLABLE_RECV needs NEW_LISTENER"));
    }
    if f.contains(FilterFlags::TSYNC | FilterFlags::NEW_LISTENER)
        && !f.contains(FilterFlags::TSYNC_ESRCH)
    {
        return Err(Error::BadFlags(
            "TSYNC with NEW_LISTENER needs TSYNC_ESRCH (a thread id and a listener fd cannot both be returned)",
        ));
    }
    if !f.is_empty() && !probe::has_seccomp_syscall() {
        return Err(Error::BadFlags(
            "filter flags need seccomp(2), which this kernel lacks (prctl(PR_SET_SECCOMP) takes none)",
        ));
    }
    for (name, flag) in f.kernel_names() {
        // The kernel refuses WAIT_KILLABLE_RECV without NEW_LISTENER before
        // it looks at the program: probe them together.
        let probe_flags = if flag == FilterFlags::WAIT_KILLABLE_RECV {
            flag | FilterFlags::NEW_LISTENER
        } else {
            flag
        };
        if !probe::flag_available(probe_flags) {
            return Err(Error::FlagUnavailable(name));
        }
    }
    Ok(())
}

/// Whether `PR_SET_NO_NEW_PRIVS` is already set on the calling thread.
pub fn no_new_privs_set() -> bool {
    // SAFETY: PR_GET_NO_NEW_PRIVS takes no pointer.
    unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 }
}

/// Sets `PR_SET_NO_NEW_PRIVS` on the calling thread (it is kept across
/// `execve` and inherited by children, and cannot be unset).
pub fn set_no_new_privs() -> Result<()> {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if r != 0 {
        return Err(Error::last("prctl(PR_SET_NO_NEW_PRIVS)"));
    }
    Ok(())
}

/// Checks (see [`check`]) and installs `prog` on the calling thread.
pub fn install(prog: &Program, opts: &InstallOptions) -> Result<Installed> {
    check(prog, opts)?;
    let raw: Vec<libc::sock_filter> = raw_filter(prog);
    let installed = install_raw(&raw, opts)?;
    STACKED.fetch_add(
        limits::converted_len(prog) + limits::PER_FILTER_PENALTY,
        Ordering::Relaxed,
    );
    OURS_COUNT.fetch_add(1, Ordering::Relaxed);
    Ok(installed)
}

/// The program as the kernel's `struct sock_filter` array.
pub fn raw_filter(prog: &Program) -> Vec<libc::sock_filter> {
    prog.to_raw()
        .into_iter()
        .map(|r| libc::sock_filter {
            code: r.code,
            jt: r.jt,
            jf: r.jf,
            k: r.k,
        })
        .collect()
}

/// Installs an already checked raw filter without allocating, so that it
/// can be called between `fork` and `execve`. Sets no_new_privs first when
/// asked; falls back to `prctl(PR_SET_SECCOMP)` when `seccomp(2)` gives
/// `ENOSYS` and no flag is set.
pub fn install_raw(raw: &[libc::sock_filter], opts: &InstallOptions) -> Result<Installed> {
    if opts.no_new_privs {
        set_no_new_privs()?;
    }
    let f = opts.flags;
    let r = load(raw, f);
    if r == PRCTL_USED {
        return Ok(Installed {
            listener: None,
            via_prctl: true,
        });
    }
    if r < 0 {
        let errno = -r as i32;
        return Err(match errno {
            libc::ENOMEM => Error::StackLimit { total: None },
            libc::EBUSY if f.contains(FilterFlags::NEW_LISTENER) => Error::ListenerBusy,
            libc::EACCES => Error::NeedsNoNewPrivs,
            libc::ESRCH if f.contains(FilterFlags::TSYNC) => Error::Tsync(-1),
            _ => Error::errno("seccomp(SECCOMP_SET_MODE_FILTER)", errno),
        });
    }
    if f.contains(FilterFlags::TSYNC)
        && !f.intersects(FilterFlags::TSYNC_ESRCH | FilterFlags::NEW_LISTENER)
        && r > 0
    {
        return Err(Error::Tsync(r as i32));
    }
    let listener = if f.contains(FilterFlags::NEW_LISTENER) {
        // SAFETY: with NEW_LISTENER the kernel returns a fresh fd that nothing else owns.
        Some(unsafe { OwnedFd::from_raw_fd(r as i32) })
    } else {
        None
    };
    Ok(Installed {
        listener,
        via_prctl: false,
    })
}

/// What [`load`] returns when the `prctl` fallback succeeded.
pub(crate) const PRCTL_USED: i64 = i64::MIN;

/// The bare load, async-signal-safe (no allocation): `seccomp(2)`, or
/// `prctl(PR_SET_SECCOMP)` when `seccomp(2)` gives `ENOSYS` and no flag is
/// set. Returns the syscall's result ([`PRCTL_USED`] for the fallback) or `-errno`.
pub(crate) fn load(raw: &[libc::sock_filter], flags: FilterFlags) -> i64 {
    let mut fprog = libc::sock_fprog {
        len: raw.len() as libc::c_ushort,
        filter: raw.as_ptr() as *mut libc::sock_filter,
    };
    let r = probe::seccomp_raw(
        libc::SECCOMP_SET_MODE_FILTER,
        flags.word(),
        (&mut fprog as *mut libc::sock_fprog).cast(),
    );
    if r != -(libc::ENOSYS as i64) || !flags.is_empty() {
        return r;
    }
    // SAFETY: fprog points at `raw`, which outlives the call; the kernel copies it.
    let p = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &mut fprog as *mut libc::sock_fprog,
            0,
            0,
        )
    };
    if p != 0 {
        -(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL) as i64)
    } else {
        PRCTL_USED
    }
}

/// Enters strict mode (`SECCOMP_SET_MODE_STRICT`, or `prctl(PR_SET_SECCOMP,
/// SECCOMP_MODE_STRICT)` on kernels without `seccomp(2)`): from then on only
/// `read`, `write`, `_exit` and `sigreturn` are allowed, anything else is
/// killed with SIGKILL.
pub fn install_strict() -> Result<()> {
    if !probe::has_seccomp() {
        return Err(Error::Unsupported("strict"));
    }
    let r = probe::seccomp_raw(libc::SECCOMP_SET_MODE_STRICT, 0, std::ptr::null_mut());
    if r == -(libc::ENOSYS as i64) {
        // SAFETY: PR_SET_SECCOMP with SECCOMP_MODE_STRICT takes no pointer.
        let p = unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_STRICT, 0, 0, 0) };
        if p != 0 {
            return Err(Error::last("prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)"));
        }
        return Ok(());
    }
    if r < 0 {
        return Err(Error::errno("seccomp(SECCOMP_SET_MODE_STRICT)", -r as i32));
    }
    Ok(())
}
