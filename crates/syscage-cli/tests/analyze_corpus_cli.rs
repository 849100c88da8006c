//! Issue 15.3's acceptance over the corpus of real filters
//! (`testdata/filters`): `decompile -f docker` writes a profile that,
//! compiled as runc would, `diff` finds equivalent to the filter, or exits
//! 2 with a reason; never a silently different profile. Where the only
//! reason is runc's ENOSYS stub, `--no-enosys` gives a profile equivalent
//! when compiled without it.

use std::path::{Path, PathBuf};

mod profile_compile;
mod syscage_bin;
mod unique_scratch;
use profile_compile::compile_raw;
use syscage_bin::{stderr, syscage};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/filters");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bpf"))
        .collect();
    v.sort();
    v
}

/// Compiles `profile` (with the stub unless `no_enosys`) and diffs it with
/// `filter`: whether they are equivalent, and diff's first lines.
fn equivalent(filter: &str, profile: &Path, no_enosys: bool) -> (bool, String) {
    let bpf = profile.with_extension("bpf");
    compile_raw(filter, profile, &bpf, no_enosys);
    let d = syscage(&["diff", filter, bpf.to_str().unwrap(), "-a", "x86_64"]);
    let text = String::from_utf8_lossy(&d.stdout);
    (
        d.status.code() == Some(0),
        text.lines().take(3).collect::<Vec<_>>().join("\n"),
    )
}

#[test]
fn decompile_to_docker_is_equivalent_or_refused_with_a_reason() {
    let scratch = unique_scratch::Scratch::new("corpus-docker");
    let dir = &scratch.0;
    let (mut as_runc, mut without_stub, mut refused) = (0, 0, 0);
    let mut silent = Vec::new();
    for path in corpus() {
        let f = path.to_str().unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let profile = dir.join(format!("{name}.json"));
        for no_enosys in [false, true] {
            let mut cmd = vec!["decompile", f, "-a", "x86_64", "-f", "docker"];
            if no_enosys {
                cmd.push("--no-enosys");
            }
            let o = syscage(&cmd);
            match o.status.code() {
                Some(0) => {
                    std::fs::write(&profile, &o.stdout).unwrap();
                    let (same, diff) = equivalent(f, &profile, no_enosys);
                    if !same {
                        silent.push(format!("{name} (no_enosys {no_enosys}):\n{diff}"));
                    }
                    if no_enosys {
                        without_stub += 1;
                    } else {
                        as_runc += 1;
                        break;
                    }
                }
                Some(2) => {
                    let err = stderr(&o);
                    assert!(o.stdout.is_empty(), "{name}: output on refusal");
                    assert_eq!(err.lines().count(), 1, "{name}: {err}");
                    assert!(err.contains(f), "{name}: the reason names no file: {err}");
                    if !no_enosys {
                        refused += 1;
                        if !err.contains("--no-enosys") {
                            break;
                        }
                    } else {
                        panic!("{name}: said --no-enosys would do, then refused: {err}");
                    }
                }
                other => panic!("{name}: exit {other:?}: {}", stderr(&o)),
            }
        }
    }
    assert!(
        silent.is_empty(),
        "silently different profiles:\n{}",
        silent.join("\n")
    );
    eprintln!(
        "decompile -f docker: {as_runc} equivalent as runc enforces them, {without_stub} more without the ENOSYS stub, {refused} refused with a reason"
    );
    assert!(as_runc + refused >= 80, "{as_runc} + {refused}");
    assert!(
        as_runc >= 15 && without_stub >= 15,
        "{as_runc}, {without_stub}"
    );
}
