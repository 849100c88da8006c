"""The kernel sources' SYSCALL_DEFINEn(name, type, param, ...) macro calls,
read the way tools/gen-sys-params.py and tools/gen-arg-widths.py need them:
one reader, so the two generated tables agree on what a definition is."""

import re

DEFINE_RE = re.compile(r"(?<![\w])SYSCALL_DEFINE([0-6])\(")


def split_params(s):
    """A C parameter list split at its top-level commas, each item with its
    whitespace collapsed to single spaces."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [" ".join(x.split()) for x in out]


def syscall_defines(text):
    """Each well-formed SYSCALL_DEFINEn call of a source text, as
    (offset of the call, name, [(type, param), ...])."""
    for m in DEFINE_RE.finditer(text):
        # the matching ')' of the macro call
        i, depth = m.end(), 1
        while i < len(text) and depth:
            if text[i] == "(":
                depth += 1
            elif text[i] == ")":
                depth -= 1
            i += 1
        args = split_params(text[m.end():i - 1])
        n = int(m.group(1))
        if len(args) != 1 + 2 * n or not re.fullmatch(r"\w+", args[0]):
            continue
        yield m.start(), args[0], [(args[1 + 2 * k], args[2 + 2 * k]) for k in range(n)]
