//! Times compile + prove for the Docker default profile: `cargo run --release -p syscage --example prove_time`.
use std::time::Instant;
use syscage::arch::Arch;
use syscage::compile::{compile, CompileOptions};
use syscage::profile::{self, KernelVersion, ResolveOptions};
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or("/work/shared/data/docker-default-seccomp.json".into());
    let text = std::fs::read_to_string(path).unwrap();
    let p = profile::parse(&text).unwrap();
    let opts = ResolveOptions::docker(
        vec![Arch::X86_64],
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    let (policy, _) = p.to_policy(&opts).unwrap();
    let prog = compile(&policy, &CompileOptions::default()).unwrap();
    let n = 50;
    let t = Instant::now();
    for _ in 0..n {
        syscage::analyze::verify::prove(&policy, &prog, Arch::X86_64.byte_order()).unwrap();
    }
    let per = t.elapsed() / n;
    let t2 = Instant::now();
    for _ in 0..n {
        let _ = syscage::analyze::lift::lift(&prog, Arch::X86_64.byte_order(), &Default::default())
            .unwrap();
    }
    println!(
        "prove: {per:?} per run (lift alone {:?}), {} insns, {} leaves",
        t2.elapsed() / n,
        prog.len(),
        syscage::analyze::lift::lift(&prog, Arch::X86_64.byte_order(), &Default::default())
            .unwrap()
            .leaves
            .len()
    );
}
