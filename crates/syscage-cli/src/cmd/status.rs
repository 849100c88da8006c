//! `syscage status`.

/// Arguments of `syscage status`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage status`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage status' is not implemented yet")
}
