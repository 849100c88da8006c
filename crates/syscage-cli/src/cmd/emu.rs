//! `syscage emu`.

/// Arguments of `syscage emu`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage emu`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage emu' is not implemented yet")
}
