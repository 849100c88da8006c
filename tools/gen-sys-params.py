#!/usr/bin/env python3
"""Generate crates/syscage/src/arch/params.rs: syscall name -> parameter names.

The names come from the Linux kernel sources:

1. the prototypes of include/linux/syscalls.h, where every parameter is named;
2. otherwise the SYSCALL_DEFINEn(name, type, param, ...) definitions in the
   kernel's generic .c files (not arch/: arches name parameters differently);

A name declared several times under #if/#else takes the #else declaration
(the configuration most arches use); one declared only under different #if
branches gets no names.
3. otherwise, for an underscored syscall-table name (`_llseek`, `_newselect`),
   the parameters of its entry point (`sys_llseek`, `sys_select`);
4. plus the hand-written OVERRIDES below, each with its reason.

The committed table was generated from Debian's linux-source-6.12
(6.12.117-1~deb12u1, Debian 12).

Usage (Debian):
    apt-get install linux-source-6.12
    tar -xJf /usr/src/linux-source-6.12.tar.xz -C /tmp
    tools/gen-sys-params.py /tmp/linux-source-6.12 > crates/syscage/src/arch/params.rs
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_defines import split_params, syscall_defines  # noqa: E402

# Hand-written entries, applied last, each with its reason. These are facts
# about the kernel ABI that the 6.12 sources above do not give in this form.
OVERRIDES = {
    # The syscall named `mmap` on 64-bit arches is defined per arch (x86 calls
    # its last parameter `off`, riscv `offset`); the generic prototype
    # sys_mmap_pgoff names it `pgoff`, as seccomp-tools prints it.
    "mmap": ["addr", "len", "prot", "flags", "fd", "pgoff"],
    # arch/x86 defines arch_prctl(option, arg2); x86 user-mode Linux and older
    # kernels call the two parameters `code` and `addr`, as seccomp-tools does.
    "arch_prctl": ["code", "addr"],
    # Removed in Linux 5.5 (now sys_ni_syscall); older syscalls.h:
    # sys_sysctl(struct __sysctl_args __user *args).
    "_sysctl": ["args"],
    # Newer include/linux/syscalls.h (after 6.12) names the parameters that
    # 6.12 leaves unnamed, with these names.
    "recvfrom": ["fd", "ubuf", "len", "flags", "addr", "addrlen"],
    "sendto": ["fd", "buff", "len", "flags", "addr", "addrlen"],
    # Syscalls newer than 6.12, as later include/linux/syscalls.h declares them.
    "setxattrat": ["dfd", "path", "at_flags", "name", "args", "size"],  # 6.13
    "getxattrat": ["dfd", "path", "at_flags", "name", "args", "size"],  # 6.13
    "listxattrat": ["dfd", "path", "at_flags", "list", "size"],  # 6.13
    "removexattrat": ["dfd", "path", "at_flags", "name"],  # 6.13
    "open_tree_attr": ["dfd", "path", "flags", "uattr", "usize"],  # 6.15
    "file_getattr": ["dfd", "filename", "attr", "usize", "at_flags"],  # 6.17
    "file_setattr": ["dfd", "filename", "attr", "usize", "at_flags"],  # 6.17
    "uprobe": [],  # x86, 6.16
    "listns": ["req", "ns_ids", "nr_ns_ids", "flags"],
    "rseq_slice_yield": [],
}

TYPE_WORDS = {
    "int", "long", "short", "char", "unsigned", "signed", "void", "const",
    "__user", "struct", "union", "enum",
}


def param_name(p):
    """The name of one C parameter declaration, or None if it has none."""
    p = p.strip()
    if p.endswith("*") or p.endswith("]") and "[" not in p:
        return None
    p = re.sub(r"\[[^\]]*\]$", "", p).strip()
    words = re.findall(r"[A-Za-z_]\w*", p)
    if len(words) < 2:
        return None
    last = words[-1]
    if last in TYPE_WORDS:
        return None
    if words[0] in ("struct", "union", "enum") and len(words) == 2:
        return None
    if not re.search(r"[\s\*]" + re.escape(last) + r"$", p):
        return None
    return last


def branch_kinds(text):
    """For each offset where a line starts, the kind of the innermost
    preprocessor branch it is in: None (unconditional), "if" or "else"."""
    kinds, stack, pos = [], [], 0
    for line in text.splitlines(keepends=True):
        d = line.lstrip()
        if d.startswith("#if"):
            stack.append("if")
        elif d.startswith("#elif"):
            if stack:
                stack[-1] = "if"
        elif d.startswith("#else"):
            if stack:
                stack[-1] = "else"
        elif d.startswith("#endif"):
            if stack:
                stack.pop()
        kinds.append((pos, stack[-1] if stack else None))
        pos += len(line)
    return kinds


def kind_at(kinds, offset):
    lo, hi = 0, len(kinds) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if kinds[mid][0] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return kinds[lo][1]


def pick(decls):
    """One declaration among several of the same name: the only one; else
    the one in an `#else` branch (the configuration most arches use, as in
    `clone`'s CONFIG_CLONE_BACKWARDS chain); else an unconditional one;
    else none (the prototypes really differ by configuration)."""
    if len(decls) == 1:
        return decls[0][1]
    for want in ("else", None):
        for kind, params in decls:
            if kind == want:
                return params
    return None


def picked(decls):
    """Each name's declaration as `pick` chooses it, names it cannot
    choose for left out."""
    found = {}
    for name, ds in decls.items():
        params = pick(ds)
        if params is not None:
            found[name] = params
    return found


def from_syscalls_h(root):
    text = open(os.path.join(root, "include/linux/syscalls.h")).read()
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    # The include guard is not a configuration choice.
    text = text.replace("#ifndef _LINUX_SYSCALLS_H", "", 1)
    kinds = branch_kinds(text)
    decls = {}
    for m in re.finditer(r"asmlinkage\s+long\s+sys_(\w+)\s*\(([^;]*?)\)\s*;", text, re.S):
        name, params = m.group(1), m.group(2)
        ps = split_params(params)
        if ps == ["void"] or ps == []:
            names = []
        else:
            names = [param_name(p) for p in ps]
            if any(n is None for n in names):
                names = None
        decls.setdefault(name, []).append((kind_at(kinds, m.start()), names))
    return picked(decls)


def source_files(root):
    """Every .c file outside arch/ (arch-specific definitions name their
    parameters differently from arch to arch), in a fixed order."""
    generic = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel.startswith(("tools", "samples", "Documentation", "scripts", "usr")):
            continue
        for f in sorted(filenames):
            if not f.endswith(".c"):
                continue
            path = os.path.join(dirpath, f)
            if not (rel.startswith("arch" + os.sep) or rel == "arch"):
                generic.append(path)
    ordered = generic[:]
    return ordered




def from_defines(root):
    decls = {}
    for path in source_files(root):
        try:
            text = open(path, errors="replace").read()
        except OSError:
            continue
        kinds = branch_kinds(text)
        seen_here = set()
        for start, name, typed in syscall_defines(text):
            params = [p for _, p in typed]
            if not all(re.fullmatch(r"\w+", p) for p in params):
                continue
            # Only the first file that defines a name counts.
            if name in decls and name not in seen_here:
                continue
            seen_here.add(name)
            decls.setdefault(name, []).append((kind_at(kinds, start), params))
    return picked(decls)


def table_aliases(root):
    """(syscall name, entry point without sys_) from every syscall table."""
    out = []
    for dirpath, _, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel.startswith("tools"):
            continue
        for f in sorted(filenames):
            if not (f.endswith(".tbl") and f.startswith("syscall")):
                continue
            for line in open(os.path.join(dirpath, f)):
                line = line.split("#", 1)[0].split()
                if len(line) >= 4 and line[3].startswith("sys_") and line[3] != "sys_ni_syscall":
                    out.append((line[2], line[3][4:]))
    return sorted(set(out))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    params = dict(from_defines(root))
    params.update(from_syscalls_h(root))
    for name, entry in table_aliases(root):
        # Only the historical underscored table names (`_llseek` is
        # sys_llseek, `_newselect` is sys_select): other table names with
        # another entry point (`mmap2`, `*_time64`) are left without names,
        # as seccomp-tools leaves them.
        if name.startswith("_") and name not in params and entry in params:
            params[name] = params[entry]
    params.update(OVERRIDES)
    version = os.path.basename(os.path.normpath(root))
    print("//! Syscall parameter names, by syscall name: the names the kernel gives")
    print("//! the parameters in `include/linux/syscalls.h` and `SYSCALL_DEFINEn`.")
    print("//! The disassembler uses them to print `A = fd # write(fd, buf, count)`.")
    print("//!")
    print(f"//! @generated by tools/gen-sys-params.py from {version}; do not edit.")
    print()
    print("/// `(syscall name, parameter names)`, sorted by name.")
    print("#[rustfmt::skip]")
    print("pub static SYSCALL_PARAMS: &[(&str, &[&str])] = &[")
    for name in sorted(params):
        ps = ", ".join(f'"{p}"' for p in params[name])
        print(f'    ("{name}", &[{ps}]),')
    print("];")
    print()
    print("/// The parameter names of syscall `name` (a kernel syscall-table name).")
    print("pub fn syscall_params(name: &str) -> Option<&'static [&'static str]> {")
    print("    SYSCALL_PARAMS")
    print("        .binary_search_by(|(n, _)| (*n).cmp(name))")
    print("        .ok()")
    print("        .map(|i| SYSCALL_PARAMS[i].1)")
    print("}")


if __name__ == "__main__":
    main()
