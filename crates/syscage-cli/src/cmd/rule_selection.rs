//! The flags that select a profile's conditional rules (moby's
//! `includes`/`excludes`: capabilities and minimum kernel), shared by
//! `compile` and `run` so that both build the same filter from one profile.

use super::input::running_kernel;
use syscage::arch::Arch;
use syscage::profile::{KernelVersion, ResolveOptions};

/// `--cap` and `--kernel`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RuleSelection {
    /// Capabilities the container holds, for includes/excludes.caps
    /// (repeatable; default: Docker's default set). `CAP_` is optional.
    #[arg(long = "cap")]
    pub caps: Vec<String>,
    /// Kernel version for minKernel, X.Y (default: the running kernel).
    #[arg(long, value_parser = parse_kernel)]
    pub kernel: Option<KernelVersion>,
}

fn parse_kernel(s: &str) -> Result<KernelVersion, String> {
    KernelVersion::parse(s)
        .ok_or_else(|| format!("invalid kernel version '{s}' (expected MAJOR.MINOR, e.g. 5.8)"))
}

/// `CAP_NAME` for `name`, `cap_name` or `CAP_NAME`.
pub fn cap_name(s: &str) -> String {
    let up = s.to_ascii_uppercase();
    if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

impl RuleSelection {
    /// Whether either flag was given.
    pub fn given(&self) -> bool {
        !self.caps.is_empty() || self.kernel.is_some()
    }

    /// Docker's resolve options for `arches` (Docker's default capabilities
    /// unless `--cap`, the running kernel unless `--kernel`).
    pub fn resolve_options(&self, arches: Vec<Arch>) -> anyhow::Result<ResolveOptions> {
        let kernel = match self.kernel {
            Some(k) => k,
            None => running_kernel()?,
        };
        let mut opts = ResolveOptions::docker(arches, kernel);
        if !self.caps.is_empty() {
            opts.caps = self.caps.iter().map(|c| cap_name(c)).collect();
        }
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_take_any_spelling_and_default_to_dockers() {
        assert_eq!(cap_name("sys_admin"), "CAP_SYS_ADMIN");
        assert_eq!(cap_name("CAP_NET_RAW"), "CAP_NET_RAW");
        let s = RuleSelection {
            caps: vec![],
            kernel: Some(KernelVersion { major: 5, minor: 8 }),
        };
        let o = s.resolve_options(vec![]).unwrap();
        assert!(o.caps.iter().any(|c| c == "CAP_CHOWN"), "{:?}", o.caps);
        let s = RuleSelection {
            caps: vec!["sys_admin".into()],
            kernel: Some(KernelVersion { major: 5, minor: 8 }),
        };
        assert_eq!(s.resolve_options(vec![]).unwrap().caps, ["CAP_SYS_ADMIN"]);
    }
}
