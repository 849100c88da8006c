//! Standard output that a reader who stops early cannot turn into a crash.
//!
//! `std::println!` panics ("failed printing to stdout: Broken pipe",
//! exit 101) when the reader has gone, as in `syscage lint f.bpf | head -1`.
//! Every result `syscage` prints goes through `out!`/`outln!` or
//! [`write_bytes`] instead (clippy's `disallowed_macros` in this crate's
//! `clippy.toml` refuses `println!`/`print!`).
//!
//! Behaviour: once the reader has closed the pipe (`EPIPE`), further output
//! is dropped silently and the command carries on; its exit code is the one
//! it would have had (so `lint | head` still exits 1 on findings). Any other
//! write error (a full disk) also stops the output, and [`finish`] returns
//! it, so that `main` reports it and exits 2.

use std::io::{self, Write};
use std::sync::Mutex;

/// What went wrong writing standard output, if anything.
enum State {
    Open,
    /// The reader has gone (`EPIPE`): not an error.
    ReaderGone,
    /// Any other write error: reported by [`finish`].
    Failed(io::Error),
}

static STATE: Mutex<State> = Mutex::new(State::Open);

/// Writes `bytes` to standard output, unless it is closed.
pub fn write_bytes(bytes: &[u8]) {
    with_stdout(|out| out.write_all(bytes));
}

/// Writes formatted text to standard output, unless it is closed (what
/// `out!` and `outln!` expand to).
pub fn write_fmt(args: std::fmt::Arguments<'_>) {
    with_stdout(|out| out.write_fmt(args));
}

/// Flushes standard output; returns the write error that stopped it, if
/// any other than the reader having gone.
pub fn finish() -> io::Result<()> {
    with_stdout(|out| out.flush());
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    match std::mem::replace(&mut *state, State::ReaderGone) {
        State::Failed(e) => Err(e),
        State::Open | State::ReaderGone => Ok(()),
    }
}

fn with_stdout(f: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if !matches!(*state, State::Open) {
        return;
    }
    #[allow(clippy::disallowed_methods)] // the one place that writes stdout
    let mut out = io::stdout().lock();
    if let Err(e) = f(&mut out) {
        *state = if e.kind() == io::ErrorKind::BrokenPipe {
            State::ReaderGone
        } else {
            State::Failed(e)
        };
    }
}

/// `print!` for results: see the [module docs](self).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout::write_fmt(format_args!($($arg)*))
    };
}

/// `println!` for results: see the [module docs](self).
macro_rules! outln {
    () => {
        $crate::output::stdout::write_bytes(b"\n")
    };
    ($($arg:tt)*) => {
        $crate::output::stdout::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
