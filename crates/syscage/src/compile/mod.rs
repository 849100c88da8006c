//! The optimizing compiler: [`Policy`] to [`Program`].

use crate::bpf::Program;
use crate::policy::Policy;

/// Options of the compiler.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {}

/// Why a policy cannot be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The program would exceed the kernel's 4096 instructions.
    #[error("the compiled filter has {0} instructions, more than the kernel's limit of 4096")]
    TooLong(usize),
}

/// Compiles a policy to a seccomp program.
pub fn compile(policy: &Policy, opts: &CompileOptions) -> Result<Program, CompileError> {
    let _ = (policy, opts);
    Err(CompileError::TooLong(0))
}
