//! `-o` never writes through a symlink another user planted: `dump -o DIR`
//! refuses a name that exists, a single `-o FILE` replaces the name (a
//! symlink there is replaced, the file it points at is untouched).

mod syscage_bin;
mod unique_scratch;
use syscage_bin::{repo, syscage, BIN};
use unique_scratch::Scratch;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const VICTIM: &[u8] = b"the victim's own contents\n";

/// `dir/victim` (mode 0600) and `dir/link` pointing at it.
fn victim_and_link(dir: &Path) -> (PathBuf, PathBuf) {
    let victim = dir.join("victim");
    std::fs::write(&victim, VICTIM).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    (victim, link)
}

#[track_caller]
fn assert_replaced(victim: &Path, link: &Path, expected: &[u8]) {
    assert_eq!(
        std::fs::read(victim).unwrap(),
        VICTIM,
        "the victim was written"
    );
    let meta = std::fs::symlink_metadata(link).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{} is not a regular file now",
        link.display()
    );
    assert_eq!(std::fs::read(link).unwrap(), expected);
    let leftovers: Vec<_> = std::fs::read_dir(link.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn compile_o_replaces_a_symlink_instead_of_following_it() {
    let scratch = Scratch::new("compile-o");
    let (victim, link) = victim_and_link(&scratch.0);
    let profile = repo("crates/syscage/profiles/default.json");
    let to_stdout = syscage(&["compile", &profile, "-f", "raw"]);
    assert_eq!(to_stdout.status.code(), Some(0), "{to_stdout:?}");
    let out = syscage(&["compile", &profile, "-o", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_replaced(&victim, &link, &to_stdout.stdout);
}

#[test]
fn asm_o_replaces_a_symlink_instead_of_following_it() {
    let scratch = Scratch::new("asm-o");
    let (victim, link) = victim_and_link(&scratch.0);
    let asm = repo("examples/allow-stdio.asm");
    let to_stdout = syscage(&["asm", &asm, "-f", "raw"]);
    assert_eq!(to_stdout.status.code(), Some(0), "{to_stdout:?}");
    let out = syscage(&["asm", &asm, "-f", "raw", "-o", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_replaced(&victim, &link, &to_stdout.stdout);
}

#[test]
fn replacing_a_regular_file_keeps_its_mode() {
    let scratch = Scratch::new("asm-mode");
    let target = scratch.0.join("filter.bpf");
    std::fs::write(&target, b"old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let asm = repo("examples/allow-stdio.asm");
    let out = syscage(&["asm", &asm, "-f", "raw", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_ne!(std::fs::read(&target).unwrap(), b"old");
}

/// The symlink attack on `dump -o DIR`: in a world-writable directory,
/// another user plants `PID-1.asm` symlinks to a victim for the PIDs the
/// program will likely get (they are predictable). syscage must refuse the
/// name, exit 2 naming it, and leave the victim alone.
#[test]
fn dump_o_refuses_a_planted_symlink() {
    let scratch = Scratch::new("dump-o");
    std::fs::set_permissions(&scratch.0, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = scratch.0.join("victim");
    std::fs::write(&victim, VICTIM).unwrap();
    let out_dir = scratch.0.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .map_or(32768, |s| s.trim().parse().unwrap());
    // Other processes on the machine may take the planted PIDs first: then
    // the program gets one beyond them, and the attack is tried again.
    let mut attempts = 0;
    let (out, stderr) = loop {
        // The next PIDs: after the one `true` got, the few thousand after it.
        let last = Command::new("true").spawn().unwrap();
        let base = last.id();
        let _ = { last }.wait();
        for pid in (base + 1..base + 3000).filter(|&p| p < pid_max) {
            let _ = std::os::unix::fs::symlink(&victim, out_dir.join(format!("{pid}-1.asm")));
        }
        let out = syscage(&[
            "dump",
            "-o",
            out_dir.to_str().unwrap(),
            "--",
            BIN,
            "run",
            "--deny",
            "mkdir",
            "--",
            "true",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.code() == Some(2) && stderr.contains("ptrace") {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but `syscage dump` cannot ptrace: {stderr}"
            );
            eprintln!("NOT CHECKED: `syscage dump` needs ptrace: {stderr}");
            return;
        }
        let missed = out.status.code() == Some(0) && std::fs::read(&victim).unwrap() == VICTIM;
        if !missed || attempts == 5 {
            break (out, stderr);
        }
        eprintln!("the program's PID was not among the planted ones; again: {stderr}");
        attempts += 1;
    };
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        VICTIM,
        "the victim was written; {stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let named = stderr
        .split_whitespace()
        .find(|w| w.ends_with("-1.asm:"))
        .unwrap_or_else(|| panic!("no path named: {stderr}"));
    let named = Path::new(named.trim_end_matches(':'));
    assert!(
        std::fs::symlink_metadata(named)
            .unwrap()
            .file_type()
            .is_symlink(),
        "{stderr}"
    );
    assert!(stderr.contains("already exists"), "{stderr}");
}
