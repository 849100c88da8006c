//! `syscage check PROFILE -- docker run …` (or `podman run …`, `runc run
//! …`, `crun run …`): runs the container with the profile's denials
//! turned into logged-and-allowed calls (`SCMP_ACT_LOG`) and prints each
//! syscall the profile would have denied, with its count, arch and
//! whether the runtime (between loading the filter and executing the
//! workload) or the workload made it. Exit 1 when there is any, 0 when
//! none, 2 when the container did not start or the input is bad.

use super::container_command::{front_end, logged_command, run_index};
use super::input::located;
use anyhow::{anyhow, bail};
use std::collections::BTreeMap;
use std::ffi::OsString;
use syscage::arch::Arch;
use syscage::profile;
use syscage_linux::container::attribute::{split_first_exec, Maker};
use syscage_linux::container::check::{logging_variant, run_logged};
use syscage_linux::container::measure::Scratch;
use syscage_linux::container::Runtime;

/// Arguments of `syscage check`.
#[derive(clap::Args)]
#[command(mut_arg("file", |a| a.value_name("PROFILE").help(
    "The profile (Docker dialect or OCI `linux.seccomp` JSON)"
)))]
pub struct Args {
    /// The profile.
    #[command(flatten)]
    pub profile: super::flag_groups::Input,
    /// The container command: `docker run …`, `podman run …`, `runc run
    /// [--bundle DIR] ID`, `crun run [--bundle DIR] ID`.
    #[arg(last = true, required = true, value_name = "CMD", index = 2)]
    pub command: Vec<OsString>,
}

/// Runs `syscage check`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let runtime = front_end(&args.command)?;
    let at = run_index(&args.command, runtime)?;
    let file = args.profile.file.display().to_string();
    let text = args.profile.read_text()?;
    let parsed = match profile::parse_with_spans(&text) {
        Ok((p, _)) => p,
        Err(e) => {
            diagln!("{}", located(&file, &e));
            return Ok(2);
        }
    };
    let (logging, exec_allowed) = logging_variant(&parsed);
    let scratch = Scratch::new("check").map_err(|e| anyhow!("{e}"))?;
    let cmd = logged_command(&args.command, runtime, at, &logging, &scratch.0)?;
    let (status, records) =
        run_logged(&cmd, runtime == Runtime::Docker).map_err(|e| anyhow!("{e}"))?;
    let counts = split_first_exec(&records);
    if counts.is_empty() && !status.success() {
        bail!(
            "{} run failed ({status}) before the container started: nothing to check",
            runtime.name()
        );
    }
    let mut denied: BTreeMap<(Maker, Arch, String), u64> = BTreeMap::new();
    for (&(maker, arch, nr), &n) in &counts {
        let name = arch
            .syscall_name(nr)
            .map_or_else(|| format!("syscall_{nr}"), str::to_string);
        if exec_allowed.contains(&name.as_str()) {
            continue;
        }
        *denied.entry((maker, arch, name)).or_insert(0) += n;
    }
    if denied.is_empty() {
        outln!("syscage check: {file} denies nothing this container did ({status})");
        return Ok(0);
    }
    let calls: u64 = denied.values().sum();
    outln!(
        "syscage check: {file} would deny {} syscalls ({calls} calls) of this container ({status}):",
        denied.len()
    );
    outln!("{:>8}  {:<24} {:<8} made by", "count", "syscall", "arch");
    let mut rows: Vec<_> = denied.into_iter().collect();
    rows.sort_by(|a, b| a.0 .0.cmp(&b.0 .0).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    for ((maker, arch, name), n) in rows {
        outln!("{n:>8}  {name:<24} {:<8} {}", arch.name(), maker.name());
    }
    outln!("(runtime: made by the container runtime after it loaded the filter, before it executed the workload)");
    Ok(1)
}
