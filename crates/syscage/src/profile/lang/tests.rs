//! Unit tests of the language: every construct, errors, includes.

use super::*;
use crate::action::Action;
use crate::arch::{x32_nr, Arch};
use crate::bpf::data::SeccompData;
use crate::policy::{CmpOp, Condition, Rule, SyscallId};
use std::collections::HashMap;

struct Files(HashMap<String, String>);

impl Loader for Files {
    fn read(&mut self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_string())
    }
}

fn ok(text: &str) -> Policy {
    parse("t.policy", text, &mut NoIncludes).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    parse("t.policy", text, &mut NoIncludes)
        .unwrap_err()
        .to_string()
}

fn on(p: &Policy, arch: Arch, nr: u32, args: [u64; 6]) -> Action {
    p.evaluate(&SeccompData {
        nr,
        arch: arch.audit(),
        instruction_pointer: 0,
        args,
    })
}

#[test]
fn settings() {
    let p = ok("arches x86_64, x86\ndefault errno(EPERM)\nbad-arch allow\nunknown-syscall errno(38)\noption tsync on\noption no-new-privs off");
    assert_eq!(p.arches(), vec![Arch::X86_64, Arch::X86]);
    assert_eq!(p.default_action(), Action::Errno(1));
    assert_eq!(p.bad_arch_action(), Action::Allow);
    assert_eq!(p.unknown_action(), Some(Action::Errno(38)));
    assert!(p.attributes().tsync && !p.attributes().no_new_privs);
    assert_eq!(ok("default allow").arches(), vec![Arch::native()]);
}

#[test]
fn actions() {
    let p = ok("arches x86_64\ndefault allow\nlog read\nkill-thread write\nkill-process open\ntrap close\ntrap(7) stat\ntrace(3) fstat\ntrace lstat\nnotify poll\nerrno(ENOSYS) lseek\nerrno(5) mmap");
    let acts: Vec<Action> = p.rules().iter().map(|r| r.action).collect();
    assert_eq!(
        acts,
        vec![
            Action::Log,
            Action::KillThread,
            Action::KillProcess,
            Action::Trap(0),
            Action::Trap(7),
            Action::Trace(3),
            Action::Trace(0),
            Action::UserNotif,
            Action::Errno(38),
            Action::Errno(5)
        ]
    );
}

#[test]
fn conditions() {
    let p = ok("arches x86_64\ndefault kill-process\n\
        allow write if fd in {1, 2}\n\
        allow read if (u32)fd == 0\n\
        allow mmap if prot & 0x4 == 0 && (flags & 0x20) == 0x20\n\
        allow mprotect if arg2 & 4 != 4\n\
        allow lseek if whence in 0..=2 || whence >= 10\n\
        allow close if fd not in {0..3, 7}\n\
        allow dup if arg0 < 3 || arg0 > 0x100000000 || arg0 <= 5 || arg0 >= 9 || arg0 != 4");
    let x = |nr, args| on(&p, Arch::X86_64, nr, args);
    assert_eq!(x(1, [1, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(x(1, [3, 0, 0, 0, 0, 0]), Action::KillProcess);
    assert_eq!(x(1, [1 << 32 | 1, 0, 0, 0, 0, 0]), Action::KillProcess);
    assert_eq!(x(0, [1 << 32, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(x(9, [0, 0, 3, 0x22, 0, 0]), Action::Allow);
    assert_eq!(x(9, [0, 0, 7, 0x22, 0, 0]), Action::KillProcess);
    assert_eq!(x(9, [0, 0, 3, 0x2, 0, 0]), Action::KillProcess);
    assert_eq!(x(10, [0, 0, 3, 0, 0, 0]), Action::Allow);
    assert_eq!(x(10, [0, 0, 4, 0, 0, 0]), Action::KillProcess);
    assert_eq!(x(8, [0, 0, 2, 0, 0, 0]), Action::Allow);
    assert_eq!(x(8, [0, 0, 5, 0, 0, 0]), Action::KillProcess);
    assert_eq!(x(8, [0, 0, 11, 0, 0, 0]), Action::Allow);
    assert_eq!(x(3, [2, 0, 0, 0, 0, 0]), Action::KillProcess);
    assert_eq!(x(3, [3, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(x(3, [7, 0, 0, 0, 0, 0]), Action::KillProcess);
    assert_eq!(x(3, [8, 0, 0, 0, 0, 0]), Action::Allow);
    // (u32) builds 32-bit conditions; ranges the fewest comparisons.
    assert_eq!(
        p.rules()[2].conditions,
        vec![Condition::new32(0, CmpOp::Eq(0))]
    );
    assert_eq!(
        p.rules()[0].conditions,
        vec![Condition::new(0, CmpOp::Eq(1))]
    );
    assert_eq!(
        p.rules()[5].conditions,
        vec![Condition::new(2, CmpOp::Le(2))]
    );
}

#[test]
fn sections_numbers_groups() {
    let p = ok("arches x86_64, x32, x86\ndefault kill-process\n\
        allow 0x3ff\n\
        arch x32 { allow read\n errno(1) { write if arg0 == 1\n close } }\n\
        arch x86 { allow 1234 if arg0 == 1 }\n\
        allow @basic-io");
    assert_eq!(p.rules()[0], Rule::new(SyscallId::Nr(0x3ff), Action::Allow));
    assert_eq!(on(&p, Arch::X86_64, x32_nr(0), [0; 6]), Action::Allow);
    assert_eq!(
        on(&p, Arch::X86_64, 0x4000_0001, [1, 0, 0, 0, 0, 0]),
        Action::Errno(1)
    );
    assert_eq!(
        on(&p, Arch::X86_64, 0x4000_0001, [2, 0, 0, 0, 0, 0]),
        Action::Allow
    );
    assert_eq!(on(&p, Arch::X86_64, 0x4000_0003, [0; 6]), Action::Errno(1));
    assert_eq!(
        p.rules()[3],
        Rule::new("close", Action::Errno(1)).on_arch(Arch::X32)
    );
    assert_eq!(on(&p, Arch::X86, 1234, [1, 0, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(on(&p, Arch::X86, 140, [0; 6]), Action::Allow); // _llseek, i386 only
    assert_eq!(on(&p, Arch::X86_64, 8, [0; 6]), Action::Allow); // lseek
}

#[test]
fn errors_say_where_and_what() {
    let cases = [
        (
            "default allow\nallow read write",
            "t.policy:2:12: expected an action",
        ),
        (
            "default allow\nallow nosuch",
            "t.policy:2:7: syscall 'nosuch' is unknown",
        ),
        (
            "default allow\nallow read if flags == 1",
            "t.policy:2:15: `flags` is not a parameter of read(fd, buf, count)",
        ),
        (
            "default allow\nallow read if fd",
            "t.policy:2:17: expected a comparison",
        ),
        (
            "default allow\nallow read if arg6 == 1",
            "t.policy:2:15: `arg6`",
        ),
        (
            "default allow\nallow read if (u32)fd == 0x100000000",
            "does not fit",
        ),
        (
            "default allow\nallow read if fd & 1 == 2",
            "bits outside the mask",
        ),
        (
            "default allow\nallow read if fd & 1 < 2",
            "expected `==` or `!=` after a mask",
        ),
        (
            "default allow\nallow read if fd in 5..=2",
            "t.policy:2:21: the range 5..=2 is empty",
        ),
        (
            "allow read",
            "t.policy:1:1: the policy has no default action",
        ),
        (
            "default allow\ndefault allow",
            "t.policy:2:1: the default action is already set at t.policy:1:1",
        ),
        ("default bogus", "t.policy:1:9: expected an action"),
        ("default errno(EWHAT)", "t.policy:1:15: unknown errno name"),
        ("default errno(5000)", "errno 5000 is above"),
        ("default errno", "expected `(`"),
        ("arches x86_64, x86_64\ndefault allow", "listed twice"),
        (
            "arches x86_64, vax",
            "t.policy:1:16: unknown architecture `vax`",
        ),
        (
            "default allow\narches x86_64\narch x32 { allow read }",
            "t.policy:3:1: a section for x32",
        ),
        ("default allow\nallow @nope", "unknown group `@nope`"),
        ("default allow\narch x86_64 { allow read", "expected `}`"),
        ("default allow\nallow read if (fd == 1", "expected `)`"),
        (
            "default allow\ninclude \"x.policy\"",
            "t.policy:2:1: cannot include \"x.policy\"",
        ),
        (
            "default allow\nallow 0x100000000",
            "does not fit in 32 bits",
        ),
        ("default allow\noption fast on", "unknown option `fast`"),
        (
            "default allow\nallow read $",
            "t.policy:2:12: unexpected character",
        ),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(got.contains(want), "{text:?}: got {got:?}, want {want:?}");
    }
    let deep = format!(
        "default allow\nallow read if {}fd == 1{}",
        "(".repeat(100),
        ")".repeat(100)
    );
    assert!(err(&deep).contains("nest deeper"));
    let wide = format!(
        "default allow\nallow read if {}",
        vec!["fd in {1,2}"; 13].join(" && ")
    );
    assert!(err(&wide).contains("more than 4096 rules"));
}

#[test]
fn includes_are_relative_and_cycles_are_refused() {
    let mut files = Files(HashMap::from([
        (
            "dir/base.policy".to_string(),
            "arches x86_64\ninclude \"sub/io.policy\"\n".to_string(),
        ),
        (
            "dir/sub/io.policy".to_string(),
            "allow read, write\n".to_string(),
        ),
        (
            "dir/a.policy".to_string(),
            "include \"b.policy\"\n".to_string(),
        ),
        (
            "dir/b.policy".to_string(),
            "\n  include \"a.policy\"\n".to_string(),
        ),
        ("dir/bad.policy".to_string(), "allow nosuch\n".to_string()),
    ]));
    let p = parse(
        "dir/main.policy",
        "default kill-process\ninclude \"base.policy\"\nallow close",
        &mut files,
    )
    .unwrap();
    let names: Vec<&SyscallId> = p.rules().iter().map(|r| &r.syscall).collect();
    assert_eq!(
        names,
        vec![&SyscallId::from("read"), &"write".into(), &"close".into()]
    );
    let e = parse(
        "dir/main.policy",
        "default allow\ninclude \"a.policy\"",
        &mut files,
    )
    .unwrap_err();
    assert_eq!(e.file, "dir/b.policy");
    assert_eq!((e.pos.line, e.pos.col), (2, 3));
    assert!(
        e.message
            .contains("include cycle: dir/a.policy -> dir/b.policy -> dir/a.policy"),
        "{e}"
    );
    assert_eq!(e.included_from.len(), 2);
    assert!(
        e.to_string().contains("(included from dir/a.policy:1:1)"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("(included from dir/main.policy:2:1)"),
        "{e}"
    );
    let e = parse(
        "dir/main.policy",
        "default allow\ninclude \"bad.policy\"",
        &mut files,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("dir/bad.policy:1:7: syscall 'nosuch'"),
        "{e}"
    );
    let e = parse(
        "dir/main.policy",
        "default allow\ninclude \"main.policy\"",
        &mut files,
    )
    .unwrap_err();
    assert!(e.message.contains("include cycle"), "{e}");
}

#[test]
fn printer_round_trips_a_hand_written_policy() {
    let text = "arches x86_64, x32\ndefault errno(EPERM)\nbad-arch kill-process\nunknown-syscall errno(ENOSYS)\noption tsync on\n\n\
allow read, write\nallow write if fd == 1\nallow mmap if prot & 0x4 == 0 && (u32)flags in 3..=0x1000\nkill-thread 1023\n\n\
arch x32 {\n    trap(2) read if arg5 != 0\n}\n";
    let p = ok(text);
    assert_eq!(print(&p), text);
}

#[test]
fn detection() {
    assert!(is_policy_language("x.policy", b"{"));
    assert!(is_policy_language("x", b"  # comment\ndefault allow"));
    assert!(is_policy_language("x", b"default allow"));
    assert!(is_policy_language("x", b"allow read"));
    assert!(!is_policy_language("x.json", b"{\"defaultAction\": 1}"));
    assert!(!is_policy_language(
        "x.bpf",
        b" \x00\x00\x00\x04\x00\x00\x00"
    ));
}

#[test]
fn rules_on_one_argument_print_as_sets() {
    let text = "arches x86_64\ndefault kill-process\nbad-arch kill-process\n\n\
allow personality if personality in {0, 8, 0x20000}\n\
allow socket if family in {0..=37, 39, 41..}\n\
allow read, write if (u32)fd in {1, 3..=9}\n";
    let p = ok(text);
    assert_eq!(p.rules().len(), 10);
    assert_eq!(print(&p), text);
    // Open ranges stop at the top of the argument's width.
    let q = ok("arches x86_64\ndefault allow\nerrno(1) read if (u32)fd in {5..}");
    assert_eq!(
        q.rules()[0].conditions,
        vec![Condition::new32(0, CmpOp::Ge(5))]
    );
}

#[test]
fn defines_name_numbers() {
    let mut files = Files(HashMap::from([(
        "consts.policy".to_string(),
        "define PROT_EXEC = 0x4\ndefine AF_INET = 2\n".to_string(),
    )]));
    let text = "include \"consts.policy\"\ndefine STDERR = 2\ndefine TOP = STDERR\n\
        arches x86_64\ndefault kill-process\n\
        allow mmap if prot & PROT_EXEC == 0\n\
        allow write if fd in {1, STDERR..=TOP, 7..}\n\
        allow socket if family == AF_INET\n";
    let p = parse("main.policy", text, &mut files).unwrap();
    assert_eq!(
        p.rules()[0].conditions,
        vec![Condition::new(2, CmpOp::MaskedEq { mask: 4, value: 0 })]
    );
    assert_eq!(
        p.rules()[2].conditions,
        vec![Condition::new(0, CmpOp::Eq(2))]
    );
    assert_eq!(
        p.rules()[4].conditions,
        vec![Condition::new(0, CmpOp::Eq(2))]
    );
    for (text, want) in [
        (
            "default allow\nallow read if fd == STDIN",
            "t.policy:2:21: expected a number to compare with, found `STDIN`, which is not defined",
        ),
        (
            "define allow = 1",
            "t.policy:1:8: `allow` is a word of the language",
        ),
        (
            "define A = 1\ndefine A = 2",
            "t.policy:2:8: `A` is already defined as 0x1 at t.policy:1:8",
        ),
        ("define A 1", "expected `=` after the name"),
    ] {
        let got = err(text);
        assert!(got.contains(want), "{text:?}: got {got:?}");
    }
    // Defining the same value twice is fine (a header included twice).
    ok("define A = 1\ndefine A = 1\ndefault allow");
}

#[test]
fn values_combine_with_bitwise_or() {
    let p = ok(
        "define PROT_READ = 1\ndefine PROT_WRITE = 2\narches x86_64\ndefault kill-process\n\
        allow mmap if prot & (PROT_READ | PROT_WRITE | 0x4) == PROT_READ | PROT_WRITE\n\
        allow read if (fd & 0x10 | 0x1) == (1)",
    );
    assert_eq!(
        p.rules()[0].conditions,
        vec![Condition::new(2, CmpOp::MaskedEq { mask: 7, value: 3 })]
    );
    assert_eq!(
        p.rules()[1].conditions,
        vec![Condition::new(
            0,
            CmpOp::MaskedEq {
                mask: 0x11,
                value: 1
            }
        )]
    );
    let deep = format!(
        "default allow\nallow read if fd == {}1{}",
        "(".repeat(100),
        ")".repeat(100)
    );
    assert!(err(&deep).contains("nest deeper"));
}

#[test]
fn unnamed_number_ranges() {
    // x32's first number (read is x32's 0), spelled as the printer does.
    let x32_first = format!("{:#x}", crate::arch::x32_nr(0));
    let text = format!(
        "arches x86_64, x32\ndefault allow\nunknown-syscall errno(ENOSYS)\n\
         kill-process unnamed 500..=600\n\
         arch x32 {{\n    errno(EPERM) unnamed {x32_first}..\n    allow read\n}}\n\
         errno(5) 550\n"
    );
    let text = text.as_str();
    let p = ok(text);
    let none = [0; 6];
    // Unnamed numbers of a range take its action, known or not.
    assert_eq!(on(&p, Arch::X86_64, 500, none), Action::KillProcess);
    assert_eq!(on(&p, Arch::X86_64, 601, none), Action::Errno(38));
    // A number a rule names keeps its rules (and the default).
    assert_eq!(on(&p, Arch::X86_64, 550, none), Action::Errno(5));
    assert_eq!(
        on(&p, Arch::X32, crate::arch::x32_nr(0), none),
        Action::Allow
    );
    assert_eq!(
        on(&p, Arch::X32, crate::arch::x32_nr(1), none),
        Action::Errno(1)
    );
    assert_eq!(on(&p, Arch::X86_64, 0xffff_fffe, none), Action::Errno(1));
    // x86_64's own numbers below x32's are not in the x32 range.
    assert_eq!(on(&p, Arch::X86_64, 1, none), Action::Allow);
    let printed = print(&p);
    assert!(
        printed.contains("kill-process unnamed 500..=600\n"),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("    errno(EPERM) unnamed {x32_first}..\n")),
        "{printed}"
    );
    let again = ok(&printed);
    assert_eq!(again.number_ranges(), p.number_ranges(), "{printed}");
    assert_eq!(print(&again), printed);
    assert_eq!(
        err("default allow\nallow unnamed 5..=9 if arg0 == 1\n"),
        "t.policy:2:7: `unnamed` numbers take no condition (they are the numbers no rule names; write a rule per number to test arguments)"
    );
    assert!(err("default allow\nallow unnamed 9..=5\n")
        .starts_with("t.policy:2:15: the range 9..=5 is empty"));
    assert!(err("default allow\nallow unnamed 0x100000000\n").contains("does not fit in 32 bits"));
}
