//! A decision table seen per architecture and per syscall number: the
//! shape that `explain`, `lint` and `decompile` all read.

use super::domain::IntervalSet;
use super::lift::{DecisionTable, Leaf, Region, Verdict, WORD_ARCH, WORD_NR};
use crate::arch::Arch;
use std::collections::BTreeMap;

/// What one syscall number decides on one arch: one entry per path.
#[derive(Clone, Debug)]
pub struct Decision<'t> {
    /// The paths taken by this number, with their argument regions.
    pub paths: Vec<&'t Leaf>,
}

impl Decision<'_> {
    /// The verdict when it does not depend on arguments.
    pub fn unconditional(&self) -> Option<Verdict> {
        let first = self.paths.first()?.verdict;
        self.paths
            .iter()
            .all(|l| l.verdict == first)
            .then_some(first)
    }

    /// Whether some path returns a verdict that lets the syscall run.
    pub fn may_permit(&self) -> bool {
        self.paths
            .iter()
            .any(|l| l.verdict.action().is_none_or(|a| a.permits()))
    }
}

/// One architecture's part of a table.
#[derive(Clone, Debug)]
pub struct ArchView<'t> {
    /// The audit id (`seccomp_data.arch`).
    pub audit: u32,
    /// The arch, when syscage knows the id.
    pub arch: Option<Arch>,
    /// Whether the program compares `arch` with this id explicitly.
    pub checked: bool,
    /// Decisions of the numbers the arch's tables know (x32 numbers
    /// included on x86_64), by number.
    pub known: BTreeMap<u32, Decision<'t>>,
    /// Paths taken by numbers the tables do not know, with those numbers.
    pub unknown: Vec<(IntervalSet, &'t Leaf)>,
}

impl ArchView<'_> {
    /// The name of a number on this arch (`x32:read` for x32 numbers).
    pub fn name(&self, nr: u32) -> String {
        let arch = match self.arch {
            Some(a @ Arch::X86_64) if a.is_x32_nr(nr) => {
                return match Arch::X32.syscall_name(nr) {
                    Some(n) => format!("x32:{n}"),
                    None => format!("{nr:#x}"),
                };
            }
            Some(a) => a,
            None => return format!("{nr:#x}"),
        };
        arch.syscall_name(nr)
            .map_or_else(|| format!("{nr:#x}"), str::to_string)
    }
}

/// Audit ids some path of the program pins `seccomp_data.arch` to, in
/// the order the paths are found.
pub fn checked_audits(table: &DecisionTable) -> Vec<u32> {
    let mut out = Vec::new();
    for leaf in &table.leaves {
        if let Some(a) = leaf.region[WORD_ARCH].intervals.as_single() {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// The leaves that an input with arch id `audit` can take.
fn restrict_arch(table: &DecisionTable, audit: u32) -> impl Iterator<Item = &Leaf> {
    table
        .leaves
        .iter()
        .filter(move |l| l.region[WORD_ARCH].contains(audit))
}

/// Splits a table per architecture: every arch whose id the program checks,
/// then `extra` ids (e.g. the arches a user asked about).
pub fn arch_views<'t>(table: &'t DecisionTable, extra: &[u32]) -> Vec<ArchView<'t>> {
    let checked = checked_audits(table);
    let mut audits = checked.clone();
    for &a in extra {
        if !audits.contains(&a) {
            audits.push(a);
        }
    }
    audits
        .into_iter()
        .map(|audit| view(table, audit, checked.contains(&audit)))
        .collect()
}

/// The view of one arch id.
pub fn view(table: &DecisionTable, audit: u32, checked: bool) -> ArchView<'_> {
    let arch = Arch::from_audit(audit);
    let mut numbers: Vec<u32> =
        arch.map_or_else(Vec::new, |a| a.syscalls().iter().map(|s| s.nr).collect());
    if arch == Some(Arch::X86_64) {
        numbers.extend(Arch::X32.syscalls().iter().map(|s| s.nr));
    }
    numbers.sort_unstable();
    let known_set = IntervalSet::from_values(numbers.iter().copied());
    let mut known: BTreeMap<u32, Decision> = BTreeMap::new();
    let mut unknown = Vec::new();
    for leaf in restrict_arch(table, audit) {
        let nr = &leaf.region[WORD_NR];
        for &n in &numbers {
            if nr.contains(n) {
                known
                    .entry(n)
                    .or_insert_with(|| Decision { paths: Vec::new() })
                    .paths
                    .push(leaf);
            }
        }
        let rest = nr.intervals.minus(&known_set);
        if !rest.is_empty() {
            let mut d = nr.clone();
            d.restrict(&rest);
            if d.is_feasible() {
                unknown.push((d.intervals.clone(), leaf));
            }
        }
    }
    ArchView {
        audit,
        arch,
        checked,
        known,
        unknown,
    }
}

/// Whether a region constrains any argument or the instruction pointer.
pub fn has_arg_constraints(region: &Region) -> bool {
    region[2..].iter().any(|d| !d.is_any())
}
