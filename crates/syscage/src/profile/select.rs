//! moby's `setupSeccomp`: from a Docker-dialect profile to the resolved OCI
//! `linux.seccomp` object for one host arch, capability set and kernel.
//!
//! - Arches: `architectures` as given; else the `archMap` entry whose
//!   `architecture` is the host arch, with its `subArchitectures`; else none
//!   (libseccomp then covers only the native arch).
//! - A rule is kept unless: `excludes.arches` names the host arch (moby
//!   name: `amd64`, `arm64`, ...); any of `excludes.caps` is held;
//!   `excludes.minKernel` ≤ kernel; `includes.arches` is set and lacks the
//!   host arch; any of `includes.caps` is missing; `includes.minKernel` >
//!   kernel. Kernel versions compare on major.minor only.
//! - Podman's `errno` / `defaultErrno` names become `errnoRet` numbers.

use super::model::*;
use super::names;
use crate::arch::Arch;

/// What the rules are selected for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The host arch (`runtime.GOARCH` for moby).
    pub arch: Arch,
    /// Capabilities the container holds (`CAP_*`).
    pub caps: Vec<String>,
    /// Kernel version of the host.
    pub kernel: KernelVersion,
}

impl Selection {
    /// Docker's defaults for `arch`: its default capability set and kernel `kernel`.
    pub fn docker_default(arch: Arch, kernel: KernelVersion) -> Selection {
        Selection {
            arch,
            caps: names::DOCKER_DEFAULT_CAPS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            kernel,
        }
    }
}

/// One syscall rule of the resolved OCI profile (`LinuxSyscall`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OciSyscall {
    /// `names`.
    pub names: Vec<String>,
    /// `action`.
    pub action: ActionName,
    /// `errnoRet`.
    pub errno_ret: Option<u16>,
    /// `args`.
    pub args: Vec<ArgCond>,
    /// Index of the Docker-dialect rule it came from (for messages).
    pub source: usize,
}

/// The resolved OCI `linux.seccomp` object (`LinuxSeccomp`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OciSeccomp {
    /// `defaultAction`.
    pub default_action: ActionName,
    /// `defaultErrnoRet`.
    pub default_errno_ret: Option<u16>,
    /// `architectures`.
    pub architectures: Vec<String>,
    /// `flags`.
    pub flags: Vec<FlagName>,
    /// `listenerPath`.
    pub listener_path: Option<String>,
    /// `listenerMetadata`.
    pub listener_metadata: Option<String>,
    /// `syscalls`.
    pub syscalls: Vec<OciSyscall>,
}

fn held(caps: &[String], cap: &str) -> bool {
    caps.iter().any(|c| c == cap)
}

impl Profile {
    /// Whether moby keeps rule `entry` for `sel`.
    pub fn selects(entry: &SyscallEntry, sel: &Selection) -> bool {
        let arch = names::moby_arch(sel.arch);
        if let Some(ex) = &entry.excludes {
            if ex.arches.iter().any(|a| a == arch)
                || ex.caps.iter().any(|c| held(&sel.caps, c))
                || ex.min_kernel.is_some_and(|k| sel.kernel >= k)
            {
                return false;
            }
        }
        if let Some(inc) = &entry.includes {
            if (!inc.arches.is_empty() && !inc.arches.iter().any(|a| a == arch))
                || inc.caps.iter().any(|c| !held(&sel.caps, c))
                || inc.min_kernel.is_some_and(|k| sel.kernel < k)
            {
                return false;
            }
        }
        true
    }

    /// The arches moby puts in the resolved profile for host arch `arch`.
    pub fn arches_for(&self, arch: Arch) -> Vec<String> {
        if !self.architectures.is_empty() {
            return self.architectures.clone();
        }
        let want = arch.oci_name();
        match self.arch_map.iter().find(|e| e.architecture == want) {
            Some(e) => std::iter::once(e.architecture.clone())
                .chain(e.sub_architectures.iter().flatten().cloned())
                .collect(),
            None => Vec::new(),
        }
    }

    /// moby's `setupSeccomp`: the OCI profile a runtime receives.
    pub fn select(&self, sel: &Selection) -> OciSeccomp {
        let syscalls = self
            .syscalls
            .iter()
            .enumerate()
            .filter(|(_, e)| Profile::selects(e, sel))
            .map(|(i, e)| OciSyscall {
                names: e.all_names().into_iter().map(str::to_string).collect(),
                action: e.action,
                errno_ret: e.errno_value(),
                args: e.args.clone(),
                source: i,
            })
            .collect();
        OciSeccomp {
            default_action: self.default_action,
            default_errno_ret: self
                .default_errno_ret
                .or_else(|| self.default_errno.as_deref().and_then(names::errno_number)),
            architectures: self.arches_for(sel.arch),
            flags: self.flags.clone(),
            listener_path: self.listener_path.clone(),
            listener_metadata: self.listener_metadata.clone(),
            syscalls,
        }
    }
}
