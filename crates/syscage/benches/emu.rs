//! Emulator throughput: evaluations per second of `syscage::emu::run` on
//! the seccomp-tools fixture filters (read in place from
//! `testdata/seccomp-tools/bpf`), each on 512 inputs (syscall numbers
//! 0..512 of the fixture's canonical arch, varying arguments).
//!
//! `cargo bench -p syscage --bench emu`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{codec, validate, ByteOrder, Program};

fn data_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/seccomp-tools/bpf"
    ))
    .to_path_buf()
}

/// The arch the upstream specs use for each fixture (see the fixture README).
fn canonical_arch(name: &str) -> Arch {
    match name {
        "CONFidence-2017-amigo" => Arch::X86,
        "DEF-CON-2020-bdooos" => Arch::Aarch64,
        "riscv64_hwprobe" => Arch::Riscv64,
        n if n.ends_with(".s390x") => Arch::S390x,
        _ => Arch::X86_64,
    }
}

/// Every fixture the kernel would accept, with its arch.
fn fixtures() -> Vec<(String, Program, Arch)> {
    let mut out = Vec::new();
    for sub in ["", "from-spec-inline", "s390x-big-endian"] {
        let dir = data_dir().join(sub);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "bpf"))
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let arch = canonical_arch(&name);
            let bytes = std::fs::read(&path).unwrap();
            let raw = codec::decode(&bytes, arch.byte_order()).unwrap();
            match validate(&raw) {
                Ok(prog) => out.push((name, prog, arch)),
                Err(e) => eprintln!("skipping {name}: the kernel would refuse it: {e}"),
            }
        }
    }
    out
}

fn inputs(arch: Arch) -> Vec<SeccompData> {
    (0..512u32)
        .map(|nr| SeccompData {
            nr,
            arch: arch.audit(),
            instruction_pointer: 0x7fff_0000_1000 + nr as u64,
            args: [nr as u64 % 7, 1, 2, 0x1_0000_0000, 0, 0],
        })
        .collect()
}

fn bench_emu(c: &mut Criterion) {
    let mut group = c.benchmark_group("emu");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for (name, prog, arch) in fixtures() {
        let data = inputs(arch);
        let order: ByteOrder = arch.byte_order();
        group.throughput(Throughput::Elements(data.len() as u64));
        group.bench_with_input(
            BenchmarkId::new(format!("{name} ({} insns)", prog.len()), arch.name()),
            &data,
            |b, data| {
                b.iter(|| {
                    for d in data {
                        black_box(syscage::emu::run(black_box(&prog), d, order).unwrap());
                    }
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_emu);
criterion_main!(benches);
