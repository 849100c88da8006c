//! `explain`: what a program decides, per architecture and action, in
//! words; exact because it reads the lifted decision table.

use super::describe::arg_conditions;
use super::domain::IntervalSet;
use super::lift::{DecisionTable, Verdict, WORD_ARCH, WORD_NR};
use super::view::{arch_views, ArchView};
use crate::action::Action;
use crate::arch::{x32_nr, Arch};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One line under an action. As JSON, an object with one key that says
/// what it is: `{"syscalls": [..]}`, `{"syscall": .., "when": [..]}`,
/// `{"default": true}`, `{"x32": true}`, `{"numbers": ".."}`,
/// `{"same_numbers_as_checked_arch": true}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// Syscalls decided this way whatever their arguments.
    Syscalls(Vec<String>),
    /// One syscall decided this way when the conditions hold.
    When {
        /// The syscall.
        syscall: String,
        /// The conditions, all of which hold.
        conditions: Vec<String>,
    },
    /// Every syscall not listed elsewhere.
    Default,
    /// Every x32 syscall number (x86_64 with bit 30 set).
    X32,
    /// Numbers the tables do not know.
    Unknown(String),
    /// The program never checks the arch: other arches get the decisions
    /// listed above for the same numbers.
    SameNumbers,
}

impl serde::Serialize for Item {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        match self {
            Item::Syscalls(names) => map.serialize_entry("syscalls", names)?,
            Item::When {
                syscall,
                conditions,
            } => {
                map.serialize_entry("syscall", syscall)?;
                map.serialize_entry("when", conditions)?;
            }
            Item::Default => map.serialize_entry("default", &true)?,
            Item::X32 => map.serialize_entry("x32", &true)?,
            Item::Unknown(numbers) => map.serialize_entry("numbers", numbers)?,
            Item::SameNumbers => map.serialize_entry("same_numbers_as_checked_arch", &true)?,
        }
        map.end()
    }
}

/// The syscalls one verdict applies to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    /// The verdict, e.g. `ERRNO(5)`.
    pub verdict: String,
    /// What it applies to.
    pub items: Vec<Item>,
}

/// What one architecture decides (as JSON: `arch`, `audit`, `groups`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ArchExplanation {
    /// Arch name (seccomp-tools spelling where it has one).
    #[serde(rename = "arch")]
    pub name: String,
    /// `AUDIT_ARCH_*` value.
    pub audit: u32,
    /// Verdicts, least severe first.
    pub groups: Vec<Group>,
}

/// What a whole program decides (as JSON: `arches`, `other_arches`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Explanation {
    /// The arches the program checks.
    pub arches: Vec<ArchExplanation>,
    /// What every other arch gets: one verdict, or per-number groups when
    /// the program decides without checking the arch.
    #[serde(rename = "other_arches")]
    pub other: Vec<Group>,
}

fn verdict_name(v: Verdict) -> String {
    match v {
        Verdict::Ret(r) if Action::from_ret_exact(r).is_some() => Action::from_ret(r).to_string(),
        Verdict::Ret(r) => format!("{} (return {r:#010x})", Action::from_ret(r)),
        Verdict::Unknown => "input-dependent (RET A)".to_string(),
    }
}

fn verdict_key(v: Verdict) -> (u8, u32) {
    match v {
        Verdict::Ret(r) => (Action::from_ret(r).severity(), r),
        Verdict::Unknown => (u8::MAX, 0),
    }
}

/// Explains a lifted program: every arch it checks, then the `extra` arch
/// ids (say, the arch a user asked about). `params` gives argument names.
pub fn explain(
    table: &DecisionTable,
    extra: &[u32],
    params: &dyn Fn(&str) -> Option<&'static [&'static str]>,
) -> Explanation {
    let views = arch_views(table, extra);
    let arch_checked = views.iter().any(|v| v.checked);
    let arches = views
        .iter()
        .map(|v| explain_arch(table, v, params))
        .collect();
    // Other arches: the leaves an unchecked arch id can take.
    let checked: Vec<u32> = views.iter().map(|v| v.audit).collect();
    let mut others = IntervalSet::full();
    for &a in &checked {
        others = others.minus(&IntervalSet::single(a));
    }
    let mut groups: BTreeMap<(u8, u32), (Verdict, Vec<Item>)> = BTreeMap::new();
    let leaves: Vec<_> = table
        .leaves
        .iter()
        .filter(|l| {
            let mut d = l.region[WORD_ARCH].clone();
            d.restrict(&others);
            d.is_feasible()
        })
        .collect();
    let uniform = leaves.iter().all(|l| l.verdict == leaves[0].verdict);
    if !uniform && !arch_checked && !views.is_empty() {
        // The program never checks the arch: every other arch gets the
        // same decisions by number, under other syscall names.
        groups.insert((0, 0), (Verdict::Unknown, vec![Item::SameNumbers]));
    }
    for leaf in leaves
        .iter()
        .filter(|_| uniform || arch_checked || views.is_empty())
    {
        let entry = groups
            .entry(verdict_key(leaf.verdict))
            .or_insert_with(|| (leaf.verdict, Vec::new()));
        if uniform {
            entry.1 = vec![Item::Default];
            continue;
        }
        let nr = &leaf.region[WORD_NR];
        let mut conditions = arg_conditions(&leaf.region, table.order, None, true);
        if !nr.is_any() {
            conditions.insert(0, super::describe_word("sys_number", nr));
        }
        entry.1.push(Item::When {
            syscall: "any syscall".into(),
            conditions,
        });
    }
    Explanation {
        arches,
        other: groups
            .into_values()
            .map(|(v, items)| Group {
                verdict: verdict_name(v),
                items,
            })
            .collect(),
    }
}

fn explain_arch(
    table: &DecisionTable,
    view: &ArchView<'_>,
    params: &dyn Fn(&str) -> Option<&'static [&'static str]>,
) -> ArchExplanation {
    let arch = view.arch;
    let is_x32 = |nr: u32| arch.is_some_and(|a| a.is_x32_nr(nr));
    // The default: the verdict of most native numbers.
    let mut counts: BTreeMap<(u8, u32), (Verdict, usize)> = BTreeMap::new();
    for (&nr, d) in &view.known {
        if let (false, Some(v)) = (is_x32(nr), d.unconditional()) {
            counts.entry(verdict_key(v)).or_insert((v, 0)).1 += 1;
        }
    }
    let default = counts.values().max_by_key(|(_, n)| *n).map(|(v, _)| *v);
    let mut groups: BTreeMap<(u8, u32), (Verdict, Vec<Item>)> = BTreeMap::new();
    let mut push = |v: Verdict, item: Item| {
        let g = &mut groups
            .entry(verdict_key(v))
            .or_insert_with(|| (v, Vec::new()))
            .1;
        match (item, g.last_mut()) {
            (Item::Syscalls(mut names), Some(Item::Syscalls(prev))) => prev.append(&mut names),
            (item, _) => g.push(item),
        }
    };
    if let Some(d) = default {
        push(d, Item::Default);
    }
    // x32 numbers: one line when they all decide alike.
    let x32: Vec<_> = view.known.iter().filter(|(&nr, _)| is_x32(nr)).collect();
    let x32_uniform = x32
        .first()
        .and_then(|(_, d)| d.unconditional())
        .filter(|v| x32.iter().all(|(_, d)| d.unconditional() == Some(*v)));
    if let Some(v) = x32_uniform {
        if Some(v) != default {
            push(v, Item::X32);
        }
    }
    for (&nr, d) in &view.known {
        if is_x32(nr) && x32_uniform.is_some() {
            continue;
        }
        let name = view.name(nr);
        match d.unconditional() {
            Some(v) if Some(v) == default => {}
            Some(v) => push(v, Item::Syscalls(vec![name])),
            None => {
                let p = arch.and_then(|a| a.syscall_name(nr)).and_then(params);
                let wide = arch.is_none_or(Arch::args_64bit);
                for leaf in &d.paths {
                    if Some(leaf.verdict) == default {
                        continue;
                    }
                    push(
                        leaf.verdict,
                        Item::When {
                            syscall: name.clone(),
                            conditions: arg_conditions(&leaf.region, table.order, p, wide),
                        },
                    );
                }
            }
        }
    }
    // What the x32 line below says: every number from x32's first up, -1
    // included (it is no x32 syscall, but the line's range covers it).
    let x32_range = IntervalSet::range(x32_nr(0), u32::MAX);
    for (numbers, leaf) in &view.unknown {
        let mut numbers = numbers.clone();
        if arch == Some(Arch::X86_64) && x32_uniform == Some(leaf.verdict) {
            numbers = numbers.minus(&x32_range);
        }
        if Some(leaf.verdict) != default && !numbers.is_empty() {
            let mut d = super::domain::WordDomain::any();
            d.restrict(&numbers);
            let mut text = super::describe_word("sys_number", &d);
            let conds = arg_conditions(&leaf.region, table.order, None, true);
            if !conds.is_empty() {
                text = format!("{text} when {}", conds.join(" && "));
            }
            push(leaf.verdict, Item::Unknown(text));
        }
    }
    let name = arch.map_or_else(
        || format!("{:#010x}", view.audit),
        |a| a.seccomp_tools_name().unwrap_or(a.name()).to_string(),
    );
    ArchExplanation {
        name,
        audit: view.audit,
        groups: groups
            .into_values()
            .map(|(v, mut items)| {
                // Plain lists first, the default line last, as seccomp-tools prints them.
                items.sort_by_key(|i| match i {
                    Item::Syscalls(_) => 0,
                    Item::When { .. } => 1,
                    Item::Unknown(_) => 2,
                    Item::X32 => 3,
                    Item::Default | Item::SameNumbers => 4,
                });
                let mut merged: Vec<Item> = Vec::new();
                for item in items {
                    match (item, merged.last_mut()) {
                        (Item::Syscalls(mut n), Some(Item::Syscalls(prev))) => prev.append(&mut n),
                        (item, _) => merged.push(item),
                    }
                }
                Group {
                    verdict: verdict_name(v),
                    items: merged,
                }
            })
            .collect(),
    }
}

fn render_items(out: &mut String, items: &[Item]) {
    for item in items {
        match item {
            Item::Syscalls(names) => {
                for chunk in names.chunks(8) {
                    let _ = writeln!(out, "    {}", chunk.join(", "));
                }
            }
            Item::When {
                syscall,
                conditions,
            } if conditions.is_empty() => {
                let _ = writeln!(out, "    {syscall}");
            }
            Item::When {
                syscall,
                conditions,
            } => {
                let _ = writeln!(out, "    {syscall} when {}", conditions.join(" && "));
            }
            Item::Default => {
                let _ = writeln!(out, "    <default> (any other syscall)");
            }
            Item::X32 => {
                let _ = writeln!(out, "    sys_number >= {:#x}  (x32 ABI)", x32_nr(0));
            }
            Item::Unknown(text) => {
                let _ = writeln!(out, "    {text}");
            }
            Item::SameNumbers => {}
        }
    }
}

impl Explanation {
    /// The text form, in seccomp-tools' layout.
    pub fn render(&self, source: &str) -> String {
        let mut out = format!("Seccomp policy for {source}\n");
        for a in &self.arches {
            let _ = write!(out, "\nArchitecture: {}\n", a.name);
            for g in &a.groups {
                let _ = write!(out, "\n  {}:\n", g.verdict);
                render_items(&mut out, &g.items);
            }
        }
        match self.other.as_slice() {
            [] => {}
            [g] if g.items == [Item::SameNumbers] => {
                out.push_str(
                    "\nOther architectures: the same decisions by syscall number (the filter never checks the arch)\n",
                );
            }
            [g] if g.items == [Item::Default] => {
                let _ = write!(out, "\nOther architectures: {}\n", g.verdict);
            }
            groups => {
                out.push_str("\nArchitecture: <any other>\n");
                for g in groups {
                    let _ = write!(out, "\n  {}:\n", g.verdict);
                    render_items(&mut out, &g.items);
                }
            }
        }
        out
    }
}
