//! Benchmark for BENCHMARKS.md: Docker's default profile (x86_64 host with
//! its x86 and x32 sub-arches, Docker's capabilities, kernel 6.18, no
//! ENOSYS stub) built through libseccomp's C API the way runc builds it,
//! from `seccomp_init` to exported bytes, with the real libseccomp and with
//! syscage's `libseccomp.so.2`, side by side in one run; then the exported
//! programs' length and instructions executed per syscall (syscage's
//! emulator, zero arguments).
//!
//! ```text
//! cargo build --release -p syscage-capi --examples
//! target/release/examples/docker_export [ITERATIONS]
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use syscage::arch::Arch;
use syscage::bpf::Program;
use syscage::compile::stats::stats;
use syscage::profile::{self, KernelVersion, OpName, ResolveOptions};

const DOCKER: &str = include_str!("../../../testdata/docker-default-seccomp.json");

/// runc's `InitSeccomp` as a driver script.
fn script() -> String {
    let mut o = ResolveOptions::docker(
        vec![Arch::X86_64],
        KernelVersion {
            major: 6,
            minor: 18,
        },
    );
    o.enosys_unknown = false;
    let oci = profile::parse(DOCKER)
        .expect("profile")
        .resolve_oci(Arch::X86_64, &o);
    let default = oci.default_action.to_action(oci.default_errno_ret).to_ret();
    let mut s = format!("init {default}\n");
    for a in &oci.architectures {
        let arch = profile::names::scmp_arch(a).expect("supported arch");
        let token = if arch == Arch::X32 {
            0x4000_003e
        } else {
            arch.audit()
        };
        if arch != Arch::X86_64 {
            let _ = writeln!(s, "arch {token}");
        }
    }
    for call in &oci.syscalls {
        let act = call.action.to_action(call.errno_ret).to_ret();
        if act == default {
            continue;
        }
        let cond = |a: &profile::ArgCond| {
            let op = match a.op {
                OpName::Ne => 1,
                OpName::Lt => 2,
                OpName::Le => 3,
                OpName::Eq => 4,
                OpName::Ge => 5,
                OpName::Gt => 6,
                OpName::MaskedEq => 7,
            };
            format!(" {} {op} {} {}", a.index, a.value, a.value_two)
        };
        let repeated = (0..6u8).any(|i| call.args.iter().filter(|a| a.index == i).count() > 1);
        for name in &call.names {
            if repeated {
                for a in &call.args {
                    let _ = writeln!(s, "rule {act} {name} 1{}", cond(a));
                }
            } else {
                let conds: String = call.args.iter().map(cond).collect();
                let _ = writeln!(s, "rule {act} {name} {}{conds}", call.args.len());
            }
        }
    }
    s
}

fn run(driver: &Path, lib_dir: Option<&Path>, script: &str, iters: u32) -> (f64, Vec<u8>) {
    let mut c = Command::new(driver);
    c.arg(iters.to_string())
        .env_remove("LD_LIBRARY_PATH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if let Some(d) = lib_dir {
        c.env("LD_LIBRARY_PATH", d);
    }
    let mut child = c.spawn().expect("driver");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "driver failed: {:?}", out.status);
    let text = String::from_utf8(out.stdout).unwrap();
    let ns: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("ns_per_build "))
        .unwrap()
        .parse()
        .unwrap();
    let hex = text.lines().find_map(|l| l.strip_prefix("bpf ")).unwrap();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    (ns, bytes)
}

fn main() {
    let iters: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let lib_dir: PathBuf = profile_dir.join("capi-bench-lib");
    std::fs::create_dir_all(&lib_dir).unwrap();
    let link = lib_dir.join("libseccomp.so.2");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(profile_dir.join("libseccomp.so"), &link).unwrap();
    let driver = lib_dir.join("bench_driver");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bench_driver.c");
    let st = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&driver)
        .arg(&src)
        .arg("-lseccomp")
        .status()
        .unwrap();
    assert!(st.success(), "gcc");
    let script = script();
    let rules = script.lines().filter(|l| l.starts_with("rule")).count();
    println!("Docker default profile, x86_64 + x86 + x32, {rules} rule adds, {iters} builds each");
    println!("| library | seccomp_init → exported bytes | length | x86_64 mean / max | x86 mean / max | x32 mean / max |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    // libseccomp's binary-tree layout (SCMP_FLTATR_CTL_OPTIMIZE = 2); runc
    // leaves the default, 1.
    let tree = script.replacen('\n', "\nattr 8 2\n", 1);
    for (name, dir, script) in [
        ("libseccomp 2.5.4 (optimize 1, runc's)", None, &script),
        ("libseccomp 2.5.4 (optimize 2)", None, &tree),
        ("syscage libseccomp.so.2", Some(lib_dir.as_path()), &script),
    ] {
        let (ns, bytes) = run(&driver, dir, script, iters);
        let prog = Program::from_bytes(&bytes, Arch::X86_64.byte_order()).unwrap();
        let st = stats(&prog, &[Arch::X86_64, Arch::X86, Arch::X32]);
        let per: Vec<String> = st
            .arches
            .iter()
            .map(|a| format!("{:.1} / {}", a.known_mean, a.known_max))
            .collect();
        println!(
            "| {name} | {:.0} µs | {} | {} |",
            ns / 1000.0,
            st.len,
            per.join(" | ")
        );
    }
}
