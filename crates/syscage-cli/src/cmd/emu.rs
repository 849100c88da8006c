//! `syscage emu`: run a raw filter on one syscall in the emulator, with the
//! output of seccomp-tools' `emu` (the disassembly, cut off a few lines
//! after the returning instruction, then `return ACTION at line NNNN`).

use super::flag_groups::{Input, Json, OneArch};
use super::resolve::{parse_number, syscall_nr, write_stdout};
use anyhow::{anyhow, bail};
use serde::Serialize;
use syscage::arch::Arch;
use syscage::asm::print::{disasm, DisasmOptions};
use syscage::asm::symbol::ret_value;
use syscage::bpf::data::{SeccompData, OFF_ARCH, OFF_ARGS, OFF_NR};
use syscage::bpf::{codec, Insn, Program};
use syscage::emu::{self, Outcome};

/// Arguments of `syscage emu`.
#[derive(clap::Args)]
#[command(
    allow_negative_numbers = true,
    mut_arg("file", |a| a.help(
        "Raw BPF file (`struct sock_filter[]`, in the arch's byte order), or `-` for stdin"
    )),
    mut_arg("json", |a| a.help("Print the result as JSON (ret, action, data, line, steps, trace)")),
)]
pub struct Args {
    /// The raw BPF.
    #[command(flatten)]
    pub input: Input,
    /// `-a`.
    #[command(flatten)]
    pub arch: OneArch,
    /// Syscall name or number (`seccomp_data.nr`).
    #[arg(index = 2)]
    pub syscall: Option<String>,
    /// Up to six syscall arguments (decimal, 0x hex, 0o, 0b; `-N` is two's complement).
    #[arg(value_name = "ARG", index = 3)]
    pub args: Vec<String>,
    /// `seccomp_data.instruction_pointer`.
    #[arg(long = "ip", value_name = "N")]
    pub ip: Option<String>,
    /// Print only the executed instructions, in execution order.
    #[arg(long)]
    pub trace: bool,
    /// Print only the result line.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// `--json`.
    #[command(flatten)]
    pub json: Json,
}

/// What `--json` prints.
#[derive(Serialize)]
struct JsonOutcome {
    /// The 32-bit return value.
    ret: u32,
    /// The action, libseccomp spelling (`SCMP_ACT_ERRNO`).
    action: &'static str,
    /// The action's data (errno, trap or trace value), if it has any.
    data: Option<u16>,
    /// Index of the returning instruction.
    line: usize,
    /// Instructions executed.
    steps: usize,
    /// Indices of the executed instructions.
    trace: Vec<usize>,
}

/// The inputs seccomp-tools leaves undefined unless given.
struct Given {
    nr: bool,
    ip: bool,
    args: usize,
}

/// The name of the `seccomp_data` field at `offset`, when it was not given.
fn undefined_field(offset: u32, given: &Given) -> Option<String> {
    match offset {
        OFF_NR if !given.nr => Some("sys_number (give a SYSCALL)".into()),
        OFF_ARCH | OFF_NR => None,
        o if o < OFF_ARGS => (!given.ip).then(|| "instruction_pointer (give --ip N)".into()),
        o => {
            let i = ((o - OFF_ARGS) / 8) as usize;
            (i >= given.args).then(|| format!("args[{i}] (give at least {} ARGs)", i + 1))
        }
    }
}

/// Runs `syscage emu`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch: Arch = args.arch.get()?;
    let order = arch.byte_order();
    let file = args.input.file.display().to_string();
    let bytes = args.input.read(super::input::Content::Bpf)?;
    let raw = codec::decode(&bytes, order).map_err(|e| anyhow!("{}: {e}", file))?;
    let prog = Program::from_raw(&raw).map_err(|e| {
        let other = match order {
            codec::ByteOrder::Little => codec::ByteOrder::Big,
            codec::ByteOrder::Big => codec::ByteOrder::Little,
        };
        let hint = if Program::from_bytes(&bytes, other).is_ok() {
            let word = |o| match o {
                codec::ByteOrder::Little => "little-endian",
                codec::ByteOrder::Big => "big-endian",
            };
            format!(
                " (the file decodes as {}; {arch} is {}: wrong -a?)",
                word(other),
                word(order)
            )
        } else {
            String::new()
        };
        anyhow!("{}: {e}{hint}", file)
    })?;
    let refused = syscage::bpf::validate(&raw).err();

    if args.args.len() > 6 {
        bail!(
            "a syscall has at most 6 arguments, {} were given",
            args.args.len()
        );
    }
    let nr = args
        .syscall
        .as_deref()
        .map(|s| syscall_nr(arch, s))
        .transpose()?;
    let mut data = SeccompData {
        nr: nr.unwrap_or(0),
        arch: arch.audit(),
        ..Default::default()
    };
    for (i, text) in args.args.iter().enumerate() {
        data.args[i] = parse_number(text).ok_or_else(|| {
            anyhow!("argument {i} '{text}' is not a number (expected decimal, 0x hex, 0o or leading-0 octal, or 0b binary)")
        })?;
    }
    if let Some(ip) = &args.ip {
        data.instruction_pointer = parse_number(ip)
            .ok_or_else(|| anyhow!("--ip '{ip}' is not a number (expected decimal or 0x hex)"))?;
    }
    let given = Given {
        nr: nr.is_some(),
        ip: args.ip.is_some(),
        args: args.args.len(),
    };

    let out: Outcome = emu::run_traced(&prog, &data, order).map_err(|e| match &refused {
        Some(v) => anyhow!(
            "{}: the filter cannot run: {e} (the kernel would refuse it: {v})",
            file
        ),
        None => anyhow!("{}: the filter cannot run: {e}", file),
    })?;
    if let Some(v) = &refused {
        diagln!(
            "syscage: warning: {}: the kernel would refuse this filter: {v}",
            file
        );
    }
    let trace = out.trace.clone().unwrap_or_default();
    for &pc in &trace {
        if let Insn::LdAbs(k) = prog.insns[pc] {
            if let Some(field) = undefined_field(k, &given) {
                bail!("instruction {pc:04} reads {field}, which is undefined");
            }
        }
    }
    let line = trace.last().copied().unwrap_or(0);

    if args.json.json {
        let json = JsonOutcome {
            ret: out.ret,
            action: out.action.scmp_name(),
            data: out.action.data(),
            line,
            steps: out.steps,
            trace,
        };
        return write_stdout(&format!("{}\n", serde_json::to_string_pretty(&json)?));
    }

    let mut text = String::new();
    if args.trace || !args.quiet {
        let listing = disasm(&raw, arch, &DisasmOptions::default());
        let lines: Vec<&str> = listing.split_inclusive('\n').collect();
        let (header, body) = lines.split_at(lines.len().min(2));
        if args.trace {
            text.extend(header.iter().copied());
            for &pc in &trace {
                text.push_str(body.get(pc).copied().unwrap_or("\n"));
            }
        } else {
            text.extend(header.iter().copied());
            for (idx, l) in body.iter().enumerate() {
                text.push_str(l);
                // seccomp-tools: stop when more than 3 lines remain and we are
                // more than 4 lines past the returning instruction.
                let rem = body.len() - idx - 1;
                if rem > 3 && idx > line + 4 {
                    text.push_str(&format!("... (omitting {rem} lines)\n"));
                    break;
                }
            }
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "return {} at line {line:04}\n",
        ret_value(out.ret)
    ));
    write_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_words_follow_the_disassembler() {
        // seccomp-tools' words, ERRNO with its data ...
        assert_eq!(ret_value(0x7fff_0000), "ALLOW");
        assert_eq!(ret_value(0), "KILL");
        assert_eq!(ret_value(0x8000_0000), "KILL_PROCESS");
        assert_eq!(ret_value(0x0005_0005), "ERRNO(5)");
        assert_eq!(ret_value(0x0003_0000), "TRAP");
        // ... and, unlike seccomp-tools, no dropped data bits.
        assert_eq!(ret_value(0x0003_0007), "TRAP(7)");
    }
}
