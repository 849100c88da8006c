//! Errors of the policy language: `file:line:col: message`, and the chain
//! of includes that led to the file.

use std::fmt;

/// A line and column, both from 1 (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub col: u32,
}

/// A place in a policy file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file as the user named it (or as the include resolved it).
    pub file: String,
    /// Line and column.
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.pos.line, self.pos.col)
    }
}

/// Why a policy file was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LangError {
    /// The file the error is in.
    pub file: String,
    /// Where in it.
    pub pos: Pos,
    /// What was wrong and what was expected.
    pub message: String,
    /// The `include` statements that led to `file`, innermost first.
    pub included_from: Vec<Location>,
}

impl LangError {
    /// An error at `file:pos`.
    pub fn new(file: &str, pos: Pos, message: String) -> Self {
        LangError {
            file: file.to_string(),
            pos,
            message,
            included_from: Vec::new(),
        }
    }

    /// An error at a location.
    pub fn at(loc: &Location, message: String) -> Self {
        LangError::new(&loc.file, loc.pos, message)
    }
}

impl fmt::Display for LangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.pos.line, self.pos.col, self.message
        )?;
        for l in &self.included_from {
            write!(f, "\n  (included from {l})")?;
        }
        Ok(())
    }
}
