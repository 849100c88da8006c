//! The policy IR: what a filter should decide, before it is compiled.
//!
//! A [`Policy`] is libseccomp's filter context (`scmp_filter_ctx`): a default
//! action, the arches it covers, the action for other arches, an optional
//! action for syscall numbers unknown to the tables, and [`Rule`]s, each a
//! syscall, an action and an AND of argument [`Condition`]s; optionally
//! rules by number for the arches it does not list
//! ([`Policy::other_rule_add`]).
//!
//! [`Policy::evaluate`] is the reference evaluator of DESIGN.md's rule
//! semantics, deliberately simple: the compiler must agree with it on every
//! input.

mod builder;
mod eval;
pub mod lists;
mod merge;
pub mod multiplex;
mod numbers;
mod other;

pub use builder::{arg, arg32, ArgRef, PolicyError, MAX_ERRNO};
pub use eval::{x86_64_class, X86_64Class, X86_64_CLASS_RANGES};
pub use numbers::NumberRange;

use crate::action::Action;
use crate::arch::Arch;

/// Comparison of one argument with a constant (libseccomp's `SCMP_CMP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `SCMP_CMP_EQ`: arg == value.
    Eq(u64),
    /// `SCMP_CMP_NE`: arg != value.
    Ne(u64),
    /// `SCMP_CMP_LT`: arg < value (unsigned).
    Lt(u64),
    /// `SCMP_CMP_LE`: arg <= value (unsigned).
    Le(u64),
    /// `SCMP_CMP_GT`: arg > value (unsigned).
    Gt(u64),
    /// `SCMP_CMP_GE`: arg >= value (unsigned).
    Ge(u64),
    /// `SCMP_CMP_MASKED_EQ`: (arg & mask) == value.
    MaskedEq {
        /// Bits of the argument that are compared.
        mask: u64,
        /// Value they must have.
        value: u64,
    },
}

impl CmpOp {
    /// Whether `arg` satisfies the comparison (all operands already cut to
    /// the compared width by the caller).
    pub const fn holds(self, arg: u64) -> bool {
        match self {
            CmpOp::Eq(v) => arg == v,
            CmpOp::Ne(v) => arg != v,
            CmpOp::Lt(v) => arg < v,
            CmpOp::Le(v) => arg <= v,
            CmpOp::Gt(v) => arg > v,
            CmpOp::Ge(v) => arg >= v,
            CmpOp::MaskedEq { mask, value } => arg & mask == value,
        }
    }

    /// The same comparison with every constant cut to its low 32 bits.
    pub const fn low32(self) -> CmpOp {
        const M: u64 = 0xffff_ffff;
        match self {
            CmpOp::Eq(v) => CmpOp::Eq(v & M),
            CmpOp::Ne(v) => CmpOp::Ne(v & M),
            CmpOp::Lt(v) => CmpOp::Lt(v & M),
            CmpOp::Le(v) => CmpOp::Le(v & M),
            CmpOp::Gt(v) => CmpOp::Gt(v & M),
            CmpOp::Ge(v) => CmpOp::Ge(v & M),
            CmpOp::MaskedEq { mask, value } => CmpOp::MaskedEq {
                mask: mask & M,
                value: value & M,
            },
        }
    }

    /// The OCI operator name (`SCMP_CMP_EQ`, ...).
    pub const fn scmp_name(self) -> &'static str {
        match self {
            CmpOp::Eq(_) => "SCMP_CMP_EQ",
            CmpOp::Ne(_) => "SCMP_CMP_NE",
            CmpOp::Lt(_) => "SCMP_CMP_LT",
            CmpOp::Le(_) => "SCMP_CMP_LE",
            CmpOp::Gt(_) => "SCMP_CMP_GT",
            CmpOp::Ge(_) => "SCMP_CMP_GE",
            CmpOp::MaskedEq { .. } => "SCMP_CMP_MASKED_EQ",
        }
    }
}

/// How many bits of the argument a condition compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Width {
    /// All 64 bits (libseccomp's `SCMP_A0`..`SCMP_A5`).
    #[default]
    Bits64,
    /// Only the low 32 bits (libseccomp's `SCMP_A0_32`..`SCMP_A5_32`).
    Bits32,
}

/// One argument comparison (libseccomp's `struct scmp_arg_cmp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Condition {
    /// Argument index, 0 to 5.
    pub arg: u8,
    /// The comparison and its constant(s).
    pub op: CmpOp,
    /// 64-bit (default) or 32-bit comparison.
    pub width: Width,
}

impl Condition {
    /// A 64-bit comparison of argument `arg` (libseccomp's `SCMP_A0(op, …)`).
    pub const fn new(arg: u8, op: CmpOp) -> Self {
        Condition {
            arg,
            op,
            width: Width::Bits64,
        }
    }

    /// A comparison of the low 32 bits of argument `arg` (`SCMP_A0_32(…)`).
    pub const fn new32(arg: u8, op: CmpOp) -> Self {
        Condition {
            arg,
            op,
            width: Width::Bits32,
        }
    }

    /// Whether the condition holds for argument value `value` on an arch
    /// whose arguments are 64 bits wide (`wide`) or 32 (only the low word
    /// exists, and constants are cut to it, as libseccomp does).
    pub const fn holds(self, value: u64, wide: bool) -> bool {
        if wide && matches!(self.width, Width::Bits64) {
            self.op.holds(value)
        } else {
            self.op.low32().holds(value & 0xffff_ffff)
        }
    }
}

/// The syscall a rule is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyscallId {
    /// By name, resolved per arch; an arch without it skips the rule.
    Name(String),
    /// By number, as `seccomp_data.nr` carries it, on every arch of the rule.
    Nr(u32),
}

impl SyscallId {
    /// The number on `arch`, if the arch has this syscall.
    pub fn resolve(&self, arch: Arch) -> Option<u32> {
        match self {
            SyscallId::Name(n) => arch.syscall_nr(n),
            SyscallId::Nr(nr) => Some(*nr),
        }
    }
}

impl From<&str> for SyscallId {
    fn from(s: &str) -> Self {
        SyscallId::Name(s.to_string())
    }
}

/// One rule (libseccomp's `seccomp_rule_add`): `action` for `syscall` when
/// every condition holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The syscall.
    pub syscall: SyscallId,
    /// What to do when the conditions hold.
    pub action: Action,
    /// Conditions, all of which must hold (empty: always).
    pub conditions: Vec<Condition>,
    /// Restricts the rule to one arch of the policy (`None`: all of them).
    pub arch: Option<Arch>,
}

impl Rule {
    /// An unconditional rule.
    pub fn new(syscall: impl Into<SyscallId>, action: Action) -> Self {
        Rule {
            syscall: syscall.into(),
            action,
            conditions: Vec::new(),
            arch: None,
        }
    }

    /// Adds a condition (builder style).
    pub fn with(mut self, cond: Condition) -> Self {
        self.conditions.push(cond);
        self
    }

    /// Restricts the rule to one arch (builder style).
    pub fn on_arch(mut self, arch: Arch) -> Self {
        self.arch = Some(arch);
        self
    }
}

/// Filter attributes (libseccomp's `SCMP_FLTATR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// Set `PR_SET_NO_NEW_PRIVS` before loading (`SCMP_FLTATR_CTL_NNP`).
    pub no_new_privs: bool,
    /// Sync the filter to all threads (`SECCOMP_FILTER_FLAG_TSYNC`).
    pub tsync: bool,
    /// Log every action but ALLOW (`SECCOMP_FILTER_FLAG_LOG`).
    pub log: bool,
    /// Leave speculative store bypass mitigation off (`SECCOMP_FILTER_FLAG_SPEC_ALLOW`).
    pub spec_allow: bool,
    /// `SCMP_FLTATR_CTL_OPTIMIZE`: libseccomp's optimization level, 1
    /// (priority order) or 2 (binary tree). syscage's compiler always
    /// optimizes; the value is kept for `seccomp_attr_get`.
    pub optimize: u8,
    /// `SCMP_FLTATR_API_TSKIP`: rules for syscall `-1` are accepted
    /// (tracers skip a syscall by setting its number to -1).
    pub api_tskip: bool,
    /// `SCMP_FLTATR_API_SYSRAWRC`: pass the kernel's errno back from
    /// `seccomp_load` and the exports instead of `-ECANCELED`.
    pub api_sysrawrc: bool,
    /// `SCMP_FLTATR_CTL_WAITKILL` (libseccomp 2.6):
    /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`.
    pub wait_kill: bool,
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes {
            no_new_privs: true,
            tsync: false,
            log: false,
            spec_allow: false,
            optimize: 1,
            api_tskip: false,
            api_sysrawrc: false,
            wait_kill: false,
        }
    }
}

/// A whole seccomp policy (libseccomp's filter context).
///
/// The fields are private: read them through the accessors
/// ([`Policy::default_action`], [`Policy::arches`], [`Policy::rules`],
/// [`Policy::attributes`], ...) and change them through the checked
/// builder with libseccomp's names ([`Policy::init`], [`Policy::reset`],
/// [`Policy::arch_add`], [`Policy::rule_add`], [`Policy::merge`],
/// [`Policy::set_attributes`], ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Action when no rule matches (`seccomp_init(def_action)`).
    default_action: Action,
    /// Action for an arch the policy does not name (`SCMP_FLTATR_ACT_BADARCH`).
    bad_arch_action: Action,
    /// Action for syscall numbers the arch's table does not know and no rule
    /// names, if set (typically `Errno(ENOSYS)`).
    unknown_action: Option<Action>,
    /// Arches covered, in the order their checks appear (`seccomp_arch_add`).
    arches: Vec<Arch>,
    /// The rules, in the order they were added.
    rules: Vec<Rule>,
    /// Filter attributes.
    attrs: Attributes,
    /// Syscall priorities (`seccomp_syscall_priority`): a hint for the
    /// order of checks; syscage's layout orders by expected frequency and
    /// never lets a priority change a decision.
    priorities: Vec<(SyscallId, u8)>,
    /// Number-range actions ([`NumberRange`]; through [`Policy::add_number_range`]).
    number_ranges: Vec<NumberRange>,
    /// Rules for arches the policy does not list, by number (through
    /// [`Policy::other_rule_add`]).
    other_rules: Vec<Rule>,
}

impl Policy {
    /// The policy `seccomp_init(default_action)` makes: the native arch,
    /// KILL_PROCESS for other arches, no rules, default attributes.
    /// Unchecked: [`Policy::init`] is the public way in.
    pub(super) fn new(default_action: Action) -> Self {
        Policy {
            default_action,
            bad_arch_action: Action::KillProcess,
            unknown_action: None,
            arches: vec![Arch::native()],
            rules: Vec::new(),
            attrs: Attributes::default(),
            priorities: Vec::new(),
            number_ranges: Vec::new(),
            other_rules: Vec::new(),
        }
    }

    /// Action when no rule matches (`SCMP_FLTATR_ACT_DEFAULT`).
    pub fn default_action(&self) -> Action {
        self.default_action
    }

    /// Action for an arch the policy does not name (`SCMP_FLTATR_ACT_BADARCH`).
    pub fn bad_arch_action(&self) -> Action {
        self.bad_arch_action
    }

    /// Action for syscall numbers the arch's table does not know and no
    /// rule names, if set (`None`: the default action decides them).
    pub fn unknown_action(&self) -> Option<Action> {
        self.unknown_action
    }

    /// Every action the policy decides a syscall of its arches or of
    /// `arch other` with: the default, the unknown-syscall action, each
    /// rule's, each number range's and each other-arch rule's (not the
    /// bad-arch action). [`Policy::map_actions`] replaces exactly these.
    pub fn decided_actions(&self) -> impl Iterator<Item = Action> + '_ {
        std::iter::once(self.default_action)
            .chain(self.unknown_action)
            .chain(self.rules.iter().map(|r| r.action))
            .chain(self.number_ranges.iter().map(|n| n.action))
            .chain(self.other_rules.iter().map(|r| r.action))
    }

    /// [`Policy::decided_actions`], in the same order, to be replaced.
    fn decided_actions_mut(&mut self) -> impl Iterator<Item = &mut Action> + '_ {
        std::iter::once(&mut self.default_action)
            .chain(self.unknown_action.as_mut())
            .chain(self.rules.iter_mut().map(|r| &mut r.action))
            .chain(self.number_ranges.iter_mut().map(|n| &mut n.action))
            .chain(self.other_rules.iter_mut().map(|r| &mut r.action))
    }

    /// The arches covered, in the order their checks appear.
    pub fn arches(&self) -> &[Arch] {
        &self.arches
    }

    /// The rules, in the order they were added (multiplexer rules that
    /// [`Policy::rule_add`] derived follow the rule they came from).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The filter attributes (`seccomp_attr_get`).
    pub fn attributes(&self) -> &Attributes {
        &self.attrs
    }

    /// Syscall priorities given with [`Policy::syscall_priority`], in the
    /// order given (one entry per syscall).
    pub fn priorities(&self) -> &[(SyscallId, u8)] {
        &self.priorities
    }
}
