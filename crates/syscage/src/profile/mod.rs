//! Docker / OCI seccomp JSON profiles: parse, resolve, translate, write.
//!
//! ```text
//!  text ──parse──▶ Profile ──select (arch, caps, kernel: moby)──▶ OciSeccomp
//!        ──to_policy (runc + libseccomp 2.5 rule semantics)──▶ Policy + warnings
//!  Policy ──Profile::from_policy──▶ Profile ──to_json──▶ text
//! ```
//!
//! [`parse`] reads the Docker dialect (moby's `profiles/seccomp` types: `archMap`,
//! `includes`/`excludes`, `comment`, `name`), which is a superset of the OCI
//! runtime-spec's `linux.seccomp` object, and Podman's `errno` /
//! `defaultErrno` names. Every error names the JSON path and line:column
//! ([`ProfileError`]). [`Profile::to_policy`] selects rules as moby's
//! `setupSeccomp` does and translates them as runc and libseccomp would
//! build the filter ([`translate`]), reporting what they silently drop as
//! [`Warning`]s.
//!
//! ```
//! use syscage::action::Action;
//! use syscage::arch::Arch;
//! use syscage::bpf::data::SeccompData;
//! use syscage::profile::{self, KernelVersion, ResolveOptions};
//!
//! let text = r#"{"defaultAction": "SCMP_ACT_ERRNO",
//!                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}"#;
//! let p = profile::parse(text).unwrap();
//! let opts = ResolveOptions::docker(vec![Arch::X86_64], KernelVersion { major: 6, minor: 1 });
//! let (policy, _warnings) = p.to_policy(&opts).unwrap();
//! let read = SeccompData { nr: 0, arch: Arch::X86_64.audit(), ..Default::default() };
//! assert_eq!(policy.evaluate(&read), Action::Allow);
//! ```

mod decode;
mod error;
pub mod json;
pub mod lang;
mod model;
pub mod names;
mod select;
pub mod translate;
mod write;

pub use decode::Spans;
pub use error::{ProfileError, ProfileErrorKind, Warning};
pub use model::{
    ActionName, ArchMapEntry, ArgCond, Filter, FlagName, KernelVersion, OpName, Profile,
    SyscallEntry,
};
pub use select::{OciSeccomp, OciSyscall, Selection};
pub use translate::TranslateOptions;
pub use write::{write_docker, write_oci};

use crate::arch::Arch;
use crate::policy::Policy;

/// Parses a profile (Docker dialect or OCI `linux.seccomp`).
pub fn parse(text: &str) -> Result<Profile, ProfileError> {
    decode::parse(text).map(|(p, _)| p)
}

/// Parses a profile and keeps the position of every value, to locate
/// errors found later ([`Spans::locate`]).
pub fn parse_with_spans(text: &str) -> Result<(Profile, Spans), ProfileError> {
    decode::parse(text)
}

/// How to turn a profile into a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveOptions {
    /// Host arches to resolve for, each as moby would on that host (empty:
    /// the native arch). Rules are selected per arch.
    pub arches: Vec<Arch>,
    /// Add each arch's `subArchitectures` from `archMap`, as moby does.
    pub sub_arches: bool,
    /// Capabilities held, for `includes.caps` / `excludes.caps`.
    pub caps: Vec<String>,
    /// Kernel version, for `minKernel`.
    pub kernel: KernelVersion,
    /// Return ENOSYS for unknown syscall numbers (runc's ENOSYS stub).
    pub enosys_unknown: bool,
}

impl ResolveOptions {
    /// Docker's defaults: sub-arches, Docker's default capabilities, the ENOSYS stub.
    pub fn docker(arches: Vec<Arch>, kernel: KernelVersion) -> ResolveOptions {
        ResolveOptions {
            arches,
            sub_arches: true,
            caps: names::DOCKER_DEFAULT_CAPS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            kernel,
            enosys_unknown: true,
        }
    }
}

impl Profile {
    /// The resolved OCI profile for one host arch (with `sub_arches`
    /// false, `architectures` is emptied so only `arch` is covered).
    pub fn resolve_oci(&self, arch: Arch, opts: &ResolveOptions) -> OciSeccomp {
        let mut oci = self.select(&Selection {
            arch,
            caps: opts.caps.clone(),
            kernel: opts.kernel,
        });
        if !opts.sub_arches {
            oci.architectures.clear();
        }
        oci
    }

    /// Selects and translates: the policy runc + libseccomp would enforce.
    /// With several host arches, each arch's rules are restricted to the
    /// arches it brings (an arch already brought by an earlier one is not
    /// brought again).
    /// The hosts' policies are combined with [`Policy::merge`], so hosts
    /// of different byte order are refused, as `seccomp_merge` does.
    pub fn to_policy(&self, opts: &ResolveOptions) -> Result<(Policy, Vec<Warning>), ProfileError> {
        let hosts = if opts.arches.is_empty() {
            vec![Arch::native()]
        } else {
            opts.arches.clone()
        };
        let mut merged: Option<Policy> = None;
        let mut warnings: Vec<Warning> = Vec::new();
        for host in &hosts {
            let oci = self.resolve_oci(*host, opts);
            let topts = TranslateOptions {
                native: *host,
                enosys_unknown: opts.enosys_unknown,
            };
            let (mut policy, ws) = oci.to_policy(&topts)?;
            for w in ws {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
            if hosts.len() == 1 {
                return Ok((policy, warnings));
            }
            // Arches an earlier host brought stay with that host's rules.
            if let Some(m) = &merged {
                let common: Vec<Arch> = policy
                    .arches()
                    .iter()
                    .copied()
                    .filter(|a| m.arch_exist(*a))
                    .collect();
                for a in common {
                    policy.arch_remove(a).map_err(not_merged)?;
                }
            }
            match &mut merged {
                None => merged = Some(policy),
                Some(m) => {
                    m.merge(policy).map_err(not_merged)?;
                }
            }
        }
        Ok((
            merged.unwrap_or_else(|| Policy::init_verbatim(crate::action::Action::KillProcess)),
            warnings,
        ))
    }
}

/// A [`Policy::merge`] of the hosts' policies failed.
fn not_merged(e: crate::policy::PolicyError) -> ProfileError {
    ProfileError {
        path: "$".to_string(),
        pos: None,
        kind: ProfileErrorKind::Rejected(format!(
            "the policies of the host architectures cannot be merged: {e}"
        )),
    }
}
