//! `syscage asm`: assemble seccomp-tools syntax into BPF.

use std::path::{Path, PathBuf};

use super::input;
use syscage::arch::Arch;
use syscage::asm::output::{render, Format};
use syscage::asm::parse::assemble;

/// Arguments of `syscage asm`.
#[derive(clap::Args)]
pub struct Args {
    /// Assembly source; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Architecture the filter is for: syscall names resolve on it and
    /// the output uses its byte order (amd64, i386, x86_64, x32, aarch64,
    /// s390x, ...). Default: the host's.
    #[arg(short = 'a', long = "arch", value_parser = parse_arch)]
    pub arch: Option<Arch>,
    /// Output format: raw, inspect (seccomp-tools' default), c-array,
    /// c-source, assembly (amd64, i386, s390x) or disasm.
    #[arg(short = 'f', long = "format", default_value = "inspect", value_parser = parse_format)]
    pub format: Format,
    /// Write the result to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse::<Arch>().map_err(|e| e.to_string())
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        format!(
            "unknown format '{s}' (expected raw, inspect, c-array, c-source, assembly or disasm)"
        )
    })
}

/// Runs `syscage asm`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = args.arch.unwrap_or_else(Arch::native);
    let path = args.file.as_deref().unwrap_or(Path::new("-"));
    let name = input::name(path);
    let bytes = input::read(path, input::Content::Text)?;
    let src = String::from_utf8(bytes).map_err(|e| {
        let valid =
            std::str::from_utf8(&e.as_bytes()[..e.utf8_error().valid_up_to()]).unwrap_or("");
        let line = valid.matches('\n').count() + 1;
        let col = valid.chars().rev().take_while(|&c| c != '\n').count() + 1;
        anyhow::anyhow!("{name}:{line}:{col}: expected UTF-8 text, found invalid bytes")
    })?;
    let program = assemble(&src, arch).map_err(|e| anyhow::anyhow!("{name}:{e}"))?;
    // Like seccomp-tools, write what the text says; but say so when the
    // kernel would refuse it (say, M[] read before written, no final RET).
    if let Err(e) = syscage::bpf::validate(&program.to_raw()) {
        diagln!("syscage: warning: {name}: the kernel would refuse this filter: {e}");
    }
    let out = render(&program, arch, args.format)?;
    match &args.output {
        Some(path) => crate::output::file::replace(path, &out)?,
        None => crate::output::stdout::write_bytes(&out),
    }
    Ok(0)
}
