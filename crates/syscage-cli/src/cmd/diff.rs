//! `syscage diff`.

/// Arguments of `syscage diff`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage diff`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage diff' is not implemented yet")
}
