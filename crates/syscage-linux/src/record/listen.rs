//! Starting the program to record under a `SECCOMP_RET_USER_NOTIF` filter
//! and taking its listener: fork; the child installs the one-instruction
//! filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER`, publishes the listener's
//! fd number in a shared page and spins (no syscall: every syscall would
//! now wait for a listener nobody holds yet); the parent copies the fd with
//! `pidfd_getfd(2)`, asks for synchronous wake-ups
//! (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6: caller and recorder
//! hand the CPU to each other instead of waking one another across CPUs)
//! and lets the child go on to `execve`, the first call the filter reports.
//!
//! The child dies with the recorder (`PR_SET_PDEATHSIG`); if the filter or
//! `execve` fails, it reports the stage and errno through a close-on-exec
//! pipe, as the ptrace recorder's child does.

use super::spawn::{self, Child, Prepared};
use super::RecordError;
use crate::fork_exec::{self, ExecImage};
use crate::shared_memory::SharedMemory;
use nix::sys::signal::{SigAction, Signal};
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (`include/uapi/linux/seccomp.h`).
const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;

/// The page the child and the parent share before `execve`.
#[repr(C)]
struct Handoff {
    /// The listener's fd number in the child (-1 until installed).
    fd: AtomicI32,
    /// Set to 1 by the parent once it holds the listener.
    go: AtomicI32,
}

/// The child and the recorder's copy of its listener.
pub(crate) struct Listened {
    /// The started child (its failure pipe and program name).
    pub child: Child,
    /// The listener (`SECCOMP_IOCTL_NOTIF_RECV`/`SEND`).
    pub listener: OwnedFd,
    /// A pidfd of the child, readable once it has exited.
    pub pidfd: OwnedFd,
}

/// Whether this kernel can record with a listener: `SECCOMP_RET_USER_NOTIF`
/// and `pidfd_getfd(2)` (Linux 5.6), as [`crate::denials::supported`].
pub(crate) fn supported() -> bool {
    crate::denials::supported()
}

/// Forks `cmd` under the notifying filter and returns it with its listener.
/// `restore` lists the signal dispositions the child puts back first.
pub(crate) fn spawn(
    cmd: &[OsString],
    restore: &[(Signal, SigAction)],
) -> Result<Listened, RecordError> {
    let mut prepared = Prepared::new(cmd, libc::SECCOMP_RET_USER_NOTIF)?;
    let prog = prepared.fprog();
    let (fail_rd, fail_wr) = fork_exec::pipe().map_err(RecordError::Spawn)?;
    let page = SharedMemory::<Handoff>::new().map_err(RecordError::Spawn)?;
    let handoff = page.as_ptr();
    // SAFETY: the page is ours and zeroed; -1 marks "no listener yet".
    unsafe { (*handoff).fd.store(-1, Ordering::SeqCst) };
    // SAFETY: taken before fork, compared by the child with its parent.
    let parent = unsafe { libc::getpid() };

    // SAFETY: the child only makes async-signal-safe calls on memory
    // prepared before the fork; `child_exec` never returns.
    let pid = unsafe {
        fork_exec::fork_child(|| {
            child_exec(
                parent,
                fail_rd.as_raw_fd(),
                fail_wr.as_raw_fd(),
                &prepared.image,
                &prog,
                restore,
                handoff,
            )
        })
    }
    .map_err(RecordError::Spawn)?;
    drop(fail_wr);
    let child = Child::new(pid, fail_rd, prepared.program.clone());
    match take_listener(pid, handoff) {
        Ok((listener, pidfd)) => Ok(Listened {
            child,
            listener,
            pidfd,
        }),
        // Already reaped by `take_listener`: nothing to kill.
        Err(TakeError::ChildEnded) => Err(match child.failure() {
            Some(RecordError::Filter(e)) if e.raw_os_error() == Some(libc::EBUSY) => {
                RecordError::ListenerBusy
            }
            other => other.unwrap_or(RecordError::NeverStarted),
        }),
        Err(TakeError::Io(e)) => {
            fork_exec::kill_and_reap(pid);
            Err(RecordError::NoListener(e))
        }
    }
}

/// Why the listener could not be taken.
enum TakeError {
    /// The child ended (and was reaped) before installing the filter.
    ChildEnded,
    /// A syscall of the parent failed, or the child took too long.
    Io(io::Error),
}

/// Waits for the child's listener fd number, copies the fd, asks for
/// synchronous wake-ups and lets the child go.
fn take_listener(pid: libc::pid_t, handoff: *mut Handoff) -> Result<(OwnedFd, OwnedFd), TakeError> {
    let started = Instant::now();
    let fd = loop {
        // SAFETY: `handoff` points into the shared page, alive until we return.
        let fd = unsafe { (*handoff).fd.load(Ordering::SeqCst) };
        if fd >= 0 {
            break fd;
        }
        let child = nix::unistd::Pid::from_raw(pid);
        let flags = nix::sys::wait::WaitPidFlag::WNOHANG;
        if matches!(nix::sys::wait::waitpid(child, Some(flags)), Ok(s) if s.pid() == Some(child)) {
            return Err(TakeError::ChildEnded);
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(TakeError::Io(io::Error::from_raw_os_error(libc::ETIMEDOUT)));
        }
        std::thread::sleep(Duration::from_micros(20));
    };
    let pidfd = crate::pidfd::open(pid).map_err(TakeError::Io)?;
    // Copies fd `fd` of the child (our own, spinning until we say go).
    let listener = crate::pidfd::copy_fd(pidfd.as_fd(), fd).map_err(TakeError::Io)?;
    // Older kernels lack the flag (EINVAL): wake-ups then cross CPUs.
    // SAFETY: an ioctl with a plain integer argument on our listener.
    // Raw: nix has no seccomp notify ioctls.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS as _,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
    // SAFETY: as above.
    unsafe { (*handoff).go.store(1, Ordering::SeqCst) };
    Ok((listener, pidfd))
}

/// The child's side. Only async-signal-safe calls; after the filter is
/// installed, none at all until the parent holds the listener.
///
/// # Safety
/// Must run in a freshly forked child; every pointer refers to memory
/// prepared by the parent before the fork.
unsafe fn child_exec(
    parent: libc::pid_t,
    fail_rd: libc::c_int,
    fail_wr: libc::c_int,
    image: &ExecImage,
    prog: &libc::sock_fprog,
    restore: &[(Signal, SigAction)],
    handoff: *mut Handoff,
) -> ! {
    // SAFETY (whole block): plain syscalls on our own fds and on memory
    // that stays alive until execve or _exit.
    unsafe {
        libc::close(fail_rd);
        fork_exec::reset_signal_dispositions(restore);
        // Die with the recorder, as ptrace's EXITKILL would have it.
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        if libc::getppid() != parent {
            libc::_exit(127);
        }
        // Raw: nix has no seccomp(2) wrapper.
        let set_filter = || {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                crate::filter_flags::FilterFlags::NEW_LISTENER.word(),
                prog as *const libc::sock_fprog,
            )
        };
        let mut fd = set_filter();
        if fd < 0 && *libc::__errno_location() == libc::EACCES {
            // Without CAP_SYS_ADMIN the kernel wants no_new_privs first.
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) == 0 {
                fd = set_filter();
            }
        }
        if fd < 0 {
            fork_exec::report_failure(fail_wr, spawn::STAGE_FILTER, *libc::__errno_location());
        }
        (*handoff).fd.store(fd as i32, Ordering::SeqCst);
        while (*handoff).go.load(Ordering::SeqCst) == 0 {
            std::hint::spin_loop();
        }
        // The listener fd is close-on-exec: the recorder holds the copy.
        image.execve();
        fork_exec::report_failure(fail_wr, spawn::STAGE_EXEC, *libc::__errno_location())
    }
}
