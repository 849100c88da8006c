//! The syscall tables of `syscage::arch` against independent sources: the
//! host's `<asm/unistd_64.h>`, `<asm/unistd_32.h>` and `<asm/unistd_x32.h>`
//! (Debian's `linux-libc-dev`) for x86_64, i386 and x32, and libseccomp's
//! `scmp_sys_resolver` (Debian's `seccomp` package) for a sample of the
//! other arches.
//!
//! A missing header or tool fails the test under `CI=true`; elsewhere it is
//! reported on stderr and that part is not checked.

use std::collections::BTreeMap;
use std::process::Command;
use syscage::arch::{Arch, X32_SYSCALL_BIT};

const INCLUDE: &str = "/usr/include/x86_64-linux-gnu/asm";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Reports a missing prerequisite: a failure in CI, a loud note elsewhere.
fn missing(what: &str) {
    assert!(
        !in_ci(),
        "CI=true and {what} is missing (install linux-libc-dev and seccomp)"
    );
    eprintln!("NOT CHECKED: {what} is missing (install linux-libc-dev and seccomp)");
}

/// `#define __NR_name N` or `#define __NR_name (__X32_SYSCALL_BIT + N)`,
/// with the bit added.
fn parse_header(file: &str) -> Option<BTreeMap<String, u32>> {
    let text = std::fs::read_to_string(format!("{INCLUDE}/{file}")).ok()?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("#define __NR_") else {
            continue;
        };
        let (name, value) = rest.split_once(' ').expect("#define __NR_name value");
        let value = value.trim();
        let nr = if let Some(inner) = value
            .strip_prefix("(__X32_SYSCALL_BIT + ")
            .and_then(|v| v.strip_suffix(')'))
        {
            X32_SYSCALL_BIT | inner.parse::<u32>().unwrap()
        } else {
            value
                .parse::<u32>()
                .unwrap_or_else(|_| panic!("{file}: {line}"))
        };
        out.insert(name.to_string(), nr);
    }
    assert!(
        out.len() > 300,
        "{file}: only {} syscalls parsed",
        out.len()
    );
    Some(out)
}

/// Every syscall of the header resolves to the header's number, and the
/// number back to the name. (Our tables may be newer than the header: a
/// syscall it lacks is not an error.)
fn check_against_header(arch: Arch, file: &str) -> Vec<String> {
    let Some(header) = parse_header(file) else {
        missing(&format!("{INCLUDE}/{file}"));
        return Vec::new();
    };
    let mut errors = Vec::new();
    for (name, &nr) in &header {
        if arch.syscall_nr(name) != Some(nr) {
            errors.push(format!(
                "{arch}: {name} is {nr:#x} in {file}, {:?} in syscage",
                arch.syscall_nr(name)
            ));
        }
        if arch.syscall_name(nr) != Some(name.as_str()) {
            errors.push(format!(
                "{arch}: {nr:#x} is {name} in {file}, {:?} in syscage",
                arch.syscall_name(nr)
            ));
        }
    }
    errors
}

#[test]
fn x86_64_matches_unistd_64_h() {
    let errors = check_against_header(Arch::X86_64, "unistd_64.h");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn i386_matches_unistd_32_h() {
    let errors = check_against_header(Arch::X86, "unistd_32.h");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn x32_matches_unistd_x32_h() {
    let errors = check_against_header(Arch::X32, "unistd_x32.h");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // Every x32 number carries bit 30, and 512..=547 are the x32 entry points.
    assert!(Arch::X32
        .syscalls()
        .iter()
        .all(|s| s.nr & X32_SYSCALL_BIT != 0));
    let specific: Vec<u32> = Arch::X32
        .syscalls()
        .iter()
        .map(|s| s.nr & !X32_SYSCALL_BIT)
        .filter(|nr| (512..1024).contains(nr))
        .collect();
    assert_eq!(specific, (512..=547).collect::<Vec<_>>());
    // Which x86_64 syscalls x32 lacks (the `64` ABI of syscall_64.tbl):
    // for every syscall of unistd_64.h below 512, x32 has it at the same
    // number exactly when unistd_x32.h does.
    let (Some(h64), Some(hx32)) = (parse_header("unistd_64.h"), parse_header("unistd_x32.h"))
    else {
        return;
    };
    let mut errors = Vec::new();
    for (name, &nr) in h64.iter().filter(|(_, &nr)| nr < 512) {
        let in_header = hx32.get(name) == Some(&(nr | X32_SYSCALL_BIT));
        let in_table = Arch::X32.syscall_name(nr | X32_SYSCALL_BIT) == Some(name.as_str());
        if in_header != in_table {
            errors.push(format!(
                "x32: {name} ({nr}) in unistd_x32.h: {in_header}, in syscage: {in_table}"
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// `scmp_sys_resolver -a ARCH NAME`: `Some(n)` for a number (negative
/// pseudo-numbers mean "not on this arch"), `None` when the tool refuses the
/// arch.
fn resolver(arch: &str, name: &str) -> Option<i64> {
    let out = Command::new("scmp_sys_resolver")
        .args(["-a", arch, name])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.starts_with("usage") {
        return None;
    }
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("scmp_sys_resolver -a {arch} {name}: {text:?}")),
    )
}

/// Names checked on every arch besides a sample of each table.
const COMMON: [&str; 24] = [
    "read",
    "write",
    "openat",
    "close",
    "execve",
    "execveat",
    "clone",
    "clone3",
    "mmap",
    "mprotect",
    "ioctl",
    "socket",
    "connect",
    "exit_group",
    "rt_sigaction",
    "ptrace",
    "seccomp",
    "bpf",
    "futex",
    "pidfd_open",
    "open",
    "fork",
    "statx",
    "close_range",
];

#[test]
fn other_arches_match_scmp_sys_resolver() {
    if Command::new("scmp_sys_resolver")
        .arg("-h")
        .output()
        .is_err()
    {
        missing("scmp_sys_resolver");
        return;
    }
    let mut errors = Vec::new();
    let mut checked = 0;
    let mut unsupported = Vec::new();
    for arch in Arch::ALL {
        if resolver(arch.name(), "read").is_none() {
            unsupported.push(arch.name());
            continue;
        }
        let sample = arch
            .syscalls()
            .iter()
            .step_by(2)
            .map(|s| s.name)
            .chain(COMMON);
        for name in sample {
            let Some(theirs) = resolver(arch.name(), name) else {
                errors.push(format!("{arch}: scmp_sys_resolver fails on {name}"));
                continue;
            };
            checked += 1;
            let ours = arch.syscall_nr(name);
            match (theirs, ours) {
                // libseccomp does not know it on this arch (its tables may be
                // older than ours) or knows it is absent: we must not give it
                // a different number, and a known-absent one must be absent.
                (t, None) if t < 0 => {}
                // libseccomp's pseudo-numbers for the socketcall (-101..)
                // and ipc (-201..) multiplexed syscalls: it resolves e.g.
                // `socket` on x86 to __PNR_socket even though the kernel
                // also has a direct number (x86 359 since Linux 4.3).
                (t, Some(_)) if (-299..=-101).contains(&t) => {}
                // Linux's syscall_64.tbl lists `453 common map_shadow_stack`
                // (checked in the 6.19 table), so x32 has it; libseccomp
                // 2.5.4 treats it as 64-bit only.
                (_, Some(_)) if arch == Arch::X32 && name == "map_shadow_stack" => {}
                // libseccomp 2.5.4's tables end around Linux 6.0; a newer
                // syscall is unknown to it (-1), not absent.
                (-1, Some(_)) => {}
                (t, Some(o)) if t < 0 => errors.push(format!(
                    "{arch}: {name} is absent for libseccomp ({t}), {o} in syscage"
                )),
                (t, o) if o.map(i64::from) != Some(t) => {
                    errors.push(format!(
                        "{arch}: {name} is {t} for libseccomp, {o:?} in syscage"
                    ));
                }
                _ => {}
            }
        }
    }
    eprintln!(
        "checked {checked} names against scmp_sys_resolver; arches it does not support: {unsupported:?}"
    );
    assert!(
        unsupported.len() <= 1 && unsupported.iter().all(|a| *a == "loongarch64"),
        "scmp_sys_resolver refuses {unsupported:?}"
    );
    assert!(checked > 500, "only {checked} names checked");
    assert!(
        errors.is_empty(),
        "{} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
