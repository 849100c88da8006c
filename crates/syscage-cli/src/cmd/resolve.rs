//! `syscage resolve`.

/// Arguments of `syscage resolve`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage resolve`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage resolve' is not implemented yet")
}
