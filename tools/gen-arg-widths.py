#!/usr/bin/env python3
"""Generate crates/syscage/src/analyze/lint/arg_widths.rs: which syscall
parameters the kernel reads as 32 bits (or fewer) on every 64-bit ABI.

Why: on a 64-bit ABI a syscall argument arrives in a 64-bit register, and
the kernel's SYSCALL_DEFINEn wrapper casts it to the parameter's declared C
type (`__SC_CAST`), so for an `int fd` or `unsigned int flags` the high word
is dropped before the syscall sees it. A filter comparing only the low word
of such an argument decides exactly what the kernel acts on; the lint
`arg-low-word-only` must not report it.

How (from the Linux kernel sources):

1. the syscall tables of the 64-bit ABIs (x86_64, the generic table of
   arm64/riscv64/loongarch64, s390x, powerpc64, mips n64) give each syscall
   name's entry points (`sys_NAME`); x32, compat and 32-bit-only rows are
   skipped;
2. every SYSCALL_DEFINEn(NAME, type, param, ...) outside tools/, samples/,
   Documentation/ and scripts/ (arch/ included) gives an entry point's
   parameter types; a name defined several times (per arch, per
   configuration) has all its definitions checked;
3. parameter i of a syscall name is narrow when the name has an entry
   point in some table, every one of its entry points has a SYSCALL_DEFINE,
   and every definition that has a parameter i declares it with a type of
   32 bits or fewer (NARROW below). Anything else (a pointer, `long`,
   `size_t`, `loff_t`, an enum, a type not listed, an entry point written
   in assembly or without the wrapper) counts as 64 bits: the lint keeps
   reporting it.

The committed table was generated from Debian's linux-source-6.12
(6.12.117-1~deb12u1, Debian 12).

Usage (Debian):
    apt-get install linux-source-6.12
    mkdir /tmp/k && tar -xJf /usr/src/linux-source-6.12.tar.xz -C /tmp/k
    tools/gen-arg-widths.py /tmp/k/linux-source-6.12 > crates/syscage/src/analyze/lint/arg_widths.rs
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_defines import split_params, syscall_defines  # noqa: E402

# Types of 32 bits or fewer, as the kernel declares them (include/linux/types.h,
# include/uapi/asm-generic/posix_types.h): pid_t, clockid_t, timer_t, mqd_t,
# key_t, rwf_t, key_serial_t are int; uid_t, gid_t, qid_t, dev_t are u32 (or
# unsigned int), as is uint; umode_t and the old 16-bit ids are unsigned short.
NARROW = {
    "int", "signed int", "unsigned int", "unsigned", "signed", "uint",
    "short", "unsigned short", "char", "unsigned char", "bool",
    "u8", "u16", "u32", "s8", "s16", "s32",
    "__u8", "__u16", "__u32", "__s8", "__s16", "__s32",
    "int8_t", "int16_t", "int32_t", "uint8_t", "uint16_t", "uint32_t",
    "pid_t", "uid_t", "gid_t", "qid_t", "dev_t", "old_dev_t",
    "old_uid_t", "old_gid_t", "uid16_t", "gid16_t",
    "umode_t", "mode_t", "clockid_t", "timer_t", "mqd_t", "key_t",
    "key_serial_t", "rwf_t", "old_time32_t",
}

# Types of 64 bits on 64-bit ABIs. Listed so that an unknown type stands out.
WIDE = {
    "long", "signed long", "unsigned long", "long long", "unsigned long long",
    "long int", "unsigned long int",
    "u64", "s64", "__u64", "__s64", "uint64_t", "int64_t",
    "size_t", "ssize_t", "off_t", "loff_t", "aio_context_t", "uintptr_t",
    "old_sigset_t", "__kernel_old_time_t", "time_t", "__sighandler_t",
    "cap_user_header_t", "cap_user_data_t", "sigset_t", "old_time_t",
}

# 64-bit syscall tables, with the ABI column values to skip.
TABLES = [
    ("arch/x86/entry/syscalls/syscall_64.tbl", {"x32"}),
    ("scripts/syscall.tbl", {"32", "time32", "stat64"}),
    ("arch/arm64/tools/syscall_64.tbl", {"32", "time32", "stat64"}),
    ("arch/s390/kernel/syscalls/syscall.tbl", {"32"}),
    ("arch/powerpc/kernel/syscalls/syscall.tbl", {"32", "spu"}),
    ("arch/mips/kernel/syscalls/syscall_n64.tbl", set()),
]

SKIP_DIRS = ("tools", "samples", "Documentation", "scripts", "usr")


def table_entries(root):
    """Syscall name -> set of native entry points (`sys_` stripped, or the
    raw name for one without the prefix)."""
    entries = {}
    for path, skip in TABLES:
        full = os.path.join(root, path)
        if not os.path.exists(full):
            continue
        for line in open(full):
            cols = line.split("#", 1)[0].split()
            if len(cols) < 4 or cols[1] in skip:
                continue
            name, entry = cols[2], cols[3]
            if entry in ("sys_ni_syscall", "-"):
                continue
            entries.setdefault(name, set()).add(entry)
    return entries




def definitions(root):
    """Entry point name (without `sys_`) -> list of parameter type lists."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel.split(os.sep)[0] in SKIP_DIRS:
            continue
        for f in sorted(filenames):
            if not f.endswith(".c"):
                continue
            text = open(os.path.join(dirpath, f), errors="replace").read()
            for _, name, params in syscall_defines(text):
                found.setdefault(name, []).append([t for t, _ in params])
    return found


unknown_types = set()


def narrow(t):
    """Whether a declared parameter type has 32 bits or fewer."""
    if "*" in t or "[" in t:
        return False
    words = [w for w in t.split() if w not in ("const", "volatile", "__user", "__force")]
    t = " ".join(words)
    if t in NARROW:
        return True
    if t not in WIDE and not t.startswith(("struct ", "union ", "enum ")):
        unknown_types.add(t)
    return False


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    entries = table_entries(root)
    defs = definitions(root)
    masks = {}
    for name, points in entries.items():
        decls = []
        for e in points:
            d = defs.get(e[4:]) if e.startswith("sys_") else None
            if not d:
                decls = None
                break
            decls.extend(d)
        if not decls:
            continue
        mask = 0
        for i in range(6):
            at_i = [d[i] for d in decls if i < len(d)]
            if at_i and all(narrow(t) for t in at_i):
                mask |= 1 << i
        if mask:
            masks[name] = mask
    if unknown_types:
        sys.stderr.write("types counted as 64-bit, not listed: %s\n" % sorted(unknown_types))
    version = os.path.basename(os.path.normpath(root))
    print("//! Syscall parameters the kernel reads as 32 bits or fewer on every")
    print("//! 64-bit ABI: the SYSCALL_DEFINE wrapper casts the 64-bit register to")
    print("//! the declared type (`int fd`, `unsigned int flags`, `umode_t mode`),")
    print("//! dropping the high word. `arg-low-word-only` does not report them.")
    print("//!")
    print(f"//! @generated by tools/gen-arg-widths.py from {version}; do not edit.")
    print()
    print("/// `(syscall name, bit i set when parameter i is 32 bits or fewer)`,")
    print("/// sorted by name. Names not listed have no such parameter known.")
    print("#[rustfmt::skip]")
    print("static NARROW_PARAMS: &[(&str, u8)] = &[")
    for name in sorted(masks):
        print(f'    ("{name}", {masks[name]:#08b}),')
    print("];")
    print()
    print("/// Whether the kernel reads parameter `arg` (0-based) of syscall `name`")
    print("/// (a syscall-table name) as 32 bits or fewer on every 64-bit ABI.")
    print("pub(crate) fn is_narrow(name: &str, arg: u8) -> bool {")
    print("    NARROW_PARAMS")
    print("        .binary_search_by(|(n, _)| (*n).cmp(name))")
    print("        .is_ok_and(|i| arg < 8 && NARROW_PARAMS[i].1 & (1 << arg) != 0)")
    print("}")


if __name__ == "__main__":
    main()
