//! The optimizing compiler: [`Policy`] to [`Program`], as a pipeline of
//! small passes, one module each:
//!
//! 1. [`resolve`]: per arch, which rules name which syscall number
//!    (names an arch lacks are skipped with a [`Warning`], as runc does);
//! 2. [`decision`]: per (arch, number), the decision: an action, or an
//!    argument check tree whose leaves are actions;
//! 3. [`ranges`]: per audit arch id, the whole 32-bit number line cut into
//!    ranges of equal decision (x32 folded into x86_64's line by bit 30,
//!    `nr == -1` as libseccomp treats it, unknown numbers, bad-arch parts);
//!    [`other`](mod@other): the line of arches the policy does not list;
//! 4. [`search`]: a binary search over the ranges (`JGE` splits and `JEQ`
//!    exception chains), optimal for a weight per range, taken from a
//!    syscall-frequency table ([`frequency`]);
//! 5. [`args`]: argument checks inside a leaf, 64-bit comparisons split in
//!    high and low words in the arch's byte order, no redundant loads;
//!    runs of one-argument arms of one action as one [`argset`] (each word
//!    loaded and searched once); runs of arms that begin with the same
//!    condition test it once ([`share`]);
//! 6. [`emit`] and [`layout`]: arch dispatch, sections, shared return
//!    blocks, jumps farther than 255 through `JA` (or a copied `RET`), the
//!    4096-instruction limit; a program over it is laid out again by
//!    [`compact`], far jumps sharing their trampolines.
//!
//! Every path whose decision does not depend on arguments loads only
//! `arch` and `nr`, so the kernel's action cache (Linux ≥ 5.11) answers it.
//! Output is deterministic. [`stats`](mod@stats) measures a compiled program.
//!
//! ```
//! use syscage::action::Action;
//! use syscage::arch::Arch;
//! use syscage::bpf::{data::SeccompData, ByteOrder};
//! use syscage::compile::{compile, CompileOptions};
//! use syscage::policy::{arg, Policy};
//!
//! let mut p = Policy::init(Action::Errno(1)).unwrap();
//! p.set_arches(vec![Arch::X86_64]).unwrap();
//! p.rule_add(Action::Allow, "write", &[arg(0).eq(1)]).unwrap();
//! let prog = compile(&p, &CompileOptions::default()).unwrap();
//! let d = SeccompData { nr: 1, arch: Arch::X86_64.audit(), args: [1, 0, 0, 0, 0, 0], ..Default::default() };
//! assert_eq!(syscage::emu::run(&prog, &d, ByteOrder::Little).unwrap().action, Action::Allow);
//! ```

pub mod args;
pub mod argset;
pub mod compact;
pub mod decision;
pub mod emit;
pub mod frequency;
pub mod layout;
pub mod naive;
pub mod other;
pub mod ranges;
pub mod resolve;
pub mod search;
pub mod share;
pub mod stats;

use crate::arch::Arch;
use crate::bpf::Program;
use crate::policy::Policy;
use std::fmt;

pub use frequency::FrequencyTable;
pub use naive::compile_naive;
pub use stats::{stats, ArchStats, Stats};

/// Options of the compiler.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Weights the number search by this syscall-frequency table, so hot
    /// syscalls resolve in fewer steps (`None`: every known syscall weighs
    /// the same). Default: [`FrequencyTable::default_mix`].
    pub frequency: Option<FrequencyTable>,
    /// Compiles only these arches of the policy (others get the bad-arch
    /// action); `None`: all of them.
    pub only_arches: Option<Vec<Arch>>,
    /// Weight of a syscall of an arch other than the policy's first one,
    /// relative to the first one's (matters where arches share a search,
    /// x86_64 and x32). Default 0.05: x32 processes are rare.
    pub secondary_arch_weight: f64,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            frequency: Some(FrequencyTable::default_mix()),
            only_arches: None,
            secondary_arch_weight: 0.05,
        }
    }
}

/// Why a policy cannot be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// The program would exceed the kernel's 4096 instructions (`BPF_MAXINSNS`).
    #[error("the compiled filter has {0} instructions, more than the kernel's limit of 4096")]
    TooLong(usize),
}

/// Something the compiler did that the user should know about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Warning {
    /// A rule names a syscall the arch does not have; it is skipped on that
    /// arch (as runc does).
    UnknownSyscall {
        /// The arch.
        arch: Arch,
        /// The syscall name.
        name: String,
    },
    /// A rule is restricted to an arch the policy does not cover.
    RuleArchNotInPolicy {
        /// The arch.
        arch: Arch,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnknownSyscall { arch, name } => {
                write!(
                    f,
                    "syscall '{name}' does not exist on {arch}; its rules are skipped there"
                )
            }
            Warning::RuleArchNotInPolicy { arch } => {
                write!(f, "a rule is restricted to {arch}, which the policy does not cover; it is ignored")
            }
        }
    }
}

/// A compiled filter and the warnings met on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// The seccomp program.
    pub program: Program,
    /// Warnings, sorted and deduplicated.
    pub warnings: Vec<Warning>,
}

/// Compiles a policy to a seccomp program.
pub fn compile(policy: &Policy, opts: &CompileOptions) -> Result<Program, CompileError> {
    compile_with_warnings(policy, opts).map(|c| c.program)
}

/// Compiles a policy, also returning the compiler's warnings.
pub fn compile_with_warnings(
    policy: &Policy,
    opts: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let mut warnings = Vec::new();
    let arches = target_arches(policy, opts);
    if arches.is_empty() && policy.other_rules().is_empty() {
        // Every arch is a bad one, as the reference evaluator says.
        let ret = crate::bpf::Insn::Ret(policy.bad_arch_action().to_ret());
        return Ok(Compiled {
            program: Program::new(vec![ret]),
            warnings,
        });
    }
    let resolved = resolve::resolve(policy, &arches, &mut warnings);
    let mut decisions = decision::Decisions::default();
    let lines = ranges::number_lines(policy, &resolved, &mut decisions);
    let weights = frequency::Weights::new(opts, &arches);
    // The primary arch's line gets the optimal search; secondary lines
    // (x86 on an x86_64 host) the cheaper weight-balanced one.
    let primary = arches.first().map(|a| a.audit());
    let sections: Vec<emit::Section> = lines
        .iter()
        .map(|line| {
            let w = weights.range_weights(line, &decisions);
            let tree = if Some(line.audit) == primary {
                search::build(&line.ranges, &w)
            } else {
                search::balanced(&line.ranges, &w)
            };
            emit::Section {
                audit: line.audit,
                order: line.order,
                tree,
            }
        })
        .collect();
    let other = other_section(policy, &arches, &mut decisions);
    let ops = emit::emit(
        &sections,
        other.as_ref(),
        &decisions,
        policy.bad_arch_action(),
    );
    let program = layout::assemble(ops)?;
    warnings.sort();
    warnings.dedup();
    Ok(Compiled { program, warnings })
}

/// The section for arches no check matches, when the policy has
/// other-arch rules ([`other`]): a weight-balanced search (nothing says
/// which numbers are frequent on an unknown arch), arguments laid out in
/// the first arch's byte order.
fn other_section(
    policy: &Policy,
    arches: &[Arch],
    decisions: &mut decision::Decisions,
) -> Option<emit::Section> {
    if policy.other_rules().is_empty() {
        return None;
    }
    let ranges = other::ranges(policy, 0, u32::MAX, decisions);
    let weights = vec![1.0; ranges.len()];
    let order = arches
        .first()
        .or(policy.arches().first())
        .map_or(crate::bpf::ByteOrder::Little, |a| a.byte_order());
    Some(emit::Section {
        audit: 0,
        order,
        tree: search::balanced(&ranges, &weights),
    })
}

/// The arches to compile, in the policy's order, deduplicated.
fn target_arches(policy: &Policy, opts: &CompileOptions) -> Vec<Arch> {
    let mut out: Vec<Arch> = Vec::new();
    for &a in policy.arches() {
        let wanted = opts
            .only_arches
            .as_ref()
            .is_none_or(|only| only.contains(&a));
        if wanted && !out.contains(&a) {
            out.push(a);
        }
    }
    out
}
