//! Loading what the analysis commands read: raw BPF (`struct sock_filter`
//! bytes in the arch's byte order), or a Docker/OCI profile compiled for
//! the arch.

use anyhow::{Context, Result};
use syscage::analyze::lift::{lift, DecisionTable, Limits};
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, Program};

/// A program ready for analysis.
pub struct Loaded {
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
    if is_json(&bytes) {
        anyhow::bail!("{path}: profiles are not supported by this command yet; compile it first (syscage compile {path} -f raw)");
    }
    let program = Program::from_bytes(&bytes, order).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    Ok(Loaded {
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
