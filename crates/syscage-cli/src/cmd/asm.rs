//! `syscage asm`.

/// Arguments of `syscage asm`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `syscage asm`; returns the exit code.
pub fn run(_args: Args) -> anyhow::Result<u8> {
    anyhow::bail!("'syscage asm' is not implemented yet")
}
