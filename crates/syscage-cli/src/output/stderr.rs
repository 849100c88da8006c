//! Diagnostics (errors, warnings, summaries) on standard error that a
//! closed or full stderr cannot turn into a crash.
//!
//! `std::diagln!` panics ("failed printing to stderr", exit 101) when the
//! write fails: a pipe whose reader has gone (`EPIPE`), `2>/dev/full`
//! (`ENOSPC`). Every diagnostic `syscage` prints goes through
//! `diag!`/`diagln!` instead, which drop what cannot be written; the exit
//! code is the one the command would have had. `main.rs` denies
//! `clippy::print_stderr` for the whole program, and this crate's
//! `clippy.toml` refuses `std::io::stderr` outside this module.

use std::io::{self, Write};

/// Writes formatted text to standard error, dropping it when stderr cannot
/// take it (what `diag!` and `diagln!` expand to).
pub fn write_fmt(args: std::fmt::Arguments<'_>) {
    #[allow(clippy::disallowed_methods)] // the one place that writes stderr
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args);
}

/// Whether standard error is a terminal (for progress lines).
pub fn is_terminal() -> bool {
    use std::io::IsTerminal;
    #[allow(clippy::disallowed_methods)] // the one place that touches stderr
    io::stderr().is_terminal()
}

/// `diag!` for diagnostics: see the [module docs](self).
macro_rules! diag {
    ($($arg:tt)*) => {
        $crate::output::stderr::write_fmt(format_args!($($arg)*))
    };
}

/// `diagln!` for diagnostics: see the [module docs](self).
macro_rules! diagln {
    () => {
        $crate::output::stderr::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::stderr::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
