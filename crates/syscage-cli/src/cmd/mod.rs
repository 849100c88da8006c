//! One module per subcommand: its clap arguments and its `run`.

pub mod asm;
pub mod compile;
pub mod decompile;
pub mod diff;
pub mod disasm;
pub mod dump;
pub mod emu;
pub mod explain;
pub mod input;
pub mod lint;
pub mod policy_file;
pub mod record;
pub mod resolve;
pub mod rule_selection;
pub mod run;
pub mod status;
