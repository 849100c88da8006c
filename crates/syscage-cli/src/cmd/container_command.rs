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

/// The index of the `run` subcommand in `cmd`: the first word after the
/// front end's global options (`docker -H unix:///s run …`, `runc --root
/// /r run …`), so an option's value spelled `run` is not taken for it.
pub fn run_index(cmd: &[OsString], runtime: Runtime) -> anyhow::Result<usize> {
    let not_run = || {
        anyhow!(
            "'{} …' is not a '{} run …' command",
            runtime.name(),
            runtime.name()
        )
    };
    let mut i = 1;
    while i < cmd.len() {
        let a = cmd[i].to_string_lossy();
        if a == "run" {
            return Ok(i);
        }
        if !a.starts_with('-') || a == "-" || a == "--" {
            return Err(not_run());
        }
        if !a.contains('=') && global_option_takes_value(runtime, &a) {
            i += 1;
        }
        i += 1;
    }
    Err(not_run())
}

/// Whether the front end's global option `option` (given without
/// `=VALUE`) takes the next word as its value.
fn global_option_takes_value(runtime: Runtime, option: &str) -> bool {
    let with_value: &[&str] = match runtime {
        Runtime::Docker => &[
            "-H",
            "--host",
            "-c",
            "--context",
            "--config",
            "-l",
            "--log-level",
            "--tlscacert",
            "--tlscert",
            "--tlskey",
        ],
        Runtime::Podman => &[
            "-c",
            "--connection",
            "--url",
            "--identity",
            "--root",
            "--runroot",
            "--runtime",
            "--storage-driver",
            "--storage-opt",
            "--cgroup-manager",
            "--conmon",
            "--log-level",
            "--events-backend",
            "--hooks-dir",
            "--network-cmd-path",
            "--network-config-dir",
            "--tmpdir",
            "--volumepath",
            "--imagestore",
            "--module",
            "--config",
            "--out",
        ],
        Runtime::Runc | Runtime::Crun => &[
            "--root",
            "--log",
            "--log-format",
            "--criu",
            "--rootless",
            "--cgroup-manager",
        ],
    };
    with_value.contains(&option)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<OsString> {
        s.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn run_is_the_subcommand_not_an_option_value() {
        let at = |s, r| run_index(&words(s), r).ok();
        assert_eq!(at("docker run img", Runtime::Docker), Some(1));
        assert_eq!(at("docker -H run run img", Runtime::Docker), Some(3));
        assert_eq!(
            at("docker --host=unix:///s run img", Runtime::Docker),
            Some(2)
        );
        assert_eq!(at("runc --root run run -b b id", Runtime::Runc), Some(3));
        assert_eq!(
            at("podman --root /r --log-level debug run x", Runtime::Podman),
            Some(5)
        );
        assert_eq!(at("docker ps run", Runtime::Docker), None);
        assert_eq!(at("docker -H run", Runtime::Docker), None);
    }
}
