//! `syscage run`'s guards on the real kernel: the filter verified in
//! force, profiles resolved as `compile` does, numbers translated per
//! arch, refusals named at exit, alternatives warned about, programs that
//! cannot start told so (every filter is installed in syscage's child,
//! never in the test process).

mod seccomp_support;
use seccomp_support::require_seccomp;

mod run_refusal;
mod syscage_bin;
use run_refusal::{assert_refused, temp};
use syscage_bin::{stderr, syscage};

use std::path::PathBuf;
use std::process::Command;

#[test]
fn a_program_that_cannot_start_gets_one_clear_message() {
    if !require_seccomp() {
        return;
    }
    let marker = temp("cannot-start");
    let m = marker.to_str().unwrap();
    // Without execve and exit_group nothing starts or ends: refused before.
    assert_refused(
        &syscage(&["run", "--allow", "read", "--", "touch", m]),
        "the filter refuses execve (EPERM), exit_group (EPERM): touch cannot start",
        &marker,
    );
    for (default, said) in [
        ("SCMP_ACT_ERRNO", "execve (EPERM)"),
        ("SCMP_ACT_KILL_PROCESS", "execve (killed)"),
        (
            "SCMP_ACT_NOTIFY",
            "execve (notify, nobody listening: ENOSYS)",
        ),
    ] {
        let p = temp("start.json");
        std::fs::write(&p, format!("{{\"defaultAction\": \"{default}\"}}")).unwrap();
        let o = syscage(&["run", "--profile", p.to_str().unwrap(), "--", "touch", m]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(said), "{default}: {err}");
        assert!(!marker.exists());
        let _ = std::fs::remove_file(p);
    }
    // The loader's calls refused: a warning naming them, then the kill.
    let o = syscage(&[
        "run",
        "--allow",
        "execve,exit_group,read,write",
        "--action",
        "kill",
        "--",
        "touch",
        m,
    ]);
    let err = stderr(&o);
    if err.contains("loader") {
        assert!(err.contains("the filter refuses brk (killed), "), "{err}");
    }
    // Killed after installing, before execve: syscage's child, not the program.
    let o = syscage(&[
        "run",
        "--allow",
        "execve,exit_group",
        "--action",
        "kill",
        "--",
        "touch",
        m,
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(128 + 31), "{err}");
    assert!(
        err.contains("touch never started: the filter killed syscage's child at read (0, x86_64)"),
        "{err}"
    );
    assert!(!marker.exists());
}

#[test]
fn a_faked_seccomp_call_is_caught_and_the_program_never_starts() {
    if !require_seccomp() {
        return;
    }
    // An outer filter answers seccomp(2) and prctl(2) with 0 without
    // running them (SECCOMP_RET_ERRNO, data 0): the inner syscage must see
    // that no filter was added and refuse to run the program.
    let marker = temp("faked-marker");
    let m = marker.to_str().unwrap();
    let exe = env!("CARGO_BIN_EXE_syscage");
    for inner in [
        vec![exe, "run", "--deny", "mkdir,mkdirat", "--", "mkdir", m],
        vec![exe, "run", "--strict", "--", "mkdir", m],
    ] {
        let mut args = vec![
            "run",
            "--deny",
            "seccomp,prctl",
            "--action",
            "errno:0",
            "--",
        ];
        args.extend(inner);
        assert_refused(&syscage(&args), "the filter is not in force", &marker);
    }
    // seccomp(2) failing with EINVAL or ENOSYS is named as such, not
    // blamed on the kernel's actions.
    for (errno, said) in [
        ("errno:22", "Invalid argument"),
        ("errno:38", "Function not implemented"),
    ] {
        let o = syscage(&[
            "run",
            "--deny",
            "seccomp",
            "--action",
            errno,
            "--",
            exe,
            "run",
            "--deny",
            "mkdir,mkdirat",
            "--",
            "mkdir",
            m,
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("syscage: error: seccomp(SECCOMP_GET_ACTION_AVAIL) failed although")
                && err.contains(said),
            "{err}"
        );
        assert!(!marker.exists());
    }
    // Nested for real, the inner filter is counted and enforced.
    let o = syscage(&[
        "run",
        "--deny",
        "getpid",
        "--",
        exe,
        "run",
        "--deny",
        "mkdir,mkdirat",
        "--",
        "mkdir",
        m,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("Operation not permitted"));
    assert!(!marker.exists());
}

#[test]
fn a_profile_runs_as_compile_resolves_it() {
    if !require_seccomp() {
        return;
    }
    let dir = temp("profile-dir");
    let d = dir.to_str().unwrap();
    // A misspelled name is warned about, as `compile` does.
    let typo = temp("typo.json");
    std::fs::write(
        &typo,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirr"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let o = syscage(&["run", "--profile", typo.to_str().unwrap(), "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{}: warning: ", typo.display()))
            && stderr(&o).contains("mkdirr"),
        "{}",
        stderr(&o)
    );
    // --action cannot change a profile's actions: refused, nothing runs.
    let marker = temp("profile-marker");
    let o = syscage(&[
        "run",
        "--profile",
        typo.to_str().unwrap(),
        "--action",
        "kill",
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]);
    assert_refused(&o, "--action kill with --profile", &marker);
    // Capability-gated rules: Docker's default set unless --cap, as `compile`.
    let gated = temp("gated.json");
    std::fs::write(
        &gated,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_CHOWN"]}}]}"#,
    )
    .unwrap();
    let g = gated.to_str().unwrap();
    let o = syscage(&["run", "--profile", g, "--", "mkdir", d]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!dir.exists());
    let o = syscage(&[
        "run",
        "--profile",
        g,
        "--cap",
        "sys_admin",
        "--",
        "mkdir",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.exists());
    std::fs::remove_dir(&dir).unwrap();
    let o = syscage(&["run", "--profile", g, "--kernel", "nine", "--", "true"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for f in [typo, gated] {
        let _ = std::fs::remove_file(f);
    }
}

/// A program that makes i386 `mkdir` (39) through `int 0x80` on its first
/// argument and prints the raw result; `None` (with `NOT CHECKED`) without
/// gcc or ia32 emulation outside CI.
fn int80_mkdir() -> Option<PathBuf> {
    let c = temp("int80.c");
    std::fs::write(
        &c,
        r#"#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
    /* int 0x80 takes 32-bit pointers: the path goes below 4 GiB. */
    char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (p == MAP_FAILED || argc < 2) return 3;
    strncpy(p, argv[1], 4000);
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(39L), "b"(p), "c"(0755L) : "memory");
    printf("%ld\n", r);
    return r == 0 ? 0 : 1;
}
"#,
    )
    .unwrap();
    let exe = temp("int80");
    let built = Command::new("gcc")
        .arg("-o")
        .arg(&exe)
        .arg(&c)
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::fs::remove_file(&c);
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if !built {
        assert!(!ci, "CI needs gcc");
        eprintln!("NOT CHECKED: gcc cannot build the int 0x80 program");
        return None;
    }
    // Without ia32 emulation int 0x80 gives ENOSYS (-38).
    let probe = temp("int80-probe");
    let o = Command::new(&exe).arg(&probe).output().unwrap();
    let _ = std::fs::remove_dir(&probe);
    if o.status.code() != Some(0) {
        assert!(!ci, "CI needs ia32 emulation: {o:?}");
        eprintln!("NOT CHECKED: this kernel runs no i386 syscalls ({o:?})");
        let _ = std::fs::remove_file(&exe);
        return None;
    }
    Some(exe)
}

#[test]
fn a_syscall_number_means_the_native_syscall_on_every_arch() {
    if !require_seccomp() {
        return;
    }
    let Some(exe) = int80_mkdir() else { return };
    let dir = temp("int80-dir");
    let d = dir.to_str().unwrap();
    let e = exe.to_str().unwrap();
    // 83 is mkdir on x86_64; on i386 mkdir is 39 (83 there is symlink).
    for deny in ["83", "0x53", "mkdir"] {
        let o = syscage(&["run", "--deny", deny, "-a", "x86_64,x86", "--", e, d]);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "-1",
            "--deny {deny}: {}",
            stderr(&o)
        );
        assert!(!dir.exists(), "--deny {deny}: i386 mkdir ran");
    }
    // A number the native arch lacks cannot be translated.
    let o = syscage(&["run", "--deny", "4000", "-a", "x86_64,x86", "--", "true"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("give a name"), "{}", stderr(&o));
    let _ = std::fs::remove_file(exe);
}

#[test]
fn every_refused_syscall_is_named_at_exit() {
    if !require_seccomp() {
        return;
    }
    let profile = temp("no-getdents.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getdents64", "getdents"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    )
    .unwrap();
    let o = syscage(&[
        "run",
        "--profile",
        profile.to_str().unwrap(),
        "--",
        "ls",
        "/",
    ]);
    let err = stderr(&o);
    let ls = err.find("ls: ").expect(&err);
    let named = err
        .find("syscage: refused getdents64 (217, x86_64) with EACCES (13), once, first by pid ")
        .expect(&err);
    assert!(ls < named, "{err}");
    assert!(err.contains("(ls)"), "{err}");
    // Counted exactly, per syscall, whoever made it.
    let d = temp("named");
    let script = format!("mkdir {0}; mkdir {0}; mkdir {0}; true", d.display());
    let o = syscage(&["run", "--deny", "mkdir,mkdirat", "--", "sh", "-c", &script]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains("syscage: refused mkdir (83, x86_64) with EPERM (1), 3 times, first by pid "),
        "{err}"
    );
    // Allowed syscalls are not reported; nothing refused, nothing said.
    let o = syscage(&["run", "--deny", "mkdir,mkdirat", "--", "true"]);
    assert_eq!(stderr(&o), "");
    // Under a syscage that already routes its refusals, the inner one says
    // plainly that it cannot name them.
    let exe = env!("CARGO_BIN_EXE_syscage");
    let o = syscage(&[
        "run",
        "--deny",
        "getpid",
        "--",
        exe,
        "run",
        "--deny",
        "mkdir,mkdirat",
        "--",
        "mkdir",
        d.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(
        err.contains("syscalls refused with an errno are not named: "),
        "{err}"
    );
    assert!(!d.exists());
    let _ = std::fs::remove_file(profile);
}

#[test]
fn deny_warns_about_the_alternatives_left_allowed() {
    if !require_seccomp() {
        return;
    }
    let o = syscage(&["run", "--deny", "open", "--", "true"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains(
            "syscage: warning: --deny open: openat, openat2, creat still allowed and can do what open does"
        ),
        "{}",
        stderr(&o)
    );
    let o = syscage(&["run", "--deny", "83", "--", "true"]);
    assert!(
        stderr(&o).contains("--deny 83: mkdirat still allowed"),
        "{}",
        stderr(&o)
    );
    // Nothing to say once the family is denied, or for a call without one.
    for deny in ["mkdir,mkdirat", "getpid"] {
        let o = syscage(&["run", "--deny", deny, "--", "true"]);
        assert!(!stderr(&o).contains("warning"), "{deny}: {}", stderr(&o));
    }
}
