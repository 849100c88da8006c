//! The corpus of real filters in `testdata/filters` (captured from Debian
//! programs with `syscage dump -f raw`, see its SOURCES.md) is usable: every
//! file decodes and passes the validator as the kernel accepted it (and
//! re-encodes to the same instructions), the corpus holds at least 30 filters,
//! each has its row (with its length) and its recipe in SOURCES.md, and each
//! survives disasm → asm: the reassembled program decides like the original
//! under the emulator on a sample of syscalls (every number of x86_64, x32
//! and i386, a foreign arch, out-of-table numbers; arguments with zero,
//! all-ones, high-word and pseudo-random values, and, where the filter reads
//! arguments, pairs of its own constants), and that sample reaches at least
//! two different decisions of each filter.

use std::fs;
use std::path::{Path, PathBuf};

use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::asm::parse::assemble;
use syscage::asm::print::{disasm, DisasmOptions};
use syscage::bpf::codec::decode;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{validate, ByteOrder, Insn, Program, Src};
use syscage::emu;

/// Fewest filters the corpus must hold (issue 15's acceptance).
const MIN_FILTERS: usize = 30;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/filters")
}

/// Every `.bpf` file of the corpus, sorted by name, with its bytes.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir();
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bpf"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Decodes and validates one captured filter (x86_64 host: little-endian).
fn load(name: &str, bytes: &[u8]) -> Program {
    let raw = decode(bytes, ByteOrder::Little).unwrap_or_else(|e| panic!("{name}: {e}"));
    validate(&raw).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The decoded program re-encodes to the captured instructions, except for
/// the `jt`/`jf` bytes of instructions that are not conditional jumps, which
/// the kernel ignores (firejail leaves `jf = 1` in a `RET`).
fn assert_faithful(name: &str, bytes: &[u8], prog: &Program) {
    let captured = decode(bytes, ByteOrder::Little).expect("decoded before");
    let again = prog.to_raw();
    assert_eq!(captured.len(), again.len(), "{name}: length changed");
    for (i, (c, a)) in captured.iter().zip(&again).enumerate() {
        let conditional_jump = c.code & 0x07 == 0x05 && c.code & 0xf0 != 0x00;
        let same =
            c.code == a.code && c.k == a.k && (!conditional_jump || (c.jt, c.jf) == (a.jt, a.jf));
        assert!(
            same,
            "{name}: instruction {i} re-encodes as {a:?}, captured {c:?}"
        );
    }
}

/// A deterministic pseudo-random stream (splitmix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An argument value: small numbers and flag-like bits the real filters
    /// test, 32-bit boundaries, high-word values, or anything.
    fn arg(&mut self) -> u64 {
        const INTERESTING: [u64; 12] = [
            0,
            1,
            2,
            3,
            6,
            9,
            0x10,
            0x7fff_ffff,
            0xffff_ffff,
            0x1_0000_0000,
            0x1_0000_0001,
            u64::MAX,
        ];
        let r = self.next();
        match r % 4 {
            0 => INTERESTING[(r >> 8) as usize % INTERESTING.len()],
            1 => (r >> 8) & 0xff,
            2 => (r >> 8) & 0xffff_ffff,
            _ => r,
        }
    }
}

/// Most constants of a filter used as argument values.
const MAX_CONSTANTS: usize = 16;

/// The constants `prog` compares or masks an argument word with (in
/// program order, an `ALU`/`JMP` with a constant after a load from
/// `args[]`), the first [`MAX_CONSTANTS`] distinct ones, to use as
/// argument values.
fn constants(prog: &Program) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut after_arg_load = false;
    for insn in &prog.insns {
        let k = match *insn {
            Insn::LdAbs(off) => {
                after_arg_load = off >= 16;
                continue;
            }
            Insn::Jmp { src: Src::K(k), .. } | Insn::Alu(_, Src::K(k)) if after_arg_load => k,
            _ => continue,
        };
        if !out.contains(&u64::from(k)) && out.len() < MAX_CONSTANTS {
            out.push(u64::from(k));
        }
    }
    out
}

/// Whether `prog` reads an argument word when run on `data`.
fn reads_args(prog: &Program, data: &SeccompData) -> bool {
    let out = emu::run_traced(prog, data, ByteOrder::Little).expect("valid filters run");
    out.trace
        .unwrap_or_default()
        .iter()
        .any(|&i| matches!(prog.insns[i], Insn::LdAbs(off) if off >= 16))
}

/// The calls of [`sample`] for which `prog` reads arguments, again with
/// pairs of the filter's own constants as arguments (`[a, b, b, a, a, b]`
/// and `[a, b, a, b, a, b]`, so any two positions get any two constants),
/// and with each constant plus a high-word bit.
fn argument_sample(prog: &Program, sample: &[SeccompData]) -> Vec<SeccompData> {
    let consts = constants(prog);
    let mut out = Vec::new();
    for base in sample.iter().filter(|d| d.args == [0; 6]) {
        if !reads_args(prog, base) {
            continue;
        }
        for &a in &consts {
            out.push(SeccompData {
                args: [a | 1 << 32; 6],
                ..*base
            });
            for &b in &consts {
                out.push(SeccompData {
                    args: [a, b, b, a, a, b],
                    ..*base
                });
                out.push(SeccompData {
                    args: [a, b, a, b, a, b],
                    ..*base
                });
            }
        }
    }
    out
}

/// The sample of syscalls each filter is run on.
fn sample() -> Vec<SeccompData> {
    let mut mix = Mix(15);
    let x86_64 = Arch::X86_64.audit();
    let mut calls: Vec<(u32, u32)> = Vec::new();
    calls.extend((0..=470).map(|nr| (x86_64, nr)));
    calls.extend((0..=560).map(|nr| (x86_64, X32_SYSCALL_BIT | nr)));
    calls.extend((0..=470).map(|nr| (Arch::X86.audit(), nr)));
    calls.extend((0..=40).map(|nr| (Arch::Aarch64.audit(), nr * 11)));
    for nr in [1000, 0x3fff_ffff, 0x4000_1000, 0x8000_0000, 0xffff_ffff] {
        calls.push((x86_64, nr));
        calls.push((Arch::X86.audit(), nr));
    }
    let mut out = Vec::new();
    for (arch, nr) in calls {
        let base = SeccompData {
            nr,
            arch,
            instruction_pointer: mix.next(),
            args: [0; 6],
        };
        out.push(base);
        out.push(SeccompData {
            args: [u64::MAX; 6],
            ..base
        });
        for _ in 0..2 {
            let args = std::array::from_fn(|_| mix.arg());
            out.push(SeccompData { args, ..base });
        }
    }
    out
}

#[test]
fn corpus_has_enough_valid_filters_all_listed_in_sources() {
    let files = corpus();
    assert!(
        files.len() >= MIN_FILTERS,
        "{} holds {} filters, fewer than {MIN_FILTERS}",
        corpus_dir().display(),
        files.len()
    );
    let sources = fs::read_to_string(corpus_dir().join("SOURCES.md")).expect("SOURCES.md");
    for (name, bytes) in &files {
        let prog = load(name, bytes);
        assert!(!prog.is_empty(), "{name}: empty program");
        assert_faithful(name, bytes, &prog);
        let row = format!("| `{name}` | {} |", prog.len());
        assert!(
            sources.contains(&row),
            "SOURCES.md has no table row starting {row:?}"
        );
        assert!(
            sources.contains(&format!("- `{name}`: ")),
            "SOURCES.md does not say how {name} was made"
        );
    }
}

#[test]
fn disasm_then_asm_decides_like_the_original() {
    let opts = DisasmOptions {
        asm_able: true,
        no_bpf: true,
        no_arg_infer: true,
    };
    let sample = sample();
    for (name, bytes) in corpus() {
        let prog = load(&name, &bytes);
        let text = disasm(&prog.to_raw(), Arch::X86_64, &opts);
        let back = assemble(&text, Arch::X86_64)
            .unwrap_or_else(|e| panic!("{name}: its disassembly does not assemble: {e}"));
        assert_eq!(back.len(), prog.len(), "{name}: length changed");
        let mut seen = std::collections::BTreeSet::new();
        for data in sample.iter().chain(&argument_sample(&prog, &sample)) {
            let want = emu::run(&prog, data, ByteOrder::Little)
                .unwrap_or_else(|e| panic!("{name}: {data:?}: {e}"));
            let got = emu::run(&back, data, ByteOrder::Little)
                .unwrap_or_else(|e| panic!("{name} reassembled: {data:?}: {e}"));
            assert_eq!(
                got.ret, want.ret,
                "{name}: reassembled filter decides differently on {data:?}"
            );
            seen.insert(want.ret);
        }
        assert!(
            seen.len() >= 2,
            "{name}: the sample reaches only {seen:x?}; it does not exercise the filter"
        );
    }
}
