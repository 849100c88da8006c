//! The C ABI against the system's `seccomp.h` (libseccomp-dev 2.5.4):
//! `data/abi_check.c` asserts struct layouts and constants at compile
//! time, then prints what each API call returns for good and bad input
//! (NULL context, unknown arch token, argument index 6, syscall -1 and
//! -50, a rule with the default action, merges of contexts whose
//! attributes or arches clash, ...). Its output with syscage's library
//! must equal its output with the real libseccomp, and the documented
//! values are checked here.

mod support;

use support::{assert_uses, data, gcc, have_toolchain, run, Lib};

fn value<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no line '{key}' in:\n{out}"))
}

#[test]
fn api_returns_what_libseccomp_returns() {
    if !have_toolchain() {
        return;
    }
    let prog = gcc(&data("abi_check.c"));
    assert_uses(&prog, Lib::Real);
    assert_uses(&prog, Lib::Ours);
    let real = run(&prog, &[], Lib::Real, b"");
    let ours = run(&prog, &[], Lib::Ours, b"");
    assert!(real.status.success(), "real libseccomp: {real:?}");
    assert!(ours.status.success(), "syscage: {ours:?}");
    let (real, ours) = (
        String::from_utf8_lossy(&real.stdout).into_owned(),
        String::from_utf8_lossy(&ours.stdout).into_owned(),
    );
    for (r, o) in real.lines().zip(ours.lines()) {
        assert_eq!(r, o, "real libseccomp vs syscage");
    }
    assert_eq!(real.lines().count(), ours.lines().count());

    // The documented values (seccomp_rule_add(3), seccomp_merge(3), ...).
    let einval = (-libc::EINVAL).to_string();
    for k in [
        "null_rule_add",
        "null_load",
        "null_export_bpf",
        "null_attr_set",
        "null_merge",
        "arch_add_unknown",
        "rule_arg6",
        "rule_bad_op",
        "rule_same_arg_twice",
        "rule_7_args",
        "rule_syscall_minus1",
        "rule_syscall_minus50",
        "merge_other_default",
        "merge_other_nnp",
        "merge_other_tsync",
        "rule_on_empty",
    ] {
        assert_eq!(value(&ours, k), einval, "{k}");
    }
    assert_eq!(value(&ours, "version"), "2.5.4");
    assert_eq!(
        value(&ours, "rule_default_action"),
        (-libc::EACCES).to_string()
    );
    assert_eq!(
        value(&ours, "rule_same_conds_other_action"),
        (-libc::EEXIST).to_string()
    );
    assert_eq!(
        value(&ours, "exact_multi_arch"),
        (-libc::EOPNOTSUPP).to_string()
    );
    assert_eq!(value(&ours, "arch_add_s390x"), (-libc::EDOM).to_string());
    assert_eq!(value(&ours, "merge_same_arch"), (-libc::EEXIST).to_string());
    assert_eq!(value(&ours, "rule_syscall_minus1_tskip"), "0");
    assert_eq!(value(&ours, "merge_ok"), "0");
    assert_eq!(value(&ours, "resolve_x86_socket"), "-101");
    assert_eq!(value(&ours, "resolve_rewrite_x86_socket"), "102");
}

#[test]
fn null_context_never_crashes() {
    // libseccomp 2.5.4 dereferences NULL in seccomp_arch_add/remove/exist;
    // syscage's library returns -EINVAL.
    if !have_toolchain() {
        return;
    }
    let prog = gcc(&data("abi_check.c"));
    let ours = run(&prog, &["null"], Lib::Ours, b"");
    assert!(ours.status.success(), "{ours:?}");
    let out = String::from_utf8_lossy(&ours.stdout);
    for k in ["null_arch_add", "null_arch_remove", "null_arch_exist"] {
        assert_eq!(value(&out, k), (-libc::EINVAL).to_string(), "{k}");
    }
}

/// The user-notification API (`data/notify.c`): a getppid(2) answered by
/// the listener with 4242, through both libraries.
#[test]
fn notify_api_like_libseccomp() {
    if !have_toolchain() {
        return;
    }
    let prog = gcc(&data("notify.c"));
    let real = run(&prog, &[], Lib::Real, b"");
    let ours = run(&prog, &[], Lib::Ours, b"");
    assert!(ours.status.success(), "syscage: {ours:?}");
    assert_eq!(
        String::from_utf8_lossy(&real.stdout),
        String::from_utf8_lossy(&ours.stdout)
    );
    let out = String::from_utf8_lossy(&ours.stdout);
    assert_eq!(value(&out, "getppid"), "4242");
    assert_eq!(value(&out, "receive"), "0");
    assert_eq!(value(&out, "id_valid_after"), (-libc::ENOENT).to_string());
}
