//! Starting the program to record: fork, let the parent seize the child,
//! install the all-`SECCOMP_RET_TRACE` filter, `execve`.
//!
//! The child blocks on a pipe until the parent has attached with
//! `PTRACE_SEIZE`; it then installs the filter and calls `execve` at once,
//! so the first syscall the filter reports is that `execve`. If the filter
//! or `execve` fails, the child reports the stage and errno through a
//! close-on-exec pipe and exits with 127.

use super::RecordError;
use crate::fork_exec::{self, ExecImage};
use crate::tracee;
use nix::sys::signal::{SigAction, Signal};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Stage tag written by the child when the filter could not be installed.
pub(crate) const STAGE_FILTER: u32 = 1;
/// Stage tag written by the child when `execve` failed.
pub(crate) const STAGE_EXEC: u32 = 2;

/// `PTRACE_O_*` options the recorder seizes with: the tracer's usual
/// [`tracee::TRACE_OPTIONS`] (follow fork, vfork, clone, exec; kill the
/// tree on exit) and seccomp stops.
pub(crate) const SEIZE_OPTIONS: tracee::Options =
    tracee::TRACE_OPTIONS.union(tracee::Options::PTRACE_O_TRACESECCOMP);

/// A started, seized, not yet running child.
pub(crate) struct Child {
    /// Its pid.
    pub pid: libc::pid_t,
    /// Read end of the failure pipe.
    failure: OwnedFd,
    /// The program as given.
    program: OsString,
}

/// Finds `program` as `execvp` would: as is when it has a `/` (a failure
/// is then `execve`'s to report), else the first executable file of that
/// name in `$PATH` ([`fork_exec::find_program`]).
pub(crate) fn resolve(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    fork_exec::find_program(program).ok()
}

/// What a recorder's child needs, built before the fork: the program as
/// given (for messages), `cmd` as `execve` wants it (its program looked up
/// as [`resolve`] does), and the recording filter, one `BPF_RET | BPF_K`
/// returning the same action for every syscall.
pub(crate) struct Prepared {
    /// The program as given.
    pub(crate) program: OsString,
    /// What the child executes.
    pub(crate) image: ExecImage,
    filter: [libc::sock_filter; 1],
}

impl Prepared {
    /// Prepares `cmd` under a filter returning `ret` for every syscall.
    pub(crate) fn new(cmd: &[OsString], ret: u32) -> Result<Prepared, RecordError> {
        let program = cmd.first().ok_or(RecordError::NoCommand)?;
        let path = resolve(program).ok_or_else(|| RecordError::NotFound(program.clone()))?;
        let image = ExecImage::new(path.as_os_str(), cmd).map_err(|_| RecordError::NulByte)?;
        let filter = [libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: ret,
        }];
        Ok(Prepared {
            program: program.clone(),
            image,
            filter,
        })
    }

    /// The filter as `seccomp(2)` takes it; it points into `self`, which
    /// must stay in place while the child may read it.
    pub(crate) fn fprog(&mut self) -> libc::sock_fprog {
        libc::sock_fprog {
            len: self.filter.len() as u16,
            filter: self.filter.as_mut_ptr(),
        }
    }
}

/// Forks `cmd`, seizes the child with the recorder's options and lets it
/// install the filter and exec. `restore` lists signal dispositions the
/// child puts back first (those the recorder's own handlers replaced).
pub(crate) fn spawn(
    cmd: &[OsString],
    restore: &[(Signal, SigAction)],
) -> Result<Child, RecordError> {
    let mut prepared = Prepared::new(cmd, libc::SECCOMP_RET_TRACE)?;
    let prog = prepared.fprog();
    let (sync_rd, sync_wr) = fork_exec::pipe().map_err(RecordError::Spawn)?;
    let (fail_rd, fail_wr) = fork_exec::pipe().map_err(RecordError::Spawn)?;

    // SAFETY: the child only makes async-signal-safe calls (close,
    // sigaction, signal, read, prctl, execve, write, _exit) on memory
    // prepared before the fork; `child_exec` never returns.
    let pid = unsafe {
        fork_exec::fork_child(|| {
            child_exec(
                sync_rd.as_raw_fd(),
                sync_wr.as_raw_fd(),
                fail_rd.as_raw_fd(),
                fail_wr.as_raw_fd(),
                &prepared.image,
                &prog,
                restore,
            )
        })
    }
    .map_err(RecordError::Spawn)?;
    drop(sync_rd);
    drop(fail_wr);
    let child = Child::new(pid, fail_rd, prepared.program.clone());
    if let Err(e) = tracee::seize(pid, SEIZE_OPTIONS) {
        fork_exec::kill_and_reap(pid);
        return Err(RecordError::Ptrace(e.into_io()));
    }
    // Let the child go on: it installs the filter and execs.
    let byte = [1u8];
    // SAFETY: writes one byte from a live buffer to a pipe we own.
    let w = unsafe { libc::write(sync_wr.as_raw_fd(), byte.as_ptr().cast(), 1) };
    if w != 1 {
        let e = io::Error::last_os_error();
        fork_exec::kill_and_reap(pid);
        return Err(RecordError::Spawn(e));
    }
    drop(sync_wr);
    Ok(child)
}

impl Child {
    /// A forked child with the read end of its failure pipe.
    pub(crate) fn new(pid: libc::pid_t, failure: OwnedFd, program: OsString) -> Child {
        Child {
            pid,
            failure,
            program,
        }
    }

    /// After the child is gone without having exec'd: why it failed.
    pub(crate) fn failure(&self) -> Option<RecordError> {
        let (stage, errno) = fork_exec::read_failure(self.failure.as_raw_fd())?;
        let e = io::Error::from_raw_os_error(errno);
        Some(match stage {
            STAGE_FILTER => RecordError::Filter(e),
            _ => RecordError::Exec(self.program.clone(), e),
        })
    }
}

/// The child's side. Only async-signal-safe calls.
///
/// # Safety
/// Must run in a freshly forked child; every pointer refers to memory
/// prepared by the parent before the fork.
unsafe fn child_exec(
    sync_rd: libc::c_int,
    sync_wr: libc::c_int,
    fail_rd: libc::c_int,
    fail_wr: libc::c_int,
    image: &ExecImage,
    prog: &libc::sock_fprog,
    restore: &[(Signal, SigAction)],
) -> ! {
    // SAFETY (whole block): plain syscalls on our own fds and on buffers
    // that stay alive until execve or _exit.
    unsafe {
        libc::close(sync_wr);
        libc::close(fail_rd);
        // The dispositions the recorder's handlers replaced, and SIGPIPE
        // as this process got it (Rust's runtime ignores it).
        fork_exec::reset_signal_dispositions(restore);
        let mut b = 0u8;
        let r = loop {
            let r = libc::read(sync_rd, (&mut b as *mut u8).cast(), 1);
            if r == -1 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break r;
        };
        if r != 1 {
            libc::_exit(127);
        }
        libc::close(sync_rd);
        let set_filter = || {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                prog as *const libc::sock_fprog,
            )
        };
        if set_filter() != 0 {
            // Without CAP_SYS_ADMIN the kernel wants no_new_privs first.
            let first = *libc::__errno_location();
            if first != libc::EACCES
                || libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) != 0
                || set_filter() != 0
            {
                report(fail_wr, STAGE_FILTER);
            }
        }
        image.execve();
        report(fail_wr, STAGE_EXEC)
    }
}

/// Writes (stage, errno) to the failure pipe and exits with 127.
///
/// # Safety
/// Child side only.
unsafe fn report(fail_wr: libc::c_int, stage: u32) -> ! {
    // SAFETY: reads this thread's errno, then the child-only report.
    unsafe { fork_exec::report_failure(fail_wr, stage, *libc::__errno_location()) }
}
