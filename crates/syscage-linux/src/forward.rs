//! Waiting for a program while passing termination signals on to it, for
//! `run` and `dump` (`record` has its own loops over the same notes).
//!
//! The signals and what is passed on are [`crate::record`]'s
//! (`record::signals::Handlers` and `pass_on`): SIGINT, SIGTERM, SIGHUP
//! and SIGQUIT sent with kill(2) go to the program; one from the terminal
//! already reached the program's process group and is not sent twice.
//!
//! A note made just after the waiter looked and just before it blocked in
//! `waitpid` would wait until the program's next stop. So while a
//! [`Forwarding`] lives, the handled signals and SIGCHLD are blocked in the
//! calling thread (and in threads it starts after), children are waited
//! for with `WNOHANG`, and the waiter sleeps in `ppoll(2)`, which unblocks
//! them atomically: a signal, a child's exit or ptrace stop (SIGCHLD, which
//! gets a handler that does nothing, so that it interrupts) wakes it.
//! Threads started before may take a signal without waking it: the sleep
//! is bounded (a quarter second) for them.

use crate::record::signals::{self, Handlers, HANDLED};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use std::collections::HashSet;

/// Signal forwarding in force (see the module docs); dropping it puts
/// back the mask and the dispositions.
pub struct Forwarding {
    handlers: Handlers,
    old_mask: SigSet,
    /// The mask `ppoll` sleeps with: the old one without ours.
    sleep_mask: SigSet,
    old_chld: Option<SigAction>,
}

extern "C" fn on_sigchld(_sig: libc::c_int) {}

/// The signals a [`Forwarding`] blocks: the handled ones and SIGCHLD.
fn blocked() -> impl Iterator<Item = Signal> {
    HANDLED
        .iter()
        .filter_map(|&s| Signal::try_from(s).ok())
        .chain([Signal::SIGCHLD])
}

impl Forwarding {
    /// Installs the handlers and blocks the signals (call it before
    /// forking the program and before starting threads).
    pub fn start() -> Forwarding {
        let handlers = Handlers::install();
        let act = SigAction::new(
            SigHandler::Handler(on_sigchld),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler does nothing (async-signal-safe); the old
        // disposition is put back on drop.
        let old_chld = unsafe { sigaction(Signal::SIGCHLD, &act) }.ok();
        let block: SigSet = blocked().collect();
        let old_mask = block
            .thread_swap_mask(SigmaskHow::SIG_BLOCK)
            .unwrap_or_else(|_| SigSet::thread_get_mask().unwrap_or_else(|_| SigSet::empty()));
        let mut sleep_mask = old_mask;
        for s in blocked() {
            sleep_mask.remove(s);
        }
        Forwarding {
            handlers,
            old_mask,
            sleep_mask,
            old_chld,
        }
    }

    /// For a forked child before `execve`: puts back the dispositions and
    /// the signal mask the program would have had without us.
    /// Async-signal-safe.
    ///
    /// # Safety
    /// Call it in a freshly forked child only.
    pub(crate) unsafe fn restore_in_child(&self) {
        // SAFETY: the caller is a forked child; these only set its own
        // dispositions and mask from values the kernel gave us.
        unsafe {
            crate::fork_exec::reset_signal_dispositions(self.handlers.replaced());
            if let Some(old) = &self.old_chld {
                let _ = sigaction(Signal::SIGCHLD, old);
            }
        }
        let _ = self.old_mask.thread_set_mask();
    }

    /// Whether a signal was noted and not yet passed on.
    pub fn noted(&self) -> bool {
        signals::any_noted()
    }

    /// Passes noted signals on: to `root` while it lives, else to every
    /// pid of `program`. Returns the signals passed on.
    pub fn pass_on(
        &self,
        root: libc::pid_t,
        root_alive: bool,
        program: &HashSet<libc::pid_t>,
    ) -> Vec<libc::c_int> {
        if !signals::any_noted() {
            return Vec::new();
        }
        signals::pass_on(&self.handlers, root, root_alive, program)
    }

    /// Sleeps until a signal (a handled one, or SIGCHLD) arrives, `fd`
    /// (when given) is readable or hung up, or a quarter second passed.
    pub fn sleep(&self, fd: Option<i32>) {
        let mut pfd = libc::pollfd {
            fd: fd.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: 250_000_000,
        };
        // SAFETY: one pollfd (a negative fd is ignored by the kernel), a
        // timeout and a mask on the stack, all valid for the call.
        unsafe { libc::ppoll(&mut pfd, 1, &timeout, self.sleep_mask.as_ref()) };
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        // Puts back what start() replaced. A signal still pending is
        // delivered to the note handler, which is still installed until
        // `handlers` drops after this.
        let _ = self.old_mask.thread_set_mask();
        if let Some(old) = &self.old_chld {
            // SAFETY: restores a disposition the kernel gave us earlier.
            let _ = unsafe { sigaction(Signal::SIGCHLD, old) };
        }
    }
}
