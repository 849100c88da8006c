//! seccomp-tools' assembly syntax: the disassembler ([`print`]) and the
//! assembler ([`parse`]).

pub mod parse;

// The disassembler and what it builds on.
pub mod infer;
pub mod print;
pub mod symbol;
