//! `syscage asm`: assemble seccomp-tools syntax into BPF.

use super::flag_groups::{InputOrStdin, OneArch, Output};
use super::input;
use syscage::asm::output::{render, Format};
use syscage::asm::parse::assemble;

/// Arguments of `syscage asm`.
#[derive(clap::Args)]
#[command(
    mut_arg("file", |a| a.help("Assembly source; `-` or nothing reads standard input")),
    mut_arg("arch", |a| a.help(
        "Architecture the filter is for: syscall names resolve on it and the output uses its \
         byte order (amd64, i386, x86_64, x32, aarch64, s390x, ...). Default: the host's"
    )),
)]
pub struct Args {
    /// The assembly source.
    #[command(flatten)]
    pub input: InputOrStdin,
    /// `-a`.
    #[command(flatten)]
    pub arch: OneArch,
    /// Output format: raw, inspect (seccomp-tools' default), c-array,
    /// c-source, assembly (amd64, i386, s390x) or disasm.
    #[arg(short = 'f', long = "format", default_value = "inspect", value_parser = parse_format)]
    pub format: Format,
    /// `-o`.
    #[command(flatten)]
    pub output: Output,
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
    let arch = args.arch.get()?;
    let name = args.input.name();
    let bytes = args.input.read(input::Content::Text)?;
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
    args.output.write(&out)?;
    Ok(0)
}
