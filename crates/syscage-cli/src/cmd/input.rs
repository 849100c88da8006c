//! Loading what the analysis commands read: raw BPF (`struct sock_filter`
//! bytes in the arch's byte order), or a Docker/OCI profile (anything that
//! starts with `{`), resolved as Docker would on the arch (its sub-arches,
//! Docker's default capabilities, the running kernel) and compiled.

use anyhow::{Context, Result};
use syscage::analyze::lift::{lift, DecisionTable, Limits};
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Program};
use syscage::compile::{compile, CompileOptions};
use syscage::policy::Policy;
use syscage::profile::{self, KernelVersion, ProfileError, ResolveOptions};

/// The running kernel's version (`uname -r`), for `minKernel`.
pub fn running_kernel() -> Result<KernelVersion> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").context(
        "cannot read the running kernel's version (/proc/sys/kernel/osrelease); pass --kernel X.Y",
    )?;
    KernelVersion::parse(release.trim()).with_context(|| {
        format!(
            "cannot parse the running kernel's version '{}'; pass --kernel X.Y",
            release.trim()
        )
    })
}

/// [`running_kernel`], or 6.0 when it cannot be read or parsed (for
/// `run` and `record`, which do not ask for `--kernel`).
pub fn running_kernel_or_6_0() -> KernelVersion {
    running_kernel().unwrap_or(KernelVersion { major: 6, minor: 0 })
}

/// A profile error as `FILE:LINE:COL: JSONPATH: message`.
pub fn located(file: &str, e: &ProfileError) -> String {
    match e.pos {
        Some(pos) => format!("{file}:{}:{}: {}: {}", pos.line, pos.col, e.path, e.kind),
        None => format!("{file}: {}: {}", e.path, e.kind),
    }
}

/// Parses a profile and resolves it for `opts`; says on stderr how many
/// warnings resolving gave (`syscage compile` prints them).
pub fn profile_policy(file: &str, text: &str, opts: &ResolveOptions) -> Result<Policy> {
    if super::policy_file::is_policy(file, text.as_bytes()) {
        return super::policy_file::parse(file, text).map_err(|e| anyhow::anyhow!("{e}"));
    }
    let (profile, spans) =
        profile::parse_with_spans(text).map_err(|e| anyhow::anyhow!(located(file, &e)))?;
    let (policy, warnings) = profile
        .to_policy(opts)
        .map_err(|e| anyhow::anyhow!(located(file, &spans.locate(e))))?;
    if !warnings.is_empty() {
        eprintln!(
            "{file}: {} warning(s) while resolving the profile (syscage compile {file} lists them)",
            warnings.len()
        );
    }
    Ok(policy)
}

/// The filter an analysis command reads, and the arch it is for.
#[derive(clap::Args)]
pub struct Target {
    /// Raw BPF file (or `-` for stdin), or a Docker/OCI profile (compiled for ARCH).
    pub file: String,
    /// Architecture the filter is for (byte order, syscall names); default: host.
    #[arg(short, long)]
    pub arch: Option<String>,
}

impl Target {
    /// Loads and lifts the target: the arch, the program and its table.
    pub fn lift(&self) -> Result<(Arch, Loaded, DecisionTable)> {
        let arch = arch(self.arch.as_deref())?;
        let loaded = load(&self.file, arch)?;
        let table = lift_loaded(&loaded, &self.file)?;
        Ok((arch, loaded, table))
    }
}

/// A program ready for analysis.
pub struct Loaded {
    /// The policy it was compiled from, when the input was a profile.
    pub policy: Option<Policy>,
    /// The program.
    pub program: Program,
    /// Byte order of its 64-bit fields.
    pub order: ByteOrder,
    /// The name to show (the file name without directories).
    pub source: String,
}

/// Reads `path` (`-` for stdin).
pub fn read(path: &str) -> Result<Vec<u8>> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).context("reading stdin")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("{path}: cannot read"))
    }
}

/// Whether the bytes look like a JSON profile rather than raw BPF.
pub fn is_json(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Loads a raw BPF file or a profile for `arch`.
pub fn load(path: &str, arch: Arch) -> Result<Loaded> {
    let bytes = read(path)?;
    let order = arch.byte_order();
    let source = std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
    if is_json(&bytes) || super::policy_file::is_policy(path, &bytes) {
        let text =
            String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{path}: not UTF-8 text"))?;
        let opts = ResolveOptions::docker(vec![arch], running_kernel()?);
        let policy = profile_policy(path, &text, &opts)?;
        let program = compile(&policy, &CompileOptions::default())
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        return Ok(Loaded {
            // A policy file names its arches: the first one's byte order.
            order: policy.arches.first().map_or(order, |a| a.byte_order()),
            policy: Some(policy),
            program,
            source,
        });
    }
    let program = Program::from_bytes(&bytes, order).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    Ok(Loaded {
        policy: None,
        program,
        order,
        source,
    })
}

/// Lifts a loaded program, with the error naming the file.
pub fn lift_loaded(l: &Loaded, path: &str) -> Result<DecisionTable> {
    lift(&l.program, l.order, &Limits::default()).map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

/// Parses an arch name (any spelling), defaulting to the host's.
pub fn arch(name: Option<&str>) -> Result<Arch> {
    match name {
        Some(n) => n
            .parse()
            .map_err(|e: syscage::arch::UnknownArch| anyhow::anyhow!("{e}")),
        None => Ok(Arch::native()),
    }
}
