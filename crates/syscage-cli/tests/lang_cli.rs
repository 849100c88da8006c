//! The policy language as a user runs it: `compile x.policy` then `emu`
//! on the result, errors with file:line:col and exit 2, includes, the
//! analysis commands reading `.policy` files, `run --profile x.policy`,
//! and `decompile` (policy by default) → `compile` → `diff` equivalent on
//! the example filters and the seccomp-tools fixtures.

mod seccomp_support;
mod syscage_bin;
use seccomp_support::require_seccomp;
use syscage_bin::{stderr, stdout, syscage};

use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-lang-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The seccomp-tools fixtures the repository carries (`testdata/`).
fn fixtures() -> PathBuf {
    repo().join("testdata/seccomp-tools/bpf")
}

/// The action `emu` gives, e.g. `ALLOW`, `ERRNO(1)`.
fn emu(bpf: &str, args: &[&str]) -> String {
    let mut a = vec!["emu", "-q", "-a", "x86_64", bpf];
    a.extend(args);
    let o = syscage(&a);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    let out = stdout(&o);
    out.trim()
        .strip_prefix("return ")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("emu said {out:?}"))
        .to_string()
}

const STDIO: &str = "# stdio only\n\
arches x86_64, x32\n\
default kill-process\n\
bad-arch kill-thread\n\
unknown-syscall errno(ENOSYS)\n\
allow read, write if fd in {0, 1, 2}\n\
allow exit_group, @memory\n\
errno(EPERM) openat if (u32)flags & 0x3 != 0\n\
allow openat\n\
arch x32 {\n    trap(5) read\n}\n";

#[test]
fn compiled_policy_decides_as_written() {
    let d = dir("compile");
    let p = write(&d, "stdio.policy", STDIO);
    let bpf = d.join("stdio.bpf").display().to_string();
    let o = syscage(&["compile", &p, "-o", &bpf]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (args, want) in [
        (&["write", "1"][..], "ALLOW"),
        (&["write", "2"], "ALLOW"),
        (&["write", "3"], "KILL_PROCESS"),
        (&["write", "0x100000001"], "KILL_PROCESS"),
        (&["read", "0"], "ALLOW"),
        (&["mmap"], "ALLOW"),
        (&["exit_group"], "ALLOW"),
        (&["openat", "0", "0", "0"], "ALLOW"),
        (&["openat", "0", "0", "1"], "ERRNO(1)"),
        (&["openat", "0", "0", "0x100000000"], "ALLOW"),
        (&["execve"], "KILL_PROCESS"),
        (&["0x3000"], "ERRNO(38)"),
        (&["0x40000000"], "TRAP(5)"), // x32 read
    ] {
        assert_eq!(emu(&bpf, args), want, "{args:?}");
    }
    // -f policy prints the language back; it compiles to the same filter.
    let o = syscage(&["compile", &p, "-f", "policy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = write(&d, "again.policy", &stdout(&o));
    let bpf2 = d.join("again.bpf").display().to_string();
    assert!(syscage(&["compile", &again, "-o", &bpf2]).status.success());
    let o = syscage(&["diff", &bpf, &bpf2]);
    assert!(
        stdout(&o).contains("no differences"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn errors_name_file_line_col_and_exit_2() {
    let d = dir("errors");
    for (text, want) in [
        (
            "default allow\nallow read,\n  bogus_call\n",
            "bad.policy:3:3: syscall 'bogus_call' is unknown",
        ),
        (
            "default allow\nallow write if fd = 1\n",
            "bad.policy:2:19: expected a comparison (==, !=, <, <=, >, >=), `& MASK`, `in` or `not in`, found `=`",
        ),
        (
            "default allow\nallow write if len > 1\n",
            "bad.policy:2:16: `len` is not a parameter of write(fd, buf, count)",
        ),
        (
            "allow read\n",
            "bad.policy:1:1: the policy has no default action",
        ),
    ] {
        let p = write(&d, "bad.policy", text);
        let o = syscage(&["compile", &p]);
        assert_eq!(o.status.code(), Some(2), "{text:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{text:?}: {}", stderr(&o));
    }
    let p = write(&d, "bad.policy", "default allow\n");
    let o = syscage(&["compile", &p, "-a", "x86"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("names its arches itself"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn includes_are_relative_to_the_including_file() {
    let d = dir("includes");
    write(
        &d,
        "lib/io.policy",
        "allow read, write\ninclude \"more/exit.policy\"\n",
    );
    write(&d, "lib/more/exit.policy", "allow exit_group\n");
    let main = write(
        &d,
        "main.policy",
        "arches x86_64\ndefault errno(EPERM)\ninclude \"lib/io.policy\"\n",
    );
    let bpf = d.join("main.bpf").display().to_string();
    let o = syscage(&["compile", &main, "-o", &bpf]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(emu(&bpf, &["exit_group"]), "ALLOW");
    assert_eq!(emu(&bpf, &["close"]), "ERRNO(1)");
    write(&d, "loop/a.policy", "include \"b.policy\"\n");
    write(&d, "loop/b.policy", "include \"a.policy\"\n");
    let main = write(
        &d,
        "loop.policy",
        "default allow\ninclude \"loop/a.policy\"\n",
    );
    let o = syscage(&["compile", &main]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("b.policy:1:1: include cycle:") && err.contains("(included from"),
        "{err}"
    );
}

#[test]
fn analysis_commands_read_policy_files() {
    let d = dir("analysis");
    let p = write(&d, "stdio.policy", STDIO);
    let o = syscage(&["explain", &p, "-a", "x86_64"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("exit_group"), "{}", stdout(&o));
    let o = syscage(&["lint", &p, "-a", "x86_64"]);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    let o = syscage(&["diff", &p, &p, "-a", "x86_64"]);
    assert!(
        stdout(&o).contains("no differences"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let o = syscage(&["decompile", &p, "-a", "x86_64"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("# stdio.policy: decompiled by syscage"),
        "{out}"
    );
    assert!(out.contains("\narches x86_64, x32\n"), "{out}");
}

/// decompile (policy, the default) → compile → diff: no differences.
fn round_trip(bpf: &str, d: &Path) -> Result<(), String> {
    let o = syscage(&["decompile", bpf, "-a", "x86_64"]);
    if !o.status.success() {
        return Err(stderr(&o));
    }
    let name = Path::new(bpf)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let p = write(d, &format!("{name}.policy"), &stdout(&o));
    let out = d.join(format!("{name}.out")).display().to_string();
    let c = syscage(&["compile", &p, "-o", &out]);
    assert!(c.status.success(), "{bpf}: {}\n{}", stderr(&c), stdout(&o));
    let first = stdout(&o).lines().next().unwrap_or("").to_string();
    let arch = first
        .strip_prefix("arches ")
        .and_then(|a| a.split(',').next())
        .unwrap_or("x86_64")
        .to_string();
    let diff = syscage(&["diff", bpf, &out, "-a", &arch]);
    assert!(
        stdout(&diff).contains("no differences"),
        "{bpf}: {}{}\n{}",
        stdout(&diff),
        stderr(&diff),
        stdout(&o)
    );
    Ok(())
}

#[test]
fn decompiled_policies_compile_to_equivalent_filters() {
    let d = dir("roundtrip");
    round_trip(
        &repo()
            .join("examples/allow-stdio.bpf")
            .display()
            .to_string(),
        &d,
    )
    .unwrap();
    let fx = fixtures();
    let mut done = 0;
    let mut refused = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&fx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "bpf"))
    {
        match round_trip(&f.display().to_string(), &d) {
            Ok(()) => done += 1,
            Err(e) => refused.push(format!("{}: {e}", f.display())),
        }
    }
    // decompile refuses filters without an arch check or with untracked
    // memory reads; every one it accepts must come back equivalent.
    assert!(done >= 6, "only {done} round trips; refused: {refused:#?}");
}

#[test]
fn container_profiles_come_back_through_the_language() {
    let fx = fixtures();
    let data = fx.parent().and_then(Path::parent).unwrap().to_path_buf();
    let d = dir("containers");
    for json in ["docker-default-seccomp.json", "podman-default-seccomp.json"] {
        for arch in ["x86_64", "aarch64", "s390x", "x86"] {
            let bpf = d.join(format!("{json}-{arch}.bpf")).display().to_string();
            let src = data.join(json).display().to_string();
            let o = syscage(&["compile", &src, "-a", arch, "--kernel", "6.1", "-o", &bpf]);
            assert!(o.status.success(), "{json} {arch}: {}", stderr(&o));
            let o = syscage(&["decompile", &bpf, "-a", arch]);
            assert!(o.status.success(), "{json} {arch}: {}", stderr(&o));
            let text = stdout(&o);
            // runc's ENOSYS stub: its own line unless it is the default.
            assert!(
                text.contains("unknown-syscall errno(ENOSYS)")
                    || text.contains("default errno(ENOSYS)"),
                "{text}"
            );
            let p = write(&d, &format!("{json}-{arch}.policy"), &text);
            let back = d.join(format!("{json}-{arch}.2.bpf")).display().to_string();
            let o = syscage(&["compile", &p, "-o", &back]);
            assert!(o.status.success(), "{json} {arch}: {}", stderr(&o));
            let o = syscage(&["diff", &bpf, &back, "-a", arch]);
            assert!(
                stdout(&o).contains("no differences"),
                "{json} {arch}: {}{}",
                stdout(&o),
                stderr(&o)
            );
        }
    }
}

#[test]
fn run_enforces_a_policy_file() {
    if !require_seccomp() {
        return;
    }
    let d = dir("run");
    let p = write(
        &d,
        "nomkdir.policy",
        "default allow\nerrno(EPERM) mkdir, mkdirat\n",
    );
    let o = syscage(&["run", "--profile", &p, "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let target = d.join("made");
    let o = syscage(&[
        "run",
        "--profile",
        &p,
        "--",
        "mkdir",
        &target.display().to_string(),
    ]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!target.exists());
    assert!(
        stderr(&o).contains("Operation not permitted"),
        "{}",
        stderr(&o)
    );
}
