//! Issue 15's first acceptance line over the whole corpus of real filters
//! (`testdata/filters`, every `.bpf` in it and its subdirectories):
//! `decompile` to the native language → `compile` → `diff` against the
//! original finds them equivalent.
//!
//! Filters that do not round-trip yet are listed in [`NOT_YET`] with the
//! reason they are refused; each of them must still be refused with exit 2
//! and that reason (never a silently different policy), and the list may
//! only shrink: a listed filter that round-trips fails the test so that it
//! is taken off.

use std::path::{Path, PathBuf};

mod syscage_bin;
mod unique_scratch;
use syscage_bin::{stderr, stdout, syscage};

/// Filters that do not round-trip yet, with the words of the refusal they
/// must get (from decompile, or from compile for a policy whose filter
/// would exceed the kernel's instruction limit).
const NOT_YET: &[(&str, &str)] = &[];

fn bpf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            bpf_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "bpf") {
            out.push(p);
        }
    }
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/filters");
    let mut v = Vec::new();
    bpf_files(&dir, &mut v);
    v.sort();
    v
}

/// decompile → compile (for the policy's arches) → diff: `Ok` when
/// equivalent, else what went wrong.
fn round_trip(bpf: &str, name: &str, dir: &Path) -> Result<(), String> {
    let o = syscage(&["decompile", bpf, "-a", "x86_64"]);
    match o.status.code() {
        Some(0) => {}
        Some(2) => {
            let err = stderr(&o);
            assert!(o.stdout.is_empty(), "{name}: output on refusal");
            assert_eq!(err.lines().count(), 1, "{name}: {err}");
            assert!(err.contains(bpf), "{name}: the reason names no file: {err}");
            return Err(format!("refused: {}", err.trim()));
        }
        other => panic!("{name}: decompile exit {other:?}: {}", stderr(&o)),
    }
    let text = stdout(&o);
    let policy = dir.join(format!("{name}.policy"));
    std::fs::write(&policy, &text).unwrap();
    let out = dir.join(format!("{name}.out"));
    let c = syscage(&[
        "compile",
        policy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    if !c.status.success() {
        let err = stderr(&c);
        assert_eq!(c.status.code(), Some(2), "{name}: compile: {err}");
        return Err(format!("compile refused: {err}\n{text}"));
    }
    let d = syscage(&["diff", bpf, out.to_str().unwrap(), "-a", "x86_64"]);
    if d.status.code() != Some(0) {
        let first: Vec<String> = stdout(&d).lines().take(4).map(str::to_string).collect();
        return Err(format!(
            "not equivalent: {}{}\n{text}",
            first.join("\n"),
            stderr(&d)
        ));
    }
    Ok(())
}

#[test]
fn decompile_compile_diff_is_equivalent_on_the_corpus() {
    let scratch = unique_scratch::Scratch::new("lang-corpus");
    let files = corpus();
    assert!(files.len() >= 80, "corpus has {} filters", files.len());
    let mut equivalent = 0;
    let mut failures = Vec::new();
    for path in &files {
        let f = path.to_str().unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let listed = NOT_YET.iter().find(|(n, _)| *n == name);
        match (round_trip(f, &name, &scratch.0), listed) {
            (Ok(()), None) => equivalent += 1,
            (Ok(()), Some(_)) => {
                failures.push(format!("{name}: round-trips now, take it off NOT_YET"))
            }
            (Err(e), Some((_, why))) if e.contains(why) => {}
            (Err(e), _) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!(
        "decompile → compile → diff: {equivalent} of {} equivalent ({} refused with a reason)",
        files.len(),
        NOT_YET.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
