//! `syscage dump`.

/// Arguments of `syscage dump`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage dump`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage dump' is not implemented yet")
}
