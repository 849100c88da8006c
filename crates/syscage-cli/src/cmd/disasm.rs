//! `syscage disasm`: raw seccomp BPF to seccomp-tools' text syntax.

use anyhow::bail;
use std::path::{Path, PathBuf};

use super::input;
use syscage::arch::Arch;
use syscage::asm::print::{disasm, DisasmOptions};
use syscage::bpf::{codec, Program};

/// Arguments of `syscage disasm`.
#[derive(clap::Args)]
pub struct Args {
    /// Raw BPF (an array of 8-byte `struct sock_filter` in the arch's byte
    /// order); `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// Architecture: names syscalls and fixes the byte order (amd64, i386,
    /// aarch64, riscv64, s390x, or x86_64, x86, x32, arm, ...). Default: the host's.
    #[arg(short, long, value_parser = parse_arch)]
    arch: Option<Arch>,
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

/// Parses an arch name in any spelling `Arch::from_name` accepts.
pub fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse::<Arch>().map_err(|e| e.to_string())
}

/// Reads the input file, or standard input for `-` / no file, and names it.
fn read_input(file: Option<&PathBuf>) -> anyhow::Result<(String, Vec<u8>)> {
    let path = file.map_or(Path::new("-"), |p| p.as_path());
    Ok((input::name(path), input::read(path, input::Content::Bpf)?))
}

/// Runs `syscage disasm`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = args.arch.unwrap_or_else(Arch::native);
    let (name, bytes) = read_input(args.file.as_ref())?;
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
