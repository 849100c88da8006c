//! `syscage disasm` against seccomp-tools 1.7.1, byte for byte.
//!
//! Every file under `testdata/seccomp-tools/expected/disasm*/<arch>/` is a
//! case: the directory names the flags, the file name the input filter, the
//! parent directory the `-a` arch. The cases are enumerated from the
//! directories, so a fixture without a matching run fails instead of being
//! skipped. Where syscage deliberately prints something else, the deviation
//! is listed in [`DEVIATIONS`] with its reason (and in docs/compat.md); the
//! test checks that the expected file really says what the deviation claims
//! before substituting syscage's line, then compares the whole output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn data_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/seccomp-tools"
    ))
    .to_path_buf()
}

/// One line where syscage's output differs from seccomp-tools' on purpose.
struct Deviation {
    /// Fixture name (the `.bpf` file stem).
    fixture: &'static str,
    /// Instruction index of the line.
    index: usize,
    /// How the seccomp-tools line ends.
    theirs: &'static str,
    /// How syscage's line ends instead.
    ours: &'static str,
    /// Why.
    reason: &'static str,
}

const DEVIATIONS: &[Deviation] = &[Deviation {
    fixture: "all_inst",
    index: 20,
    theirs: "return KILL",
    ours: "return KILL(59)",
    reason: "the instruction returns 0x0000003b; seccomp-tools drops the data bits \
             of KILL, so its text reassembles to 0x00000000. syscage keeps them \
             (docs/compat.md, \"Return values keep their data bits\")",
}];

/// The flags each expected directory stands for.
const FLAG_DIRS: &[(&str, &[&str])] = &[
    ("disasm", &[]),
    ("disasm-asm-able", &["--asm-able"]),
    ("disasm-no-bpf", &["--no-bpf"]),
    ("disasm-no-arg-infer", &["--no-arg-infer"]),
];

/// Finds `<name>.bpf` anywhere under `bpf/`.
fn find_bpf(dir: &Path, file: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find_bpf(&path, file) {
                return Some(found);
            }
        } else if path.file_name().and_then(|n| n.to_str()) == Some(file) {
            return Some(path);
        }
    }
    None
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    v.sort();
    v
}

/// Applies the listed deviations to seccomp-tools' text for `fixture`.
fn expected_with_deviations(fixture: &str, text: &str) -> Result<String, String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    for d in DEVIATIONS.iter().filter(|d| d.fixture == fixture) {
        let prefix_plain = format!("{:04}: ", d.index);
        let prefix_bpf = format!(" {:04}: ", d.index);
        let line = lines
            .iter_mut()
            .find(|l| l.starts_with(&prefix_plain) || l.starts_with(&prefix_bpf))
            .ok_or_else(|| format!("deviation: no line {} in {fixture}", d.index))?;
        let body = line.trim_end_matches('\n');
        let head = body.strip_suffix(d.theirs).ok_or_else(|| {
            format!(
                "deviation for {fixture}:{} is stale: line is {body:?}, not ending in {:?} ({})",
                d.index, d.theirs, d.reason
            )
        })?;
        *line = format!("{head}{}\n", d.ours);
    }
    Ok(lines.concat())
}

#[test]
fn every_seccomp_tools_disasm_fixture() {
    let data = data_dir();
    let bin = env!("CARGO_BIN_EXE_syscage");
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut arches = std::collections::BTreeSet::new();
    let mut deviating = 0;
    for (dir, flags) in FLAG_DIRS {
        let root = data.join("expected").join(dir);
        let arch_dirs = sorted_entries(&root);
        assert!(!arch_dirs.is_empty(), "{} is empty", root.display());
        for arch_dir in arch_dirs {
            let arch = arch_dir.file_name().unwrap().to_str().unwrap().to_string();
            arches.insert(arch.clone());
            for expected_path in sorted_entries(&arch_dir) {
                cases += 1;
                let file = expected_path.file_name().unwrap().to_str().unwrap();
                // `<name>.disasm` or `<name>.txt`; s390x names keep `.s390x`.
                let fixture = file.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(file);
                let case = format!("{dir}/{arch}/{file}");
                let Some(bpf) = find_bpf(&data.join("bpf"), &format!("{fixture}.bpf")) else {
                    failures.push(format!("{case}: no bpf/**/{fixture}.bpf"));
                    continue;
                };
                let expected = std::fs::read_to_string(&expected_path).expect("expected file");
                let expected = match expected_with_deviations(fixture, &expected) {
                    Ok(e) => e,
                    Err(msg) => {
                        failures.push(format!("{case}: {msg}"));
                        continue;
                    }
                };
                if DEVIATIONS.iter().any(|d| d.fixture == fixture) {
                    deviating += 1;
                }
                let out = Command::new(bin)
                    .arg("disasm")
                    .arg(&bpf)
                    .args(["-a", &arch])
                    .args(*flags)
                    .output()
                    .expect("run syscage");
                let stdout = String::from_utf8_lossy(&out.stdout);
                if !out.status.success() {
                    failures.push(format!(
                        "{case}: exit {:?}: {}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                } else if stdout != expected {
                    let diff: Vec<String> = stdout
                        .lines()
                        .zip(expected.lines())
                        .filter(|(a, b)| a != b)
                        .take(3)
                        .map(|(a, b)| format!("    ours:   {a}\n    theirs: {b}"))
                        .collect();
                    failures.push(format!(
                        "{case}: output differs ({} vs {} lines)\n{}",
                        stdout.lines().count(),
                        expected.lines().count(),
                        diff.join("\n")
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The fixture set as its README describes it: every arch, every flag.
    assert_eq!(
        arches.into_iter().collect::<Vec<_>>(),
        ["aarch64", "amd64", "i386", "riscv64", "s390x"]
    );
    assert!(cases >= 163, "only {cases} cases found");
    // all_inst appears under 4 arches in disasm/ and disasm-asm-able/, and
    // once in each of the two canonical-arch directories.
    assert_eq!(deviating, 10, "cases with a listed deviation");
}

#[test]
fn deviations_are_documented() {
    let compat =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/compat.md"))
            .expect("docs/compat.md");
    assert!(compat.contains("## disasm"));
    for d in DEVIATIONS {
        assert!(
            compat.contains(d.ours),
            "docs/compat.md does not mention {:?}",
            d.ours
        );
    }
}
