//! # syscage-linux
//!
//! The Linux side of syscage: installing seccomp filters, probing what the
//! kernel supports, ptrace (record, dump) and process status. All of
//! syscage's `unsafe` lives in this crate, each block with a `// SAFETY:`
//! comment.

pub mod dump;
pub mod tracee;
