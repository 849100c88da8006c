//! `syscage compile`.

/// Arguments of `syscage compile`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage compile`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage compile' is not implemented yet")
}
