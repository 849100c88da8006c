//! What the disassembler knows about each instruction before it runs: the
//! data-flow analysis behind seccomp-tools' readable output.
//!
//! seccomp-tools walks the program forward once, carrying a set of abstract
//! machine states ("contexts") to every instruction. A state records, for
//! A, X and the sixteen `M[]` slots, whether the value is a word of
//! `struct seccomp_data` (and which), an immediate, or unknown; and which
//! `seccomp_data` words are known to hold a constant because a `JEQ` on
//! them was taken. From the states reaching an instruction the printer
//! takes three facts:
//!
//! * whether A is the same `seccomp_data` word on every path (a compare on
//!   `nr` then prints a syscall name, a compare on `arch` an `ARCH_*` name);
//! * the syscall number, when every path agrees on it (argument loads then
//!   print parameter names, `A = fd # write(fd, buf, count)`);
//! * the audit arch, when every path agrees on it (names then come from that
//!   arch's table, `amd64.write`).
//!
//! This module reproduces that walk, including its blind spots (an
//! immediate in X does not make `A == X` a known value; a `JEQ` whose two
//! targets coincide teaches nothing), so that the output matches
//! seccomp-tools 1.7.1. Jumps only go forward, so one pass in index order
//! sees every predecessor of an instruction before the instruction itself.
//! The number of distinct states per instruction is capped; past the cap
//! the instruction and everything it reaches fall back to the plain,
//! inference-free rendering.

use crate::bpf::{Insn, JmpCond, RawInsn, Src};
use std::collections::{BTreeMap, HashSet};

/// The most distinct states kept for one instruction before the analysis
/// gives up on it (seccomp-tools has no cap; real filters need a handful).
pub const MAX_STATES_PER_INSN: usize = 1024;

/// Byte offset of `seccomp_data.arch`.
const ARCH_OFFSET: u32 = 4;

/// `BPF_MEMWORDS` as an index bound.
const MEM_WORDS: usize = 16;

/// What a register or scratch slot holds, as far as the analysis can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Value {
    /// Computed or never set: nothing known.
    Unknown,
    /// A constant from `LD IMM` or `LD LEN`.
    Imm(u32),
    /// The untouched initial content of `M[i]`.
    InitialMem(u8),
    /// The 32-bit `seccomp_data` word at this byte offset (`LD ABS`).
    Data(u32),
}

/// One abstract machine state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    a: Value,
    x: Value,
    mem: [Value; MEM_WORDS],
    /// `seccomp_data` offset → the value a taken `JEQ` proved it holds.
    known: BTreeMap<u32, u32>,
}

impl State {
    fn entry() -> State {
        State {
            a: Value::Unknown,
            x: Value::Unknown,
            mem: std::array::from_fn(|i| Value::InitialMem(i as u8)),
            known: BTreeMap::new(),
        }
    }

    fn mem(&self, k: u32) -> Value {
        self.mem.get(k as usize).copied().unwrap_or(Value::Unknown)
    }

    fn store(&mut self, k: u32, v: Value) {
        if let Some(slot) = self.mem.get_mut(k as usize) {
            *slot = v;
        }
    }

    /// Records that the word at `off` holds `v`. A word that already has a
    /// known value keeps it: after `nr == 0xffffffff` was taken on one path,
    /// a later `nr == 9` does not make that path agree with the others
    /// (seccomp-tools 1.7.1 prints `args[2]`, not `prot`, in
    /// tctf-2023-nothing-is-true at 0011).
    fn set_known(&mut self, off: u32, v: Option<u32>) {
        if let (Some(v), None) = (v, self.known.get(&off)) {
            self.known.insert(off, v);
        }
    }

    /// The state on the taken side of `JEQ src`: if A is a `seccomp_data`
    /// word, it now has a known value (seccomp-tools' `Context#eql!`).
    fn assume_equal(mut self, src: Src) -> State {
        if let Value::Data(off) = self.a {
            match src {
                Src::K(k) => self.set_known(off, Some(k)),
                Src::X => {
                    if let Value::Data(xoff) = self.x {
                        let v = self.known.get(&xoff).copied();
                        self.set_known(off, v);
                    }
                }
            }
        }
        self
    }

    /// Successor states of `insn` at `pc` (targets may lie past the end).
    fn step(&self, raw: RawInsn, pc: usize) -> Vec<(usize, State)> {
        let next = pc + 1;
        let Ok(insn) = Insn::decode(raw) else {
            // Not a seccomp instruction: assume it clobbers A and falls
            // through. Callers reject such programs before printing.
            let mut s = self.clone();
            s.a = Value::Unknown;
            return vec![(next, s)];
        };
        let with = |f: &dyn Fn(&mut State)| {
            let mut s = self.clone();
            f(&mut s);
            vec![(next, s)]
        };
        match insn {
            Insn::LdAbs(k) => with(&|s| s.a = Value::Data(k)),
            Insn::LdImm(k) => with(&|s| s.a = Value::Imm(k)),
            Insn::LdLen => with(&|s| s.a = Value::Imm(crate::bpf::data::SECCOMP_DATA_SIZE)),
            Insn::LdMem(k) => with(&|s| s.a = s.mem(k)),
            Insn::LdxImm(k) => with(&|s| s.x = Value::Imm(k)),
            Insn::LdxLen => with(&|s| s.x = Value::Imm(crate::bpf::data::SECCOMP_DATA_SIZE)),
            Insn::LdxMem(k) => with(&|s| s.x = s.mem(k)),
            Insn::St(k) => with(&|s| s.store(k, s.a)),
            Insn::Stx(k) => with(&|s| s.store(k, s.x)),
            Insn::Alu(..) | Insn::Neg => with(&|s| s.a = Value::Unknown),
            Insn::Tax => with(&|s| s.x = s.a),
            Insn::Txa => with(&|s| s.a = s.x),
            Insn::Ja(k) => vec![(next.saturating_add(k as usize), self.clone())],
            Insn::Jmp { cond, src, jt, jf } => {
                let t = next + jt as usize;
                let f = next + jf as usize;
                if jt == jf {
                    vec![(t, self.clone())]
                } else if cond == JmpCond::Eq {
                    // A path that already proved `arch` equal to one value
                    // cannot take the other side of a compare with another:
                    // drop it, so a filter that reloads the arch (runc's
                    // ENOSYS stub before libseccomp's sections) names each
                    // section's syscalls from its own arch. (seccomp-tools
                    // keeps such paths and names the i386 section with
                    // x86_64 names: a deliberate difference.)
                    let arch_known = match (self.a, src) {
                        (Value::Data(ARCH_OFFSET), Src::K(k)) => {
                            self.known.get(&ARCH_OFFSET).map(|&v| v == k)
                        }
                        _ => None,
                    };
                    let mut out = Vec::with_capacity(2);
                    if arch_known != Some(false) {
                        out.push((t, self.clone().assume_equal(src)));
                    }
                    if arch_known != Some(true) {
                        out.push((f, self.clone()));
                    }
                    out
                } else {
                    vec![(t, self.clone()), (f, self.clone())]
                }
            }
            Insn::Ret(_) | Insn::RetA => Vec::new(),
        }
    }
}

/// The states reaching one instruction.
#[derive(Clone, Debug, Default)]
enum States {
    /// A set of distinct states (empty: unreachable).
    #[default]
    Unreached,
    Some(HashSet<State>),
    /// Too many states: nothing is inferred here or downstream.
    Saturated,
}

impl States {
    fn add(&mut self, s: State) {
        match self {
            States::Saturated => {}
            States::Unreached => *self = States::Some(HashSet::from([s])),
            States::Some(set) => {
                set.insert(s);
                if set.len() > MAX_STATES_PER_INSN {
                    *self = States::Saturated;
                }
            }
        }
    }
}

/// What holds on every path that reaches one instruction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsnFacts {
    /// Whether any path reaches the instruction.
    pub reachable: bool,
    /// A is this `seccomp_data` word (byte offset) on every path.
    pub a_data: Option<u32>,
    /// `seccomp_data.nr` has this value on every path.
    pub known_nr: Option<u32>,
    /// `seccomp_data.arch` has this value on every path.
    pub known_arch: Option<u32>,
}

/// The single value of `f` over all states, if they agree and it is `Some`.
fn unanimous<T: Eq + Copy>(set: &HashSet<State>, f: impl Fn(&State) -> Option<T>) -> Option<T> {
    let mut it = set.iter().map(f);
    let first = it.next()??;
    it.all(|v| v == Some(first)).then_some(first)
}

fn facts_of(states: &States) -> InsnFacts {
    match states {
        States::Unreached => InsnFacts::default(),
        States::Saturated => InsnFacts {
            reachable: true,
            ..InsnFacts::default()
        },
        States::Some(set) => InsnFacts {
            reachable: true,
            a_data: unanimous(set, |s| match s.a {
                Value::Data(off) => Some(off),
                _ => None,
            }),
            known_nr: unanimous(set, |s| s.known.get(&0).copied()),
            known_arch: unanimous(set, |s| s.known.get(&ARCH_OFFSET).copied()),
        },
    }
}

/// Runs the analysis over a whole program: one [`InsnFacts`] per instruction.
pub fn analyze(raw: &[RawInsn]) -> Vec<InsnFacts> {
    let mut states: Vec<States> = vec![States::Unreached; raw.len()];
    if let Some(first) = states.first_mut() {
        first.add(State::entry());
    }
    let mut facts = Vec::with_capacity(raw.len());
    for pc in 0..raw.len() {
        let here = std::mem::take(&mut states[pc]);
        facts.push(facts_of(&here));
        match &here {
            States::Unreached => {}
            States::Saturated => {
                // Mark every possible successor as saturated.
                let probe = State::entry();
                for (to, _) in probe.step(raw[pc], pc) {
                    if let Some(t) = states.get_mut(to) {
                        *t = States::Saturated;
                    }
                }
            }
            States::Some(set) => {
                for s in set {
                    for (to, next) in s.step(raw[pc], pc) {
                        if let Some(t) = states.get_mut(to) {
                            t.add(next);
                        }
                    }
                }
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::Insn;

    fn raw(insns: &[Insn]) -> Vec<RawInsn> {
        insns.iter().map(|i| i.encode()).collect()
    }

    /// runc's layout: an ENOSYS stub checks the arch, then libseccomp's
    /// filter reloads it. The i386 section is named from i386's table
    /// (seccomp-tools names it with x86_64's: it keeps the stub's x86_64
    /// path alive through `arch == I386`).
    #[test]
    fn an_arch_reload_names_each_section_from_its_own_arch() {
        let src = "A = arch\nif (A != ARCH_X86_64) goto i386chk\nA = sys_number\n\
                   if (A > 0x1c0) goto enosys\ngoto main\ni386chk:\n\
                   if (A != ARCH_I386) goto main\nA = sys_number\n\
                   if (A > 0x1b0) goto enosys\nmain:\nA = arch\n\
                   if (A != ARCH_X86_64) goto seci386\nA = sys_number\n\
                   if (A == 59) goto kill\nreturn ALLOW\nseci386:\n\
                   if (A != ARCH_I386) goto kill\nA = sys_number\n\
                   if (A == 11) goto kill\nreturn ALLOW\nkill:\nreturn KILL\n\
                   enosys:\nreturn ERRNO(38)\n";
        let prog = crate::asm::parse::assemble(src, crate::arch::Arch::X86_64).unwrap();
        let p: Vec<RawInsn> = prog.insns.iter().map(|i| i.encode()).collect();
        let f = analyze(&p);
        assert_eq!(f[11].known_arch, Some(crate::arch::Arch::X86_64.audit()));
        assert_eq!(f[15].known_arch, Some(crate::arch::Arch::X86.audit()));
        assert!(f[15].reachable && f[16].reachable);
    }

    #[test]
    fn taken_jeq_makes_nr_known() {
        let p = raw(&[
            Insn::LdAbs(0),
            Insn::jeq(1, 0, 1),
            Insn::LdAbs(16),
            Insn::Ret(0),
        ]);
        let f = analyze(&p);
        assert_eq!(f[1].a_data, Some(0));
        assert_eq!(f[2].known_nr, Some(1));
        // index 3 is reached with nr == 1 and with nr unknown
        assert_eq!(f[3].known_nr, None);
        assert!(f[3].reachable);
    }

    #[test]
    fn unreachable_and_mixed_a() {
        let p = raw(&[
            Insn::LdAbs(0),
            Insn::jeq(1, 1, 0),
            Insn::LdImm(7),
            Insn::Ja(1),
            Insn::Ret(0), // unreachable
            Insn::Ret(0),
        ]);
        let f = analyze(&p);
        assert!(!f[4].reachable);
        assert_eq!(f[4], InsnFacts::default());
        // A is nr on one path and 7 on the other
        assert_eq!(f[5].a_data, None);
    }

    #[test]
    fn data_through_memory_and_x() {
        let p = raw(&[
            Insn::LdAbs(4),
            Insn::St(3),
            Insn::LdImm(0),
            Insn::LdMem(3),
            Insn::Tax,
            Insn::LdAbs(0),
            Insn::Txa,
            Insn::Ret(0),
        ]);
        let f = analyze(&p);
        assert_eq!(f[4].a_data, Some(4));
        assert_eq!(f[7].a_data, Some(4));
    }

    #[test]
    fn eq_with_x_copies_known_value_only_from_data() {
        let p = raw(&[
            Insn::LdAbs(4),
            Insn::jeq(0xc000_003e, 0, 4),
            Insn::Tax,
            Insn::LdAbs(0),
            // nr == X, X is arch which is known: nr becomes that value
            Insn::Jmp {
                cond: JmpCond::Eq,
                src: Src::X,
                jt: 0,
                jf: 1,
            },
            Insn::Ret(0),
            Insn::Ret(0),
        ]);
        let f = analyze(&p);
        assert_eq!(f[5].known_nr, Some(0xc000_003e));
        let q = raw(&[
            Insn::LdxImm(5),
            Insn::LdAbs(0),
            Insn::Jmp {
                cond: JmpCond::Eq,
                src: Src::X,
                jt: 0,
                jf: 1,
            },
            Insn::Ret(0),
            Insn::Ret(0),
        ]);
        assert_eq!(analyze(&q)[3].known_nr, None);
    }

    #[test]
    fn state_explosion_saturates_instead_of_hanging() {
        // 40 independent JEQs on different args: 2^40 paths.
        let mut insns = Vec::new();
        for i in 0..40u32 {
            insns.push(Insn::LdAbs(16 + 8 * (i % 6)));
            insns.push(Insn::jeq(i, 0, 0));
            insns.push(Insn::jeq(i + 1000, 1, 0));
        }
        insns.push(Insn::Ret(0));
        insns.push(Insn::Ret(0));
        let f = analyze(&raw(&insns));
        assert!(f.iter().all(|f| f.reachable));
    }
}
