//! A random policy, compiled by the optimizing compiler and by the naive
//! lowering (`compile::naive`, gVisor's way of checking its optimizer),
//! must decide like the reference evaluator `Policy::evaluate` on inputs
//! derived from the policy's numbers and constants and from the fuzz
//! bytes; both programs must pass the validator, and the symbolic proof
//! (`analyze::verify::prove`) must accept the naive program.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syscage::analyze::lift::LiftError;
use syscage::analyze::verify::{prove, ProofError, VerifyError};
use syscage::bpf::validate::validate_program;
use syscage::compile::{compile, compile_naive, CompileError, CompileOptions};
use syscage_fuzz::{order_of, policy, policy_inputs, Bytes};

fuzz_target!(|input: &[u8]| {
    let mut b = Bytes::new(input);
    let p = policy(&mut b);
    let optimized = match compile(&p, &CompileOptions::default()) {
        Ok(prog) => Some(prog),
        Err(CompileError::TooLong(_)) => None,
        Err(e) => panic!("compile: {e}"),
    };
    let naive = match compile_naive(&p) {
        Ok(prog) => Some(prog),
        Err(CompileError::TooLong(_)) => None,
        Err(e) => panic!("compile: {e}"),
    };
    for prog in optimized.iter().chain(&naive) {
        validate_program(prog).unwrap_or_else(|e| panic!("invalid program: {e}\n{p:?}"));
    }
    if optimized.is_none() && naive.is_none() {
        return;
    }
    for d in policy_inputs(&p, &mut b) {
        let want = p.evaluate(&d);
        let order = order_of(d.arch);
        for (name, prog) in [("optimized", &optimized), ("naive", &naive)] {
            if let Some(prog) = prog {
                let got = syscage::emu::run(prog, &d, order).unwrap().action;
                assert_eq!(got, want, "{name} program on {d:x?}\npolicy {p:?}");
            }
        }
    }
    // The proof reads each arch's input in its own byte order, so mixed
    // policies (x86_64 with s390x) are proven too.
    if let Some(prog) = &naive {
        match prove(&p, prog, p.arches()[0].byte_order()) {
            Ok(())
            | Err(ProofError::Lift(LiftError::TooManyPaths { .. }))
            | Err(ProofError::Verify(VerifyError::TooComplex { .. } | VerifyError::Undecided)) => {}
            Err(e) => panic!("the proof rejects the naive program: {e}\npolicy {p:?}"),
        }
    }
});
