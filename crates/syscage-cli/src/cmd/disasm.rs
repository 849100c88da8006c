//! `syscage disasm`: raw seccomp BPF to seccomp-tools' text syntax.

use super::flag_groups::{InputOrStdin, OneArch};
use super::input;
use anyhow::bail;
use syscage::asm::print::{disasm, DisasmOptions};
use syscage::bpf::{codec, Program};

/// Arguments of `syscage disasm`.
#[derive(clap::Args)]
#[command(
    mut_arg("file", |a| a.help(
        "Raw BPF (an array of 8-byte `struct sock_filter` in the arch's byte order); \
         `-` or nothing reads standard input"
    )),
    mut_arg("arch", |a| a.help(
        "Architecture: names syscalls and fixes the byte order (amd64, i386, aarch64, \
         riscv64, s390x, or x86_64, x86, x32, arm, ...). Default: the host's"
    )),
)]
pub struct Args {
    /// The raw BPF.
    #[command(flatten)]
    input: InputOrStdin,
    /// `-a`.
    #[command(flatten)]
    arch: OneArch,
    /// Print text that `syscage asm` reads back (implies --no-bpf --no-arg-infer).
    #[arg(long)]
    asm_able: bool,
    /// Leave out the header and the CODE JT JF K columns.
    #[arg(long)]
    no_bpf: bool,
    /// Print `args[0]` instead of the syscall's parameter names.
    #[arg(long)]
    no_arg_infer: bool,
}

/// Runs `syscage disasm`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = args.arch.get()?;
    let name = args.input.name();
    let bytes = args.input.read(input::Content::Bpf)?;
    let raw = match codec::decode(&bytes, arch.byte_order()) {
        Ok(raw) => raw,
        Err(e) => bail!("{name}: {e}"),
    };
    if let Err(e) = Program::from_raw(&raw) {
        bail!("{name}: {e} (seccomp accepts LD/LDX W ABS, IMM, MEM, LEN; ST/STX; ALU; JMP; RET K/A; TAX/TXA)");
    }
    let opts = DisasmOptions {
        no_bpf: args.no_bpf,
        no_arg_infer: args.no_arg_infer,
        asm_able: args.asm_able,
    };
    let text = disasm(&raw, arch, &opts);
    crate::output::stdout::write_bytes(text.as_bytes());
    Ok(0)
}
