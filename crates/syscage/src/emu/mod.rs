//! The emulator: runs a [`Program`] on one `struct seccomp_data` with the
//! kernel's semantics.

use crate::action::Action;
use crate::bpf::data::SeccompData;
use crate::bpf::{ByteOrder, Program};

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The 32-bit value the filter returned.
    pub ret: u32,
    /// The action the kernel takes for it.
    pub action: Action,
    /// Instructions executed, the `RET` included.
    pub steps: usize,
    /// Indices of the executed instructions, when tracing was asked for.
    pub trace: Option<Vec<usize>>,
}

/// A program that cannot run to a `RET` (the validator refuses all of these).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmuError {
    /// Placeholder until the emulator lands.
    #[error("instruction {0}: the emulator is not implemented yet")]
    Unimplemented(usize),
}

/// Runs `prog` on `data`, 64-bit fields laid out in `order`.
pub fn run(prog: &Program, data: &SeccompData, order: ByteOrder) -> Result<Outcome, EmuError> {
    let _ = (prog, data, order);
    Err(EmuError::Unimplemented(0))
}
