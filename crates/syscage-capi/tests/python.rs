//! python3-seccomp building and exporting a filter with syscage's library.
//!
//! Debian 12's python3-seccomp (2.5.4) links libseccomp *statically*: its
//! module has no `libseccomp.so.2` dependency and defines the `seccomp_*`
//! symbols itself, so neither `LD_LIBRARY_PATH` nor `LD_PRELOAD` reaches
//! syscage's library. The test checks that; where the module links the
//! shared library, it runs a script that builds and exports a filter with
//! both libraries and checks syscage's export is syscage's (shorter) and
//! the script's other results are the same.

mod support;

use std::path::Path;
use std::process::Command;
use support::{lib_dir, require};

const SCRIPT: &str = r#"
import seccomp, sys
f = seccomp.SyscallFilter(seccomp.ERRNO(1))
f.add_arch(seccomp.Arch.X86)
f.add_rule(seccomp.ALLOW, "read")
f.add_rule(seccomp.ALLOW, "write", seccomp.Arg(0, seccomp.EQ, 1))
f.add_rule(seccomp.KILL, "socket", seccomp.Arg(0, seccomp.EQ, 2))
f.add_rule(seccomp.TRAP, "openat", seccomp.Arg(2, seccomp.MASKED_EQ, 3, 1))
print(seccomp.resolve_syscall(seccomp.Arch.X86_64, "execve"), seccomp.resolve_syscall(seccomp.Arch.X86, 102))
with open(sys.argv[1], "wb") as out:
    f.export_bpf(out)
"#;

#[test]
fn python3_seccomp() {
    let py = Path::new("/usr/bin/python3");
    let module = Command::new(py)
        .args(["-c", "import seccomp; print(seccomp.__file__)"])
        .output();
    let Some(module) = module.ok().filter(|o| o.status.success()) else {
        require(
            "python3-seccomp (/usr/bin/python3 -c 'import seccomp')",
            false,
        );
        return;
    };
    let module = String::from_utf8_lossy(&module.stdout).trim().to_string();
    let ldd = Command::new("ldd").arg(&module).output().expect("ldd");
    if !String::from_utf8_lossy(&ldd.stdout).contains("libseccomp.so.2") {
        let nm = Command::new("nm")
            .args(["-D", "--defined-only", &module])
            .output()
            .expect("nm");
        assert!(
            String::from_utf8_lossy(&nm.stdout).contains(" seccomp_init"),
            "{module} neither links libseccomp.so.2 nor defines seccomp_init"
        );
        eprintln!("NOT CHECKED: {module} links libseccomp statically (no libseccomp.so.2 dependency); no library path reaches it");
        return;
    }
    let dir = support::scratch("python");
    let run = |ours: bool, out: &str| {
        let mut c = Command::new(py);
        c.args(["-c", SCRIPT, out]).env_remove("LD_LIBRARY_PATH");
        if ours {
            c.env("LD_LIBRARY_PATH", lib_dir());
        }
        let o = c.output().expect("python3");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            std::fs::read(out).unwrap(),
        )
    };
    let (real_out, real_bpf) = run(false, dir.join("real.bpf").to_str().unwrap());
    let (ours_out, ours_bpf) = run(true, dir.join("ours.bpf").to_str().unwrap());
    assert_eq!(real_out, ours_out);
    assert!(!ours_bpf.is_empty() && ours_bpf.len() % 8 == 0);
    assert_ne!(real_bpf, ours_bpf, "the export must be syscage's");
}
