//! Checks what `explain` prints against the emulator: the printed text of
//! every condition is parsed back and evaluated on an input, and the
//! verdict the explanation claims for the input must be the one the
//! emulator returns. Shared by the explain property test and the corpus.

use std::collections::BTreeMap;
use syscage::action::Action;
use syscage::analyze::explain::{ArchExplanation, Item};
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Program};

/// The value a printed operand reads.
fn operand(expr: &str, d: &SeccompData) -> u64 {
    let field = |name: &str| -> u64 {
        match name {
            "sys_number" => d.nr as u64,
            "instruction_pointer" => d.instruction_pointer,
            _ => {
                let i: usize = name
                    .strip_prefix("args[")
                    .and_then(|s| s.strip_suffix(']'))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("unknown operand {expr:?}"));
                d.args[i]
            }
        }
    };
    if let Some(n) = expr.strip_prefix("(u32)") {
        field(n) & 0xffff_ffff
    } else if let Some(n) = expr
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(" >> 32)"))
    {
        field(n) >> 32
    } else {
        field(expr)
    }
}

fn num(s: &str) -> u64 {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Evaluates one printed condition (the grammar explain prints).
pub fn holds(text: &str, d: &SeccompData) -> bool {
    // `(E & M) == V` / `!=`
    if let Some((lhs, rest)) = text.rsplit_once(") ") {
        if let Some(inner) = lhs.strip_prefix('(') {
            if let Some((e, m)) = inner.rsplit_once(" & ") {
                let x = operand(e, d) & num(m);
                return match rest.split_once(' ') {
                    Some(("==", v)) => x == num(v),
                    Some(("!=", v)) => x != num(v),
                    _ => panic!("bad condition {text:?}"),
                };
            }
        }
    }
    if let Some((e, set)) = text.split_once(" in {") {
        let x = operand(e, d);
        return set
            .trim_end_matches('}')
            .split(", ")
            .any(|p| match p.split_once("..=") {
                Some((a, b)) => num(a) <= x && x <= num(b),
                None => num(p) == x,
            });
    }
    if text.starts_with("0x") {
        let (a, rest) = text.split_once(" <= ").expect("a range");
        let (e, b) = rest.rsplit_once(" <= ").expect("a range");
        let x = operand(e, d);
        return num(a) <= x && x <= num(b);
    }
    let (lhs, v) = text.rsplit_once(' ').expect("a comparison");
    let (e, op) = lhs.rsplit_once(' ').expect("a comparison");
    let (x, v) = (operand(e, d), num(v));
    match op {
        "==" => x == v,
        "!=" => x != v,
        "<=" => x <= v,
        ">=" => x >= v,
        _ => panic!("bad operator in {text:?}"),
    }
}

/// The verdict name explain gives a return value.
pub fn verdict_name(ret: u32) -> String {
    match Action::from_ret_exact(ret) {
        Some(_) => Action::from_ret(ret).to_string(),
        None => format!("{} (return {ret:#010x})", Action::from_ret(ret)),
    }
}

/// One arch's explanation, indexed by syscall name.
pub struct Claims<'e> {
    by_name: BTreeMap<&'e str, Vec<(&'e str, &'e Item)>>,
    default: Option<&'e str>,
}

impl<'e> Claims<'e> {
    /// Indexes an arch's groups.
    pub fn new(a: &'e ArchExplanation) -> Claims<'e> {
        let mut by_name: BTreeMap<&str, Vec<(&str, &Item)>> = BTreeMap::new();
        let mut default = None;
        for g in &a.groups {
            for item in &g.items {
                match item {
                    Item::Syscalls(names) => {
                        for n in names {
                            by_name.entry(n).or_default().push((&g.verdict, item));
                        }
                    }
                    Item::When { syscall, .. } => {
                        by_name.entry(syscall).or_default().push((&g.verdict, item))
                    }
                    Item::Default => default = Some(g.verdict.as_str()),
                    _ => {}
                }
            }
        }
        Claims { by_name, default }
    }

    /// Whether the explanation has a conditional line for `name`.
    #[allow(dead_code)] // not every test that shares this module uses it
    pub fn conditional(&self, name: &str) -> bool {
        self.by_name
            .get(name)
            .is_some_and(|v| v.iter().any(|(_, i)| matches!(i, Item::When { .. })))
    }

    /// Checks the claims for syscall `name` on input `data` against the
    /// emulator. `exact`: the table is exact (else a claim may
    /// over-approximate and the true verdict need only be among them).
    pub fn check(
        &self,
        prog: &Program,
        order: ByteOrder,
        name: &str,
        data: &SeccompData,
        exact: bool,
    ) -> Result<(), String> {
        let ret = syscage::emu::run(prog, data, order)
            .map_err(|e| format!("emulate: {e}"))?
            .ret;
        let got = verdict_name(ret);
        let claims: Vec<(&str, &Item)> = self
            .by_name
            .get(name)
            .map(|v| {
                v.iter()
                    .filter(|(_, item)| match item {
                        Item::When { conditions, .. } => conditions.iter().all(|c| holds(c, data)),
                        _ => true,
                    })
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        let wild = |v: &str| v.starts_with("input-dependent");
        let ok = if claims.is_empty() {
            !exact || self.default == Some(got.as_str()) || self.default.is_some_and(wild)
        } else if exact {
            claims.iter().all(|(v, _)| *v == got || wild(v))
        } else {
            claims.iter().any(|(v, _)| *v == got || wild(v)) || self.default == Some(got.as_str())
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{name} {data:x?}: the emulator returns {got}, explain claims {claims:?} (default {:?})",
                self.default
            ))
        }
    }
}
