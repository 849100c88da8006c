//! The container command a user typed (`docker run …`, `podman run …`,
//! `runc run …`, `crun run …`), rewritten to run under another seccomp
//! profile: `--security-opt seccomp=FILE` for Docker and podman, a copy of
//! the bundle's `config.json` with `linux.seccomp` replaced for runc and
//! crun. Shared by `check` and `record`.

use super::input::running_kernel_or_6_0;
use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use syscage::arch::Arch;
use syscage::profile::ResolveOptions;
use syscage_linux::container::Runtime;

/// Which front end `cmd` runs, from its program's file name.
pub fn front_end(cmd: &[OsString]) -> anyhow::Result<Runtime> {
    let program = Path::new(&cmd[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Runtime::from_name(&program).ok_or_else(|| {
        anyhow!("unknown container runtime front end '{program}' (expected docker, podman, runc or crun followed by run …)")
    })
}

/// The index of the `run` subcommand in `cmd`.
pub fn run_index(cmd: &[OsString], runtime: Runtime) -> anyhow::Result<usize> {
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

/// `cmd` (its run subcommand at `at`) made to run the container under
/// `logging`: for Docker and Podman with `--security-opt seccomp=FILE`,
/// FILE written in `scratch`; for runc and crun on a copy of the bundle's
/// `config.json` in `scratch` ([`oci_command`]).
pub fn logged_command(
    cmd: &[OsString],
    runtime: Runtime,
    at: usize,
    logging: &syscage::profile::Profile,
    scratch: &Path,
) -> anyhow::Result<Vec<OsString>> {
    match runtime {
        Runtime::Docker | Runtime::Podman => {
            let path = scratch.join("profile.json");
            std::fs::write(&path, logging.to_json())
                .with_context(|| format!("cannot write {}", path.display()))?;
            docker_command(cmd, at, &path)
        }
        Runtime::Runc | Runtime::Crun => oci_command(cmd, at, logging, scratch),
    }
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
