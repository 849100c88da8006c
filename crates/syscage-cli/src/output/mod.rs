//! Everything `syscage` writes as its result: standard output
//! (`stdout`, through the `out!`/`outln!` macros), and the files named by
//! `-o` (`file`).

#[macro_use]
pub mod stdout;
pub mod file;
