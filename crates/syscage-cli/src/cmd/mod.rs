//! One module per subcommand: its clap arguments and its `run`.

pub mod asm;
pub mod check;
pub mod compile;
pub mod container_command;
pub mod decompile;
pub mod diff;
pub mod disasm;
pub mod dump;
pub mod emu;
pub mod explain;
pub mod flag_groups;
pub mod for_runtime;
pub mod input;
pub mod lint;
pub mod policy_file;
pub mod record;
pub mod record_container;
pub mod resolve;
pub mod rule_selection;
pub mod run;
pub mod status;
