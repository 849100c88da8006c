//! Symbolic analysis of programs: lifting to decision tables, explain,
//! lint, diff, decompile.

pub mod domain;
pub mod lift;
pub mod diff;
pub mod verify;
pub mod describe;
pub mod view;
pub mod explain;

pub use describe::describe_word;
pub mod lint;
pub mod decompile;
