//! Waking the tracer out of `waitpid` when a handled signal was noted.
//!
//! The tracer looks at the notes after each stop and then blocks in
//! `waitpid`; a signal whose handler ran between that look and the
//! `waitpid` (or on another thread of the process) would otherwise wait
//! for the program's next stop, forever for a program that sleeps. The
//! signal handler writes a byte to a pipe; a waker thread reading it
//! interrupts the tracer thread with [`WAKE`] (a handler without
//! `SA_RESTART`, so `waitpid` fails with `EINTR`) every millisecond until
//! the tracer has taken the notes. There is no wait that atomically
//! unblocks signals and waits for ptrace stops, hence a thread.

use super::signals;
use nix::fcntl::OFlag;
use nix::sys::pthread::{pthread_kill, pthread_self};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::pipe2;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The signal that interrupts the tracer's `waitpid`: rarely used
/// (out-of-band socket data with `F_SETOWN`), ignored by default.
pub(crate) const WAKE: Signal = Signal::SIGURG;

extern "C" fn interrupt(_sig: libc::c_int) {}

/// The waker thread, running for as long as this value lives.
pub(crate) struct Waker {
    stop: Arc<AtomicBool>,
    write: OwnedFd,
    thread: Option<JoinHandle<()>>,
    old: SigAction,
}

impl Waker {
    /// Starts the waker for the calling thread (the tracer).
    pub(crate) fn start() -> io::Result<Waker> {
        let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
        nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
            .map_err(io::Error::from)?;
        let act = SigAction::new(
            SigHandler::Handler(interrupt),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: `interrupt` does nothing, which is async-signal-safe.
        let old = unsafe { sigaction(WAKE, &act) }.map_err(io::Error::from)?;
        let stop = Arc::new(AtomicBool::new(false));
        let tracer = pthread_self();
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("syscage-record-waker".into())
                .spawn(move || wake_loop(&read, tracer, &stop))?
        };
        signals::set_wake_fd(write.as_raw_fd());
        Ok(Waker {
            stop,
            write,
            thread: Some(thread),
            old,
        })
    }
}

fn wake_loop(read: &OwnedFd, tracer: nix::sys::pthread::Pthread, stop: &AtomicBool) {
    let mut buf = [0u8; 64];
    loop {
        match nix::unistd::read(read, &mut buf) {
            Ok(0) => return,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        while signals::any_noted() && !stop.load(Ordering::SeqCst) {
            // The tracer thread lives until `Waker` is dropped, which joins
            // this thread first.
            if pthread_kill(tracer, WAKE).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        signals::set_wake_fd(-1);
        self.stop.store(true, Ordering::SeqCst);
        // A full pipe already wakes the thread.
        let _ = nix::unistd::write(&self.write, &[1]);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // SAFETY: restores the disposition the kernel gave us in `start`.
        let _ = unsafe { sigaction(WAKE, &self.old) };
    }
}
