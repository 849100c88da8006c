//! Running a program under a filter, as `syscage run` does: fork; the child
//! installs the filter and `execve`s the program; the parent waits and
//! passes the exit status through.
//!
//! Enforcement fails closed: the child installs before `execve`, and when
//! installing (or `execve`) fails it reports the reason to the parent over a
//! close-on-exec pipe and exits without running the program.
//!
//! When the program dies of SIGSYS, the parent names the syscall: it
//! watches the child with `PTRACE_SEIZE` and `PTRACE_O_TRACEEXIT` (one stop,
//! at exit), reads the syscall number from the registers (`orig_rax`) and
//! the arch from `PTRACE_GET_SYSCALL_INFO`; a `SECCOMP_RET_TRAP` signal
//! carries them in its siginfo (`si_syscall`, `si_arch`, `si_errno`).

use crate::denials::{self, Denials, Handoff, Routing, Supervisor};
use crate::enforced::{self, Snapshot};
use crate::error::{Error, Result};
use crate::fork_exec::{self, ExecImage};
use crate::forward::Forwarding;
use crate::install::{FilterFlags, InstallOptions};
use crate::shared_memory::SharedMemory;
use crate::tracee;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// What to enforce in the child.
#[derive(Clone, Debug)]
pub enum Enforcement {
    /// Nothing (a plain run).
    None,
    /// A filter (already checked with [`crate::install::check`]).
    Filter {
        /// The raw program.
        raw: Vec<libc::sock_filter>,
        /// Flags and no_new_privs.
        opts: InstallOptions,
        /// Install this instead, with a listener, to name what is refused
        /// (see [`crate::denials`]).
        routing: Option<Routing>,
    },
    /// Strict mode: the kernel then kills the `execve` itself (SIGKILL).
    Strict,
}

/// How the program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by a signal.
    Signaled {
        /// The signal.
        signal: i32,
        /// Whether it dumped core.
        core: bool,
    },
}

impl Termination {
    /// The exit code a shell would give: the code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            Termination::Exited(c) => c,
            Termination::Signaled { signal, .. } => 128 + signal,
        }
    }
}

/// The syscall that seccomp stopped with SIGSYS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallStop {
    /// Number as the filter saw it (x32 numbers keep bit 30).
    pub nr: u32,
    /// `AUDIT_ARCH_*` of the call.
    pub arch: u32,
    /// `si_errno` of a `SECCOMP_RET_TRAP` signal (its data), `None` for a kill.
    pub trap_data: Option<i32>,
}

/// The result of [`run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// The child's pid.
    pub pid: u32,
    /// How the program ended.
    pub termination: Termination,
    /// The syscall seccomp stopped, when the program died of SIGSYS and it
    /// could be recovered.
    pub seccomp: Option<SyscallStop>,
    /// The syscalls the filter refused with an errno.
    pub denials: Denials,
    /// Whether the program was exec'd (`PTRACE_EVENT_EXEC`); `None` when
    /// the child was not watched. `Some(false)` with a signal: syscage's
    /// child died between installing the filter and `execve`.
    pub exec_seen: Option<bool>,
}

/// Finds a program as `execvp` would: a name with a `/` is a path,
/// anything else is looked up in `PATH`. The file must be executable.
/// See [`crate::fork_exec::find_program`].
pub fn find_program(name: &OsStr) -> Result<PathBuf> {
    crate::fork_exec::find_program(name).map_err(|source| Error::Exec {
        program: name.to_string_lossy().into_owned(),
        source,
    })
}

const STAGE_NNP: u32 = 1;
const STAGE_SECCOMP: u32 = 2;
const STAGE_EXEC: u32 = 3;
const STAGE_STRICT: u32 = 4;
/// The filter (or strict mode) was not in force after installing: the
/// report's errno field is [`crate::enforced::pack`]ed.
const STAGE_VERIFY: u32 = 5;

/// The child's side, between `fork` and `execve`: only async-signal-safe calls.
fn child(
    report: i32,
    sync: Option<i32>,
    enforcement: &Enforcement,
    image: &ExecImage,
    forwarding: &Forwarding,
    handoff: Option<*mut Handoff>,
) -> ! {
    // SAFETY: we are the forked child; writes to our own pipe, then _exit.
    let fail = |stage: u32, errno: i32| -> ! {
        unsafe { fork_exec::report_failure(report, stage, errno) }
    };
    let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    // SAFETY: we are the forked child; dispositions are ours to set.
    unsafe { forwarding.restore_in_child() };
    if let Some(fd) = sync {
        let mut b = 0u8;
        // SAFETY: reads one byte into a stack variable; waits for the parent's PTRACE_SEIZE.
        unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
    }
    match enforcement {
        Enforcement::None => {}
        Enforcement::Strict => {
            // Opened before: strict mode leaves only read, write and _exit.
            let status = enforced::open_status();
            // SAFETY: PR_SET_SECCOMP with SECCOMP_MODE_STRICT takes no pointer.
            if unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_STRICT, 0, 0, 0) } != 0
            {
                fail(STAGE_STRICT, errno());
            }
            let after = enforced::read_status(status);
            if after.mode.is_some_and(|m| m != 1) {
                fail(STAGE_VERIFY, enforced::pack(Snapshot::default(), after));
            }
        }
        Enforcement::Filter { raw, opts, routing } => {
            let before = enforced::snapshot();
            // Opened now: the filter may refuse open, read is enough after.
            let status = enforced::open_status();
            if opts.no_new_privs {
                // SAFETY: integer arguments only.
                if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                    fail(STAGE_NNP, errno());
                }
            }
            let flags = opts.flags;
            let mut added = 1;
            let r = match (routing, handoff) {
                (Some(routing), Some(h)) => {
                    let listener = flags | FilterFlags::NEW_LISTENER;
                    let r = crate::install::load(&routing.routed, listener);
                    if r == -(libc::EBUSY as i64) {
                        // An inherited filter has the listener: no naming.
                        // SAFETY: `h` is the shared page, mapped before fork.
                        unsafe { denials::publish(h, denials::NO_LISTENER) };
                        crate::install::load(raw, flags)
                    } else if r >= 0 {
                        // SAFETY: as above; spins until the parent holds it.
                        if unsafe { denials::publish(h, r as i32) } == denials::GO_WITHOUT {
                            // ERRNO outranks USER_NOTIF: the original on top
                            // gives every refused call its errno.
                            added = 2;
                            crate::install::load(raw, flags)
                        } else {
                            r
                        }
                    } else {
                        r
                    }
                }
                _ => crate::install::load(raw, flags),
            };
            if r < 0 && r != crate::install::PRCTL_USED {
                fail(STAGE_SECCOMP, -r as i32);
            }
            let after = enforced::snapshot_from(status);
            if !enforced::filters_added(before, after, added) {
                fail(STAGE_VERIFY, enforced::pack(before, after));
            }
        }
    }
    // SAFETY: we are the forked child; the image was prepared before fork.
    unsafe { image.execve() };
    fail(STAGE_EXEC, errno())
}

/// Runs `argv` (`argv[0]` is the program, found as [`find_program`] does)
/// under `enforcement` and waits for it. With `watch`, the child is traced
/// (`PTRACE_SEIZE`, one stop at exit) to name the syscall behind a SIGSYS
/// death. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the caller meanwhile
/// are passed on to the program as `record` does (see
/// [`crate::record`]'s signal notes: one from the terminal already reached
/// the program's process group and is not sent twice), so the caller
/// lives on until the program ends and reports its status. The program gets the signal dispositions it would get
/// untraced (`SIGPIPE` back to its default, see [`crate::fork_exec`]).
pub fn run(argv: &[OsString], enforcement: &Enforcement, watch: bool) -> Result<RunOutcome> {
    let Some(program) = argv.first() else {
        return Err(Error::Exec {
            program: String::new(),
            source: std::io::Error::from_raw_os_error(libc::ENOENT),
        });
    };
    let path = find_program(program)?;
    let image = ExecImage::new(path.as_os_str(), argv).map_err(|_| Error::Exec {
        program: program.to_string_lossy().into_owned(),
        source: std::io::Error::from_raw_os_error(libc::EINVAL),
    })?;

    let pipe = || {
        fork_exec::pipe().map_err(|source| Error::Sys {
            call: "pipe2",
            source,
        })
    };
    let (report_rd, report_wr) = pipe()?;
    let sync = if watch { Some(pipe()?) } else { None };
    // Before fork, so that no signal sent meanwhile is lost; the child puts
    // the old dispositions back before execve.
    let forwarding = Forwarding::start();
    let routing = match enforcement {
        Enforcement::Filter {
            routing: Some(r), ..
        } => Some(r),
        _ => None,
    };
    let handoff = match routing {
        Some(_) => Some(SharedMemory::<Handoff>::new().map_err(|source| Error::Sys {
            call: "mmap",
            source,
        })?),
        None => None,
    };
    if let Some(h) = &handoff {
        // SAFETY: the page was just mapped, nobody else uses it yet.
        unsafe {
            (*h.as_ptr())
                .fd
                .store(-1, std::sync::atomic::Ordering::SeqCst)
        };
    }
    let handoff_ptr = handoff.as_ref().map(|h| h.as_ptr());
    // SAFETY: the child only makes async-signal-safe calls (see `child`)
    // on memory prepared before the fork, and ends in execve or _exit.
    let pid = unsafe {
        fork_exec::fork_child(|| {
            // The parent's ends go (the sync pipe's write end especially:
            // if the parent dies before writing, the child's read sees
            // EOF). `child` never returns: nothing is dropped twice.
            // SAFETY: closes fds of ours that the child does not use.
            libc::close(report_rd.as_raw_fd());
            if let Some((_, sync_wr)) = &sync {
                libc::close(sync_wr.as_raw_fd());
            }
            child(
                report_wr.as_raw_fd(),
                sync.as_ref().map(|(rd, _)| rd.as_raw_fd()),
                enforcement,
                &image,
                &forwarding,
                handoff_ptr,
            )
        })
    }
    .map_err(|source| Error::Sys {
        call: "fork",
        source,
    })?;
    drop(report_wr);
    let mut watching = false;
    if let Some((sync_rd, sync_wr)) = sync {
        drop(sync_rd);
        let opts = tracee::Options::PTRACE_O_TRACEEXIT
            | tracee::Options::PTRACE_O_TRACEEXEC
            | tracee::Options::PTRACE_O_EXITKILL;
        watching = tracee::seize(pid, opts).is_ok();
        // SAFETY: one byte from a stack variable, then close our end: the child goes on.
        unsafe { libc::write(sync_wr.as_raw_fd(), b"g".as_ptr().cast(), 1) };
        drop(sync_wr);
    }
    let mut denials = Denials::NotAsked;
    let mut supervisor = None;
    if let (Some(h), Some(r)) = (&handoff, routing) {
        denials = match denials::take_listener(pid, h) {
            Ok(Some(listener)) => {
                supervisor = Some(Supervisor::start(listener, r.original.clone()));
                Denials::Named(Vec::new())
            }
            Ok(None) => Denials::NotNamed(
                "a filter syscage runs under already has a user-notification listener",
            ),
            Err(_) => Denials::NotNamed("the listener could not be taken from the child"),
        };
    }
    let result = wait(pid, report_rd.as_raw_fd(), watching, &forwarding);
    if let Some(s) = supervisor {
        denials = Denials::Named(s.finish());
    }
    drop(report_rd);
    drop(forwarding);
    let (termination, seccomp, failure, exec_seen) = result?;
    if let Some((stage, errno)) = failure {
        let source = std::io::Error::from_raw_os_error(errno);
        return Err(match stage {
            STAGE_EXEC => Error::Exec {
                program: program.to_string_lossy().into_owned(),
                source,
            },
            STAGE_NNP => Error::Sys {
                call: "prctl(PR_SET_NO_NEW_PRIVS)",
                source,
            },
            STAGE_STRICT => Error::Sys {
                call: "prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)",
                source,
            },
            STAGE_VERIFY => {
                let (mode, before, after) = enforced::unpack(errno);
                Error::NotEnforced {
                    mode,
                    before,
                    after,
                }
            }
            _ if errno == libc::ENOMEM => Error::StackLimit { total: None },
            _ if errno == libc::ENOSYS => Error::Sys {
                call: "seccomp(SECCOMP_SET_MODE_FILTER) and its fallback prctl(PR_SET_SECCOMP) \
                       (this kernel, or a filter around syscage, offers no seccomp filter mode)",
                source,
            },
            _ if errno == libc::EINVAL => Error::Sys {
                call: "seccomp(SECCOMP_SET_MODE_FILTER) refused the filter or its flags \
                       (CONFIG_SECCOMP_FILTER missing, or a flag this kernel does not know)",
                source,
            },
            _ if errno == libc::EACCES => Error::NeedsNoNewPrivs,
            _ => Error::Sys {
                call: "seccomp(SECCOMP_SET_MODE_FILTER)",
                source,
            },
        });
    }
    Ok(RunOutcome {
        pid: pid as u32,
        termination,
        seccomp,
        denials,
        exec_seen: watching.then_some(exec_seen),
    })
}

type Waited = (Termination, Option<SyscallStop>, Option<(u32, i32)>, bool);

/// Waits for the child while reading its report pipe.
fn wait(pid: i32, report: i32, watching: bool, forwarding: &Forwarding) -> Result<Waited> {
    let mut failure: Option<(u32, i32)> = None;
    let mut msg = Vec::with_capacity(8);
    let mut pipe_open = true;
    let mut stop: Option<SyscallStop> = None;
    let mut exec_seen = false;
    let program = HashSet::from([pid]);
    loop {
        forwarding.pass_on(pid, true, &program);
        if pipe_open {
            let mut pfd = libc::pollfd {
                fd: report,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; does not block.
            let n = unsafe { libc::poll(&mut pfd, 1, 0) };
            if n > 0 {
                let mut buf = [0u8; 8];
                // SAFETY: reads into a stack buffer of that size.
                let r = unsafe { libc::read(report, buf.as_mut_ptr().cast(), 8 - msg.len()) };
                if r <= 0 {
                    pipe_open = false;
                } else {
                    msg.extend_from_slice(&buf[..r as usize]);
                    if let Ok(whole) = <[u8; 8]>::try_from(msg.as_slice()) {
                        failure = Some(fork_exec::decode_failure(whole));
                        pipe_open = false;
                    }
                }
            }
        }
        let status = match tracee::waitpid_status(pid, libc::__WALL | libc::WNOHANG) {
            Ok(Some((_, status))) => status,
            Ok(None) => {
                forwarding.sleep(pipe_open.then_some(report));
                continue;
            }
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(source) => {
                return Err(Error::Sys {
                    call: "waitpid",
                    source,
                })
            }
        };
        let gone = libc::WIFEXITED(status) || libc::WIFSIGNALED(status);
        if gone && pipe_open && msg.is_empty() {
            // It wrote before exiting: the report is whole in the pipe.
            failure = fork_exec::read_failure(report);
        }
        if libc::WIFEXITED(status) {
            return Ok((
                Termination::Exited(libc::WEXITSTATUS(status)),
                stop,
                failure,
                exec_seen,
            ));
        }
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            let t = Termination::Signaled {
                signal,
                core: libc::WCOREDUMP(status),
            };
            let stop = if signal == libc::SIGSYS { stop } else { None };
            return Ok((t, stop, failure, exec_seen));
        }
        if !(watching && libc::WIFSTOPPED(status)) {
            continue;
        }
        let event = status >> 16;
        let sig = libc::WSTOPSIG(status);
        let mut inject = 0;
        if event == libc::PTRACE_EVENT_EXEC {
            exec_seen = true;
        } else if event == libc::PTRACE_EVENT_EXIT {
            let code = tracee::event_msg(pid).unwrap_or(0) as i32;
            if libc::WIFSIGNALED(code) && libc::WTERMSIG(code) == libc::SIGSYS && stop.is_none() {
                stop = killed_syscall(pid);
            }
        } else if event == libc::PTRACE_EVENT_STOP {
            if tracee::is_stop_signal(sig) {
                // A group stop: LISTEN keeps it stopped until SIGCONT.
                let _ = tracee::listen(pid);
                continue;
            }
        } else if event == 0 {
            inject = sig;
            if sig == libc::SIGSYS {
                if let Some(s) = trap_siginfo(pid) {
                    stop = Some(s);
                }
            }
        }
        // Resumes the tracee, delivering `inject` (0: none); an error is
        // ESRCH (it was killed), reported by the next waitpid.
        let _ = tracee::cont(pid, inject);
    }
}

/// At a SIGSYS signal-delivery stop: the seccomp fields of the siginfo
/// (`si_code == SYS_SECCOMP`).
fn trap_siginfo(pid: i32) -> Option<SyscallStop> {
    let si = tracee::siginfo(pid).ok()?;
    const SYS_SECCOMP: i32 = 1;
    if si.si_code != SYS_SECCOMP {
        return None;
    }
    let (nr, arch) = sigsys_fields(&si);
    Some(SyscallStop {
        nr,
        arch,
        trap_data: Some(si.si_errno),
    })
}

/// `si_syscall` and `si_arch` of a SIGSYS siginfo (`_sigsys`: `_call_addr`
/// at offset 16, `_syscall` at 24 (or 20 on 32-bit), `_arch` after it).
pub fn sigsys_fields(si: &libc::siginfo_t) -> (u32, u32) {
    let ptr = std::mem::size_of::<usize>();
    let base = if ptr == 8 { 16 } else { 12 };
    // SAFETY: siginfo_t is 128 bytes of plain data; we read two u32 inside it.
    let bytes: &[u8; 128] = unsafe { &*(si as *const libc::siginfo_t).cast::<[u8; 128]>() };
    let at = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().unwrap_or_default());
    (at(base + ptr), at(base + ptr + 4))
}

/// At the exit stop of a thread killed by SIGSYS: the syscall it was in.
fn killed_syscall(pid: i32) -> Option<SyscallStop> {
    let arch = tracee::audit_arch(pid).ok()?;
    let nr = tracee::syscall_nr_register(pid).ok()??;
    Some(SyscallStop {
        nr: nr as u32,
        arch,
        trap_data: None,
    })
}
