//! Containers: what a container runtime (runc, crun, Docker, podman) does
//! under the container's seccomp filter, measured on the installed runtime.
//!
//! A runtime loads the container's filter (`seccomp(2)` in runc's
//! `runc init`, in crun's child) and then still makes syscalls of its own
//! until it executes the workload (`execve`): closing file descriptors
//! (`fstatfs` and `getdents64` on `/proc/self/fd`), changing user and
//! capabilities (`capset`, `setgroups`, ...) when `no_new_privs` is off,
//! and so on. A profile learnt outside a container lacks them and the
//! container does not start. [`runtime_calls`] measures that set
//! ([`measure`]: a trivial container under a logging profile, read back
//! from audit; [`attribute`]: whose each record is), caches it per runtime
//! version ([`cache`]) and [`augment`] adds it to a profile.
//!
//! [`counted`] records a container with the eBPF syscall counter (the
//! default), [`check`] with audit records.
//!
//! Other submodules: [`bundle`] (the measuring container's OCI bundle and
//! image), [`probe_elf`] (its program).

pub mod attribute;
pub mod augment;
pub mod bundle;
pub mod cache;
pub mod check;
pub mod counted;
pub mod measure;
pub mod probe_elf;

use std::ffi::OsString;
use std::path::PathBuf;

/// A container runtime front end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// `docker` (the daemon runs runc through containerd).
    Docker,
    /// `podman`.
    Podman,
    /// `runc`, with an OCI bundle.
    Runc,
    /// `crun`, with an OCI bundle.
    Crun,
}

impl Runtime {
    /// Every front end.
    pub const ALL: [Runtime; 4] = [
        Runtime::Docker,
        Runtime::Podman,
        Runtime::Runc,
        Runtime::Crun,
    ];

    /// Its name, as `--for` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Runc => "runc",
            Runtime::Crun => "crun",
        }
    }

    /// The program syscage runs (looked up in `$PATH`).
    pub fn program(self) -> &'static str {
        self.name()
    }

    /// From its name.
    pub fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// Why a runtime could not be measured or a container not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// A file or directory could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A program could not be started (not installed, ...).
    #[error("cannot run {command}: {source}")]
    Start {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A program failed.
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// Audit records or process events could not be read.
    #[error("cannot read the audit records or process events (syscage needs root for that): {0}")]
    Audit(#[source] crate::Error),
    /// Records were lost, or none arrived: the measurement is not complete.
    #[error("the measurement is incomplete: {0}")]
    Incomplete(String),
    /// Not on this machine.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The eBPF syscall counter failed.
    #[error("the eBPF syscall counter: {0}")]
    Counter(#[source] crate::syscall_counter::CounterError),
}

/// The version text that keys the cache: `runc --version` / `crun
/// --version`; for Docker, the daemon's version and its default runtime's
/// commit; for podman, its version and its OCI runtime's (`podman info`).
/// runc's and crun's are kept per binary ([`cache::load_version`]).
pub fn version(runtime: Runtime, global: &[OsString]) -> Result<String, ContainerError> {
    let binary = match runtime {
        Runtime::Runc | Runtime::Crun => cache::binary_identity(runtime.program()),
        Runtime::Docker | Runtime::Podman => None,
    };
    if let Some(v) = binary
        .as_deref()
        .and_then(|id| cache::load_version(runtime, id))
    {
        return Ok(v);
    }
    let mut cmd = measure::cli_command(runtime, global);
    match runtime {
        Runtime::Runc | Runtime::Crun => cmd.arg("--version"),
        Runtime::Docker => cmd.args([
            "info",
            "--format",
            "docker {{.ServerVersion}} {{.DefaultRuntime}} {{.RuncCommit.ID}} {{.ContainerdCommit.ID}}",
        ]),
        // The OCI runtime podman runs (crun or runc, per containers.conf
        // or `--runtime`) is what the measurement sees: it keys the cache too.
        Runtime::Podman => cmd.args([
            "info",
            "--format",
            "podman {{.Version.Version}}\n{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}\n{{.Host.OCIRuntime.Version}}",
        ]),
    };
    let text = measure::run_captured(&mut cmd)?.trim().to_string();
    if let Some(id) = binary {
        // Only a cache: the next run asks again if it cannot be written.
        let _ = cache::store_version(runtime, &id, &text);
    }
    Ok(text)
}

/// Where a runtime's set came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Measured now (and stored in the cache).
    Measured,
    /// Read from the cache.
    Cached,
}

/// The syscalls `runtime` makes under the container's filter, from the
/// cache or measured now: (version, calls, origin). `global`: the options
/// of a Docker or podman command line before its subcommand (`-H
/// SOCKET`), so the daemon measured is the user's.
pub fn runtime_calls(
    runtime: Runtime,
    global: &[OsString],
) -> Result<(String, measure::RuntimeCalls, Origin), ContainerError> {
    runtime_calls_at(runtime, global, version(runtime, global)?)
}

/// [`runtime_calls`] of the runtime at `version` (what [`version`] said,
/// asked earlier: `docker info` takes 20 ms, which a recording spends
/// while its container runs).
pub fn runtime_calls_at(
    runtime: Runtime,
    global: &[OsString],
    version: String,
) -> Result<(String, measure::RuntimeCalls, Origin), ContainerError> {
    if let Some(calls) = cache::load(runtime, &version) {
        return Ok((version, calls, Origin::Cached));
    }
    let calls = measure::measure(runtime, global)?;
    cache::store(runtime, &version, &calls)?;
    Ok((version, calls, Origin::Measured))
}

/// A profile entry with `action` for `names` and no argument conditions
/// (Docker's `syscalls[]` item), with an optional `comment`.
pub(crate) fn names_entry(
    names: Vec<String>,
    action: syscage::profile::ActionName,
    comment: Option<String>,
) -> syscage::profile::SyscallEntry {
    syscage::profile::SyscallEntry {
        name: None,
        names,
        action,
        errno_ret: None,
        errno: None,
        args: Vec::new(),
        comment,
        includes: None,
        excludes: None,
    }
}
