//! `syscage decompile`.

/// Arguments of `syscage decompile`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage decompile`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage decompile' is not implemented yet")
}
