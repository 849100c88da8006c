//! seccomp-tools' assembly syntax: the disassembler ([`print`]) and the
//! assembler ([`parse`]).

pub mod parse;
pub mod print;

// The assembler's parts and its output formats.
pub mod grammar;
pub mod lexer;
pub mod names;
pub mod output;
