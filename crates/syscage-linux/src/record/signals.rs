//! Signals sent to the recorder while it runs.
//!
//! `SIGINT`, `SIGTERM`, `SIGHUP` and `SIGQUIT` do not kill the recorder:
//! a handler notes them (and who sent them) and the tracer decides. A
//! signal from the terminal (`si_code == SI_KERNEL`: Ctrl-C, Ctrl-\,
//! hang-up) reached the program's process group too, so it is not passed
//! on; one sent with kill(2) by someone else is passed to the program, as
//! a shell that `exec`s would receive it; one sent by a traced process
//! (a tracee killing its parent) is dropped. The recorder then keeps
//! tracing until the program is gone and still writes its profile.
//!
//! A signal the recorder was started with ignored stays ignored (and so
//! is inherited ignored by the program, as it would be untraced).
//!
//! The handler is installed without `SA_RESTART`, so `waitpid` returns
//! `EINTR` and the tracer looks at the notes at once.

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

/// The signals handled, in the order of [`NOTES`].
pub(crate) const HANDLED: [libc::c_int; 4] =
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Per handled signal: 0, or `PENDING | FROM_USER? | sender pid`.
static NOTES: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Set by the handler when any note is pending.
static ANY: AtomicBool = AtomicBool::new(false);
/// The write end of the waker's pipe ([`super::wake`]), or -1.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
const PENDING: u64 = 1 << 63;
const FROM_USER: u64 = 1 << 62;

/// One noted signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Noted {
    /// The signal.
    pub sig: libc::c_int,
    /// The sender's pid if it was sent with kill(2)/sigqueue(3) (not by
    /// the kernel or the terminal).
    pub sender: Option<libc::pid_t>,
}

extern "C" fn note(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let Some(i) = HANDLED.iter().position(|&s| s == sig) else {
        return;
    };
    let mut v = PENDING;
    if !info.is_null() {
        // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
        let (code, pid) = unsafe { ((*info).si_code, (*info).si_pid()) };
        if code <= 0 {
            v |= FROM_USER | (pid as u32 as u64);
        }
    }
    NOTES[i].store(v, Ordering::SeqCst);
    ANY.store(true, Ordering::SeqCst);
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) of one byte from a live local to a non-blocking
        // pipe; async-signal-safe. A full pipe already wakes the waker.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

/// Where the handler writes a byte after noting a signal (-1: nowhere).
pub(crate) fn set_wake_fd(fd: libc::c_int) {
    WAKE_FD.store(fd, Ordering::SeqCst);
}

/// Whether a signal was noted and not yet taken (a cheap check the tracer
/// makes after every stop).
pub(crate) fn any_noted() -> bool {
    ANY.load(Ordering::Relaxed)
}

/// The handlers, installed for as long as this value lives; the previous
/// dispositions come back on drop.
pub(crate) struct Handlers {
    old: Vec<(Signal, SigAction)>,
}

impl Handlers {
    /// Installs the noting handler for [`HANDLED`].
    pub(crate) fn install() -> Handlers {
        for n in &NOTES {
            n.store(0, Ordering::SeqCst);
        }
        let mut old = Vec::new();
        for sig in HANDLED {
            // An ignored signal stays ignored, so the program inherits
            // that as it would untraced (`nohup`, background jobs).
            let Ok(signal) = Signal::try_from(sig) else {
                continue;
            };
            if crate::fork_exec::ignored_now(sig) {
                continue;
            }
            let act = SigAction::new(
                SigHandler::SigAction(note),
                SaFlags::SA_SIGINFO,
                SigSet::empty(),
            );
            // SAFETY: `note` only touches atomics and write(2), which are
            // async-signal-safe.
            if let Ok(prev) = unsafe { sigaction(signal, &act) } {
                old.push((signal, prev));
            }
        }
        Handlers { old }
    }

    /// Takes the signals noted since the last call.
    pub(crate) fn take(&self) -> Vec<Noted> {
        ANY.store(false, Ordering::SeqCst);
        let mut out = Vec::new();
        for (i, n) in NOTES.iter().enumerate() {
            let v = n.swap(0, Ordering::SeqCst);
            if v & PENDING != 0 {
                let sender = (v & FROM_USER != 0).then_some(v as u32 as libc::pid_t);
                out.push(Noted {
                    sig: HANDLED[i],
                    sender,
                });
            }
        }
        out
    }
}

impl Handlers {
    /// The dispositions the handlers replaced, for the child to put back
    /// between fork and execve (so a Ctrl-C in that instant acts as it
    /// would on the program).
    pub(crate) fn replaced(&self) -> &[(Signal, SigAction)] {
        &self.old
    }
}

/// Passes the signals noted since the last call on to the program, as
/// the module says: one from the terminal is dropped (the program's group
/// got it too), one from the program itself (`program` holds the pids the
/// recorder knows of it) is dropped, any other goes to `root` while it
/// lives and to every pid of `program` after. Returns the signals passed on.
pub(crate) fn pass_on(
    handlers: &Handlers,
    root: libc::pid_t,
    root_alive: bool,
    program: &HashSet<libc::pid_t>,
) -> Vec<libc::c_int> {
    let mut passed = Vec::new();
    for noted in handlers.take() {
        let Some(sender) = noted.sender else {
            continue;
        };
        if sender == root || program.contains(&sender) {
            continue;
        }
        let targets: Vec<libc::pid_t> = if root_alive {
            vec![root]
        } else {
            program.iter().copied().collect()
        };
        let Ok(sig) = nix::sys::signal::Signal::try_from(noted.sig) else {
            continue;
        };
        for t in targets {
            // It may be gone.
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(t), sig);
        }
        passed.push(noted.sig);
    }
    passed
}

impl Drop for Handlers {
    fn drop(&mut self) {
        for (sig, prev) in &self.old {
            // SAFETY: restores a disposition the kernel gave us earlier.
            let _ = unsafe { sigaction(*sig, prev) };
        }
    }
}
