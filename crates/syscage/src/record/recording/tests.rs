//! Tests of the recorded data and the policies built from it.

use super::*;
use crate::arch::x32_nr;
use crate::bpf::data::SeccompData;

fn call(arch: Arch, name: &str, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr: arch.syscall_nr(name).expect("syscall in table"),
        arch: arch.audit(),
        args,
        ..Default::default()
    }
}

fn recording(with_args: bool, calls: &[(Arch, &str, [u64; 6])]) -> Recording {
    let mut r = Recording::new(with_args);
    for &(arch, name, a) in calls {
        let nr = arch.syscall_nr(name).expect("syscall in table");
        r.count(arch, nr, 1, 1);
        if let Some(ArgSource::Registers(f)) = args::risk_args(arch, name) {
            let wide = arch.is_64bit() || arch == Arch::X32;
            r.add_key(arch, nr, args::key_from_registers(f, &a, wide));
        }
    }
    r
}

/// One i386 call: that syscall is allowed on i386 only, and nothing
/// seen on x86_64 is allowed through int 0x80.
#[test]
fn what_was_seen_on_one_arch_is_allowed_on_that_arch_only() {
    let r = recording(
        false,
        &[
            (Arch::X86_64, "read", [0; 6]),
            (Arch::X86_64, "getuid", [0; 6]),
            (Arch::X86, "getpid", [0; 6]),
            (Arch::X86, "getuid32", [0; 6]),
            (Arch::X86, "read", [0; 6]),
        ],
    );
    let p = r.to_policy();
    let d = |arch, name| p.evaluate(&call(arch, name, [0; 6]));
    assert_eq!(d(Arch::X86_64, "read"), Action::Allow);
    assert_eq!(d(Arch::X86, "read"), Action::Allow);
    assert_eq!(d(Arch::X86_64, "getuid"), Action::Allow);
    assert_eq!(d(Arch::X86, "getuid"), Action::Errno(EPERM));
    assert_eq!(d(Arch::X86, "getpid"), Action::Allow);
    assert_eq!(d(Arch::X86_64, "getpid"), Action::Errno(EPERM));
    assert_eq!(d(Arch::X86, "getuid32"), Action::Allow);
    // Seen on both: one rule for every arch; i386-only names need none.
    let arch_of = |name: &str| {
        p.rules()
            .iter()
            .filter(|r| r.syscall == name.into())
            .map(|r| r.arch)
            .collect::<Vec<_>>()
    };
    assert_eq!(arch_of("read"), vec![None]);
    assert_eq!(arch_of("getuid32"), vec![None]);
    assert_eq!(arch_of("getpid"), vec![Some(Arch::X86)]);
    assert_eq!(arch_of("getuid"), vec![Some(Arch::X86_64)]);
    // What a profile has to say instead: both arches, and which rules.
    let (wide, widened) = widen_to_every_arch(&p);
    assert!(wide.rules().iter().all(|r| r.arch.is_none()));
    assert_eq!(
        wide.evaluate(&call(Arch::X86, "getuid", [0; 6])),
        Action::Allow
    );
    let mut names: Vec<SyscallId> = widened.iter().map(|r| r.syscall.clone()).collect();
    names.sort_by_key(|id| format!("{id:?}"));
    assert_eq!(names, vec!["getpid".into(), "getuid".into()]);
}

#[test]
fn names_only_allows_the_recorded_syscalls() {
    let r = recording(
        false,
        &[
            (Arch::X86_64, "read", [0; 6]),
            (Arch::X86_64, "execve", [0; 6]),
            (Arch::X86, "getpid", [0; 6]),
        ],
    );
    let p = r.to_policy();
    assert_eq!(p.arches(), vec![Arch::native(), Arch::X86]);
    assert_eq!(
        p.evaluate(&call(Arch::X86_64, "read", [0; 6])),
        Action::Allow
    );
    assert_eq!(
        p.evaluate(&call(Arch::X86_64, "execve", [0; 6])),
        Action::Allow
    );
    assert_eq!(
        p.evaluate(&call(Arch::X86, "getpid", [0; 6])),
        Action::Allow
    );
    assert_eq!(
        p.evaluate(&call(Arch::X86_64, "write", [0; 6])),
        Action::Errno(EPERM)
    );
    // Signal returns and restarts, whatever the run saw.
    for name in ["rt_sigreturn", "restart_syscall"] {
        assert_eq!(p.evaluate(&call(Arch::X86_64, name, [0; 6])), Action::Allow);
        assert_eq!(p.evaluate(&call(Arch::X86, name, [0; 6])), Action::Allow);
    }
    assert_eq!(
        p.evaluate(&call(Arch::X86, "sigreturn", [0; 6])),
        Action::Allow
    );
    // A number no table knows: ENOSYS.
    let unknown = SeccompData {
        nr: 999,
        arch: Arch::X86_64.audit(),
        ..Default::default()
    };
    assert_eq!(p.evaluate(&unknown), Action::Errno(ENOSYS));
    // x32 was not recorded: bad arch.
    assert_eq!(
        p.evaluate(&call(Arch::X32, "read", [0; 6])),
        Action::KillProcess
    );
}

#[test]
fn argument_conditions_let_exactly_the_recorded_values_through() {
    let (af_inet, af_packet) = (libc::AF_INET as u64, libc::AF_PACKET as u64);
    let stream = libc::SOCK_STREAM as u64;
    let cloexec = libc::SOCK_CLOEXEC as u64;
    let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
    let rx = (libc::PROT_READ | libc::PROT_EXEC) as u64;
    let newuser = libc::CLONE_NEWUSER as u64;
    let thread = (libc::CLONE_VM | libc::CLONE_THREAD | libc::CLONE_SIGHAND) as u64;
    let r = recording(
        true,
        &[
            (
                Arch::X86_64,
                "socket",
                [af_inet, stream | cloexec, 0, 0, 0, 0],
            ),
            (Arch::X86_64, "mprotect", [0x1000, 0x1000, rw, 0, 0, 0]),
            (Arch::X86_64, "ioctl", [1, 0x5401, 0, 0, 0, 0]),
            (Arch::X86_64, "clone", [thread, 0, 0, 0, 0, 0]),
            (
                Arch::X86_64,
                "prctl",
                [libc::PR_SET_NAME as u64, 0, 0, 0, 0, 0],
            ),
            (Arch::X86_64, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
            (Arch::X86_64, "mmap", [0, 4096, rx, 0x22, u64::MAX, 0]),
            (Arch::X86_64, "fcntl", [3, libc::F_GETFL as u64, 0, 0, 0, 0]),
        ],
    );
    let p = r.to_policy();
    let allow = |name, a| p.evaluate(&call(Arch::X86_64, name, a)) == Action::Allow;
    // The recorded calls, and variations in the free bits.
    assert!(allow("socket", [af_inet, stream | cloexec, 0, 0, 0, 0]));
    assert!(allow("socket", [af_inet, stream, 6, 0, 0, 0]));
    assert!(allow("mprotect", [0, 0, rw, 0, 0, 0]));
    assert!(allow("mprotect", [0, 0, 0, 0, 0, 0]));
    assert!(allow("ioctl", [7, 0x5401, 0, 0, 0, 0]));
    assert!(allow("clone", [thread | 17, 1, 2, 3, 0, 0]));
    assert!(allow("prctl", [libc::PR_SET_NAME as u64, 9, 0, 0, 0, 0]));
    assert!(allow("personality", [0xffff_ffff, 0, 0, 0, 0, 0]));
    assert!(allow("mmap", [0, 8192, libc::PROT_EXEC as u64, 0x22, 0, 0]));
    assert!(allow("fcntl", [9, libc::F_GETFL as u64, 0, 0, 0, 0]));
    // What was not recorded.
    assert!(!allow("socket", [af_packet, stream, 0, 0, 0, 0]));
    assert!(!allow(
        "socket",
        [af_inet, libc::SOCK_RAW as u64, 0, 0, 0, 0]
    ));
    assert!(!allow("mprotect", [0, 0, rx, 0, 0, 0]));
    assert!(!allow("ioctl", [1, 0x5402, 0, 0, 0, 0]));
    assert!(!allow("clone", [thread | newuser, 0, 0, 0, 0, 0]));
    assert!(!allow(
        "prctl",
        [libc::PR_SET_SECCOMP as u64, 2, 0, 0, 0, 0]
    ));
    // Not recorded at all.
    assert!(!allow("unshare", [0; 6]));
}

#[test]
fn exec_and_non_exec_mprotect_seen_means_no_condition() {
    let rx = (libc::PROT_READ | libc::PROT_EXEC) as u64;
    let r = recording(
        true,
        &[
            (Arch::X86_64, "mprotect", [0, 0, rx, 0, 0, 0]),
            (Arch::X86_64, "mprotect", [0, 0, 1, 0, 0, 0]),
        ],
    );
    let p = r.to_policy();
    let rules: Vec<_> = p
        .rules()
        .iter()
        .filter(|r| r.syscall == "mprotect".into())
        .collect();
    assert_eq!(rules.len(), 1);
    assert!(rules[0].conditions.is_empty());
}

#[test]
fn clone3_without_namespaces_falls_back_to_a_checked_clone() {
    let mut r = Recording::new(true);
    let nr = Arch::X86_64.syscall_nr("clone3").expect("clone3");
    r.count(Arch::X86_64, nr, 1, 1);
    r.add_key(
        Arch::X86_64,
        nr,
        args::key_from_clone3_flags(libc::CLONE_VM as u64),
    );
    let p = r.to_policy();
    let d = |name, a| p.evaluate(&call(Arch::X86_64, name, a));
    assert_eq!(d("clone3", [0; 6]), Action::Errno(ENOSYS));
    assert_eq!(
        d("clone", [libc::CLONE_VM as u64, 0, 0, 0, 0, 0]),
        Action::Allow
    );
    let newnet = (libc::CLONE_VM | libc::CLONE_NEWNET) as u64;
    assert_eq!(d("clone", [newnet, 0, 0, 0, 0, 0]), Action::Errno(EPERM));

    // A recorded clone3 into a new user namespace: clone3 allowed.
    r.add_key(
        Arch::X86_64,
        nr,
        args::key_from_clone3_flags(libc::CLONE_NEWUSER as u64),
    );
    let p = r.to_policy();
    assert_eq!(
        p.evaluate(&call(Arch::X86_64, "clone3", [0; 6])),
        Action::Allow
    );
    let newuser = libc::CLONE_NEWUSER as u64;
    let d = p.evaluate(&call(Arch::X86_64, "clone", [newuser, 0, 0, 0, 0, 0]));
    assert_eq!(d, Action::Allow);
}

#[test]
fn merge_adds_counts_and_keys() {
    let mut a = recording(true, &[(Arch::X86_64, "ioctl", [0, 1, 0, 0, 0, 0])]);
    let b = recording(true, &[(Arch::X86_64, "ioctl", [0, 2, 0, 0, 0, 0])]);
    a.merge(&b);
    let nr = Arch::X86_64.syscall_nr("ioctl").expect("ioctl");
    assert_eq!(a.calls[&(Arch::X86_64, nr)].count, 2);
    assert_eq!(a.arg_keys[&(Arch::X86_64, nr)].len(), 2);
    let p = a.to_policy();
    for req in [1, 2] {
        let d = p.evaluate(&call(Arch::X86_64, "ioctl", [0, req, 0, 0, 0, 0]));
        assert_eq!(d, Action::Allow);
    }
}

#[test]
fn merging_policies_allows_what_either_allowed() {
    let a = recording(true, &[(Arch::X86_64, "ioctl", [0, 1, 0, 0, 0, 0])]).to_policy();
    let mut rb = recording(false, &[(Arch::X86_64, "read", [0; 6])]);
    let clone3 = Arch::X86_64.syscall_nr("clone3").expect("clone3");
    rb.count(Arch::X86_64, clone3, 1, 1);
    let b = rb.to_policy();
    let m = merge_policies(&a, &b);
    let d = |name, a| m.evaluate(&call(Arch::X86_64, name, a));
    assert_eq!(d("ioctl", [0, 1, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(d("ioctl", [0, 2, 0, 0, 0, 0]), Action::Errno(EPERM));
    assert_eq!(d("read", [0; 6]), Action::Allow);
    assert_eq!(d("clone3", [0; 6]), Action::Allow);
    assert_eq!(d("write", [0; 6]), Action::Errno(EPERM));
    // Merging is idempotent.
    assert_eq!(merge_policies(&m, &m).rules(), m.rules());
    // The existing profile's default, bad-arch and unknown-syscall
    // actions stay (a KILL_PROCESS default is not relaxed to EPERM).
    let mut strict = a.clone();
    strict.set_default_action(Action::KillProcess).unwrap();
    strict.set_bad_arch_action(Action::KillThread).unwrap();
    strict.set_unknown_action(Some(Action::Errno(95))).unwrap();
    let kept = merge_policies(&strict, &b);
    assert_eq!(kept.default_action(), Action::KillProcess);
    assert_eq!(kept.bad_arch_action(), Action::KillThread);
    assert_eq!(kept.unknown_action(), Some(Action::Errno(95)));
    let d = |name, a| kept.evaluate(&call(Arch::X86_64, name, a));
    assert_eq!(d("write", [0; 6]), Action::KillProcess);
    assert_eq!(d("read", [0; 6]), Action::Allow);
    // Unconditional ioctl from one run absorbs the conditional one.
    let c = recording(false, &[(Arch::X86_64, "ioctl", [0; 6])]).to_policy();
    let m2 = merge_policies(&m, &c);
    let ioctls = m2
        .rules()
        .iter()
        .filter(|r| r.syscall == "ioctl".into())
        .count();
    assert_eq!(ioctls, 1);
    assert_eq!(
        m2.evaluate(&call(Arch::X86_64, "ioctl", [0, 2, 0, 0, 0, 0])),
        Action::Allow
    );
}

#[test]
fn x32_numbers_are_their_own_arch() {
    assert_eq!(arch_of(Arch::X86_64.audit(), 0), Some(Arch::X86_64));
    assert_eq!(arch_of(Arch::X86_64.audit(), x32_nr(0)), Some(Arch::X32));
    assert_eq!(arch_of(Arch::X86.audit(), 20), Some(Arch::X86));
    assert_eq!(arch_of(0x1234, 0), None);
}
