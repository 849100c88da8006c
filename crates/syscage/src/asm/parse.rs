//! The assembler: seccomp-tools' `asm` language to instructions.
