//! `--for RUNTIME` of `record` and `compile`: add to the profile the
//! syscalls the container runtime makes under the container's filter
//! before it executes the workload, measured on the installed runtime
//! (`syscage_linux::container`) and cached per runtime version.

use anyhow::anyhow;
use std::ffi::OsString;
use syscage::profile::{self, Profile};
use syscage_linux::container::{self, augment, Origin, Runtime};

/// `--for` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ForArg {
    /// Docker (`docker run`; the daemon's runc).
    Docker,
    /// podman.
    Podman,
    /// runc with an OCI bundle.
    Runc,
    /// crun with an OCI bundle.
    Crun,
}

impl ForArg {
    /// The library's runtime.
    pub fn runtime(self) -> Runtime {
        match self {
            ForArg::Docker => Runtime::Docker,
            ForArg::Podman => Runtime::Podman,
            ForArg::Runc => Runtime::Runc,
            ForArg::Crun => Runtime::Crun,
        }
    }
}

/// Adds the runtime's syscalls to `profile`; with `summary`, says on
/// stderr which entries came from the runtime and why. `global`: a Docker
/// or podman command line's options before `run` (`-H SOCKET`).
pub fn apply(
    profile: &mut Profile,
    runtime: Runtime,
    global: &[OsString],
    summary: bool,
) -> anyhow::Result<()> {
    apply_at(profile, runtime, global, summary, None)
}

/// [`apply`], with the runtime's version if it was asked already
/// ([`container::version`]).
pub fn apply_at(
    profile: &mut Profile,
    runtime: Runtime,
    global: &[OsString],
    summary: bool,
    version: Option<String>,
) -> anyhow::Result<()> {
    let learned = match version {
        Some(v) => container::runtime_calls_at(runtime, global, v),
        None => container::runtime_calls(runtime, global),
    };
    let (version, calls, origin) = learned.map_err(|e| {
        anyhow!(
            "--for {}: cannot learn what the runtime does under the container's filter: {e}",
            runtime.name()
        )
    })?;
    let added = augment::add_runtime_calls(profile, runtime, &version, &calls);
    for name in &added.denied {
        diagln!(
            "syscage: warning: --for {}: the profile denies {name}, which the runtime makes under the filter; the container may not start",
            runtime.name()
        );
    }
    if summary {
        let whence = match origin {
            Origin::Measured => "measured now".to_string(),
            Origin::Cached => format!(
                "cached in {}",
                container::cache::path(runtime, &version).display()
            ),
        };
        diagln!(
            "syscage: --for {} ({}; {whence}): {} syscalls added, {} already allowed",
            runtime.name(),
            version.lines().next().unwrap_or(""),
            added.added.len(),
            added.present.len()
        );
        for (name, variants) in &added.added {
            diagln!(
                "  + {name:<20} runtime, after loading the filter ({})",
                variants.join(" ")
            );
        }
    }
    Ok(())
}

/// [`apply`] on a profile's text (what `record` wrote).
pub fn apply_text(text: &str, runtime: ForArg, summary: bool) -> anyhow::Result<String> {
    let mut parsed =
        profile::parse(text).map_err(|e| anyhow!("internal error: re-reading the profile: {e}"))?;
    apply(&mut parsed, runtime.runtime(), &[], summary)?;
    Ok(parsed.to_json())
}
