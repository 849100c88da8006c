//! # syscage
//!
//! A seccomp-BPF toolkit: the pure, portable half of syscage. Everything
//! here is a pure function; installing filters, ptrace and process status
//! live in the `syscage-linux` crate.
//!
//! ```text
//!  profile text ──parse──▶ Policy ──compile──▶ Program ──encode──▶ bytes
//!  asm text ──────parse──────────────────────▲    ├──print──▶ disassembly
//!                                                 ├──run────▶ emulator verdict
//!                                                 └──lift───▶ explain / lint / diff
//! ```
//!
//! Modules: [`bpf`] (instructions, raw codec, validator), [`emu`]
//! (emulator), [`asm`] (seccomp-tools syntax), [`arch`] (audit arch ids and
//! syscall tables), [`action`] (`SECCOMP_RET_*`), [`policy`] (IR and
//! reference evaluator), [`compile`] (optimizing compiler), [`profile`]
//! (Docker/OCI JSON) and [`analyze`] (symbolic lifting).
//!
//! ```
//! use syscage::action::Action;
//! use syscage::arch::Arch;
//! use syscage::bpf::data::SeccompData;
//! use syscage::policy::{CmpOp, Condition, Policy, Rule};
//!
//! let mut policy = Policy::init(Action::Errno(1)).unwrap();
//! policy.set_arches(vec![Arch::X86_64]).unwrap();
//! policy.rule_add_verbatim(Rule::new("read", Action::Allow));
//! policy.rule_add_verbatim(Rule::new("write", Action::Allow).with(Condition::new(0, CmpOp::Eq(1))));
//!
//! let write_stdout = SeccompData { nr: 1, arch: Arch::X86_64.audit(), args: [1, 0, 0, 0, 0, 0], ..Default::default() };
//! assert_eq!(policy.evaluate(&write_stdout), Action::Allow);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
pub mod analyze;
pub mod arch;
pub mod asm;
pub mod bpf;
pub mod builtin;
pub mod compile;
pub mod emu;
pub mod policy;
pub mod profile;
pub mod record;

/// The README's Rust examples, compiled and run as doctests so that they
/// keep up with the API (`cargo test -p syscage --doc`).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
