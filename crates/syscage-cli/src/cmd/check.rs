//! `syscage check PROFILE -- docker run …` (or `podman run …`, `runc run
//! …`, `crun run …`): runs the container with the profile's denials
//! turned into logged-and-allowed calls (`SCMP_ACT_LOG`) and prints each
//! syscall the profile would have denied, with its count, arch and
//! whether the runtime (between loading the filter and executing the
//! workload) or the workload made it. Exit 1 when there is any, 0 when
//! none, 2 when the container did not start or the input is bad.

use super::input::{located, running_kernel_or_6_0};
use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use syscage::arch::Arch;
use syscage::profile::{self, ResolveOptions};
use syscage_linux::container::attribute::{split_first_exec, Maker};
use syscage_linux::container::check::{logging_variant, run_logged};
use syscage_linux::container::measure::Scratch;
use syscage_linux::container::Runtime;

/// Arguments of `syscage check`.
#[derive(clap::Args)]
pub struct Args {
    /// The profile (Docker dialect or OCI `linux.seccomp` JSON).
    pub profile: PathBuf,
    /// The container command: `docker run …`, `podman run …`, `runc run
    /// [--bundle DIR] ID`, `crun run [--bundle DIR] ID`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Which front end `cmd` runs, from its program's file name.
fn front_end(cmd: &[OsString]) -> anyhow::Result<Runtime> {
    let program = Path::new(&cmd[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Runtime::from_name(&program).ok_or_else(|| {
        anyhow!("unknown container runtime front end '{program}' (expected docker, podman, runc or crun followed by run …)")
    })
}

/// The index of the `run` subcommand in `cmd`.
fn run_index(cmd: &[OsString], runtime: Runtime) -> anyhow::Result<usize> {
    cmd.iter().position(|a| a == "run").ok_or_else(|| {
        anyhow!(
            "'{} …' is not a '{} run …' command",
            runtime.name(),
            runtime.name()
        )
    })
}

/// `docker run …` with `--security-opt seccomp=FILE` added after `run`.
fn docker_command(cmd: &[OsString], at: usize, file: &Path) -> anyhow::Result<Vec<OsString>> {
    if cmd[at..]
        .iter()
        .any(|a| a.to_string_lossy().contains("seccomp="))
    {
        bail!("the command sets a seccomp profile itself; syscage check runs it under PROFILE");
    }
    let mut out = cmd[..=at].to_vec();
    out.push("--security-opt".into());
    out.push(format!("seccomp={}", file.display()).into());
    out.extend_from_slice(&cmd[at + 1..]);
    Ok(out)
}

/// The bundle directory of `runc run …` and where its value is.
fn bundle_arg(cmd: &[OsString], at: usize) -> (PathBuf, Option<usize>) {
    let mut i = at + 1;
    while i < cmd.len() {
        let a = cmd[i].to_string_lossy();
        if (a == "--bundle" || a == "-b") && i + 1 < cmd.len() {
            return (PathBuf::from(&cmd[i + 1]), Some(i + 1));
        }
        if let Some(v) = a.strip_prefix("--bundle=") {
            return (PathBuf::from(v), Some(i));
        }
        i += 1;
    }
    (PathBuf::from("."), None)
}

/// `runc run …` on a copy of the bundle's `config.json` whose
/// `linux.seccomp` is `profile`'s logging variant.
fn oci_command(
    cmd: &[OsString],
    at: usize,
    logging: &syscage::profile::Profile,
    scratch: &Path,
) -> anyhow::Result<Vec<OsString>> {
    let (bundle, value_at) = bundle_arg(cmd, at);
    let bundle =
        std::fs::canonicalize(&bundle).with_context(|| format!("bundle {}", bundle.display()))?;
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut config: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    let root = config["root"]["path"]
        .as_str()
        .ok_or_else(|| anyhow!("{}: root.path: expected a string", path.display()))?;
    config["root"]["path"] = Value::String(bundle.join(root).to_string_lossy().into_owned());
    let mut opts = ResolveOptions::docker(Vec::new(), running_kernel_or_6_0());
    if let Some(caps) = config["process"]["capabilities"]["bounding"].as_array() {
        opts.caps = caps
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
    }
    let oci = logging.resolve_oci(Arch::native(), &opts).to_json();
    config["linux"]["seccomp"] = serde_json::from_str(&oci)?;
    let copy = scratch.join("config.json");
    std::fs::write(&copy, serde_json::to_string_pretty(&config)?)
        .with_context(|| format!("cannot write {}", copy.display()))?;
    let mut out = cmd.to_vec();
    match value_at {
        Some(i) if out[i].to_string_lossy().starts_with("--bundle=") => {
            out[i] = format!("--bundle={}", scratch.display()).into();
        }
        Some(i) => out[i] = scratch.as_os_str().to_owned(),
        None => {
            out.insert(at + 1, "--bundle".into());
            out.insert(at + 2, scratch.as_os_str().to_owned());
        }
    }
    Ok(out)
}

/// Runs `syscage check`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let runtime = front_end(&args.command)?;
    let at = run_index(&args.command, runtime)?;
    let file = args.profile.display().to_string();
    let text =
        std::fs::read_to_string(&args.profile).with_context(|| format!("cannot read {file}"))?;
    let parsed = match profile::parse_with_spans(&text) {
        Ok((p, _)) => p,
        Err(e) => {
            eprintln!("{}", located(&file, &e));
            return Ok(2);
        }
    };
    let (logging, exec_allowed) = logging_variant(&parsed);
    let scratch = Scratch::new("check").map_err(|e| anyhow!("{e}"))?;
    let cmd = match runtime {
        Runtime::Docker | Runtime::Podman => {
            let path = scratch.0.join("profile.json");
            std::fs::write(&path, logging.to_json())
                .with_context(|| format!("cannot write {}", path.display()))?;
            docker_command(&args.command, at, &path)?
        }
        Runtime::Runc | Runtime::Crun => oci_command(&args.command, at, &logging, &scratch.0)?,
    };
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
        println!("syscage check: {file} denies nothing this container did ({status})");
        return Ok(0);
    }
    let calls: u64 = denied.values().sum();
    println!(
        "syscage check: {file} would deny {} syscalls ({calls} calls) of this container ({status}):",
        denied.len()
    );
    println!("{:>8}  {:<24} {:<8} made by", "count", "syscall", "arch");
    let mut rows: Vec<_> = denied.into_iter().collect();
    rows.sort_by(|a, b| a.0 .0.cmp(&b.0 .0).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    for ((maker, arch, name), n) in rows {
        println!("{n:>8}  {name:<24} {:<8} {}", arch.name(), maker.name());
    }
    println!("(runtime: made by the container runtime after it loaded the filter, before it executed the workload)");
    Ok(1)
}
