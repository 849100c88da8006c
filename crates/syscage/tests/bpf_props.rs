//! Property tests of the BPF core: the raw codec round-trips every typed
//! program in both byte orders, and the validator never accepts a program
//! on which the emulator fails.

mod bpf_gen;

use bpf_gen::{any_insn, biased_raw_program, byte_order, seccomp_data};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use syscage::bpf::{validate, AluOp, ByteOrder, Insn, Program, RawInsn, Src};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_encode_round_trip(insns in prop::collection::vec(any_insn(), 1..64), order in byte_order()) {
        let prog = Program::new(insns);
        let bytes = prog.to_bytes(order);
        prop_assert_eq!(bytes.len(), prog.len() * 8);
        prop_assert_eq!(Program::from_bytes(&bytes, order).unwrap(), prog.clone());
        // The raw layer alone round-trips too.
        let raw = prog.to_raw();
        prop_assert_eq!(syscage::bpf::codec::decode(&bytes, order).unwrap(), raw);
    }

    #[test]
    fn raw_codec_round_trip(raw in prop::collection::vec(
        (any::<u16>(), any::<u8>(), any::<u8>(), any::<u32>()).prop_map(|(c, t, f, k)| RawInsn::new(c, t, f, k)),
        1..64,
    ), order in byte_order()) {
        let bytes = syscage::bpf::codec::encode(&raw, order);
        prop_assert_eq!(syscage::bpf::codec::decode(&bytes, order).unwrap(), raw);
    }

    #[test]
    fn validated_programs_always_run_to_a_return(
        raw in biased_raw_program(),
        inputs in prop::collection::vec(seccomp_data(), 1..8),
    ) {
        if let Ok(prog) = validate(&raw) {
            prop_assert_eq!(prog.to_raw().len(), raw.len());
            for data in &inputs {
                for order in [ByteOrder::Little, ByteOrder::Big] {
                    let out = syscage::emu::run_traced(&prog, data, order);
                    prop_assert!(out.is_ok(), "{:?} on {:?}: {:?}", prog, data, out);
                    let out = out.unwrap();
                    let last = *out.trace.as_ref().unwrap().last().unwrap();
                    prop_assert!(out.steps <= raw.len(), "no loops in classic BPF");
                    // Either a RET, or a division by X == 0, ended the run.
                    prop_assert!(
                        prog.insns[last].is_ret()
                            || matches!(prog.insns[last], Insn::Alu(AluOp::Div, Src::X)),
                    );
                }
            }
        }
    }
}

/// The biased generator must reach the interesting part: a good share of
/// its programs pass the validator, and a good share do not.
#[test]
fn biased_generator_makes_many_valid_programs() {
    let mut runner = TestRunner::deterministic();
    let strategy = biased_raw_program();
    let total = 2000;
    let valid = (0..total)
        .filter(|_| validate(&strategy.new_tree(&mut runner).unwrap().current()).is_ok())
        .count();
    eprintln!("{valid} of {total} generated programs are valid");
    assert!(
        valid * 5 >= total,
        "only {valid} of {total} generated programs are valid"
    );
    assert!(
        valid * 10 <= total * 9,
        "{valid} of {total}: the rejections are not exercised"
    );
}
