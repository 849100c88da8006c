//! seccomp-tools' assembly syntax: the disassembler ([`print`](mod@print)) and the
//! assembler ([`parse`]).

pub mod parse;

// The disassembler and what it builds on.
pub mod infer;
pub mod print;
pub mod symbol;

// The assembler's parts and its output formats.
pub mod grammar;
pub mod lexer;
pub mod names;
pub mod output;
