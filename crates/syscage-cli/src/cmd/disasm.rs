//! `syscage disasm`.

/// Arguments of `syscage disasm`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage disasm`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage disasm' is not implemented yet")
}
