//! A validator that accepts exactly what the kernel accepts: the rules of
//! `bpf_check_classic` (net/core/filter.c) and `seccomp_check_filter`
//! (kernel/seccomp.c). Every rejection names the instruction and the rule.

use super::{Program, RawInsn};

/// Why the kernel would refuse a filter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidateError {
    /// Zero instructions, or more than `BPF_MAXINSNS` (4096).
    #[error("a filter has 1 to 4096 instructions, this one has {0}")]
    Length(usize),
    /// A rule broken by one instruction.
    #[error("instruction {index}: {rule}")]
    Insn {
        /// Index of the instruction.
        index: usize,
        /// The rule, in words.
        rule: String,
    },
}

/// Checks raw instructions as the kernel would and returns the typed program.
pub fn validate(raw: &[RawInsn]) -> Result<Program, ValidateError> {
    if raw.is_empty() || raw.len() > super::insn::BPF_MAXINSNS {
        return Err(ValidateError::Length(raw.len()));
    }
    Program::from_raw(raw).map_err(|e| ValidateError::Insn {
        index: e.index,
        rule: e.source.to_string(),
    })
}
