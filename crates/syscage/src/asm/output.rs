//! Output formats of `syscage asm`, as seccomp-tools 1.7.1 writes them:
//! raw `struct sock_filter` bytes in the arch's byte order, Ruby's
//! `String#inspect` of those bytes (seccomp-tools' default), a C array, a C
//! program that installs the filter, an assembly program for amd64, i386
//! or s390x, and seccomp-tools' disassembly.

use super::print::{disasm, DisasmOptions};
use crate::arch::Arch;
use crate::bpf::Program;
use std::fmt::Write as _;

/// An output format of `syscage asm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Raw `struct sock_filter` bytes (8 per instruction, arch byte order).
    Raw,
    /// The bytes as Ruby's `String#inspect` shows them (seccomp-tools' default).
    Inspect,
    /// `unsigned char bpf[] = {...};`.
    CArray,
    /// A C function that installs the filter with `prctl(PR_SET_SECCOMP)`.
    CSource,
    /// An assembly function that installs the filter (amd64, i386, s390x).
    Assembly,
    /// seccomp-tools' disassembly of the result.
    Disasm,
}

impl Format {
    /// Every format with its names on the command line: syscage's first,
    /// then seccomp-tools' spellings.
    pub const NAMES: [(&'static str, Format); 9] = [
        ("raw", Format::Raw),
        ("inspect", Format::Inspect),
        ("c-array", Format::CArray),
        ("c-source", Format::CSource),
        ("assembly", Format::Assembly),
        ("disasm", Format::Disasm),
        ("c_array", Format::CArray),
        ("carray", Format::CArray),
        ("c_source", Format::CSource),
    ];

    /// The format called `name` (either spelling).
    pub fn from_name(name: &str) -> Option<Format> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, f)| f)
    }
}

/// A format that cannot be produced for an arch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// `assembly` has templates for amd64, i386 and s390x only.
    #[error("assembly output exists for amd64 (x86_64), i386 (x86) and s390x, not for {0}")]
    NoAssemblyTemplate(Arch),
}

/// Renders an assembled program for `arch` in `format`.
pub fn render(program: &Program, arch: Arch, format: Format) -> Result<Vec<u8>, OutputError> {
    let bytes = program.to_bytes(arch.byte_order());
    Ok(match format {
        Format::Raw => bytes,
        Format::Inspect => format!("{}\n", ruby_inspect(&bytes)).into_bytes(),
        Format::CArray => c_array(&bytes).into_bytes(),
        Format::CSource => fill(C_SOURCE, &decimal_list(&bytes)).into_bytes(),
        Format::Assembly => {
            let template = match arch {
                Arch::X86_64 => ASM_AMD64,
                Arch::X86 => ASM_I386,
                Arch::S390x => ASM_S390X,
                other => return Err(OutputError::NoAssemblyTemplate(other)),
            };
            fill(template, &octal_escapes(&bytes)).into_bytes()
        }
        Format::Disasm => disasm(&program.to_raw(), arch, &DisasmOptions::default()).into_bytes(),
    })
}

fn fill(template: (&str, &str), middle: &str) -> String {
    format!("{}{middle}{}", template.0, template.1)
}

/// seccomp-tools' `c_array` form: `unsigned char bpf[] = {32,0,...};` and a newline.
pub fn c_array(bytes: &[u8]) -> String {
    format!("unsigned char bpf[] = {{{}}};\n", decimal_list(bytes))
}

/// `32,0,0,0,...`: the bytes in decimal, comma-separated.
pub fn decimal_list(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 4);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{b}");
    }
    s
}

/// `\040\000...`: every byte as a three-digit octal escape (GNU as `.ascii`).
pub fn octal_escapes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 4);
    for b in bytes {
        let _ = write!(s, "\\{b:03o}");
    }
    s
}

/// Ruby's `String#inspect` of a binary (ASCII-8BIT) string, quotes included.
pub fn ruby_inspect(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3 + 2);
    s.push('"');
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x0c => s.push_str("\\f"),
            0x0b => s.push_str("\\v"),
            0x08 => s.push_str("\\b"),
            0x07 => s.push_str("\\a"),
            0x1b => s.push_str("\\e"),
            // `#` would start an interpolation before `{`, `$` or `@`.
            b'#' if matches!(bytes.get(i + 1), Some(b'{' | b'$' | b'@')) => s.push_str("\\#"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02X}");
            }
        }
    }
    s.push('"');
    s
}

// The templates of seccomp-tools' `-f c_source` and `-f assembly`, split
// where the filter goes.
const C_SOURCE: (&str, &str) = (
    r#"#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

static void install_seccomp() {
  static unsigned char filter[] = {"#,
    r#"};
  struct prog {
    unsigned short len;
    unsigned char *filter;
  } rule = {
    .len = sizeof(filter) >> 3,
    .filter = filter
  };
  if(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { perror("prctl(PR_SET_NO_NEW_PRIVS)"); exit(2); }
  if(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &rule) < 0) { perror("prctl(PR_SET_SECCOMP)"); exit(2); }
}
"#,
);

const ASM_AMD64: (&str, &str) = (
    r#"install_seccomp:
  push   rbp
  mov    rbp, rsp
  push   38
  pop    rdi
  push   0x1
  pop    rsi
  xor    eax, eax
  mov    al, 0x9d
  syscall
  push   22
  pop    rdi
  lea    rdx, [rip + _filter]
  push   rdx /* .filter */
  push   _filter_end - _filter >> 3 /* .len */
  mov    rdx, rsp
  push   0x2
  pop    rsi
  xor    eax, eax
  mov    al, 0x9d
  syscall
  leave
  ret
_filter:
.ascii ""#,
    r#""
_filter_end:
"#,
);

const ASM_I386: (&str, &str) = (
    r#"install_seccomp:
  push   ebx
  push   ebp
  mov    ebp, esp
  push   38
  pop    ebx
  push   0x1
  pop    ecx
  xor    eax, eax
  mov    al, 0xac
  int    0x80
  push   22
  pop    ebx
  jmp    __get_eip__
__back__:
  pop    edx
  push   edx /* .filter */
  mov    edx, _filter_end - _filter >> 3 /* .len */
  push   edx
  mov    edx, esp
  push   0x2
  pop    ecx
  xor    eax, eax
  mov    al, 0xac
  int    0x80
  leave
  pop    ebx
  ret
__get_eip__:
  call __back__
_filter:
.ascii ""#,
    r#""
_filter_end:
"#,
);

const ASM_S390X: (&str, &str) = (
    r#"  .globl install_seccomp
install_seccomp:
  lghi   %r1, 172   /* __NR_prctl */
  lghi   %r2, 38    /* PR_SET_NO_NEW_PRIVS */
  lghi   %r3, 1
  xgr    %r4, %r4
  xgr    %r5, %r5
  xgr    %r6, %r6
  svc    0

  lghi   %r1, 172   /* __NR_prctl */
  lghi   %r2, 22    /* PR_SET_SECCOMP */
  lghi   %r3, 2     /* SECCOMP_MODE_FILTER */
  aghi   %r15, -16  /* sizeof(struct sock_fprog) */
  mvhhi  0(%r15), (_filter_end - _filter) >> 3  /* .len */
  larl   %r4, _filter
  stg    %r4, 8(%r15)                           /* .filter */
  lgr    %r4, %r15
  svc    0
  aghi   %r15, 16

  br     %r14

_filter:
.ascii ""#,
    r#""
_filter_end:
"#,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_escapes_like_ruby() {
        assert_eq!(
            ruby_inspect(b"\x00\x07\x08\t\n\x0b\x0c\r\x1b\"\\#$#a\x7f\xff ~"),
            r#""\x00\a\b\t\n\v\f\r\e\"\\\#$#a\x7F\xFF ~""#
        );
    }

    #[test]
    fn lists() {
        assert_eq!(decimal_list(&[32, 0, 255]), "32,0,255");
        assert_eq!(octal_escapes(&[32, 0, 255]), r"\040\000\377");
    }

    #[test]
    fn format_names() {
        for (name, f) in Format::NAMES {
            assert_eq!(Format::from_name(name), Some(f));
        }
        assert_eq!(Format::from_name("json"), None);
    }
}
