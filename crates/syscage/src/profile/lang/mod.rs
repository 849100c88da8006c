//! syscage's native policy language (files `*.policy`, format name
//! `policy`): a readable text that says everything a [`Policy`] says, and
//! so everything `decompile` finds in a filter.
//!
//! ```text
//! # Comments run to the end of the line.
//! arches x86_64, x32                 # checked in this order
//! default errno(EPERM)               # no rule matches
//! bad-arch kill-process              # an arch not listed
//! unknown-syscall errno(ENOSYS)      # a number no syscall table knows
//! include "base.policy"              # relative to this file
//!
//! allow @basic-io, @memory, exit_group
//! allow write if fd in {1, 2}
//! allow mmap if prot & 0x4 == 0 && (u32)flags == 0x22
//! kill-process ptrace, @mount
//! arch x32 {
//!     errno(ENOSYS) read if count > 0x1000
//! }
//! ```
//!
//! Rules combine as in libseccomp: for a syscall, the most severe action
//! among the rules whose conditions hold wins ([`Policy::evaluate`]).
//! [`parse`] builds the policy through the checked builder; [`print`](fn@print)
//! writes any policy back, and `parse(print(p))` decides exactly like `p`.
//! docs/policy-language.md is the user's guide.
//!
//! ```
//! use syscage::action::Action;
//! use syscage::arch::Arch;
//! use syscage::bpf::data::SeccompData;
//! use syscage::profile::lang;
//!
//! let text = "arches x86_64\ndefault kill-process\nallow read, write if fd == 1\n";
//! let policy = lang::parse("x.policy", text, &mut lang::NoIncludes).unwrap();
//! let write = |fd| SeccompData { nr: 1, arch: Arch::X86_64.audit(), args: [fd, 0, 0, 0, 0, 0], ..Default::default() };
//! assert_eq!(policy.evaluate(&write(1)), Action::Allow);
//! assert_eq!(policy.evaluate(&write(2)), Action::KillProcess);
//! assert_eq!(lang::parse("x.policy", &lang::print(&policy), &mut lang::NoIncludes).unwrap(), policy);
//! ```

mod actions;
mod ast;
mod build;
mod conds;
mod error;
pub mod groups;
mod lexer;
mod parser;
mod printer;

pub use build::{MAX_FILES, MAX_FILE_BYTES, MAX_INCLUDE_DEPTH, MAX_RULES};
pub use error::{LangError, Location, Pos};
pub use printer::print;

use crate::policy::Policy;

/// The file extension of the language (without the dot).
pub const EXTENSION: &str = "policy";

/// Reads the files a policy includes. The library does no I/O itself: the
/// caller decides how paths are read (the CLI reads the file system).
pub trait Loader {
    /// A key naming the file `path` for include-cycle detection (e.g. its
    /// canonical path); by default the path itself.
    fn canonical(&self, path: &str) -> String {
        path.to_string()
    }

    /// The text of the file at `path` (already relative to the including
    /// file's directory), or why it cannot be read.
    fn read(&mut self, path: &str) -> Result<String, String>;
}

/// A [`Loader`] that refuses every include.
pub struct NoIncludes;

impl Loader for NoIncludes {
    fn read(&mut self, path: &str) -> Result<String, String> {
        Err(format!("includes are not available here ({path})"))
    }
}

/// Parses the policy in `text` (the file `file`), following its includes
/// with `loader`, and builds it through the checked builder.
pub fn parse(file: &str, text: &str, loader: &mut dyn Loader) -> Result<Policy, LangError> {
    build::build(file, text, loader)
}

/// Whether a file is in the policy language rather than JSON or raw BPF:
/// its name ends in `.policy`, or it is text whose first word starts a
/// statement of the language (or a `#` comment).
pub fn is_policy_language(path: &str, bytes: &[u8]) -> bool {
    if path.ends_with(".policy") {
        return true;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    first_word_is_statement(&head)
}

fn first_word_is_statement(text: &str) -> bool {
    let t = text.trim_start();
    if t.starts_with('#') {
        return true;
    }
    let word: String = t
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    parser::STATEMENT_WORDS.contains(&word.as_str()) || actions::action_word(&word)
}

#[cfg(test)]
mod tests;
