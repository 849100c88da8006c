//! Loading what the analysis commands read: raw BPF (`struct sock_filter`
//! bytes in the arch's byte order), or a Docker/OCI profile (anything that
//! starts with `{`), resolved as Docker would on the arch (its sub-arches,
//! Docker's default capabilities, the running kernel) and compiled.

use std::path::Path;

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
        diagln!(
            "{file}: {} warning(s) while resolving the profile (syscage compile {file} lists them)",
            warnings.len()
        );
    }
    Ok(policy)
}

/// The filter an analysis command reads, and the arch it is for.
#[derive(clap::Args)]
#[command(
    mut_arg("file", |a| a.help(
        "Raw BPF file (or `-` for stdin), or a Docker/OCI profile (compiled for ARCH)"
    )),
    mut_arg("arch", |a| a.help(
        "Architecture the filter is for (byte order, syscall names); default: host"
    )),
)]
pub struct Target {
    /// The file.
    #[command(flatten)]
    pub input: super::flag_groups::Input,
    /// `-a`.
    #[command(flatten)]
    pub arch: super::flag_groups::OneArch,
}

impl Target {
    /// The file as given (`-` for standard input).
    pub fn file(&self) -> String {
        self.input.file.display().to_string()
    }

    /// Loads and lifts the target: the arch, the program and its table.
    pub fn lift(&self) -> Result<(Arch, Loaded, DecisionTable)> {
        let arch = self.arch.get()?;
        let file = self.file();
        let loaded = load(&file, arch)?;
        let table = lift_loaded(&loaded, &file)?;
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

/// The most raw BPF syscage reads: the kernel's `BPF_MAXINSNS` (4096)
/// instructions of 8 bytes (`struct sock_filter`).
pub const BPF_LIMIT: u64 = 4096 * 8;

/// The most text syscage reads as a profile or assembly source: 16 MiB
/// (Docker's default profile is about 20 KiB).
pub const TEXT_LIMIT: u64 = 16 << 20;

/// What an input holds, which bounds how much of it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Raw BPF: at most [`BPF_LIMIT`] bytes.
    Bpf,
    /// A profile or assembly source: at most [`TEXT_LIMIT`] bytes.
    Text,
    /// Raw BPF, or a profile when it starts with `{` (see [`is_json`]).
    BpfOrProfile,
}

/// The name an input is shown as: the path, or `<stdin>` for `-`.
pub fn name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads `path` (`-` for standard input): the one place syscage reads its
/// input. Reads at most one byte more than the limit of `content`, so
/// `/dev/zero` or an endless pipe is refused at once.
pub fn read(path: impl AsRef<Path>, content: Content) -> Result<Vec<u8>> {
    use std::io::Read;
    let path = path.as_ref();
    let name = name(path);
    let mut source: Box<dyn Read> = if path.as_os_str() == "-" {
        #[allow(clippy::disallowed_methods)] // the one place that reads stdin
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?)
    };
    let mut bytes = Vec::new();
    let mut read_up_to = |bytes: &mut Vec<u8>, limit: u64| {
        let more = (limit + 1).saturating_sub(bytes.len() as u64);
        (&mut source)
            .take(more)
            .read_to_end(bytes)
            .with_context(|| format!("cannot read {name}"))
    };
    let first = if content == Content::Text {
        TEXT_LIMIT
    } else {
        BPF_LIMIT
    };
    read_up_to(&mut bytes, first)?;
    let json = content == Content::BpfOrProfile && is_json(&bytes);
    if json {
        read_up_to(&mut bytes, TEXT_LIMIT)?;
    }
    if content == Content::Text || json {
        if bytes.len() as u64 > TEXT_LIMIT {
            anyhow::bail!(
                "{name}: larger than {TEXT_LIMIT} bytes (16 MiB), the most syscage reads as a profile or assembly text"
            );
        }
    } else if bytes.len() as u64 > BPF_LIMIT {
        anyhow::bail!(
            "{name}: larger than {BPF_LIMIT} bytes, the most a seccomp filter can be \
             (4096 instructions of 8 bytes, BPF_MAXINSNS)"
        );
    }
    Ok(bytes)
}

/// [`read`]s a profile (at most [`TEXT_LIMIT`] bytes) as UTF-8 text.
pub fn read_text(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let bytes = read(path, Content::Text)?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", name(path)))
}

/// Whether the bytes look like a JSON profile rather than raw BPF.
pub fn is_json(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Loads a raw BPF file or a profile for `arch`.
pub fn load(path: &str, arch: Arch) -> Result<Loaded> {
    let bytes = read(path, Content::BpfOrProfile)?;
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
            order: policy.arches().first().map_or(order, |a| a.byte_order()),
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
