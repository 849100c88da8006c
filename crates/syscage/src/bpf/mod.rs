//! Classic BPF as seccomp uses it: instructions ([`Insn`], [`RawInsn`]),
//! the raw `struct sock_filter` byte codec ([`codec`]), the layout of
//! `struct seccomp_data` ([`data`]) and a validator that accepts exactly what
//! the kernel accepts ([`validate`](mod@validate)).

pub mod codec;
pub mod data;
pub mod insn;
pub mod validate;

pub use codec::{ByteOrder, CodecError};
pub use insn::{AluOp, DecodeInsnError, Insn, JmpCond, RawInsn, Src};
pub use validate::{validate, ValidateError};

/// A seccomp filter program: the kernel's `struct sock_fprog`, typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Program {
    /// The instructions, executed from index 0.
    pub insns: Vec<Insn>,
}

/// A raw instruction whose opcode has no typed form, with its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("instruction {index}: {source}")]
pub struct DecodeError {
    /// Index of the offending instruction.
    pub index: usize,
    /// What is wrong with it.
    pub source: DecodeInsnError,
}

impl Program {
    /// Wraps a list of instructions.
    pub fn new(insns: Vec<Insn>) -> Self {
        Program { insns }
    }

    /// Number of instructions (`sock_fprog.len`).
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the program has no instruction.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Types every raw instruction; the first unknown opcode is an error.
    pub fn from_raw(raw: &[RawInsn]) -> Result<Self, DecodeError> {
        raw.iter()
            .enumerate()
            .map(|(index, r)| Insn::decode(*r).map_err(|source| DecodeError { index, source }))
            .collect::<Result<Vec<_>, _>>()
            .map(Program::new)
    }

    /// The raw instructions, as they are handed to the kernel.
    pub fn to_raw(&self) -> Vec<RawInsn> {
        self.insns.iter().map(|i| i.encode()).collect()
    }

    /// Decodes `struct sock_filter` bytes in the given byte order.
    pub fn from_bytes(bytes: &[u8], order: ByteOrder) -> Result<Self, codec::ProgramBytesError> {
        let raw = codec::decode(bytes, order)?;
        Ok(Program::from_raw(&raw)?)
    }

    /// Encodes to `struct sock_filter` bytes in the given byte order.
    pub fn to_bytes(&self, order: ByteOrder) -> Vec<u8> {
        codec::encode(&self.to_raw(), order)
    }
}

impl From<Vec<Insn>> for Program {
    fn from(insns: Vec<Insn>) -> Self {
        Program::new(insns)
    }
}
