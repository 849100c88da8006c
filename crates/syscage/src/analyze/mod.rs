//! Symbolic analysis of programs: lifting to decision tables, explain,
//! lint, diff, decompile.

pub mod domain;
pub mod lift;
pub mod diff;
pub mod verify;
