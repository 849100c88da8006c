//! `syscage record [-o OUT] [-f docker|oci] -- docker run …` (or `podman
//! run …`, `runc run …`, `crun run …`): records exactly that container's
//! syscalls through its real runtime. The container runs under a
//! recording profile, and an eBPF program counts the calls of its tasks
//! once the filter is in force (`syscage_linux::container::counted`;
//! the profile allows every call and logs only `execve`), or, with
//! `SYSCAGE_CONTAINER_RECORDER=audit` or where the counter cannot run,
//! the profile logs and allows every syscall (`SCMP_ACT_LOG`) and the
//! audit records are read back (`syscage_linux::container`): the
//! workload's, and the runtime's own from the moment the filter is in
//! force until it executes the workload. Entries the runtime alone needed get an entry of their own
//! whose `comment` says so. The runtime's measured set is added too, in
//! an entry of its own (see `for_runtime`): a runtime makes some calls in
//! some runs only (the Go scheduler's `futex`, `nanosleep`, … in runc's
//! init), which one recorded run may not show. `--for` names another
//! runtime to measure (podman running crun, say).

use super::container_command::{front_end, logged_command, run_index};
use super::record::{Args, Format};
use anyhow::{anyhow, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use syscage::arch::Arch;
use syscage::profile::{self, ActionName, SyscallEntry};
use syscage_linux::container::attribute::{split_first_exec, Maker};
use syscage_linux::container::check::run_logged;
use syscage_linux::container::counted::{
    counting_profile, CountingRecorder, Recorder, RECORDER_VAR,
};
use syscage_linux::container::measure::{logging_profile, Scratch};
use syscage_linux::container::{self, Runtime};
use syscage_linux::record::Recording;

/// The runtime of a container command (`docker run …`, …), if it is one.
pub fn container_command(cmd: &[OsString]) -> Option<Runtime> {
    let rt = front_end(cmd).ok()?;
    run_index(cmd, rt).ok().map(|_| rt)
}

/// Runs `syscage record` on a container command; returns the exit code.
pub fn run(args: &Args, runtime: Runtime) -> anyhow::Result<u8> {
    if args.args || args.append.is_some() {
        bail!("--args and --append do not apply to recording a container through its runtime (audit records carry no arguments)");
    }
    if args.format == Format::Policy {
        bail!("a container is recorded into a Docker or OCI profile, what its runtime reads (-f docker or -f oci)");
    }
    // Before the container runs, so that a bad path fails first and loses nothing.
    let out_file = args
        .output
        .output
        .as_ref()
        .map(|p| crate::output::file::Replacement::create(p))
        .transpose()?;
    let at = run_index(&args.command, runtime)?;
    let recorder = choose_recorder()?;
    let scratch = Scratch::new("record").map_err(|e| anyhow!("{e}"))?;
    let recording_profile = match recorder {
        Some(_) => counting_profile(),
        None => logging_profile(),
    };
    let recording_profile =
        profile::parse(&recording_profile).map_err(|e| anyhow!("internal error: {e}"))?;
    let cmd = logged_command(&args.command, runtime, at, &recording_profile, &scratch.0)?;
    let owned_by_daemon = runtime == Runtime::Docker;
    // The runtime whose measured set is added (see mark_runtime_entries):
    // its version is asked while the container runs.
    let measured = args.for_runtime.map_or(runtime, |f| f.runtime());
    let measured_global: Vec<OsString> = if measured == runtime {
        args.command[1..at].to_vec()
    } else {
        Vec::new()
    };
    let version = {
        let global = measured_global.clone();
        std::thread::spawn(move || container::version(measured, &global))
    };
    let (status, counts) = match recorder {
        Some(counter) => counter
            .run(&cmd, owned_by_daemon)
            .map_err(|e| anyhow!("{e}"))?,
        None => {
            let (status, records) =
                run_logged(&cmd, owned_by_daemon).map_err(|e| anyhow!("{e}"))?;
            (status, split_first_exec(&records))
        }
    };
    if counts.is_empty() {
        bail!(
            "{} run failed ({status}) before the container started: nothing recorded",
            runtime.name()
        );
    }
    let mut recording = Recording::new(false);
    let mut makers: BTreeMap<String, BTreeSet<Maker>> = BTreeMap::new();
    for (&(maker, arch, nr), &n) in &counts {
        recording.count(arch, nr, 0, n);
        if let Some(name) = arch.syscall_name(nr) {
            makers.entry(name.to_string()).or_default().insert(maker);
        }
    }
    let policy = recording.to_policy();
    let text = match args.format {
        Format::Docker => profile::write_docker(&policy),
        Format::Oci => profile::write_oci(&policy),
        Format::Policy => unreachable!("refused above"),
    }
    .map_err(|e| anyhow!("cannot write the profile: {e}"))?;
    // An error asking is asked again, and reported, by the measuring.
    let version = version.join().ok().and_then(Result::ok);
    let measured = (measured, &measured_global[..], version);
    let text = mark_runtime_entries(&text, runtime, &makers, measured, args.summary)?;
    match out_file {
        Some(file) => file.commit(text.as_bytes())?,
        None => out!("{text}"),
    }
    if args.summary {
        diag!("{}", summary(&counts));
    }
    if let Some(path) = &args.output.output {
        diagln!(
            "syscage: {} syscalls ({} distinct) recorded in the container ({status}); profile written to {}",
            recording.total(),
            recording.calls.len(),
            path.display()
        );
    }
    Ok(match status.code() {
        Some(c) => c as u8,
        None => 128u8.wrapping_add(
            std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(0) as u8,
        ),
    })
}

/// The eBPF counter, started, or `None` for the audit recorder: as
/// `SYSCAGE_CONTAINER_RECORDER` says, else the counter if it can run
/// (a note on stderr when it cannot).
fn choose_recorder() -> anyhow::Result<Option<CountingRecorder>> {
    match Recorder::from_env().map_err(|e| anyhow!(e))? {
        Some(Recorder::Audit) => Ok(None),
        Some(Recorder::Ebpf) => CountingRecorder::start()
            .map(Some)
            .map_err(|e| anyhow!("{RECORDER_VAR}=ebpf: the eBPF syscall counter cannot run: {e}")),
        None => match CountingRecorder::start() {
            Ok(counter) => Ok(Some(counter)),
            Err(e) => {
                diagln!(
                    "syscage: the eBPF syscall counter cannot run ({e}); recording through audit records instead (one per syscall: a syscall-heavy container runs about ten times slower)"
                );
                Ok(None)
            }
        },
    }
}

/// Moves the names only the runtime made out of the profile's `ALLOW`
/// entries into one entry of their own, with a comment saying why, and
/// adds the measured set of `measured`: (the runtime, the options of its
/// command line before `run`, its version if asked already).
fn mark_runtime_entries(
    text: &str,
    runtime: Runtime,
    makers: &BTreeMap<String, BTreeSet<Maker>>,
    measured: (Runtime, &[OsString], Option<String>),
    summary: bool,
) -> anyhow::Result<String> {
    let mut p = profile::parse(text).map_err(|e| anyhow!("internal error: {e}"))?;
    let only_runtime: Vec<String> = makers
        .iter()
        .filter(|(_, m)| !m.contains(&Maker::Workload))
        .map(|(n, _)| n.clone())
        .collect();
    let mut moved = Vec::new();
    for e in p
        .syscalls
        .iter_mut()
        .filter(|e| e.action == ActionName::Allow && e.args.is_empty())
    {
        e.names.retain(|n| {
            let keep = !only_runtime.contains(n);
            if !keep {
                moved.push(n.clone());
            }
            keep
        });
    }
    p.syscalls
        .retain(|e| e.name.is_some() || !e.names.is_empty());
    if !moved.is_empty() {
        moved.sort();
        moved.dedup();
        p.syscalls.push(SyscallEntry {
            name: None,
            names: moved,
            action: ActionName::Allow,
            errno_ret: None,
            errno: None,
            args: Vec::new(),
            comment: Some(format!(
                "made only by the runtime ({}) under the container's filter before it executed the workload",
                runtime.name()
            )),
            includes: None,
            excludes: None,
        });
    }
    // Also what the runtime was measured to make (a Go runtime's scheduler
    // calls `futex`, `nanosleep`, … in some runs only: a profile without
    // them crashes runc's init now and then).
    let (measured, global, version) = measured;
    super::for_runtime::apply_at(&mut p, measured, global, summary, version)?;
    Ok(p.to_json())
}

/// The table of `--summary`: calls, syscall, arch, made by.
fn summary(counts: &BTreeMap<(Maker, Arch, u32), u64>) -> String {
    let mut rows: Vec<(u64, String, Arch, Maker)> = counts
        .iter()
        .map(|(&(m, a, nr), &n)| {
            let name = a
                .syscall_name(nr)
                .map_or_else(|| format!("syscall_{nr}"), str::to_string);
            (n, name, a, m)
        })
        .collect();
    rows.sort_by(|x, y| {
        y.0.cmp(&x.0)
            .then_with(|| x.1.cmp(&y.1))
            .then(x.3.cmp(&y.3))
    });
    let mut out = format!("{:>10} {:<24} {:<8} made by\n", "calls", "syscall", "arch");
    out.push_str(&format!("{:->10} {:-<24} {:-<8} {:-<8}\n", "", "", "", ""));
    for (n, name, arch, maker) in &rows {
        out.push_str(&format!(
            "{n:>10} {name:<24} {:<8} {}\n",
            arch.name(),
            maker.name()
        ));
    }
    out
}
