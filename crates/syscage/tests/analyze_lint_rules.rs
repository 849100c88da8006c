//! Every lint rule on a filter where it must fire and one where it must
//! not (issue 15.4). Filters are written in seccomp-tools syntax.

use syscage::action::Action;
use syscage::analyze::lift::{lift, Limits};
use syscage::analyze::lint::{lint, lint_policy, Finding};
use syscage::arch::Arch;
use syscage::bpf::ByteOrder;
use syscage::policy::{CmpOp, Condition, Policy, Rule, SyscallId};

/// The x86_64 prologue: arch checked, x32 killed, number loaded.
const HEAD: &str = "A = arch\nif (A != ARCH_X86_64) goto kill\nA = sys_number\n\
                    if (A >= 0x40000000) goto kill\n";
const TAIL: &str = "kill:\nreturn KILL\nallow:\nreturn ALLOW\nenosys:\nreturn ERRNO(38)\n\
                    eperm:\nreturn ERRNO(1)\n";

fn findings(body: &str) -> Vec<Finding> {
    let src = format!("{HEAD}{body}{TAIL}");
    raw_findings(&src)
}

fn raw_findings(src: &str) -> Vec<Finding> {
    let prog =
        syscage::asm::parse::assemble(src, Arch::X86_64).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let table = lift(&prog, ByteOrder::Little, &Limits::default()).unwrap();
    lint(&table, &prog, &[Arch::X86_64.audit()])
}

fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.id).collect()
}

fn fires(id: &str, body: &str) -> Finding {
    let f = findings(body);
    f.iter()
        .find(|x| x.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} did not fire on\n{body}\n{:?}", ids(&f)))
}

fn silent(id: &str, body: &str) {
    let f = findings(body);
    assert!(
        !ids(&f).contains(&id),
        "{id} fired on\n{body}\n{:#?}",
        f.iter().filter(|x| x.id == id).collect::<Vec<_>>()
    );
}

#[test]
fn clone3_enosys_is_the_recommended_practice_not_a_gap() {
    // Docker/runc/flatpak: clone allowed without namespace flags, clone3 ENOSYS.
    let docker = "if (A == clone3) goto enosys\nif (A != clone) goto other\n\
                  A = args[0]\nA &= 0x7e020080\nif (A == 0) goto allow\ngoto eperm\n\
                  other:\nif (A == fork) goto allow\nif (A == vfork) goto allow\nif (A == exit) goto allow\n";
    silent("syscall-alt-gap", docker);
    // clone3 killed while clone is allowed whatever its flags: a real gap,
    // and the advice never says to refuse clone.
    let f = fires(
        "syscall-alt-gap",
        "if (A == clone3) goto kill\nif (A == clone) goto allow\nif (A == exit) goto allow\n",
    );
    assert!(
        f.syscalls.ends_with(&["clone3".into(), "clone".into()]),
        "{:?}",
        f.syscalls
    );
    assert!(f.remediation.contains("ENOSYS"), "{}", f.remediation);
    assert!(
        f.remediation.contains("never refuse it"),
        "{}",
        f.remediation
    );
}

#[test]
fn argument_gated_allows_are_not_gaps() {
    // mprotect allowed only without PROT_EXEC: pkey_mprotect refused is fine.
    silent(
        "syscall-alt-gap",
        "if (A == pkey_mprotect) goto eperm\nif (A != mprotect) goto kill\n\
         A = args[2] >> 32\nif (A != 0) goto eperm\nA = args[2]\n\
         if (A & 0x4) goto eperm\ngoto allow\n",
    );
    fires(
        "syscall-alt-gap",
        "if (A == pkey_mprotect) goto eperm\nif (A == mprotect) goto allow\n",
    );
}

#[test]
fn arch_unchecked() {
    let f = raw_findings(
        "A = sys_number\nif (A == execve) goto kill\nreturn ALLOW\nkill:\nreturn KILL\n",
    );
    assert!(ids(&f).contains(&"arch-unchecked"), "{:?}", ids(&f));
    silent("arch-unchecked", "if (A == read) goto allow\n");
}

#[test]
fn x32_guard() {
    // No x32 check: execve denied by its native number only.
    let f = raw_findings(
        "A = arch\nif (A != ARCH_X86_64) goto kill\nA = sys_number\n\
         if (A == execve) goto kill\nreturn ALLOW\nkill:\nreturn KILL\n",
    );
    assert!(ids(&f).contains(&"x32-guard"), "{:?}", ids(&f));
    silent("x32-guard", "if (A == execve) goto kill\ngoto allow\n");
}

#[test]
fn dangerous_allow() {
    let f = fires("dangerous-allow", "if (A == ptrace) goto allow\n");
    assert_eq!(f.syscalls, ["ptrace"]);
    silent("dangerous-allow", "if (A == read) goto allow\n");
}

#[test]
fn orw_chain() {
    fires(
        "orw-chain",
        "if (A == openat) goto allow\nif (A == read) goto allow\nif (A == write) goto allow\n",
    );
    silent(
        "orw-chain",
        "if (A == read) goto allow\nif (A == write) goto allow\n",
    );
}

#[test]
fn permissive_default() {
    fires(
        "permissive-default",
        "if (A == ptrace) goto kill\ngoto allow\n",
    );
    silent("permissive-default", "if (A == read) goto allow\n");
    // An allowlist that allows most known syscalls (Docker's) is no denylist.
    silent("permissive-default", "if (A < 335) goto allow\n");
    // Unknown numbers (0x3e8 is no x86_64 syscall) let through: a denylist.
    fires(
        "permissive-default",
        "if (A == 1000) goto allow\nif (A == read) goto allow\n",
    );
}

#[test]
fn arg_low_word_only() {
    // ioctl's third parameter is `unsigned long arg`: the high word counts.
    let f = fires(
        "arg-low-word-only",
        "if (A != ioctl) goto kill\nA = args[2]\nif (A == 0x5401) goto allow\n",
    );
    assert_eq!(f.syscalls, ["ioctl"]);
    silent(
        "arg-low-word-only",
        "if (A != ioctl) goto kill\nA = args[2] >> 32\nif (A != 0) goto kill\n\
         A = args[2]\nif (A == 0x5401) goto allow\n",
    );
    // Pointers and sizes: openat's `filename`, mmap's `len`, and mmap's
    // `prot`, which x86_64 declares `unsigned long`.
    for (nr, arg) in [("openat", 1), ("mmap", 1), ("mmap", 2), ("read", 2)] {
        let f = fires(
            "arg-low-word-only",
            &format!("if (A != {nr}) goto kill\nA = args[{arg}]\nif (A == 0x3) goto allow\n"),
        );
        assert_eq!(f.syscalls, [nr]);
    }
}

#[test]
fn arg_low_word_only_not_on_32_bit_parameters() {
    // The kernel's syscall wrapper casts these to their 32-bit C type, so
    // the high word never matters: ioctl's `unsigned int cmd` (flatpak's
    // TIOCSTI check), openat's `int dfd` and `int flags` (tor), socket's
    // `int family`, fcntl's `unsigned int cmd`, setsockopt's `int level`.
    for (nr, arg) in [
        ("ioctl", 1),
        ("openat", 0),
        ("openat", 2),
        ("socket", 0),
        ("fcntl", 1),
        ("setsockopt", 1),
    ] {
        silent(
            "arg-low-word-only",
            &format!("if (A != {nr}) goto kill\nA = args[{arg}]\nif (A == 0x3) goto allow\n"),
        );
    }
    // A 32-bit parameter checked and a 64-bit one left low-word-only on the
    // same path: reported, naming the 64-bit one.
    let f = fires(
        "arg-low-word-only",
        "if (A != openat) goto kill\nA = args[0]\nif (A != 0xffffff9c) goto kill\n\
         A = args[1]\nif (A == 0x1000) goto allow\n",
    );
    assert!(f.title.contains("args[1]"), "{}", f.title);
}

#[test]
fn unreachable() {
    fires(
        "unreachable",
        "if (A == read) goto allow\nif (A != read) goto kill\nreturn ALLOW\n",
    );
    let f = raw_findings(
        "A = arch\nif (A != ARCH_X86_64) goto kill\nA = sys_number\n\
         if (A == read) goto allow\nkill:\nreturn KILL\nallow:\nreturn ALLOW\n",
    );
    assert!(!ids(&f).contains(&"unreachable"), "{:?}", ids(&f));
}

#[test]
fn trace_and_notify_without_a_tracer_or_listener() {
    fires(
        "trace-no-tracer",
        "if (A == read) goto tr\ngoto kill\ntr:\nreturn TRACE\n",
    );
    fires(
        "notify-no-listener",
        "if (A == read) goto nt\ngoto kill\nnt:\nreturn USER_NOTIF\n",
    );
    for id in ["trace-no-tracer", "notify-no-listener"] {
        silent(id, "if (A == read) goto allow\n");
    }
}

#[test]
fn shadowed_rule() {
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.rule_add_verbatim(Rule::new(
        SyscallId::Name("read".into()),
        Action::KillProcess,
    ));
    let mut gated = Rule::new(SyscallId::Name("read".into()), Action::Allow);
    gated.conditions = vec![Condition::new(0, CmpOp::Eq(0))];
    p.rule_add_verbatim(gated.clone());
    let f = lint_policy(&p);
    assert_eq!(ids(&f), ["shadowed-rule"]);
    let mut p = Policy::init(Action::Errno(1)).unwrap();
    p.rule_add_verbatim(gated);
    p.rule_add_verbatim(Rule::new(SyscallId::Name("write".into()), Action::Allow));
    assert!(lint_policy(&p).is_empty());
}
