//! Everything `syscage` writes as its result: standard output
//! (`stdout`, through the `out!`/`outln!` macros).

#[macro_use]
pub mod stdout;
