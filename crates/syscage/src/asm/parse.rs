//! The assembler: seccomp-tools' `asm` language to instructions.
//!
//! The language (seccomp-tools 1.7.1):
//!
//! ```text
//! # comments run to the end of the line
//! A = arch                                  # also sys_number, instruction_pointer [>> 32],
//! A == ARCH_X86_64 ? next : dead            #   args[i] [>> 32], args_h[i], data[4*i], len,
//! A = sys_number                            #   mem[i], X, a number, -A
//! if (A == read) goto ok else goto dead     # == != > >= < <= &, and !(...)
//! if (A >= x32_read) goto dead
//! A &= 0xff                                 # + - * / | & ^ << >> with a number or X
//! mem[3] = A                                # X = A, A = X, X = mem[i], X = 5
//! ok: return ALLOW                          # KILL_PROCESS KILL_THREAD KILL TRAP ERRNO(n)
//! dead: return KILL                         #   USER_NOTIF LOG TRACE(n) ALLOW, A, a number
//! ```
//!
//! Jump targets are labels, `next`, or a relative number (`goto 2` skips two
//! statements). Jumps only go forward. Syscall names resolve on the arch
//! being assembled for; `amd64.write`-style names on the named arch; on
//! x86_64 `x32_NAME` is the x86_64 number of `NAME` with bit 30 set. The
//! `NNNN: ...` output of `disasm --asm-able` reads back, its line numbers
//! being labels.

use super::grammar::{self, Statement, Stmt, Target};
use super::lexer;
use crate::arch::Arch;
use crate::bpf::insn::BPF_MAXINSNS;
use crate::bpf::{Insn, Program};
use std::collections::HashMap;

/// An error in assembly text, with its position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct AsmError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// Assembles seccomp-tools syntax for `arch` (syscall names resolve on it;
/// `args[i]` and `instruction_pointer` halves follow its byte order).
///
/// Never panics. The result is not checked against the kernel's rules
/// beyond what the text itself fixes (jump targets inside the program,
/// conditional jumps of at most 255, 1 to 4096 instructions); run
/// [`crate::bpf::validate()`] for the rest.
pub fn assemble(src: &str, arch: Arch) -> Result<Program, AsmError> {
    let tokens = lexer::tokenize(src)?;
    let statements = grammar::parse(&tokens, arch)?;
    resolve(&statements)
}

fn err(t: &Target, message: String) -> AsmError {
    AsmError {
        line: t.line,
        col: t.col,
        message,
    }
}

/// Turns statements into instructions: label lookup, jump offsets.
fn resolve(statements: &[Statement]) -> Result<Program, AsmError> {
    let n = statements.len();
    if n == 0 {
        return Err(AsmError {
            line: 1,
            col: 1,
            message: "expected at least one instruction, found none".into(),
        });
    }
    if n > BPF_MAXINSNS {
        let s = &statements[BPF_MAXINSNS];
        return Err(AsmError {
            line: s.line,
            col: s.col,
            message: format!(
                "expected at most {BPF_MAXINSNS} instructions (BPF_MAXINSNS), found {n}"
            ),
        });
    }
    let mut labels: HashMap<&str, (usize, &Target)> = HashMap::new();
    for (idx, s) in statements.iter().enumerate() {
        for l in &s.labels {
            match labels.get(l.name.as_str()) {
                // The same label twice on one statement is harmless.
                Some(&(prev, _)) if prev == idx => {}
                Some(&(_, first)) => {
                    return Err(err(
                        l,
                        format!(
                            "expected a new label name, found '{}', already defined at {}:{}",
                            l.name, first.line, first.col
                        ),
                    ))
                }
                None => {
                    labels.insert(&l.name, (idx, l));
                }
            }
        }
    }
    let offset = |idx: usize, t: &Option<Target>| -> Result<u32, AsmError> {
        let Some(t) = t else { return Ok(0) };
        let off = match labels.get(t.name.as_str()) {
            Some(&(target, _)) if target <= idx => {
                return Err(err(
                    t,
                    format!(
                        "expected a label after this statement (jumps go forward only), found '{}'",
                        t.name
                    ),
                ))
            }
            Some(&(target, _)) => (target - idx - 1) as u64,
            None => match t.name.parse::<u64>() {
                Ok(v) if v.to_string() == t.name => v,
                _ => {
                    return Err(err(
                        t,
                        format!(
                            "expected a defined label, found '{}', which is not defined",
                            t.name
                        ),
                    ))
                }
            },
        };
        if off >= (n - idx - 1) as u64 {
            return Err(err(
                t,
                format!(
                    "expected a jump target inside the program, found '{}', which skips {off} of the {} statements after this one",
                    t.name,
                    n - idx - 1
                ),
            ));
        }
        Ok(off as u32)
    };
    let mut insns = Vec::with_capacity(n);
    for (idx, s) in statements.iter().enumerate() {
        let insn = match &s.stmt {
            Stmt::Plain(insn) => *insn,
            Stmt::Goto(t) => Insn::Ja(offset(idx, &Some(t.clone()))?),
            Stmt::Cond { cond, src, jt, jf } => {
                let (t, f) = (offset(idx, jt)?, offset(idx, jf)?);
                if t == f {
                    // Both ways lead to the same place: an unconditional jump.
                    Insn::Ja(t)
                } else {
                    let short = |v: u32, which: &Option<Target>| -> Result<u8, AsmError> {
                        u8::try_from(v).map_err(|_| {
                            let t = which.as_ref().expect("a non-zero offset has a target");
                            err(
                                t,
                                format!(
                                    "expected a conditional jump of at most 255 statements, found one of {v} to '{}' (use 'goto' for long jumps)",
                                    t.name
                                ),
                            )
                        })
                    };
                    Insn::Jmp {
                        cond: *cond,
                        src: *src,
                        jt: short(t, jt)?,
                        jf: short(f, jf)?,
                    }
                }
            }
        };
        insns.push(insn);
    }
    Ok(Program::new(insns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::x32_nr;
    use crate::bpf::{AluOp, JmpCond, Src};

    fn asm(src: &str) -> Vec<Insn> {
        assemble(src, Arch::X86_64).unwrap().insns
    }

    fn asm_err(src: &str) -> AsmError {
        assemble(src, Arch::X86_64).unwrap_err()
    }

    #[test]
    fn statements() {
        assert_eq!(
            asm(
                "A = arch\nA = sys_number\nA = args[1]\nA = args[1] >> 32\nA = args_h[1]\n\
                 A = instruction_pointer >> 32\nA = data[4]\nA = len\nA = mem[3]\nA = X\nA = -A\n\
                 A = 0x10\nX = A\nX = mem[15]\nX = 7\nmem[3] = A\nmem[4] = X\nA &= 0xff\n\
                 A += X\nA <<= 2\nreturn A\nreturn ERRNO(1)\nreturn KILL_PROCESS\nreturn 5"
            ),
            [
                Insn::LdAbs(4),
                Insn::LdAbs(0),
                Insn::LdAbs(24),
                Insn::LdAbs(28),
                Insn::LdAbs(28),
                Insn::LdAbs(12),
                Insn::LdAbs(4),
                Insn::LdLen,
                Insn::LdMem(3),
                Insn::Txa,
                Insn::Neg,
                Insn::LdImm(16),
                Insn::Tax,
                Insn::LdxMem(15),
                Insn::LdxImm(7),
                Insn::St(3),
                Insn::Stx(4),
                Insn::Alu(AluOp::And, Src::K(0xff)),
                Insn::Alu(AluOp::Add, Src::X),
                Insn::Alu(AluOp::Lsh, Src::K(2)),
                Insn::RetA,
                Insn::Ret(0x0005_0001),
                Insn::Ret(0x8000_0000),
                Insn::Ret(5),
            ]
        );
    }

    #[test]
    fn big_endian_word_order() {
        let p = assemble(
            "A = args[2]\nA = args[2] >> 32\nA = instruction_pointer\nreturn A",
            Arch::S390x,
        )
        .unwrap();
        assert_eq!(
            &p.insns[..3],
            &[Insn::LdAbs(36), Insn::LdAbs(32), Insn::LdAbs(12)]
        );
    }

    #[test]
    fn jumps() {
        let jeq = |jt, jf, k| Insn::Jmp {
            cond: JmpCond::Eq,
            src: Src::K(k),
            jt,
            jf,
        };
        assert_eq!(
            asm("A = sys_number\nif (A == read) goto ok else goto bad\n\
                 if (A != 1) goto bad\nA == 2 ? next : ok\nif (!(A == 3)) goto bad\n\
                 goto ok\nbad: return KILL\nok: return ALLOW"),
            [
                Insn::LdAbs(0),
                jeq(5, 4, 0),
                jeq(0, 3, 1),
                jeq(0, 3, 2),
                jeq(0, 1, 3),
                Insn::Ja(1),
                Insn::Ret(0),
                Insn::Ret(0x7fff_0000),
            ]
        );
        // Both branches to one place: an unconditional jump.
        assert_eq!(
            asm("if (A > 1) goto x else goto x\nreturn KILL\nx: return ALLOW")[0],
            Insn::Ja(1)
        );
        // Relative numbers and x32 names.
        assert_eq!(
            asm("A == x32_read ? 1 : 0\nreturn KILL\nreturn ALLOW")[0],
            jeq(1, 0, x32_nr(0))
        );
    }

    #[test]
    fn errors_name_position() {
        let e = asm_err("A = arch\nA == foo ? a : b\n");
        assert_eq!((e.line, e.col), (2, 6), "{e}");
        assert!(e.message.contains("'foo'"), "{e}");
        let e = asm_err("goto 0004\nreturn A");
        assert_eq!((e.line, e.col), (1, 6), "{e}");
        let e = asm_err("x: return A\ngoto x\n");
        assert!(e.message.contains("forward"), "{e}");
        let e = asm_err("x: return A\nx: return A\n");
        assert_eq!((e.line, e.col), (2, 1), "{e}");
        let e = asm_err("A = args[6]\nreturn A");
        assert_eq!((e.line, e.col), (1, 10), "{e}");
        let e = asm_err("A = args[1] + 1\nreturn A");
        assert!(e.message.contains(">> 32"), "{e}");
        let e = asm_err("return ERRNO(65536)");
        assert!(e.message.contains("65535"), "{e}");
        let e = asm_err("A = 0x100000000\nreturn A");
        assert!(e.message.contains("32-bit"), "{e}");
        assert!(asm_err("").message.contains("at least one"));
        assert!(asm_err("next: return A").message.contains("reserved"));
        assert!(asm_err("A = amd64.nope\nreturn A")
            .message
            .contains("'nope'"));
        assert!(asm_err("A = bogus.read\nreturn A")
            .message
            .contains("'bogus'"));
        assert!(asm_err("A = A\nreturn A").message.starts_with("expected"));
        assert!(asm_err("A = +A\nreturn A").message.contains("-A"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let src = format!(
            "A = {}1{}\nreturn A",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert_eq!(asm(&src)[0], Insn::LdImm(1));
        let src = format!(
            "if ({}A == 1{}) goto 0\nreturn A",
            "!(".repeat(100_001),
            ")".repeat(100_001)
        );
        assert_eq!(asm(&src)[0], Insn::Ja(0));
    }
}
