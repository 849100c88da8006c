//! `syscage emu` against seccomp-tools 1.7.1's `emu` output: every file of
//! `seccomp-tools/expected/emu/`, byte for byte. The file name encodes the
//! arguments: `<fixture>.<arch>.<sys_nr and args joined by _>[.quiet].txt`,
//! `ip_N` is `--ip N` and `nosys` gives no syscall.

use std::path::{Path, PathBuf};
use std::process::Command;

fn data_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/seccomp-tools"
    ))
    .to_path_buf()
}

/// Every `.bpf` fixture under `bpf/`, by file stem.
fn bpf_files() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs = vec![data_dir().join("bpf")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).expect("fixture directory") {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "bpf") {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                out.push((stem, p));
            }
        }
    }
    out
}

/// The command line a fixture file name stands for.
fn command_for(name: &str, bpfs: &[(String, PathBuf)]) -> Vec<String> {
    let stem = name.strip_suffix(".txt").expect(".txt");
    let (stem, quiet) = match stem.strip_suffix(".quiet") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let parts: Vec<&str> = stem.split('.').collect();
    let i = (1..parts.len())
        .find(|&i| bpfs.iter().any(|(s, _)| *s == parts[..i].join(".")))
        .unwrap_or_else(|| panic!("{name}: no bpf fixture"));
    let fixture = parts[..i].join(".");
    let path = &bpfs.iter().find(|(s, _)| *s == fixture).unwrap().1;
    let mut cmd = vec![
        "emu".to_string(),
        path.to_string_lossy().into_owned(),
        "-a".into(),
        parts[i].to_string(),
    ];
    if let Some(spec) = parts.get(i + 1) {
        let words: Vec<&str> = spec.split('_').collect();
        match words.as_slice() {
            ["nosys"] => {}
            ["ip", ip] => cmd.extend(["--ip".to_string(), ip.to_string()]),
            w => cmd.extend(w.iter().map(|s| s.to_string())),
        }
    }
    if quiet {
        cmd.push("-q".into());
    }
    cmd
}

#[test]
fn every_emu_fixture_matches_seccomp_tools() {
    let bpfs = bpf_files();
    let dir = data_dir().join("expected/emu");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("expected/emu")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 13, "fixtures missing in {}", dir.display());
    let mut failures = Vec::new();
    for name in &names {
        let want = std::fs::read_to_string(dir.join(name)).unwrap();
        let args = command_for(name, &bpfs);
        let out = Command::new(env!("CARGO_BIN_EXE_syscage"))
            .args(&args)
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || got != want {
            failures.push(format!(
                "{name}: syscage {}\n--- expected\n{want}--- got (exit {:?})\n{got}{}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
