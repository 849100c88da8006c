//! One module per subcommand: its clap arguments and its `run`.

pub mod disasm;
pub mod asm;
pub mod emu;
pub mod resolve;
pub mod compile;
pub mod run;
pub mod record;
pub mod dump;
pub mod status;
pub mod explain;
pub mod lint;
pub mod diff;
pub mod decompile;
