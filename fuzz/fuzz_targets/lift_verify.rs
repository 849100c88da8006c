//! A random valid program (the validator accepts it) is lifted to a
//! decision table (`analyze::lift`), which must agree with the emulator
//! on inputs built from the program's constants and the fuzz bytes: an
//! exact table has exactly one leaf per input, returning what the
//! emulator returns along the instructions the emulator executes. The
//! table is then verified (`analyze::verify`) against a random policy:
//! a proof means the policy's evaluator agrees with the emulator on every
//! input tried, and a mismatch's example input really is one (each input
//! emulated in the byte order `verify` reads it in: its arch's, when the
//! policy names the arch). Nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syscage::analyze::lift::{lift, Limits, Verdict};
use syscage::analyze::verify::{data_order, verify, VerifyError};
use syscage::bpf::validate::validate_program;
use syscage::bpf::ByteOrder;
use syscage_fuzz::{policy, program, program_inputs, Bytes};

fuzz_target!(|input: &[u8]| {
    let mut b = Bytes::new(input);
    let order = if b.u8() & 1 == 0 {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    };
    let prog = program(&mut b);
    if validate_program(&prog).is_err() {
        return;
    }
    let limits = Limits {
        max_steps: 200_000,
        max_leaves: 5_000,
    };
    let Ok(table) = lift(&prog, order, &limits) else {
        return;
    };
    let inputs = program_inputs(&prog, order, &mut b);
    for d in &inputs {
        let out = syscage::emu::run_traced(&prog, d, order).expect("a valid program runs");
        let leaves: Vec<_> = table.lookup(d).collect();
        assert!(!leaves.is_empty(), "no leaf holds {d:x?}\n{prog:?}");
        if table.is_exact() {
            assert_eq!(leaves.len(), 1, "leaves overlap on {d:x?}\n{prog:?}");
            let leaf = leaves[0];
            assert_eq!(
                Some(&leaf.path),
                out.trace.as_ref(),
                "path of {d:x?}\n{prog:?}"
            );
            if let Verdict::Ret(r) = leaf.verdict {
                assert_eq!(r, out.ret, "return value on {d:x?}\n{prog:?}");
            }
        } else {
            assert!(
                leaves
                    .iter()
                    .any(|l| l.verdict == Verdict::Ret(out.ret) || l.verdict == Verdict::Unknown),
                "no leaf returns {:#x} on {d:x?}\n{prog:?}",
                out.ret
            );
        }
    }
    let p = policy(&mut b);
    match verify(&p, &table) {
        Ok(()) => {
            for d in &inputs {
                let o = data_order(&p, &table, d.arch);
                let got = syscage::emu::run(&prog, d, o).unwrap().action;
                assert_eq!(
                    got,
                    p.evaluate(d),
                    "proven, yet differs on {d:x?}\n{prog:?}\n{p:?}"
                );
            }
        }
        Err(VerifyError::Mismatch(m)) => {
            let d = m.example;
            let o = data_order(&p, &table, d.arch);
            let got = syscage::emu::run(&prog, &d, o).unwrap().action;
            // A region returning A (input-dependent) may agree on its example
            // (the example's words read in its order `o`).
            let unknown = table.leaves.iter().any(|l| {
                l.verdict == Verdict::Unknown
                    && l.region
                        .iter()
                        .enumerate()
                        .all(|(w, dom)| dom.contains(d.word_at(w as u32 * 4, o).unwrap_or(0)))
            });
            assert!(
                unknown || got != p.evaluate(&d),
                "mismatch example agrees: {m}\n{prog:?}\n{p:?}"
            );
        }
        // Inexact, too complex, undecided (and variants to come): no claim.
        Err(_) => {}
    }
});
