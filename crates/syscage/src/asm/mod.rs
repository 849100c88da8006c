//! seccomp-tools' assembly syntax: the disassembler ([`print`]) and the
//! assembler ([`parse`]).

pub mod parse;
pub mod print;
