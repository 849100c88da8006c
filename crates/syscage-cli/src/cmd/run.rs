//! `syscage run`.

/// Arguments of `syscage run`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage run`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage run' is not implemented yet")
}
