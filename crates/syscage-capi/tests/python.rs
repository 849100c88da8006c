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

/// The script above through pyseccomp (PyPI's ctypes binding, "API
/// compatible with libseccomp's Python bindings"), which loads
/// `libseccomp.so.2` at run time: with syscage's library first on the
/// library path, the filter is built and exported by syscage (the script
/// prints which library it loaded) and decides what the rules say.
#[test]
fn pyseccomp_builds_and_exports_through_syscage() {
    use syscage::arch::Arch;
    use syscage::bpf::codec::ByteOrder;
    use syscage::bpf::data::SeccompData;
    use syscage::bpf::Program;

    let py = Path::new("/usr/bin/python3");
    let ok = Command::new(py)
        .args(["-c", "import pyseccomp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !require(
        "pyseccomp for /usr/bin/python3 (python3 -m pip install pyseccomp)",
        ok,
    ) {
        return;
    }
    let script = format!(
        "{}\nprint([l.split()[-1] for l in open('/proc/self/maps') if 'libseccomp' in l][0])\n",
        SCRIPT.replace("import seccomp, sys", "import pyseccomp as seccomp, sys")
    );
    let dir = support::scratch("pyseccomp");
    let run = |ours: bool, out: &Path| {
        let mut c = Command::new(py);
        c.arg("-c")
            .arg(&script)
            .arg(out)
            .env_remove("LD_LIBRARY_PATH");
        if ours {
            c.env("LD_LIBRARY_PATH", lib_dir());
        }
        let o = c.output().expect("python3");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let mut lines = text.lines().map(str::to_string);
        let resolved = lines.next().expect("resolve line");
        let loaded = lines.next().expect("loaded library line");
        (
            resolved,
            loaded,
            std::fs::read(out).expect("exported filter"),
        )
    };
    let (real_resolved, real_loaded, _) = run(false, &dir.join("real.bpf"));
    let (resolved, loaded, bpf) = run(true, &dir.join("ours.bpf"));
    assert_eq!(resolved, real_resolved, "resolve_syscall answers alike");
    assert!(
        !real_loaded.starts_with(lib_dir().to_str().unwrap()),
        "{real_loaded}"
    );
    let ours = std::fs::canonicalize(lib_dir().join("libseccomp.so.2")).unwrap();
    assert_eq!(
        std::fs::canonicalize(&loaded).unwrap(),
        ours,
        "pyseccomp must have loaded syscage's library"
    );
    let program = Program::from_bytes(&bpf, ByteOrder::Little).expect("the export decodes");
    let decide = |arch: Arch, name: &str, args: [u64; 6]| {
        let d = SeccompData {
            nr: arch.syscall_nr(name).unwrap(),
            arch: arch.audit(),
            instruction_pointer: 0,
            args,
        };
        syscage::emu::run(&program, &d, ByteOrder::Little)
            .expect("runs")
            .ret
    };
    const ALLOW: u32 = 0x7fff_0000;
    const EPERM: u32 = 0x0005_0001;
    for arch in [Arch::X86_64, Arch::X86] {
        assert_eq!(decide(arch, "read", [0; 6]), ALLOW);
        assert_eq!(decide(arch, "write", [1, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(decide(arch, "write", [2, 0, 0, 0, 0, 0]), EPERM);
        assert_eq!(decide(arch, "getpid", [0; 6]), EPERM);
    }
    assert_eq!(decide(Arch::X86_64, "socket", [2, 0, 0, 0, 0, 0]), 0);
    assert_eq!(decide(Arch::X86_64, "socket", [10, 0, 0, 0, 0, 0]), EPERM);
    assert_eq!(
        decide(Arch::X86_64, "openat", [0, 0, 1, 0, 0, 0]) & 0xffff_0000,
        0x0003_0000,
        "TRAP"
    );
}
