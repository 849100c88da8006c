//! Symbolic analysis of programs: lifting to decision tables, explain,
//! lint, diff, decompile.

pub mod describe;
pub mod diff;
pub mod domain;
pub mod explain;
pub mod lift;
pub mod verify;
pub mod view;

pub use describe::describe_word;
pub mod decompile;
pub mod lint;
