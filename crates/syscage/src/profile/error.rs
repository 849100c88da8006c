//! Errors and warnings of profile handling. Every error names the JSON path
//! of the offending value (`syscalls[12].args[0].op`) and, when the profile
//! came from text, its line and column.

use super::json::Pos;
use std::fmt;

/// What is wrong with a profile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileErrorKind {
    /// The text is not JSON.
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// A value of the wrong JSON type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// The type the field needs.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// A required field is absent.
    #[error("missing required field '{0}'")]
    MissingField(&'static str),
    /// A field neither moby nor the runtime-spec defines (typos would
    /// otherwise silently change the filter).
    #[error("unknown field '{0}' (expected one of: {1})")]
    UnknownField(String, &'static str),
    /// A key given twice in one object.
    #[error("duplicate field '{0}'")]
    DuplicateField(String),
    /// An action name that is not `SCMP_ACT_*`.
    #[error("unknown action '{0}' (expected one of: SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)")]
    UnknownAction(String),
    /// An operator name that is not `SCMP_CMP_*`.
    #[error("unknown operator '{0}' (expected one of: SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)")]
    UnknownOperator(String),
    /// An arch name that is not `SCMP_ARCH_*` (or, in `includes`/`excludes`, not a moby arch name).
    #[error("unknown architecture '{0}' (expected {1})")]
    UnknownArch(String, &'static str),
    /// An arch libseccomp knows but syscage cannot compile for.
    #[error("architecture '{0}' is not supported by syscage")]
    UnsupportedArch(String),
    /// A filter flag that is not `SECCOMP_FILTER_FLAG_*`.
    #[error("unknown flag '{0}' (expected one of: SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)")]
    UnknownFlag(String),
    /// An errno name that is not a Linux errno.
    #[error("unknown errno name '{0}' (expected a Linux errno such as EPERM or ENOSYS)")]
    UnknownErrno(String),
    /// `errno` and `errnoRet` disagree.
    #[error("errno '{name}' is {by_name}, but errnoRet is {value}")]
    ErrnoMismatch {
        /// The `errno` name.
        name: String,
        /// Its number.
        by_name: u16,
        /// The `errnoRet` number.
        value: u16,
    },
    /// An argument index above 5.
    #[error("argument index {0} is out of range (expected 0 to 5)")]
    ArgIndex(u64),
    /// A number out of its field's range.
    #[error("{value} is out of range (expected at most {max})")]
    OutOfRange {
        /// The number as written.
        value: String,
        /// The largest accepted value.
        max: u64,
    },
    /// `errnoRet` on an action that carries no data.
    #[error("errnoRet is not allowed with {0} (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one)")]
    ErrnoRetOnAction(&'static str),
    /// Both `name` and `names` in one rule.
    #[error("both 'name' and 'names' are given (use either 'name' or 'names')")]
    NameAndNames,
    /// Neither `name` nor `names`.
    #[error("no syscall name (expected 'names' with at least one name, or 'name')")]
    NoName,
    /// Both `architectures` and `archMap`.
    #[error("both 'architectures' and 'archMap' are given (use either, as moby requires)")]
    ArchitecturesAndArchMap,
    /// A profile runc + libseccomp refuse to load (a rule libseccomp's
    /// `seccomp_rule_add` fails on), so no container would start with it.
    #[error("{0}")]
    Rejected(String),
    /// A policy feature the JSON format cannot express with the same meaning.
    #[error("cannot be written as a profile: {0}")]
    Inexpressible(String),
    /// A `minKernel` that is not `X.Y`.
    #[error("invalid kernel version '{0}' (expected MAJOR.MINOR, e.g. 5.8)")]
    KernelVersion(String),
}

/// A profile error with its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    /// JSON path of the offending value (`$` for the whole document).
    pub path: String,
    /// Line and column in the text, when known.
    pub pos: Option<Pos>,
    /// What is wrong.
    pub kind: ProfileErrorKind,
}

impl fmt::Display for ProfileError {
    /// `LINE:COL: PATH: message` (the CLI puts `FILE:` in front).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pos) = self.pos {
            write!(f, "{pos}: ")?;
        }
        write!(f, "{}: {}", self.path, self.kind)
    }
}

impl std::error::Error for ProfileError {}

/// Something legal that changes what a reader may expect: a syscall skipped
/// on an arch, a rule libseccomp drops. Printed on stderr by the CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// JSON path of the rule concerned (`syscalls[3]`), or `$`.
    pub path: String,
    /// What happens.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}
