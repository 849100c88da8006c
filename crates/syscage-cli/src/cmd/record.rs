//! `syscage record`.

/// Arguments of `syscage record`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage record`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage record' is not implemented yet")
}
