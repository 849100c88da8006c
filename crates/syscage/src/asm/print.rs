//! The disassembler: seccomp-tools 1.7.1's `disasm` output, byte for byte.
