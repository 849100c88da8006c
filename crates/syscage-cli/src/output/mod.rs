//! Everything `syscage` writes as its result: standard output
//! (`stdout`, through the `out!`/`outln!` macros), the files named by
//! `-o` (`file`), and diagnostics on standard error (`stderr`, through
//! `diag!`/`diagln!`).

#[macro_use]
pub mod stdout;
#[macro_use]
pub mod stderr;
pub mod file;
