//! Real clients: `runc` and `crun` (Debian 12 links both against
//! `libseccomp.so.2`) run a busybox bundle whose `config.json` carries
//! Docker's default profile resolved for this host, once with the real
//! libseccomp and once with syscage's. runc starts its `init` with a
//! cleared environment, so `LD_LIBRARY_PATH` does not reach the process
//! that builds the filter; the test bind-mounts syscage's library over the
//! system's in a private mount namespace (`unshare -m`), which is what a
//! system-wide install does. The filter is then dumped from the container
//! process (`PTRACE_SECCOMP_GET_FILTER`) and compared:
//!
//! - crun loads the exported program as is: it must decide like the
//!   program syscage compiles for the same profile (no ENOSYS stub), on
//!   every syscall number of x86_64, x86 and x32 with sample arguments;
//! - runc 1.1 prepends its ENOSYS stub: with syscage's library it must
//!   decide like runc with the real libseccomp on every syscall the
//!   profile names that libseccomp 2.5.4 knows (syscage's tables know newer
//!   syscalls, which the profile allows and libseccomp skips), and be
//!   shorter.
//!
//! Needs root, runc, crun, busybox-static and unshare.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{require, scratch};
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::bpf::data::SeccompData;
use syscage::bpf::Program;
use syscage::compile::{compile, CompileOptions};
use syscage::profile::{self, KernelVersion, ResolveOptions};

const DOCKER: &str = include_str!("../../../testdata/docker-default-seccomp.json");

fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ready() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    require("root (runtimes create namespaces)", root)
        && ["runc", "crun", "unshare", "mount"]
            .iter()
            .all(|t| require(t, tool(t)))
        && require(
            "busybox-static (/bin/busybox)",
            Path::new("/bin/busybox").exists(),
        )
}

fn kernel() -> KernelVersion {
    let r = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    let mm: Vec<u32> = r
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .map(|s| s.parse().expect("kernel version"))
        .collect();
    KernelVersion {
        major: mm[0],
        minor: mm[1],
    }
}

fn options() -> ResolveOptions {
    let mut o = ResolveOptions::docker(vec![Arch::X86_64], kernel());
    o.enosys_unknown = false;
    o
}

/// A bundle running `args` under Docker's default profile.
fn bundle(name: &str, args: &[&str]) -> PathBuf {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rootfs/bin")).unwrap();
    std::fs::create_dir_all(dir.join("rootfs/proc")).unwrap();
    std::fs::copy("/bin/busybox", dir.join("rootfs/bin/busybox")).unwrap();
    let st = Command::new("runc")
        .args(["spec", "--bundle"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success(), "runc spec");
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let profile = profile::parse(DOCKER).expect("Docker's profile parses");
    let oci = profile.resolve_oci(Arch::X86_64, &options());
    let seccomp: serde_json::Value = serde_json::from_str(&oci.to_json()).unwrap();
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = args.iter().map(|a| serde_json::Value::from(*a)).collect();
    config["root"]["readonly"] = true.into();
    config["linux"]["seccomp"] = seccomp;
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    dir
}

/// A shell command running `runtime` with syscage's library bind-mounted
/// over the system's (`ours`) or as installed.
fn with_lib(runtime_cmd: &str, ours: bool) -> Command {
    let mut c = Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c"]);
    if ours {
        let so = support::lib_dir().join("libseccomp.so.2");
        c.arg(format!(
            "mount --bind {} $(readlink -f /lib/x86_64-linux-gnu/libseccomp.so.2) && exec {runtime_cmd}",
            so.display()
        ));
    } else {
        c.arg(format!("exec {runtime_cmd}"));
    }
    c
}

/// Runs the bundle in the foreground; its stdout.
fn run_echo(runtime: &str, ours: bool) -> String {
    let b = bundle(
        &format!("echo-{runtime}-{ours}"),
        &["/bin/busybox", "echo", "hello"],
    );
    let state = scratch(&format!("state-{runtime}"));
    let id = format!("syscage-capi-echo-{}", std::process::id());
    let cmd = format!(
        "{runtime} --root {} run --bundle {} {id}",
        state.display(),
        b.display()
    );
    let o = with_lib(&cmd, ours).stdin(Stdio::null()).output().unwrap();
    let _ = Command::new(runtime)
        .args(["--root", state.to_str().unwrap(), "delete", "-f", &id])
        .output();
    assert!(
        o.status.success(),
        "{cmd} (ours: {ours}): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Starts a sleeping container, dumps its filter, removes it.
fn loaded_filter(runtime: &str, ours: bool) -> Program {
    let b = bundle(
        &format!("sleep-{runtime}-{ours}"),
        &["/bin/busybox", "sleep", "20"],
    );
    let state = scratch(&format!("state-{runtime}"));
    let id = format!("syscage-capi-{runtime}-{ours}-{}", std::process::id());
    let pidfile = b.join("pid");
    let cmd = format!(
        "{runtime} --root {} run -d --pid-file {} --bundle {} {id}",
        state.display(),
        pidfile.display(),
        b.display()
    );
    // The container keeps the runtime's stdio: a pipe would not reach EOF.
    let errors = b.join("stderr");
    let st = with_lib(&cmd, ours)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errors).unwrap())
        .status()
        .unwrap();
    assert!(
        st.success(),
        "{cmd} (ours: {ours}): {}",
        std::fs::read_to_string(&errors).unwrap_or_default()
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // `run -d` can return before the container's init has loaded its
    // filter (crun loads it just before execve): wait for it to be in force.
    let in_force = || {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("Seccomp_filters:") && l.split_whitespace().nth(1) != Some("0"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !in_force() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let dump = syscage_linux::dump::dump_pid(pid);
    for args in [vec!["kill", &id, "KILL"], vec!["delete", "-f", &id]] {
        let _ = Command::new(runtime)
            .args(["--root", state.to_str().unwrap()])
            .args(&args)
            .output();
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let dump = dump.expect("dump the container's filter");
    assert_eq!(dump.filters.len(), 1, "{runtime}: one filter");
    Program::from_raw(&dump.filters[0].insns).expect("the dumped filter decodes")
}

/// Inputs: every number of x86_64, x86 and x32 (plus some past the
/// tables), zero arguments and two argument samples.
fn inputs() -> Vec<SeccompData> {
    let mut v = Vec::new();
    for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
        let base = if arch == Arch::X32 {
            X32_SYSCALL_BIT
        } else {
            0
        };
        let top = arch.syscalls().last().unwrap().nr + 32;
        for nr in (base..=top).chain([u32::MAX]) {
            for args in [[0u64; 6], [1, 2, 0x7e02_0000, 0x8, 0, 0], [u64::MAX; 6]] {
                v.push(SeccompData {
                    nr,
                    arch: arch.audit(),
                    instruction_pointer: 0,
                    args,
                });
            }
        }
    }
    v
}

fn decide(p: &Program, d: &SeccompData) -> u32 {
    syscage::emu::run(p, d, Arch::X86_64.byte_order())
        .expect("runs")
        .ret
}

#[test]
fn runc_and_crun_load_syscage_filters() {
    if !ready() {
        return;
    }
    for runtime in ["runc", "crun"] {
        assert_eq!(
            run_echo(runtime, false),
            "hello\n",
            "{runtime} with libseccomp"
        );
        assert_eq!(run_echo(runtime, true), "hello\n", "{runtime} with syscage");
    }

    let (policy, _) = profile::parse(DOCKER)
        .unwrap()
        .to_policy(&options())
        .unwrap();
    let compiled = compile(&policy, &CompileOptions::default()).unwrap();
    let crun_ours = loaded_filter("crun", true);
    let crun_real = loaded_filter("crun", false);
    let runc_ours = loaded_filter("runc", true);
    let runc_real = loaded_filter("runc", false);
    eprintln!(
        "instructions: syscage compile {}, crun+syscage {}, crun+libseccomp {}, runc+syscage {}, runc+libseccomp {}",
        compiled.len(),
        crun_ours.len(),
        crun_real.len(),
        runc_ours.len(),
        runc_real.len()
    );
    assert!(crun_ours.len() < crun_real.len() && runc_ours.len() < runc_real.len());

    let known = |d: &SeccompData| -> bool {
        let arch = if d.nr & X32_SYSCALL_BIT != 0 && d.arch == Arch::X86_64.audit() {
            Arch::X32
        } else {
            Arch::from_audit(d.arch).unwrap()
        };
        let Some(name) = arch.syscall_name(d.nr) else {
            return false;
        };
        let scmp = match arch {
            Arch::X86 => libseccomp::ScmpArch::X86,
            Arch::X32 => libseccomp::ScmpArch::X32,
            _ => libseccomp::ScmpArch::X8664,
        };
        libseccomp::ScmpSyscall::from_name_by_arch(name, scmp).is_ok()
    };
    let (mut same_crun, mut same_runc) = (0, 0);
    for d in inputs() {
        assert_eq!(
            decide(&crun_ours, &d),
            decide(&compiled, &d),
            "crun with syscage's library vs syscage compile on {d:x?}"
        );
        same_crun += 1;
        if known(&d) {
            assert_eq!(
                decide(&runc_ours, &d),
                decide(&runc_real, &d),
                "runc with syscage's library vs with libseccomp on {d:x?}"
            );
            same_runc += 1;
        }
    }
    eprintln!("{same_crun} inputs: crun+syscage = syscage compile; {same_runc} inputs: runc+syscage = runc+libseccomp");
}
