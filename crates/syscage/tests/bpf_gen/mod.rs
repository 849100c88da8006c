//! Proptest generators of BPF programs shared by the BPF property tests
//! and the kernel differential test of the validator.

#![allow(dead_code)]

use proptest::prelude::*;
use syscage::bpf::data::SeccompData;
use syscage::bpf::insn::{BPF_MEMWORDS, BPF_RET};
use syscage::bpf::{AluOp, ByteOrder, Insn, JmpCond, RawInsn, Src};

pub fn alu_op() -> impl Strategy<Value = AluOp> {
    prop::sample::select(AluOp::ALL.to_vec())
}

pub fn jmp_cond() -> impl Strategy<Value = JmpCond> {
    prop::sample::select(vec![JmpCond::Eq, JmpCond::Gt, JmpCond::Ge, JmpCond::Set])
}

pub fn src() -> impl Strategy<Value = Src> {
    prop_oneof![any::<u32>().prop_map(Src::K), Just(Src::X)]
}

/// Any typed instruction, every field random.
pub fn any_insn() -> impl Strategy<Value = Insn> {
    prop_oneof![
        any::<u32>().prop_map(Insn::LdAbs),
        any::<u32>().prop_map(Insn::LdImm),
        any::<u32>().prop_map(Insn::LdMem),
        Just(Insn::LdLen),
        any::<u32>().prop_map(Insn::LdxImm),
        any::<u32>().prop_map(Insn::LdxMem),
        Just(Insn::LdxLen),
        any::<u32>().prop_map(Insn::St),
        any::<u32>().prop_map(Insn::Stx),
        (alu_op(), src()).prop_map(|(op, s)| Insn::Alu(op, s)),
        Just(Insn::Neg),
        any::<u32>().prop_map(Insn::Ja),
        (jmp_cond(), src(), any::<u8>(), any::<u8>()).prop_map(|(cond, src, jt, jf)| Insn::Jmp {
            cond,
            src,
            jt,
            jf
        }),
        any::<u32>().prop_map(Insn::Ret),
        Just(Insn::RetA),
        Just(Insn::Tax),
        Just(Insn::Txa),
    ]
}

pub fn byte_order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::Little), Just(ByteOrder::Big)]
}

/// A constant that is often near a validator boundary (0, 31, 32, 15, 16,
/// 63, 64); in a `clean` program only values the validator takes for shifts
/// and divisions.
pub fn edgy_k(clean: bool) -> BoxedStrategy<u32> {
    if clean {
        (1u32..32).boxed()
    } else {
        prop_oneof![4 => 0u32..40, 1 => 60u32..70, 1 => any::<u32>()].boxed()
    }
}

/// A slot index that is usually valid and often shared with other instructions.
pub fn slot(clean: bool) -> BoxedStrategy<u32> {
    if clean {
        (0u32..3).boxed()
    } else {
        prop_oneof![8 => 0u32..4, 1 => 0..BPF_MEMWORDS + 2, 1 => any::<u32>()].boxed()
    }
}

/// A jump offset for position `pc` of `len`: in range in a `clean` program,
/// else sometimes just past the end.
pub fn offset(pc: usize, len: usize, clean: bool) -> BoxedStrategy<u32> {
    let room = (len - pc) as u32; // targets pc+1 .. len-1 are offsets 0 .. room-2
    if clean {
        (0..room.saturating_sub(1).max(1)).boxed()
    } else {
        prop_oneof![8 => 0..room.max(1), 1 => room.saturating_sub(1)..room + 2, 1 => any::<u32>()]
            .boxed()
    }
}

/// A raw instruction for position `pc` of a `len`-instruction program. A
/// `clean` program breaks no rule but, possibly, the last-RET and
/// written-before-read ones; the others carry noise that breaks any rule.
pub fn raw_insn_at(pc: usize, len: usize, clean: bool) -> BoxedStrategy<RawInsn> {
    let off8 = || offset(pc, len, clean).prop_map(|o| o.min(255) as u8);
    let load_offset = if clean {
        (0u32..16).prop_map(|w| w * 4).boxed()
    } else {
        prop_oneof![8 => (0u32..16).prop_map(|w| w * 4), 1 => edgy_k(false)].boxed()
    };
    let mem_read_weight = if clean { 1 } else { 2 };
    let typed = prop_oneof![
        4 => load_offset.prop_map(Insn::LdAbs),
        1 => any::<u32>().prop_map(Insn::LdImm),
        mem_read_weight => slot(clean).prop_map(Insn::LdMem),
        1 => Just(Insn::LdLen),
        1 => any::<u32>().prop_map(Insn::LdxImm),
        mem_read_weight => slot(clean).prop_map(Insn::LdxMem),
        1 => Just(Insn::LdxLen),
        3 => slot(clean).prop_map(Insn::St),
        2 => slot(clean).prop_map(Insn::Stx),
        3 => (alu_op(), prop_oneof![edgy_k(clean).prop_map(Src::K), Just(Src::X)])
            .prop_map(|(op, s)| Insn::Alu(op, s)),
        1 => Just(Insn::Neg),
        1 => offset(pc, len, clean).prop_map(Insn::Ja),
        5 => (jmp_cond(), prop_oneof![edgy_k(clean).prop_map(Src::K), Just(Src::X)], off8(), off8())
            .prop_map(|(cond, src, jt, jf)| Insn::Jmp { cond, src, jt, jf }),
        1 => any::<u32>().prop_map(Insn::Ret),
        1 => Just(Insn::RetA),
        1 => Just(Insn::Tax),
        1 => Just(Insn::Txa),
    ]
    .prop_map(Insn::encode);
    // Non-zero "don't care" fields: jt/jf mean nothing outside conditional jumps.
    let dirty = (typed.clone(), any::<u8>(), any::<u8>()).prop_map(|(mut r, jt, jf)| {
        if r.code & 0x07 != 0x05 || r.code == 0x05 {
            r.jt = jt;
            r.jf = jf;
        }
        r
    });
    let ret = prop_oneof![
        Just(RawInsn::stmt(BPF_RET, 0x7fff_0000)),
        any::<u32>().prop_map(|k| RawInsn::stmt(BPF_RET, k)),
        Just(RawInsn::stmt(BPF_RET | 0x10, 0)),
    ];
    if clean {
        return if pc + 1 == len {
            prop_oneof![20 => ret, 1 => typed].boxed()
        } else {
            prop_oneof![30 => typed, 3 => dirty, 2 => ret].boxed()
        };
    }
    // Raw noise: stray opcodes.
    let noise = (any::<u16>(), any::<u8>(), any::<u8>(), any::<u32>())
        .prop_map(|(c, jt, jf, k)| RawInsn::new(c & 0xff, jt, jf, k));
    if pc + 1 == len {
        prop_oneof![12 => ret, 1 => typed, 1 => noise].boxed()
    } else {
        prop_oneof![30 => typed, 3 => dirty, 1 => noise, 2 => ret].boxed()
    }
}

/// Raw programs of 1 to 48 instructions, mostly valid: three in four are
/// "clean" (see [`raw_insn_at`]).
pub fn biased_raw_program() -> impl Strategy<Value = Vec<RawInsn>> {
    (1usize..48, prop::bool::weighted(0.75)).prop_flat_map(|(len, clean)| {
        (0..len)
            .map(|pc| raw_insn_at(pc, len, clean))
            .collect::<Vec<_>>()
    })
}

pub fn seccomp_data() -> impl Strategy<Value = SeccompData> {
    let word = prop_oneof![3 => 0u32..512, 1 => Just(0xc000_003e), 1 => any::<u32>()];
    let dword = prop_oneof![2 => 0u64..64, 1 => any::<u64>()];
    (
        word.clone(),
        word,
        any::<u64>(),
        prop::array::uniform6(dword),
    )
        .prop_map(|(nr, arch, instruction_pointer, args)| SeccompData {
            nr,
            arch,
            instruction_pointer,
            args,
        })
}
