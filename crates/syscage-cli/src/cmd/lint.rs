//! `syscage lint`.

/// Arguments of `syscage lint`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage lint`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage lint' is not implemented yet")
}
