//! `syscage`: a Linux seccomp toolkit. This binary is a thin shell over the
//! `syscage` and `syscage-linux` libraries: argument parsing, output
//! formatting and exit codes live here, nothing else.
//!
//! Inputs are bounded (`cmd::input::read`): raw BPF at most 32 KiB, text
//! at most 16 MiB.
//!
//! Exit codes: 0 success; 1 the checked thing failed (lint findings, diff
//! found differences); 2 bad usage or bad input; a program run by
//! `syscage run` has its own exit status passed through. A closed standard
//! output (`syscage lint f | head -1`) is not an error: the output stops
//! and the exit code is the one the command would have had.

// Diagnostics go through `diag!`/`diagln!` (output/stderr.rs): eprintln!
// panics when stderr is a closed pipe or a full disk.
#![deny(clippy::print_stderr)]

#[macro_use]
mod output;
mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Write, compile, enforce, learn and take apart seccomp filters.
#[derive(Parser)]
#[command(
    name = "syscage",
    version,
    about = "Write, compile, enforce, learn and take apart Linux seccomp filters.",
    long_about = None,
    after_help = "Inputs are bounded: raw BPF at most 32768 bytes (4096 instructions, the kernel's \
                  BPF_MAXINSNS); a profile or assembly text at most 16 MiB. A bigger input is \
                  refused with exit status 2. When the reader of the output goes away \
                  (`| head`), the output stops quietly and the exit status is the command's own."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Disassemble raw seccomp BPF (seccomp-tools syntax).
    #[command(after_help = "Example:\n  syscage disasm examples/allow-stdio.bpf -a amd64")]
    Disasm(cmd::disasm::Args),
    /// Assemble seccomp-tools syntax into BPF.
    #[command(after_help = "Example:\n  syscage asm examples/allow-stdio.asm -f c-array")]
    Asm(cmd::asm::Args),
    /// Run a filter on one syscall in the emulator.
    #[command(
        after_help = "Example:\n  syscage emu examples/allow-stdio.bpf -a amd64 write 1 0x1000 5"
    )]
    Emu(cmd::emu::Args),
    /// Translate syscall names to numbers and back.
    #[command(after_help = "Example:\n  syscage resolve -a x86 read 0x3b")]
    Resolve(cmd::resolve::Args),
    /// Compile a Docker/OCI seccomp profile to BPF.
    #[command(after_help = "Example:\n  syscage compile profile.json -a x86_64 --stats -f disasm")]
    Compile(cmd::compile::Args),
    /// Run a program under a seccomp filter.
    #[command(after_help = "Example:\n  syscage run --deny mkdir -- mkdir /tmp/x")]
    Run(cmd::run::Args),
    /// Record a program's syscalls into a minimal profile.
    #[command(after_help = "Example:\n  syscage record -o ls.json -- ls /")]
    Record(cmd::record::Args),
    /// Run a container with a profile's denials logged; name what it lacks.
    #[command(
        after_help = "Example:\n  syscage check p.json -- docker run --rm bb:1 /bin/sh -c 'echo hi'"
    )]
    Check(cmd::check::Args),
    /// Extract the seccomp filters of a program or a live process.
    #[command(
        after_help = "Exit status: 0 filters found; 1 no filter found; 2 bad usage or the dump failed; \
                      when the program (-- CMD) fails, its own status (128 + N when signal N killed it), \
                      as `syscage run` passes it through.\n\nExample:\n  syscage dump -p 1234"
    )]
    Dump(cmd::dump::Args),
    /// Show the seccomp mode and filter count of processes.
    #[command(after_help = "Example:\n  syscage status --json 1")]
    Status(cmd::status::Args),
    /// Explain what a filter or profile decides, per action.
    #[command(after_help = "Example:\n  syscage explain filter.bpf -a amd64")]
    Explain(cmd::explain::Args),
    /// Look for bypasses and mistakes in a filter or profile.
    #[command(after_help = "Example:\n  syscage lint filter.bpf")]
    Lint(cmd::lint::Args),
    /// Show where two filters or profiles decide differently.
    #[command(after_help = "Example:\n  syscage diff --subset pulled.json baseline.json")]
    Diff(cmd::diff::Args),
    /// Turn a BPF filter back into a profile.
    #[command(after_help = "Example:\n  syscage decompile filter.bpf -f docker")]
    Decompile(cmd::decompile::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Disasm(a) => cmd::disasm::run(a),
        Command::Asm(a) => cmd::asm::run(a),
        Command::Emu(a) => cmd::emu::run(a),
        Command::Resolve(a) => cmd::resolve::run(a),
        Command::Compile(a) => cmd::compile::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Record(a) => cmd::record::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Dump(a) => cmd::dump::run(a),
        Command::Status(a) => cmd::status::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Lint(a) => cmd::lint::run(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Decompile(a) => cmd::decompile::run(a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            diagln!("syscage: error: {e:#}");
            2
        }
    };
    // A reader that has gone (`| head`) is not an error; any other failure
    // to write the results is.
    match output::stdout::finish() {
        Ok(()) => ExitCode::from(code),
        Err(e) => {
            diagln!("syscage: error: cannot write standard output: {e}");
            ExitCode::from(2)
        }
    }
}
