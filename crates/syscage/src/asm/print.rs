//! The disassembler: seccomp-tools 1.7.1's `disasm` output, byte for byte.

use crate::arch::Arch;
use crate::bpf::RawInsn;

/// Options of the disassembler (seccomp-tools' `disasm` flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DisasmOptions {
    /// `--no-bpf`: omit the header and the `CODE JT JF K` columns.
    pub no_bpf: bool,
    /// `--no-arg-infer`: print `args[0]` instead of argument names.
    pub no_arg_infer: bool,
    /// `--asm-able`: output `syscage asm` reads back (implies the two above).
    pub asm_able: bool,
}

/// Disassembles raw instructions for `arch`, as `seccomp-tools disasm` does.
pub fn disasm(raw: &[RawInsn], arch: Arch, opts: &DisasmOptions) -> String {
    let _ = (raw, arch, opts);
    String::from("(disassembler not implemented yet)\n")
}
