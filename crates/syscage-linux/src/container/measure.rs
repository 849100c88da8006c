//! Measuring what a runtime does under the container's filter: a trivial
//! container (the [`super::probe_elf`] program) is started through the
//! installed runtime with a profile whose default action is
//! `SCMP_ACT_LOG`, once per [`Variant`]; the audit records of its
//! processes up to the workload's `execve` are the runtime's syscalls
//! ([`super::attribute`]).
//!
//! Which records are the container's is decided by what the kernel
//! guarantees: only a process under a `SECCOMP_RET_LOG` filter produces a
//! record with that action (`code=0x7ffc0000`), and the container's
//! processes descend from the runtime process syscage starts (runc, crun,
//! podman: the fork tree from the kernel's process events), or, under
//! Docker, whose daemon starts them, were created while the container ran.
//! So another process running under a logging filter of its own at the
//! same moment, under Docker only, could add records: documented in the
//! README.

use super::attribute::{split, Maker};
use super::bundle::{self, Variant};
use super::{ContainerError, Runtime};
use crate::audit::{Collector, SeccompRecord};
use crate::proc_events::ForkWatch;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use syscage::arch::Arch;

/// `SECCOMP_RET_LOG`, the action of the measuring profile.
pub const RET_LOG: u32 = 0x7ffc_0000;

/// The runtime's syscalls of one measurement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeCalls {
    /// (arch, syscall number) → the variants in which the runtime made it.
    pub calls: BTreeMap<(Arch, u32), BTreeSet<Variant>>,
}

/// The measuring profile: every syscall logged and allowed, on the native
/// arch and its archMap sub-arches.
pub fn logging_profile() -> String {
    format!(
        "{{\"defaultAction\": \"SCMP_ACT_LOG\", \"architectures\": {}, \"syscalls\": []}}",
        recording_architectures()
    )
}

/// The `architectures` of the recording profiles (JSON): the native arch
/// and its archMap sub-arches.
pub fn recording_architectures() -> String {
    let mut arches = vec![Arch::native()];
    arches.extend(Arch::ALL.iter().filter(|a| {
        matches!(
            (Arch::native(), a),
            (Arch::X86_64, Arch::X86 | Arch::X32) | (Arch::Aarch64, Arch::Arm)
        )
    }));
    let names: Vec<String> = arches
        .iter()
        .map(|a| format!("\"{}\"", a.oci_name()))
        .collect();
    format!("[{}]", names.join(", "))
}

/// A private scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Creates `$TMPDIR/syscage-<what>-<pid>-<n>`.
    pub fn new(what: &str) -> Result<Scratch, ContainerError> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "syscage-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|source| ContainerError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd` to its end with its output captured; an error with its
/// stderr when it fails.
pub fn run_captured(cmd: &mut Command) -> Result<String, ContainerError> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ContainerError::Start {
            command: shown.clone(),
            source,
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(failed(shown, &out))
    }
}

/// Waits for `child` (`shown` in errors): its output, or an error with
/// its stderr when it failed.
fn wait_success(child: Child, shown: String) -> Result<Output, ContainerError> {
    let out = child
        .wait_with_output()
        .map_err(|source| ContainerError::Start {
            command: shown.clone(),
            source,
        })?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(failed(shown, &out))
    }
}

/// `command` failed with `out`: its exit status and stderr.
fn failed(command: String, out: &Output) -> ContainerError {
    ContainerError::Failed {
        command,
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    }
}

/// Records collected while `start` ran one container: the logging
/// records of the processes `start`'s child started (by fork events), or,
/// when `owned_by_daemon`, of the processes created meanwhile.
pub fn collect(
    owned_by_daemon: bool,
    start: impl FnOnce() -> Result<u32, ContainerError>,
) -> Result<Vec<SeccompRecord>, ContainerError> {
    let collector = Collector::start().map_err(ContainerError::Audit)?;
    let forks = ForkWatch::start().map_err(ContainerError::Audit)?;
    let started = start();
    let log = forks.finish();
    let collected = collector.finish();
    let child = started?;
    if log.overflowed {
        return Err(ContainerError::Incomplete(
            "the process-events socket overflowed".into(),
        ));
    }
    if collected.lost.is_none_or(|n| n > 0) {
        return Err(ContainerError::Incomplete(format!(
            "the kernel dropped audit records ({:?} lost)",
            collected.lost
        )));
    }
    let ours: HashSet<u32> = if owned_by_daemon {
        log.forks.iter().map(|f| f.child).collect()
    } else {
        log.descendants(child, Some(std::process::id()))
    };
    Ok(collected
        .records
        .into_iter()
        .filter(|r| r.code == RET_LOG && ours.contains(&r.pid))
        .collect())
}

/// Starts a child and waits for it: its pid, or its failure with stderr.
fn run_child(cmd: &mut Command) -> Result<u32, ContainerError> {
    let shown = format!("{cmd:?}");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ContainerError::Start {
            command: shown.clone(),
            source,
        })?;
    let pid = child.id();
    wait_success(child, shown)?;
    Ok(pid)
}

/// One measuring container under runc or crun.
fn measure_oci(
    runtime: Runtime,
    dir: &Path,
    program: &[u8],
    variant: Variant,
    n: usize,
) -> Result<Vec<SeccompRecord>, ContainerError> {
    let bundle_dir = dir.join(format!("bundle{n}"));
    bundle::write_bundle(&bundle_dir, program, &logging_profile(), variant)?;
    let state = dir.join("state");
    let id = format!("syscage-measure-{}-{n}", std::process::id());
    let records = collect(false, || {
        run_child(
            Command::new(runtime.program())
                .arg("--root")
                .arg(&state)
                .arg("run")
                .arg("--bundle")
                .arg(&bundle_dir)
                .arg(&id),
        )
    });
    // Whatever happened, no container is left behind.
    let _ = Command::new(runtime.program())
        .arg("--root")
        .arg(&state)
        .args(["delete", "-f", &id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    records
}

/// `docker` (or `podman`) with the global options the user gave (`-H
/// SOCKET`, `--context NAME`, …), so the measurement talks to the same
/// daemon as the user's command.
pub fn cli_command(runtime: Runtime, global: &[OsString]) -> Command {
    let mut cmd = Command::new(runtime.program());
    if matches!(runtime, Runtime::Docker | Runtime::Podman) {
        cmd.args(global);
    }
    cmd
}

/// The image of the measuring program, imported into Docker or podman;
/// removed on drop.
struct Image<'a> {
    runtime: Runtime,
    global: &'a [OsString],
    tag: String,
}

impl<'a> Image<'a> {
    fn import(
        runtime: Runtime,
        global: &'a [OsString],
        program: &[u8],
    ) -> Result<Image<'a>, ContainerError> {
        use std::io::Write;
        let tag = format!("syscage-measure:{}", std::process::id());
        let shown = format!("{} import - {tag}", runtime.program());
        let mut child = cli_command(runtime, global)
            .args(["import", "-", &tag])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| ContainerError::Start {
                command: shown.clone(),
                source,
            })?;
        let tar = bundle::tar_one_file(bundle::PROGRAM, program);
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(&tar);
        }
        wait_success(child, shown)?;
        Ok(Image {
            runtime,
            global,
            tag,
        })
    }
}

impl Drop for Image<'_> {
    fn drop(&mut self) {
        let _ = cli_command(self.runtime, self.global)
            .args(["rmi", "-f", &self.tag])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// One measuring container under Docker or podman.
fn measure_cli(
    runtime: Runtime,
    dir: &Path,
    image: &Image,
    variant: Variant,
) -> Result<Vec<SeccompRecord>, ContainerError> {
    let profile = dir.join("log.json");
    std::fs::write(&profile, logging_profile()).map_err(|source| ContainerError::Io {
        path: profile.clone(),
        source,
    })?;
    let mut cmd = cli_command(runtime, image.global);
    cmd.args(["run", "--rm", "--network", "none", "--security-opt"])
        .arg(format!("seccomp={}", profile.display()))
        .args(["--user", &format!("{0}:{0}", variant.uid)]);
    if variant.no_new_privileges {
        cmd.args(["--security-opt", "no-new-privileges"]);
    }
    cmd.args([&image.tag, bundle::PROGRAM]);
    collect(runtime == Runtime::Docker, || run_child(&mut cmd))
}

/// How many times each variant runs: `SYSCAGE_MEASURE_RUNS`, default 10.
/// A Go runtime (runc) makes some calls only now and then (`futex` of its
/// scheduler threads: in 7 of 10 runs of runc 1.1.5 here, and missing from
/// all 3 runs of a variant on a loaded machine): more runs catch more, and
/// every other run is `Contention`'s.
pub fn runs() -> usize {
    std::env::var("SYSCAGE_MEASURE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(10)
}

/// Measures `runtime` (see the module doc): every variant, [`runs`] times.
/// `global`: the options a Docker or podman command line has before its
/// subcommand (`-H SOCKET`, …), ignored for runc and crun.
pub fn measure(runtime: Runtime, global: &[OsString]) -> Result<RuntimeCalls, ContainerError> {
    let program = super::probe_elf::exit_program(Arch::native()).ok_or_else(|| {
        ContainerError::Unsupported(format!(
            "measuring a runtime on {} (syscage has no measuring program for it)",
            Arch::native()
        ))
    })?;
    let scratch = Scratch::new("measure")?;
    let image = match runtime {
        Runtime::Docker | Runtime::Podman => Some(Image::import(runtime, global, &program)?),
        Runtime::Runc | Runtime::Crun => None,
    };
    let mut out = RuntimeCalls::default();
    let rounds = Variant::ALL
        .into_iter()
        .cycle()
        .take(Variant::ALL.len() * runs());
    for (n, variant) in rounds.enumerate() {
        let _busy = (n % 2 == 1).then(Contention::start);
        let records = match &image {
            Some(image) => measure_cli(runtime, &scratch.0, image, variant)?,
            None => measure_oci(runtime, &scratch.0, &program, variant, n)?,
        };
        let counts = split(&records, true);
        if !counts.keys().any(|(m, _, _)| *m == Maker::Runtime) {
            return Err(ContainerError::Incomplete(format!(
                "no syscall of {} was logged under the measuring profile ({})",
                runtime.name(),
                variant.name()
            )));
        }
        for &(maker, arch, nr) in counts.keys() {
            if maker == Maker::Runtime {
                out.calls.entry((arch, nr)).or_default().insert(variant);
            }
        }
    }
    Ok(out)
}

/// Every CPU kept busy by spinning threads while a measuring container
/// runs; stopped on drop.
///
/// A Go runtime makes some calls only when its threads are descheduled at
/// the wrong moment: `sched_yield` when a runtime lock is contended,
/// `rt_sigreturn` after an asynchronous preemption signal. On an idle
/// machine they are rare enough to miss in every measuring run and still
/// happen in a user's container on a busy host (runc 1.1.5, 2 CPUs, 30
/// runs per measurement: `sched_yield` in 0 of 3 measurements idle, in 1
/// of 3 with this contention; `rt_sigreturn` missing from one). The
/// spinning threads make no syscalls and run outside the container, so
/// they add nothing to the records.
struct Contention {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Contention {
    fn start() -> Contention {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        let threads = (0..cpus * 2)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Contention { stop, threads }
    }
}

impl Drop for Contention {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
