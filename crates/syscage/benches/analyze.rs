//! Cost of the symbolic analysis on the Docker default profile (x86_64
//! with its x86 and x32 sub-arches): lifting the compiled filter, and the
//! proof of compilation (`lift` + `verify`) that `syscage compile` runs.
//!
//! `cargo bench -p syscage --bench analyze`

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use syscage::analyze::lift::{lift, Limits};
use syscage::analyze::verify::prove;
use syscage::arch::Arch;
use syscage::compile::{compile, CompileOptions};
use syscage::profile::{self, KernelVersion, ResolveOptions};

fn bench(c: &mut Criterion) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/docker-default-seccomp.json");
    let text = std::fs::read_to_string(path).expect("Docker default profile");
    let opts = ResolveOptions::docker(
        vec![Arch::X86_64],
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    let (policy, _) = profile::parse(&text).unwrap().to_policy(&opts).unwrap();
    let prog = compile(&policy, &CompileOptions::default()).unwrap();
    let order = Arch::X86_64.byte_order();
    c.bench_function("lift docker-default x86_64", |b| {
        b.iter(|| lift(&prog, order, &Limits::default()).unwrap())
    });
    c.bench_function("prove docker-default x86_64", |b| {
        b.iter(|| prove(&policy, &prog, order).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
