//! Compiler benchmark: the Docker default profile (x86_64 with its x86 and
//! x32 sub-arches), syscage against libseccomp 2.5 (optimize level 1,
//! linear, and level 2, binary tree), side by side in one run.
//!
//! First a table (program length; instructions executed per x86_64
//! syscall, emulated with zero arguments, mean and max over the x86_64
//! table's syscalls and over every number 0..=max+64; frequency-weighted
//! mean; syscalls the kernel's action cache answers), then criterion
//! timings of "JSON text to filter bytes" for each.
//!
//! ```text
//! cargo bench -p syscage --bench compile
//! ```

#[path = "../tests/runc_bridge/mod.rs"]
mod runc_bridge;

use criterion::{black_box, Criterion};
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Program};
use syscage::compile::{compile, stats, CompileOptions};
use syscage::profile::{self, ResolveOptions};

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/docker-default-seccomp.json"
);

fn opts() -> ResolveOptions {
    runc_bridge::docker_x86_64_options()
}

/// JSON text to syscage's filter bytes.
fn syscage_bytes(text: &str, copts: &CompileOptions) -> Vec<u8> {
    let p = profile::parse(text).expect("parses");
    let (policy, _) = p.to_policy(&opts()).expect("translates");
    compile(&policy, copts)
        .expect("compiles")
        .to_bytes(ByteOrder::Little)
}

/// JSON text to libseccomp's filter bytes (runc's way), at `level`.
fn libseccomp_bytes(text: &str, level: u32) -> Program {
    let p = profile::parse(text).expect("parses");
    let oci = p.resolve_oci(Arch::X86_64, &opts());
    runc_bridge::export(
        &runc_bridge::runc_context(&oci, Arch::X86_64, Some(level)).expect("runc would build it"),
    )
}

fn row(name: &str, prog: &Program) {
    let s = stats(prog, &[Arch::X86_64, Arch::X86, Arch::X32]);
    let x = &s.arches[0];
    println!(
        "| {name} | {} | {:.2} | {} | {:.2} | {} | {:.2} | {}/{} | {:.2} / {:.2} |",
        s.len,
        x.known_mean,
        x.known_max,
        x.mean,
        x.max,
        x.weighted_mean,
        x.cache_allow,
        x.known,
        s.arches[1].known_mean,
        s.arches[2].known_mean,
    );
}

fn report(text: &str) {
    println!("Docker default profile, x86_64 host (x86, x32 sub-arches), kernel 6.18 selection, default caps, no ENOSYS stub");
    println!("| filter | insns | x86_64 mean | x86_64 max | all-nr mean | all-nr max | weighted mean | cache ALLOW | x86 / x32 mean |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let ours = Program::from_bytes(
        &syscage_bytes(text, &CompileOptions::default()),
        ByteOrder::Little,
    )
    .unwrap();
    row("syscage (frequency-weighted)", &ours);
    let flat = CompileOptions {
        frequency: None,
        ..CompileOptions::default()
    };
    let ours_flat = Program::from_bytes(&syscage_bytes(text, &flat), ByteOrder::Little).unwrap();
    row("syscage (uniform weights)", &ours_flat);
    let mut stub = opts();
    stub.enosys_unknown = true;
    let (p, _) = profile::parse(text).unwrap().to_policy(&stub).unwrap();
    row(
        "syscage, ENOSYS for unknown numbers",
        &compile(&p, &CompileOptions::default()).unwrap(),
    );
    row("libseccomp 2.5 optimize 1", &libseccomp_bytes(text, 1));
    row("libseccomp 2.5 optimize 2", &libseccomp_bytes(text, 2));
}

fn main() {
    let text = std::fs::read_to_string(DOCKER).expect("docker-default-seccomp.json");
    report(&text);
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("docker-default json->bytes");
    g.bench_function("syscage", |b| {
        b.iter(|| syscage_bytes(black_box(&text), &CompileOptions::default()))
    });
    let (policy, _) = profile::parse(&text).unwrap().to_policy(&opts()).unwrap();
    g.bench_function("syscage-compile-only", |b| {
        b.iter(|| compile(black_box(&policy), &CompileOptions::default()).unwrap())
    });
    g.bench_function("libseccomp-opt1", |b| {
        b.iter(|| libseccomp_bytes(black_box(&text), 1))
    });
    g.bench_function("libseccomp-opt2", |b| {
        b.iter(|| libseccomp_bytes(black_box(&text), 2))
    });
    g.finish();
    c.final_summary();
}
