#!/usr/bin/python3
"""Compile a resolved OCI linux.seccomp object with libseccomp's Python bindings
(python3-seccomp), adding rules as runc does (no ENOSYS stub), and export the BPF."""
import json, sys, seccomp as S
oci = json.load(open(sys.argv[1]))
def act(name, errno):
    return {"SCMP_ACT_ALLOW": S.ALLOW, "SCMP_ACT_KILL": S.KILL, "SCMP_ACT_KILL_THREAD": S.KILL,
            "SCMP_ACT_KILL_PROCESS": S.KILL_PROCESS, "SCMP_ACT_TRAP": S.TRAP, "SCMP_ACT_LOG": S.LOG,
            "SCMP_ACT_ERRNO": S.ERRNO(errno), "SCMP_ACT_TRACE": S.TRACE(errno)}[name]
OPS = {"SCMP_CMP_NE": S.NE, "SCMP_CMP_LT": S.LT, "SCMP_CMP_LE": S.LE, "SCMP_CMP_EQ": S.EQ,
       "SCMP_CMP_GE": S.GE, "SCMP_CMP_GT": S.GT, "SCMP_CMP_MASKED_EQ": S.MASKED_EQ}
ARCH = {"SCMP_ARCH_X86_64": S.Arch.X86_64, "SCMP_ARCH_X86": S.Arch.X86, "SCMP_ARCH_X32": S.Arch.X32}
f = S.SyscallFilter(act(oci["defaultAction"], oci.get("defaultErrnoRet", 1)))
for a in oci.get("architectures", []):
    if ARCH[a] != S.Arch.NATIVE and ARCH[a] != S.Arch.X86_64:
        f.add_arch(ARCH[a])
skipped = 0
for r in oci["syscalls"]:
    action = act(r["action"], r.get("errnoRet", 1))
    args = [S.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0)) if a["op"] == "SCMP_CMP_MASKED_EQ"
            else S.Arg(a["index"], OPS[a["op"]], a["value"]) for a in r.get("args") or []]
    idx = [a["index"] for a in r.get("args") or []]
    for name in r["names"]:
        try:
            nr = S.resolve_syscall(S.Arch.NATIVE, name)
        except Exception:
            nr = -1
        if nr < 0:  # unknown to libseccomp on the native arch: runc skips the name
            skipped += 1
            continue
        if action == f.get_attr(S.Attr.ACT_DEFAULT):
            continue
        if len(set(idx)) == len(idx):
            try:
                f.add_rule(action, name, *args)
            except RuntimeError as e:  # EEXIST: a rule with another action is already there
                print("rule skipped:", name, r["action"], r.get("args"), e, file=sys.stderr)
        else:
            for a in args:
                f.add_rule(action, name, a)
with open(sys.argv[2], "wb") as out:
    f.export_bpf(out)
print("skipped unknown names:", skipped, file=sys.stderr)
