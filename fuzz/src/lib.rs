//! Decoders shared by the fuzz targets: fuzz bytes to a [`Policy`], a
//! valid [`Program`] and the `seccomp_data` inputs to check them on.
//! Every decoder reads a [`Bytes`], which yields zeros once the input runs
//! out, so any input decodes to something.

use syscage::action::Action;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{AluOp, ByteOrder, Insn, JmpCond, Program, Src};
use syscage::policy::{CmpOp, Condition, Policy, Rule, SyscallId, Width};

/// A cursor over the fuzz input.
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    /// Reads `data` from its start.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }

    /// Whether the input is used up.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next byte, 0 past the end.
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// The next little-endian word.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// The next little-endian double word.
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
}

/// Constants where comparisons of 64-bit arguments split into halves go wrong.
pub const EDGES: [u64; 12] = [
    0,
    1,
    0x7fff_ffff,
    1 << 31,
    0xffff_ffff,
    1 << 32,
    0x1_0000_0001,
    0xffff_ffff_0000_0000,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
    0x8000_0000_ffff_ffff,
];

/// Arches policies draw from: both x86_64 ABIs, 32-bit, big-endian, MIPS.
pub const ARCHES: [Arch; 8] = [
    Arch::X86_64,
    Arch::X32,
    Arch::X86,
    Arch::Aarch64,
    Arch::S390x,
    Arch::Arm,
    Arch::Ppc64,
    Arch::Mipsel64,
];

/// Syscall names rules draw from (some missing on some arches).
pub const NAMES: [&str; 16] = [
    "read",
    "write",
    "open",
    "openat",
    "execve",
    "mmap",
    "ioctl",
    "clone",
    "personality",
    "socket",
    "futex",
    "close",
    "getpid",
    "rt_sigaction",
    "epoll_wait",
    "kexec_load",
];

/// A 64-bit constant: mostly an edge, else small or raw.
pub fn value(b: &mut Bytes) -> u64 {
    let sel = b.u8();
    match sel % 8 {
        0..=3 => EDGES[(sel / 8) as usize % EDGES.len()],
        4 => u64::from(sel / 8),
        5 => u64::from(b.u32()),
        _ => b.u64(),
    }
}

/// An action of any kind, with small data.
pub fn action(b: &mut Bytes) -> Action {
    let sel = b.u8();
    let d = u16::from(sel >> 3) % 4;
    match sel % 8 {
        0 => Action::Allow,
        1 => Action::Log,
        2 => Action::Trace(d),
        3 => Action::UserNotif,
        4 => Action::Errno(d),
        5 => Action::Trap(d),
        6 => Action::KillThread,
        _ => Action::KillProcess,
    }
}

fn condition(b: &mut Bytes) -> Condition {
    let sel = b.u8();
    let arg = sel % 6;
    let width = if sel & 0x80 != 0 {
        Width::Bits32
    } else {
        Width::Bits64
    };
    let op = match b.u8() % 8 {
        0 => CmpOp::Eq(value(b)),
        1 => CmpOp::Ne(value(b)),
        2 => CmpOp::Lt(value(b)),
        3 => CmpOp::Le(value(b)),
        4 => CmpOp::Gt(value(b)),
        5 => CmpOp::Ge(value(b)),
        6 => {
            let mask = value(b);
            CmpOp::MaskedEq {
                mask,
                value: value(b) & mask,
            }
        }
        _ => CmpOp::MaskedEq {
            mask: value(b),
            value: value(b),
        },
    };
    Condition { arg, op, width }
}

fn syscall(b: &mut Bytes) -> SyscallId {
    let sel = b.u8();
    match sel % 8 {
        0..=4 => SyscallId::from(NAMES[(sel / 8) as usize % NAMES.len()]),
        5 => SyscallId::Nr(u32::from(sel / 8)),
        6 => SyscallId::Nr(u32::from(b.u8()) * 3 | 0x4000_0000),
        _ => match sel / 8 % 4 {
            0 => SyscallId::Nr(u32::MAX),
            1 => SyscallId::Nr(9999),
            _ => SyscallId::Nr(b.u32()),
        },
    }
}

/// A policy: 1 to 8 arches (any order), default, bad-arch and optional
/// unknown-syscall actions, up to 15 rules of up to 3 conditions, some
/// restricted to one arch.
pub fn policy(b: &mut Bytes) -> Policy {
    let mask = b.u8();
    let rot = b.u8() as usize;
    let mut arches: Vec<Arch> = (0..ARCHES.len())
        .map(|i| ARCHES[(i + rot) % ARCHES.len()])
        .filter(|a| mask & (1 << ARCHES.iter().position(|x| x == a).unwrap_or(0)) != 0)
        .collect();
    if arches.is_empty() {
        arches.push(ARCHES[rot % ARCHES.len()]);
    }
    let mut p = Policy::init(action(b)).unwrap();
    p.set_bad_arch_action(action(b)).unwrap();
    let u = b.u8();
    p.set_unknown_action((u & 1 != 0).then(|| action(b)))
        .unwrap();
    let n = b.u8() % 16;
    for _ in 0..n {
        let mut r = Rule::new(syscall(b), action(b));
        let sel = b.u8();
        for _ in 0..sel % 4 {
            r = r.with(condition(b));
        }
        if sel & 0x80 != 0 {
            r = r.on_arch(arches[(sel as usize >> 2) % arches.len()]);
        }
        p.rule_add_verbatim(r);
    }
    p.set_arches(arches).unwrap();
    p
}

/// Byte order of the arch that owns an audit id (little when none does).
pub fn order_of(audit: u32) -> ByteOrder {
    Arch::from_audit(audit).map_or(ByteOrder::Little, Arch::byte_order)
}

/// Inputs for a policy: per audit id of its arches (and one it lacks),
/// every number its rules name and their neighbours, x32's bit 30, -1, a
/// table number and an unknown one; arguments zero, drawn from the rest of
/// the input, and, for a number some rule names, each of its conditions'
/// constants, next to them and across the high word.
pub fn policy_inputs(p: &Policy, b: &mut Bytes) -> Vec<SeccompData> {
    let mut audits: Vec<u32> = p.arches().iter().map(|a| a.audit()).collect();
    audits.push(Arch::Aarch64.audit());
    audits.push(Arch::X86.audit());
    audits.dedup();
    let mut nrs: Vec<u32> = vec![
        0,
        1,
        2,
        9999,
        0x4000_0000,
        0x4000_0001,
        0x3fff_ffff,
        u32::MAX,
    ];
    // Boundary arguments per number a rule names (on any arch).
    let mut consts: Vec<(u32, u8, u64)> = Vec::new();
    for r in p.rules() {
        let named: Vec<u32> = p
            .arches()
            .iter()
            .filter_map(|&a| r.syscall.resolve(a))
            .collect();
        for &nr in &named {
            nrs.extend([nr, nr.wrapping_add(1), nr.wrapping_sub(1)]);
        }
        for c in &r.conditions {
            let v = match c.op {
                CmpOp::Eq(v)
                | CmpOp::Ne(v)
                | CmpOp::Lt(v)
                | CmpOp::Le(v)
                | CmpOp::Gt(v)
                | CmpOp::Ge(v) => v,
                CmpOp::MaskedEq { value, .. } => value,
            };
            for x in [
                v,
                v.wrapping_add(1),
                v.wrapping_sub(1),
                v ^ (1 << 32),
                v ^ 1 << 63,
            ] {
                for &nr in &named {
                    consts.push((nr, c.arg, x));
                }
            }
        }
    }
    nrs.sort_unstable();
    nrs.dedup();
    consts.sort_unstable();
    consts.dedup();
    let mut out = Vec::new();
    for &audit in &audits {
        for &nr in &nrs {
            let mut d = SeccompData {
                nr,
                arch: audit,
                instruction_pointer: 0,
                args: [0; 6],
            };
            out.push(d);
            for a in d.args.iter_mut() {
                *a = value(b);
            }
            out.push(d);
            for &(_, arg, x) in consts.iter().filter(|c| c.0 == nr) {
                let mut e = d;
                e.args[arg as usize] = x;
                out.push(e);
            }
        }
    }
    out
}

/// A program the validator will most likely accept: 1 to 64 instructions,
/// loads of aligned `seccomp_data` words, ALU with constants (shifts below
/// 32, no division by zero), scratch memory, X, jumps that stay inside,
/// and a `RET` last.
pub fn program(b: &mut Bytes) -> Program {
    let n = 1 + b.u8() as usize % 64;
    let mut insns = Vec::with_capacity(n);
    for pc in 0..n {
        let left = n - pc - 1; // instructions after this one
        if left == 0 {
            insns.push(ret(b));
            break;
        }
        let room = |x: u8| (x as usize % left) as u8;
        let sel = b.u8();
        let insn = match sel % 16 {
            0..=3 => Insn::LdAbs(4 * u32::from(b.u8() % 16)),
            4 => Insn::LdImm(value(b) as u32),
            5 => {
                let op = AluOp::ALL[b.u8() as usize % AluOp::ALL.len()];
                let k = match op {
                    AluOp::Lsh | AluOp::Rsh => b.u32() % 32,
                    AluOp::Div => 1 + b.u32() % 0xffff,
                    _ => value(b) as u32,
                };
                Insn::Alu(op, Src::K(k))
            }
            6 => Insn::St(u32::from(b.u8() % 16)),
            7 => Insn::LdMem(u32::from(b.u8() % 16)),
            8 => Insn::Tax,
            9 => Insn::Txa,
            10 => Insn::LdxImm(value(b) as u32),
            11 => Insn::Ja(u32::from(room(b.u8()))),
            12 => ret(b),
            _ => {
                let cond =
                    [JmpCond::Eq, JmpCond::Gt, JmpCond::Ge, JmpCond::Set][sel as usize / 16 % 4];
                let src = if sel & 0x80 != 0 && sel & 0x40 != 0 {
                    Src::X
                } else {
                    Src::K(value(b) as u32)
                };
                Insn::Jmp {
                    cond,
                    src,
                    jt: room(b.u8()),
                    jf: room(b.u8()),
                }
            }
        };
        insns.push(insn);
    }
    Program::new(insns)
}

fn ret(b: &mut Bytes) -> Insn {
    match b.u8() % 8 {
        0 => Insn::RetA,
        1 => Insn::Ret(b.u32()),
        _ => Insn::Ret(action(b).to_ret()),
    }
}

/// Inputs for a program: every word drawn from the constants the program
/// compares with (and their neighbours), 0, -1, the known audit ids, or
/// the input.
pub fn program_inputs(prog: &Program, order: ByteOrder, b: &mut Bytes) -> Vec<SeccompData> {
    let mut pool: Vec<u32> = vec![0, 1, u32::MAX, 0x4000_0000];
    pool.extend(Arch::ALL.iter().map(|a| a.audit()));
    for insn in &prog.insns {
        if let Insn::Jmp { src: Src::K(k), .. } | Insn::Alu(_, Src::K(k)) = *insn {
            pool.extend([k, k.wrapping_add(1), k.wrapping_sub(1)]);
        }
    }
    let mut out = Vec::new();
    for i in 0..48 {
        let mut words = [0u32; 16];
        for w in words.iter_mut() {
            let sel = b.u8();
            *w = if sel == 0xff {
                b.u32()
            } else if i == 0 {
                0
            } else {
                pool[sel as usize % pool.len()]
            };
        }
        out.push(from_words(&words, order));
    }
    out
}

/// The `seccomp_data` whose 32-bit words, laid out in `order`, are `w`.
pub fn from_words(w: &[u32; 16], order: ByteOrder) -> SeccompData {
    let dword = |i: usize| -> u64 {
        let (first, second) = (u64::from(w[i]), u64::from(w[i + 1]));
        match order {
            ByteOrder::Little => first | second << 32,
            ByteOrder::Big => first << 32 | second,
        }
    };
    SeccompData {
        nr: w[0],
        arch: w[1],
        instruction_pointer: dword(2),
        args: std::array::from_fn(|a| dword(4 + 2 * a)),
    }
}
