//! Issue 15's acceptance over the corpus of real filters
//! (`testdata/filters`, see its SOURCES.md): every claim `explain` prints
//! agrees with the emulator on sampled arguments, high words included.

mod explain_check;
mod xorshift;

use std::path::{Path, PathBuf};
use syscage::analyze::explain::explain;
use syscage::analyze::lift::{lift, Limits};
use syscage::arch::Arch;
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Insn, Program, Src};
use xorshift::Rng;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/filters")
}

fn corpus() -> Vec<(String, Program)> {
    let dir = corpus_dir();
    let mut out: Vec<(String, Program)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bpf"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap();
            let prog = Program::from_bytes(&bytes, ByteOrder::Little)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, prog)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Values the filter compares arguments with, and their neighbours.
fn values(prog: &Program) -> Vec<u32> {
    let mut v = vec![0, 1, 2, 0x7fff_ffff, 0x8000_0000, u32::MAX];
    let mut after_arg_load = false;
    for insn in &prog.insns {
        match *insn {
            Insn::LdAbs(off) => after_arg_load = off >= 16,
            Insn::Jmp { src: Src::K(k), .. } | Insn::Alu(_, Src::K(k)) if after_arg_load => {
                v.extend([k, k.wrapping_add(1), k.wrapping_sub(1), !k]);
            }
            _ => {}
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn every_explain_claim_agrees_with_the_emulator() {
    let corpus = corpus();
    assert!(corpus.len() >= 30, "only {} filters", corpus.len());
    let mut rng = Rng(0x15_0001);
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for (name, prog) in &corpus {
        let table = match lift(prog, ByteOrder::Little, &Limits::default()) {
            Ok(t) => t,
            Err(e) => panic!("{name}: {e}"),
        };
        let e = explain(&table, &[Arch::X86_64.audit()], &|_| None);
        let vals = values(prog);
        for a in &e.arches {
            let Some(arch) = Arch::from_audit(a.audit) else {
                continue;
            };
            let claims = explain_check::Claims::new(a);
            let his: &[u32] = if arch.args_64bit() {
                &[0, 1, u32::MAX]
            } else {
                &[0]
            };
            for s in arch.syscalls() {
                if arch == Arch::X86_64 && s.nr & syscage::arch::X32_SYSCALL_BIT != 0 {
                    continue;
                }
                let samples = if claims.conditional(s.name) { 48 } else { 2 };
                for _ in 0..samples {
                    let args = std::array::from_fn(|_| {
                        let lo = rng.pick(&vals);
                        let hi = if rng.next() % 3 == 0 {
                            rng.pick(&vals)
                        } else {
                            rng.pick(his)
                        };
                        let hi = if arch.args_64bit() { hi } else { 0 };
                        (hi as u64) << 32 | lo as u64
                    });
                    let data = SeccompData {
                        nr: s.nr,
                        arch: a.audit,
                        instruction_pointer: rng.pick(&[0, 0x7fff_0000_1000]),
                        args,
                    };
                    checked += 1;
                    if let Err(why) =
                        claims.check(prog, ByteOrder::Little, s.name, &data, table.is_exact())
                    {
                        failures.push(format!("{name} ({}): {why}", a.name));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} claims disagree with the emulator:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(checked > 50_000, "only {checked} inputs checked");
}

/// One line per filter: the findings' ids, with the arch and, for the
/// rules about particular syscalls, those syscalls.
fn lint_summary(name: &str, prog: &Program) -> String {
    let table = lift(prog, ByteOrder::Little, &Limits::default()).unwrap();
    let findings = syscage::analyze::lint::lint(&table, prog, &[Arch::X86_64.audit()]);
    let mut parts: Vec<String> = findings
        .iter()
        .map(|f| {
            let mut s = f.id.to_string();
            if let Some(a) = &f.arch {
                s.push_str(&format!("[{a}]"));
            }
            if matches!(f.id, "syscall-alt-gap" | "x32-guard" | "arg-low-word-only") {
                s.push_str(&format!("({})", f.syscalls.join(",")));
            }
            s
        })
        .collect();
    parts.sort();
    parts.dedup();
    format!("{}: {}", name.trim_end_matches(".bpf"), parts.join("; "))
}

/// `lint` on every corpus filter, against a snapshot reviewed by hand
/// (`analyze_lint_corpus.txt`): no clone3-ENOSYS gap (Docker, runc,
/// flatpak), no pkey_mprotect gap where mprotect is argument-gated (tor),
/// no "permissive default" on allowlists that allow most syscalls
/// (Docker). To update after a reviewed change:
/// `SYSCAGE_UPDATE_SNAPSHOT=1 cargo test -p syscage --test analyze_corpus`.
#[test]
fn lint_findings_match_the_reviewed_snapshot() {
    let got: Vec<String> = corpus()
        .iter()
        .map(|(name, prog)| lint_summary(name, prog))
        .collect();
    let got = got.join("\n") + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/analyze_lint_corpus.txt");
    if std::env::var_os("SYSCAGE_UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    for (g, w) in got.lines().zip(want.lines()) {
        assert_eq!(
            g, w,
            "lint findings changed (review, then update the snapshot)"
        );
    }
    assert_eq!(got.lines().count(), want.lines().count());
    for line in got.lines() {
        // clone3 answered with ENOSYS is never a gap (Docker, runc,
        // flatpak, man-db); allowlists are no "permissive default".
        let docker_like = [
            "runc-docker-default",
            "runc-podman-default",
            "libseccomp-docker-default",
            "crun-docker-default",
            "podman-runc-default",
            "podman-crun-default",
            "flatpak-app",
            "man-db-sandbox",
        ];
        if docker_like
            .iter()
            .any(|d| line.starts_with(&format!("{d}:")))
        {
            assert!(!line.contains("clone3"), "{line}");
        }
        if docker_like[..6]
            .iter()
            .any(|d| line.starts_with(&format!("{d}:")))
        {
            assert!(!line.contains("permissive-default"), "{line}");
        }
    }
}
