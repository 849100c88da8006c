//! Starting the program to record: fork, let the parent seize the child,
//! install the all-`SECCOMP_RET_TRACE` filter, `execve`.
//!
//! The child blocks on a pipe until the parent has attached with
//! `PTRACE_SEIZE`; it then installs the filter and calls `execve` at once,
//! so the first syscall the filter reports is that `execve`. If the filter
//! or `execve` fails, the child reports the stage and errno through a
//! close-on-exec pipe and exits with 127.

use super::RecordError;
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Stage tags written by the child on failure.
const STAGE_FILTER: u32 = 1;
const STAGE_EXEC: u32 = 2;

/// A started, seized, not yet running child.
pub(crate) struct Child {
    /// Its pid.
    pub pid: libc::pid_t,
    /// Read end of the failure pipe.
    failure: OwnedFd,
    /// The program as given.
    program: OsString,
}

/// Finds `program` as `execvp` would: as is when it has a `/`, else the
/// first executable regular file of that name in `$PATH`.
pub(crate) fn resolve(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn cstring(s: impl Into<Vec<u8>>) -> Result<CString, RecordError> {
    CString::new(s).map_err(|_| RecordError::NulByte)
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Forks `cmd`, seizes the child with the recorder's options and lets it
/// install the filter and exec. `restore` lists signal dispositions the
/// child puts back first (those the recorder's own handlers replaced).
pub(crate) fn spawn(
    cmd: &[OsString],
    restore: &[(libc::c_int, libc::sigaction)],
) -> Result<Child, RecordError> {
    let program = cmd.first().ok_or(RecordError::NoCommand)?;
    let path = resolve(program).ok_or_else(|| RecordError::NotFound(program.clone()))?;
    let path = cstring(path.into_os_string().into_vec())?;
    let argv: Vec<CString> = cmd
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<Result<_, _>>()?;
    let envv: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            cstring(kv)
        })
        .collect::<Result<_, _>>()?;
    let mut argp: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argp.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = envv.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    let mut filter = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_TRACE,
    }];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    let (sync_rd, sync_wr) = pipe().map_err(RecordError::Spawn)?;
    let (fail_rd, fail_wr) = pipe().map_err(RecordError::Spawn)?;

    // SAFETY: fork in a process that may have other threads: the child
    // only makes async-signal-safe calls (close, signal, read,
    // prctl, execve, write, _exit) on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == -1 {
        return Err(RecordError::Spawn(io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: see above; `child_exec` never returns.
        unsafe {
            child_exec(
                sync_rd.as_raw_fd(),
                sync_wr.as_raw_fd(),
                fail_rd.as_raw_fd(),
                fail_wr.as_raw_fd(),
                &path,
                &argp,
                &envp,
                &prog,
                restore,
            )
        }
    }
    drop(sync_rd);
    drop(fail_wr);
    let child = Child {
        pid,
        failure: fail_rd,
        program: program.clone(),
    };
    if let Err(e) = super::ptrace::seize(pid) {
        kill_and_reap(pid);
        return Err(RecordError::Ptrace(e));
    }
    // Let the child go on: it installs the filter and execs.
    let byte = [1u8];
    // SAFETY: writes one byte from a live buffer to a pipe we own.
    let w = unsafe { libc::write(sync_wr.as_raw_fd(), byte.as_ptr().cast(), 1) };
    if w != 1 {
        let e = io::Error::last_os_error();
        kill_and_reap(pid);
        return Err(RecordError::Spawn(e));
    }
    drop(sync_wr);
    Ok(child)
}

fn kill_and_reap(pid: libc::pid_t) {
    // SAFETY: signals and reaps our own child; no memory is shared.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
    }
}

impl Child {
    /// After the child is gone without having exec'd: why it failed.
    pub(crate) fn failure(&self) -> Option<RecordError> {
        let mut buf = [0u8; 8];
        let mut got = 0;
        while got < buf.len() {
            // SAFETY: reads into the unfilled tail of a live buffer.
            let r = unsafe {
                libc::read(
                    self.failure.as_raw_fd(),
                    buf[got..].as_mut_ptr().cast(),
                    buf.len() - got,
                )
            };
            if r <= 0 {
                break;
            }
            got += r as usize;
        }
        if got != buf.len() {
            return None;
        }
        let stage = u32::from_ne_bytes(buf[..4].try_into().ok()?);
        let errno = i32::from_ne_bytes(buf[4..].try_into().ok()?);
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
#[allow(clippy::too_many_arguments)]
unsafe fn child_exec(
    sync_rd: libc::c_int,
    sync_wr: libc::c_int,
    fail_rd: libc::c_int,
    fail_wr: libc::c_int,
    path: &CString,
    argp: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    prog: &libc::sock_fprog,
    restore: &[(libc::c_int, libc::sigaction)],
) -> ! {
    // SAFETY (whole block): plain syscalls on our own fds and on buffers
    // that stay alive until execve or _exit.
    unsafe {
        libc::close(sync_wr);
        libc::close(fail_rd);
        for (sig, act) in restore {
            libc::sigaction(*sig, act, std::ptr::null_mut());
        }
        // SIGPIPE back to its default, which Rust's runtime changed to
        // "ignore" (the signal mask is inherited unchanged, as untraced).
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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
        libc::execve(path.as_ptr(), argp.as_ptr(), envp.as_ptr());
        report(fail_wr, STAGE_EXEC)
    }
}

/// Writes (stage, errno) to the failure pipe and exits with 127.
///
/// # Safety
/// Child side only.
unsafe fn report(fail_wr: libc::c_int, stage: u32) -> ! {
    // SAFETY: writes a local buffer to our pipe, then exits.
    unsafe {
        let errno = *libc::__errno_location();
        let mut msg = [0u8; 8];
        msg[..4].copy_from_slice(&stage.to_ne_bytes());
        msg[4..].copy_from_slice(&errno.to_ne_bytes());
        libc::write(fail_wr, msg.as_ptr().cast(), msg.len());
        libc::_exit(127)
    }
}
