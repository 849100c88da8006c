//! The syntax tree of a policy file, before names are resolved.

use super::error::Location;
use crate::action::Action;
use crate::arch::Arch;
use crate::policy::Width;

/// One statement, with where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    /// Where the statement starts.
    pub loc: Location,
    /// What it says.
    pub kind: StmtKind,
}

/// The statements of the language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StmtKind {
    /// `default ACTION`: the action when no rule matches.
    Default(Action),
    /// `bad-arch ACTION`: the action for arches the policy does not list.
    BadArch(Action),
    /// `unknown-syscall ACTION`: the action for numbers no table knows.
    Unknown(Action),
    /// `arches A, B`: the arches, in the order they are checked.
    Arches(Vec<Arch>),
    /// `option NAME on|off`: a filter attribute.
    Option(FilterOption, bool),
    /// `include "FILE"`.
    Include(String),
    /// `define NAME = VALUE`: a name for a number, usable after it.
    Define(String, u64),
    /// `arch A { RULES }`: rules for one arch only; `arch other { RULES }`
    /// (`None`): rules by number for the arches the policy does not list
    /// ([`crate::policy::Policy::other_rule_add`]).
    ArchSection(Option<Arch>, Vec<RuleStmt>),
    /// `ACTION TARGETS [if COND]`, or `ACTION { ... }` (several rules).
    Rules(Vec<RuleStmt>),
}

/// Filter attributes (`SCMP_FLTATR_*`) settable with `option`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterOption {
    /// `no-new-privs` (`SCMP_FLTATR_CTL_NNP`).
    NoNewPrivs,
    /// `tsync` (`SECCOMP_FILTER_FLAG_TSYNC`).
    Tsync,
    /// `log` (`SECCOMP_FILTER_FLAG_LOG`).
    Log,
    /// `spec-allow` (`SECCOMP_FILTER_FLAG_SPEC_ALLOW`).
    SpecAllow,
}

impl FilterOption {
    /// Every option with its spelling.
    pub const ALL: [(FilterOption, &'static str); 4] = [
        (FilterOption::NoNewPrivs, "no-new-privs"),
        (FilterOption::Tsync, "tsync"),
        (FilterOption::Log, "log"),
        (FilterOption::SpecAllow, "spec-allow"),
    ];
}

/// One rule statement: an action for syscalls, when a condition holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleStmt {
    /// Where the rule starts.
    pub loc: Location,
    /// The action.
    pub action: Action,
    /// The syscalls.
    pub targets: Vec<Target>,
    /// The condition (`None`: always).
    pub cond: Option<Cond>,
}

/// A syscall named by a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A syscall name (resolved per arch).
    Name(String, Location),
    /// A raw number (`seccomp_data.nr`).
    Nr(u32, Location),
    /// A named group (`@file-system`).
    Group(String, Location),
    /// `unnamed A..=B`: every number of the range that no rule names
    /// (a [`crate::policy::NumberRange`]).
    Unnamed(u32, u32, Location),
}

/// A condition on the arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Any of them holds (`||`).
    Or(Vec<Cond>),
    /// All of them hold (`&&`).
    And(Vec<Cond>),
    /// One test of one argument.
    Test(Test),
}

/// One argument as a condition names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgName {
    /// `arg0`..`arg5` or a parameter name (`fd`, `prot`).
    pub name: String,
    /// 64-bit (default) or `(u32)`.
    pub width: Width,
    /// Where it is written.
    pub loc: Location,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// `ARG OP VALUE`.
    Cmp(ArgName, Op, u64),
    /// `ARG & MASK == VALUE` (or `!=` when `equal` is false).
    Masked {
        /// The argument.
        arg: ArgName,
        /// The mask.
        mask: u64,
        /// The value the masked bits are compared with.
        value: u64,
        /// `==` (true) or `!=` (false).
        equal: bool,
    },
    /// `ARG in {A, B..=C, D..}` (or `not in` when `member` is false).
    In {
        /// The argument.
        arg: ArgName,
        /// Inclusive ranges (a single value is `(v, Some(v))`; `None`: up
        /// to the largest value of the argument's width, written `A..`).
        set: Vec<(u64, Option<u64>)>,
        /// `in` (true) or `not in` (false).
        member: bool,
    },
}
