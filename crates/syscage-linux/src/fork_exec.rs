//! Starting a program in a forked child, shared by `run` ([`crate::runner`]),
//! `record` ([`crate::record`]), `dump` ([`crate::tracee::spawn`]) and the
//! audit anchor: the one way syscage forks (`fork_child`, on
//! `nix::unistd::fork`), the program lookup (`execvp`'s),
//! the `execve` image prepared before `fork`, the close-on-exec failure
//! pipe (the child reports `(stage, errno)` and exits with 127), and the
//! signal dispositions the child puts back before `execve`.
//!
//! Everything the child calls here is async-signal-safe: it may run
//! between `fork` and `execve` in a process with other threads.
//!
//! Signal dispositions: Rust's runtime sets `SIGPIPE` to ignored before
//! `main`, and an ignored signal stays ignored across `execve`, so a
//! program started as is would get `EPIPE` where it should die quietly
//! (`yes | head -1` printing "Broken pipe"). The child sets it back to
//! the default, unless `SIGPIPE` was already ignored when this process
//! was exec'd (a shell's `trap '' PIPE`, `nohup`-style launchers): that is
//! read by a constructor that runs before Rust's runtime, so the program
//! gets what it would have got without syscage.

use nix::sys::signal::{sigaction, signal, SigAction, SigHandler, Signal};
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `SIGPIPE` was ignored when this process was exec'd, before
/// Rust's runtime set it to ignored.
static SIGPIPE_IGNORED_AT_EXEC: AtomicBool = AtomicBool::new(false);

/// Runs from `.init_array`, before Rust's runtime changes `SIGPIPE`.
extern "C" fn note_sigpipe_at_exec() {
    SIGPIPE_IGNORED_AT_EXEC.store(ignored_now(libc::SIGPIPE), Ordering::Relaxed);
}

/// Whether `sig` is ignored now (`SIG_IGN`); async-signal-safe.
pub(crate) fn ignored_now(sig: libc::c_int) -> bool {
    // SAFETY: a zeroed sigaction is plain data; a null new action only
    // reads the disposition. Raw: nix's `sigaction` always sets one, and
    // has no read-only form.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}

#[used]
#[link_section = ".init_array"]
static NOTE_SIGPIPE_AT_EXEC: extern "C" fn() = note_sigpipe_at_exec;

/// Whether `SIGPIPE` was ignored when this process started (before Rust's
/// runtime ignored it).
pub fn sigpipe_ignored_at_exec() -> bool {
    SIGPIPE_IGNORED_AT_EXEC.load(Ordering::Relaxed)
}

/// Child side, before `execve`: puts back the dispositions in `restore`
/// (those the parent replaced with handlers of its own) and sets `SIGPIPE`
/// to `SIG_DFL`, or to `SIG_IGN` if it was ignored when this process was
/// exec'd (see the module docs; std's `Command` sets `SIG_DFL` either way). The signal mask is inherited unchanged, as untraced.
///
/// # Safety
/// Async-signal-safe; call it in a freshly forked child only (it changes
/// process-wide dispositions).
pub(crate) unsafe fn reset_signal_dispositions(restore: &[(Signal, SigAction)]) {
    let sigpipe = if sigpipe_ignored_at_exec() {
        SigHandler::SigIgn
    } else {
        SigHandler::SigDfl
    };
    // SAFETY: sigaction/signal with dispositions the kernel gave us or
    // SIG_DFL/SIG_IGN; no memory is kept, nothing is allocated.
    unsafe {
        for (sig, act) in restore {
            let _ = sigaction(*sig, act);
        }
        let _ = signal(Signal::SIGPIPE, sigpipe);
    }
}

/// Forks; the child runs `child`, which never returns (it ends in
/// `execve` or `_exit`; `Infallible` stands for `!`, not yet a type in
/// closure signatures), and the parent gets the child's pid. Every child
/// syscage starts is started here.
///
/// # Safety
/// This process may have other threads: `child` must make only
/// async-signal-safe calls and must not allocate or free (everything it
/// needs is prepared before the call), and must end in `execve` or
/// `_exit` (never unwinding or returning into the parent's code).
// The child's arm never ends (`Infallible`): the lint sees that, rightly.
#[allow(unreachable_code)]
pub(crate) unsafe fn fork_child(
    child: impl FnOnce() -> std::convert::Infallible,
) -> io::Result<libc::pid_t> {
    // SAFETY: the caller's contract above is `fork`'s in a threaded process.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => match child() {},
        nix::unistd::ForkResult::Parent { child } => Ok(child.as_raw()),
    }
}

/// Finds a program as `execvp` would: a name with a `/` is a path,
/// anything else is looked up in `PATH`. The file must be executable
/// (`access(X_OK)`, not a directory). The error is the first reason other
/// than `ENOENT` a candidate was refused, else "command not found"
/// (`io::ErrorKind::NotFound`).
pub fn find_program(name: &OsStr) -> io::Result<PathBuf> {
    let executable = |p: &Path| -> io::Result<()> {
        let c = CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: c is a valid NUL-terminated path.
        if unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if p.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::EISDIR));
        }
        Ok(())
    };
    if name.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    if name.as_bytes().contains(&b'/') {
        let p = PathBuf::from(name);
        executable(&p)?;
        return Ok(p);
    }
    let path =
        std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    let mut first_err = None;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        match executable(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.raw_os_error() != Some(libc::ENOENT) && first_err.is_none() => {
                first_err = Some(e)
            }
            Err(_) => {}
        }
    }
    Err(first_err.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "command not found")))
}

/// An argument or environment variable holds a NUL byte.
#[derive(Debug)]
pub(crate) struct NulByte;

/// Everything `execve` needs, prepared before `fork` (the child must not
/// allocate): the path, `argv` and the current environment as
/// NUL-terminated strings and NULL-terminated pointer arrays.
pub(crate) struct ExecImage {
    path: CString,
    // The pointer arrays point into these; kept alive with them.
    _strings: Vec<CString>,
    argp: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

impl ExecImage {
    /// `path` to execute with arguments `argv` (argv[0] included) and this
    /// process's environment.
    pub(crate) fn new(path: &OsStr, argv: &[OsString]) -> Result<ExecImage, NulByte> {
        let c = |s: &[u8]| CString::new(s).map_err(|_| NulByte);
        let path = c(path.as_bytes())?;
        let args = argv
            .iter()
            .map(|a| c(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()?;
        let env = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k;
                kv.push("=");
                kv.push(v);
                c(kv.as_bytes())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pointers = |v: &[CString]| {
            let mut p: Vec<*const libc::c_char> = v.iter().map(|s| s.as_ptr()).collect();
            p.push(std::ptr::null());
            p
        };
        let argp = pointers(&args);
        let envp = pointers(&env);
        let mut strings = args;
        strings.extend(env);
        Ok(ExecImage {
            path,
            _strings: strings,
            argp,
            envp,
        })
    }

    /// `execve`; returns only on failure (errno says why).
    ///
    /// # Safety
    /// Replaces the process image: call it in a forked child.
    pub(crate) unsafe fn execve(&self) {
        // SAFETY: path, argv and envp are NUL-terminated and outlive the call.
        // Raw: nix's execve builds its pointer arrays in a new Vec, and
        // the forked child must not allocate.
        unsafe { libc::execve(self.path.as_ptr(), self.argp.as_ptr(), self.envp.as_ptr()) };
    }
}

/// `pipe2(O_CLOEXEC)`: (read end, write end).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Child side: writes `(stage, errno)` to the failure pipe and exits with
/// 127 without running atexit handlers.
///
/// # Safety
/// Call it in a forked child only.
pub(crate) unsafe fn report_failure(fail_wr: libc::c_int, stage: u32, errno: i32) -> ! {
    let mut msg = [0u8; 8];
    msg[..4].copy_from_slice(&stage.to_ne_bytes());
    msg[4..].copy_from_slice(&errno.to_ne_bytes());
    // SAFETY: writes a local buffer to our pipe, then exits. Raw: nix has
    // no `_exit` (std's `exit` would run atexit handlers in the child).
    unsafe {
        libc::write(fail_wr, msg.as_ptr().cast(), msg.len());
        libc::_exit(127)
    }
}

/// The `(stage, errno)` of a whole failure message.
pub(crate) fn decode_failure(msg: [u8; 8]) -> (u32, i32) {
    let [s0, s1, s2, s3, e0, e1, e2, e3] = msg;
    (
        u32::from_ne_bytes([s0, s1, s2, s3]),
        i32::from_ne_bytes([e0, e1, e2, e3]),
    )
}

/// Parent side, once the child is gone: reads the failure message to its
/// end; `None` if the child exec'd (the pipe closed empty) or wrote less.
pub(crate) fn read_failure(fail_rd: libc::c_int) -> Option<(u32, i32)> {
    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: reads into the unfilled tail of a live buffer.
        let r = unsafe { libc::read(fail_rd, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        if r <= 0 {
            break;
        }
        got += r as usize;
    }
    (got == buf.len()).then(|| decode_failure(buf))
}

/// SIGKILLs and reaps a child of ours (errors ignored: it may be gone).
pub(crate) fn kill_and_reap(pid: libc::pid_t) {
    use nix::sys::signal::{kill, Signal};
    use nix::sys::wait::{waitpid, WaitPidFlag};
    use nix::unistd::Pid;
    let pid = Pid::from_raw(pid);
    let _ = kill(pid, Signal::SIGKILL);
    let _ = waitpid(pid, Some(WaitPidFlag::__WALL));
}
