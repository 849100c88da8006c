//! `syscage explain`.

/// Arguments of `syscage explain`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage explain`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage explain' is not implemented yet")
}
