//! `syscage dump`: the seccomp filters of a program run under ptrace
//! (`-- CMD…`) or of a live process (`-p PID`).
//!
//! Exit codes: 0 filters found; 1 the program (or process) has no filter;
//! 2 bad usage or the dump failed (no such pid or command, process gone,
//! missing privileges); a program that fails (`-- CMD`) has its own status
//! passed through, 128 + signal when a signal killed it, as `syscage run`
//! does. `-o DIR` is checked before the program starts.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::output::stdout::write_bytes;
use anyhow::{bail, Context};
use syscage::asm::print::{disasm, DisasmOptions};
use syscage_linux::dump::{
    dump_command, dump_pid, flag_names, CommandOptions, DumpedFilter, InstallCall, ProgramEnd,
    SeccompMode,
};
use syscage_linux::tracee::StdinMode;

/// Output formats of `syscage dump`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// seccomp-tools disassembly, with a `#` header line per filter.
    Disasm,
    /// The `struct sock_filter` bytes.
    Raw,
    /// `unsigned char bpf[] = {…};` (seccomp-tools' c_array).
    #[value(alias = "c_array")]
    CArray,
    /// One JSON array of filter objects.
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Disasm => "asm",
            Format::Raw => "bpf",
            Format::CArray => "c",
            Format::Json => "json",
        }
    }
}

/// Arguments of `syscage dump`.
#[derive(clap::Args)]
pub struct Args {
    /// Dump the filters of this live process (or thread), oldest first; it
    /// keeps running. Needs CAP_SYS_ADMIN. The kernel keeps only the LOG
    /// flag of each filter.
    #[arg(short, long, value_name = "PID", conflicts_with_all = ["command", "limit", "timeout", "no_stdin"])]
    pid: Option<i32>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "disasm")]
    format: Format,
    /// Write one file per filter into DIR, named PID-ORDER.EXT (PID of the
    /// installing thread, ORDER from 1). Use it when the program itself
    /// writes to stdout.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Stop after N filters and kill the program.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Kill the program after SECS seconds (fractions allowed).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Give the program /dev/null as stdin instead of syscage's own.
    #[arg(long)]
    no_stdin: bool,
    /// The program to run under ptrace and its arguments (after `--`).
    /// Its threads, children and execs are followed until all have ended.
    /// SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to syscage are passed on
    /// to it (one from the terminal already reached it).
    #[arg(last = true, value_name = "CMD")]
    command: Vec<OsString>,
}

/// Runs `syscage dump`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        crate::output::file::check_dir(dir)?;
    }
    let mut out = Output::new(args.format, args.output.clone());
    if let Some(pid) = args.pid {
        let dump = dump_pid(pid)?;
        for f in &dump.filters {
            out.filter(f)?;
        }
        out.finish()?;
        if dump.filters.is_empty() {
            diagln!("syscage: process {pid} has no seccomp filter");
            return Ok(1);
        }
        return Ok(0);
    }
    if args.command.is_empty() {
        bail!("nothing to dump: give -p PID or -- CMD [ARG...]");
    }
    let timeout = match args.timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => bail!("--timeout {t}: expected a positive number of seconds"),
    };
    let opts = CommandOptions {
        limit: args.limit.map(|l| l as usize),
        timeout,
        stdin: if args.no_stdin {
            StdinMode::Null
        } else {
            StdinMode::Inherit
        },
    };
    // A filter that cannot be written (say, `-o DIR` already has its name)
    // is said at once; the program runs on, and syscage exits 2 at its end.
    let mut write_failed = false;
    let dump = dump_command(&args.command, &opts, |f| {
        if !write_failed {
            if let Err(e) = out.filter(f) {
                diagln!("syscage: error: {e:#}");
                write_failed = true;
            }
        }
    })?;
    if write_failed {
        return Ok(2);
    }
    out.finish()?;
    let program = args.command[0].to_string_lossy();
    match dump.end {
        ProgramEnd::TimedOut => diagln!(
            "syscage: timeout: killed '{program}' (pid {}) after {}s",
            dump.pid,
            args.timeout.unwrap_or(0.0)
        ),
        ProgramEnd::LimitReached => diagln!(
            "syscage: stopped after {} filter(s): killed '{program}' (pid {})",
            dump.filters.len(),
            dump.pid
        ),
        ProgramEnd::Exited(_) | ProgramEnd::Signaled(_) if dump.filters.is_empty() => {
            let how = match dump.end {
                ProgramEnd::Exited(c) => format!("exited with status {c}"),
                ProgramEnd::Signaled(s) => format!("was killed by signal {s}"),
                _ => unreachable!(),
            };
            diagln!(
                "syscage: '{program}' (pid {}) {how} without installing a seccomp filter",
                dump.pid
            );
        }
        _ => {}
    }
    Ok(match dump.end {
        ProgramEnd::Exited(c) if c != 0 => (c & 0xff) as u8,
        ProgramEnd::Signaled(s) => 128u8.wrapping_add(s as u8),
        _ if dump.filters.is_empty() => 1,
        _ => 0,
    })
}

/// Where and how filters are written.
struct Output {
    format: Format,
    dir: Option<PathBuf>,
    json: Vec<serde_json::Value>,
}

impl Output {
    fn new(format: Format, dir: Option<PathBuf>) -> Self {
        Output {
            format,
            dir,
            json: Vec::new(),
        }
    }

    fn filter(&mut self, f: &DumpedFilter) -> anyhow::Result<()> {
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{}-{}.{}", f.pid, f.order, self.format.extension()));
            let body = match self.format {
                Format::Json => {
                    let mut s = serde_json::to_string_pretty(&json(f))?;
                    s.push('\n');
                    s.into_bytes()
                }
                _ => render(self.format, f, false),
            };
            crate::output::file::create_new(&path, &body)?;
            diagln!("syscage: {} -> {}", describe(f), path.display());
            return Ok(());
        }
        match self.format {
            Format::Json => self.json.push(serde_json::to_value(json(f))?),
            Format::Raw => {
                diagln!("syscage: {}", describe(f));
                write_bytes(&render(self.format, f, true));
            }
            _ => write_bytes(&render(self.format, f, true)),
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        if self.format == Format::Json && self.dir.is_none() {
            let mut s = serde_json::to_string_pretty(&serde_json::Value::Array(self.json))?;
            s.push('\n');
            write_bytes(s.as_bytes());
        }
        Ok(())
    }
}

/// One line about a filter: order, pid, call, flags, arch, size.
fn describe(f: &DumpedFilter) -> String {
    let call = match (f.call, f.mode) {
        (InstallCall::Prctl, SeccompMode::Filter) => {
            "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)".into()
        }
        (InstallCall::Prctl, SeccompMode::Strict) => {
            "prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)".into()
        }
        (InstallCall::Seccomp, SeccompMode::Filter) => "seccomp(SECCOMP_SET_MODE_FILTER)".into(),
        (InstallCall::Seccomp, SeccompMode::Strict) => "seccomp(SECCOMP_SET_MODE_STRICT)".into(),
        (InstallCall::Unknown, SeccompMode::Strict) => "strict mode".to_string(),
        (InstallCall::Unknown, SeccompMode::Filter) => "filter".to_string(),
    };
    let flags = flag_names(f.flags);
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(", flags {}", flags.join("|"))
    };
    let strict = if f.mode == SeccompMode::Strict {
        " (equivalent filter)"
    } else {
        ""
    };
    format!(
        "filter {} of pid {}: {call}{flags}, arch {}, {} instructions{strict}",
        f.order,
        f.pid,
        f.arch.name(),
        f.insns.len()
    )
}

/// The filter in `format` (not JSON); `header` adds a comment line.
fn render(format: Format, f: &DumpedFilter, header: bool) -> Vec<u8> {
    match format {
        Format::Raw => f.to_bytes(),
        Format::Disasm => {
            let mut s = String::new();
            if header {
                s.push_str(&format!("# {}\n", describe(f)));
            }
            s.push_str(&disasm(&f.insns, f.arch, &DisasmOptions::default()));
            if header {
                s.push('\n');
            }
            s.into_bytes()
        }
        Format::CArray | Format::Json => {
            let mut s = String::new();
            if header {
                s.push_str(&format!("/* {} */\n", describe(f)));
            }
            s.push_str(&syscage::asm::output::c_array(&f.to_bytes()));
            s.into_bytes()
        }
    }
}

/// One filter as `dump -f json` prints it.
#[derive(serde::Serialize)]
struct FilterJson<'a> {
    pid: i32,
    order: usize,
    call: &'static str,
    mode: &'static str,
    flags: Vec<String>,
    arch: syscage::arch::Arch,
    instructions: &'a [syscage::bpf::RawInsn],
    /// The `struct sock_filter` bytes in hex.
    bytes: String,
}

fn json(f: &DumpedFilter) -> FilterJson<'_> {
    FilterJson {
        pid: f.pid,
        order: f.order,
        call: f.call.name(),
        mode: f.mode.name(),
        flags: flag_names(f.flags),
        arch: f.arch,
        instructions: &f.insns,
        bytes: f.to_bytes().iter().map(|b| format!("{b:02x}")).collect(),
    }
}
