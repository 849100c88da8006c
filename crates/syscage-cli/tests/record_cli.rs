//! Acceptance tests of `syscage record`: record a real program, then run it
//! with `syscage run --profile OUT` on the same inputs.
//!
//! "Zero denials" is checked by the kernel: besides the recorded profile
//! itself (default ERRNO(EPERM)), each program also runs under the same
//! profile with `defaultAction` turned into `SCMP_ACT_KILL_PROCESS`, so any
//! syscall the recording missed kills it with SIGSYS (and `syscage run`
//! names the syscall). The program must print what it prints without any
//! filter and exit the same way.
//!
//! The test program is `crates/syscage-linux/examples/record_probe.rs`.
//! Without ptrace these tests say so and stop, except under `CI=true`,
//! where they fail. Signals, kills and Ctrl-C: `record_signals_cli.rs`.

mod record_fixture;

use record_fixture::*;
use serde_json::Value;
use std::path::Path;

#[test]
fn coreutils_run_under_their_recorded_profile() {
    let dir = scratch("coreutils-data");
    let file = dir.join("lines.txt");
    std::fs::write(&file, "pear\napple\nfig\napple\n").expect("write");
    let f = s(&file);
    let d = s(&dir);
    let cases: [(&str, Vec<&str>); 6] = [
        ("ls", vec!["ls", "-lA", "--time-style=+", &d]),
        ("cat", vec!["cat", &f]),
        ("sort", vec!["sort", "-u", &f]),
        ("wc", vec!["wc", "-l", &f]),
        ("sha256sum", vec!["sha256sum", &f]),
        ("head", vec!["head", "-n", "2", &f]),
    ];
    for (name, cmd) in &cases {
        if record_then_run(name, &[], cmd).is_none() {
            return;
        }
    }
}

fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

#[test]
fn python_with_imports_runs_under_its_recorded_profile() {
    let code = "import json, hashlib, re, collections, os, subprocess\n\
                c = collections.Counter(re.findall(r'[a-z]', 'syscage records'))\n\
                print(json.dumps({'h': hashlib.sha256(b'x').hexdigest(), 'c': c.most_common(2)}))\n\
                print(subprocess.run(['/bin/echo', 'from a child'], capture_output=True, text=True).stdout.strip())";
    if record_then_run("python", &[], &[python(), "-c", code]).is_some() {
        // The narrower profile with argument conditions works as well.
        record_then_run("python-args", &["--args"], &[python(), "-c", code]);
    }
}

#[test]
fn a_tar_gzip_pipeline_under_sh_runs_under_its_recorded_profile() {
    let dir = scratch("tar-data");
    for i in 0..20 {
        std::fs::write(
            dir.join(format!("f{i}.txt")),
            format!("file {i}\n").repeat(200),
        )
        .expect("write");
    }
    let out = scratch("tar-out");
    let script = format!(
        "tar -cf - -C {d} . | gzip -c > {o}/a.tgz && gzip -dc {o}/a.tgz | tar -tf - | sort | head -n 5",
        d = s(&dir),
        o = s(&out)
    );
    if record_then_run("tar-gzip", &[], &["sh", "-c", &script]).is_some() {
        record_then_run("tar-gzip-args", &["--args"], &["sh", "-c", &script]);
    }
}

#[test]
fn a_multithreaded_program_runs_under_its_recorded_profile() {
    record_then_run("threads", &[], &[probe(), "threads", "8"]);
}

#[test]
fn a_program_that_forks_and_execs_runs_under_its_recorded_profile() {
    record_then_run("forkexec", &[], &[probe(), "forkexec"]);
    record_then_run(
        "sh-loop",
        &[],
        &["sh", "-c", "for i in 1 2 3; do /bin/echo $i; done"],
    );
}

#[test]
fn int80_syscalls_are_recorded_under_i386() {
    let Some(profile) = record_then_run("int80", &[], &[probe(), "int80"]) else {
        return;
    };
    let v = profile_json(&profile);
    let arches: Vec<&str> = v["architectures"]
        .as_array()
        .expect("architectures")
        .iter()
        .map(|a| a.as_str().expect("arch"))
        .collect();
    assert!(arches.contains(&"SCMP_ARCH_X86"), "{arches:?}");
    // <asm/unistd_32.h>: int 0x80 with eax 20 is getpid, 199 getuid32.
    let names = allowed_names(&profile);
    assert!(names.contains(&"getuid32".to_string()), "{names:?}");
    let out = syscage(&[
        "record",
        "--summary",
        "-o",
        "/dev/null",
        "--",
        probe(),
        "int80",
    ]);
    let err = text(&out.stderr);
    let row = |name: &str, arch: &str| {
        err.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() == 4 && f[1] == name && f[2] == arch
        })
    };
    assert!(row("getpid", "x86"), "{err}");
    assert!(row("getuid32", "x86"), "{err}");
    assert!(row("execve", "x86_64"), "{err}");
    // A profile cannot tie execve to x86_64 (the run made it there only):
    // said, since the file allows it through int 0x80 too.
    let warning = err
        .lines()
        .find(|l| l.contains("cannot tie a rule to the arch"))
        .unwrap_or_else(|| panic!("no warning about the widened rules: {err}"));
    assert!(warning.contains("on x86_64 only, "), "{warning}");
    assert!(warning.contains("execve"), "{warning}");
}

/// Issue 13: with `-f policy` what was seen on i386 is allowed on i386
/// only, and what was seen on x86_64 on x86_64 only (a Docker/OCI file
/// cannot say this and widens, with the warning above).
#[test]
fn policy_format_keeps_what_each_arch_made_apart() {
    let dir = scratch("int80-policy");
    let policy = dir.join("int80.policy");
    let out = syscage(&[
        "record",
        "-f",
        "policy",
        "-o",
        &s(&policy),
        "--",
        probe(),
        "int80",
    ]);
    if !traced(&out) {
        return;
    }
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("cannot tie a rule to the arch"),
        "{}",
        text(&out.stderr)
    );
    // The program runs under its own recorded policy.
    let run = run_with(&policy, &[probe(), "int80"]);
    assert_eq!(
        text(&run.stdout),
        text(&plain(&[probe(), "int80"]).stdout),
        "{}",
        text(&run.stderr)
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    // Compiled, the filter allows i386 getuid32 (seen there) but not i386
    // execve (seen on x86_64 only), and x86_64 execve.
    let bpf = dir.join("int80.bpf");
    let c = syscage(&["compile", &s(&policy), "-o", &s(&bpf)]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    let emu = |arch: &str, call: &str| {
        let o = syscage(&["emu", "-q", "-a", arch, &s(&bpf), call]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout).trim().to_string()
    };
    let allowed = |arch: &str, call: &str| emu(arch, call).starts_with("return ALLOW ");
    assert!(allowed("i386", "getuid32"), "{}", emu("i386", "getuid32"));
    assert!(allowed("x86_64", "execve"), "{}", emu("x86_64", "execve"));
    assert!(!allowed("i386", "execve"), "{}", emu("i386", "execve"));
}

#[test]
fn syscalls_unknown_to_the_tables_get_enosys() {
    // The kernel answers 999 with ENOSYS (38); under the profile (and its
    // KILL_PROCESS variant) the unknown-syscall action gives the same.
    let Some(profile) = record_then_run("unknown", &[], &[probe(), "unknown"]) else {
        return;
    };
    let out = plain(&[probe(), "unknown"]);
    assert_eq!(text(&out.stdout), "unknown: -1, errno 38\n");
    assert!(!allowed_names(&profile).iter().any(|n| n.contains("999")));
    let out = syscage(&["record", "-o", "/dev/null", "--", probe(), "unknown"]);
    assert!(text(&out.stderr).contains("syscall 999 on x86_64 is not in syscage's tables"));
}

#[test]
fn one_syscall_more_than_recorded_is_denied() {
    for (name, mode) in [
        ("extra-threads", "threads"),
        ("extra-forkexec", "forkexec"),
        ("extra-int80", "int80"),
    ] {
        let dir = scratch(name);
        let Some((_, profile)) = record(&dir, name, &[], &[probe(), mode]) else {
            return;
        };
        // ERRNO(EPERM) profile: the extra syscall fails with EPERM.
        let out = run_with(&profile, &[probe(), mode, "--extra"]);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("extra: denied"));
        // KILL_PROCESS variant: killed, and `run` names the syscall.
        let out = run_with(&kill_variant(&profile), &[probe(), mode, "--extra"]);
        assert_eq!(out.status.code(), Some(128 + libc::SIGSYS), "{name}");
        let expected = if mode == "int80" {
            "getppid"
        } else {
            "sched_getscheduler"
        };
        assert!(
            text(&out.stderr).contains(expected),
            "{name}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn with_args_the_profile_allows_only_the_recorded_values() {
    let Some(profile) = record_then_run("socket-args", &["--args"], &[probe(), "socket", "inet"])
    else {
        return;
    };
    let v = profile_json(&profile);
    let socket = v["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .find(|e| e["names"][0] == "socket")
        .expect("a socket rule");
    // AF_INET is 2 (<linux/socket.h>); SOCK_STREAM is 1 under SOCK_TYPE_MASK 0xf.
    assert_eq!(socket["args"][0]["value"], 2);
    assert_eq!(socket["args"][0]["op"], "SCMP_CMP_EQ");
    assert_eq!(socket["args"][1]["op"], "SCMP_CMP_MASKED_EQ");
    let out = run_with(&profile, &[probe(), "socket", "unix"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "AF_UNIX was not recorded: {}",
        text(&out.stderr)
    );

    // Threads: clone3 gets ENOSYS and the C library's clone fallback is
    // allowed with the recorded (no) namespace flags.
    let Some(profile) = record_then_run("threads-args", &["--args"], &[probe(), "threads", "4"])
    else {
        return;
    };
    let names = allowed_names(&profile);
    assert!(!names.contains(&"clone3".to_string()), "{names:?}");
}

#[test]
fn append_merges_runs_into_one_profile() {
    let dir = scratch("append");
    let file = dir.join("data.txt");
    std::fs::write(&file, "b\na\n").expect("write");
    let f = s(&file);
    let merged = dir.join("merged.json");
    let m = s(&merged);
    let (_, alone_cat) = match record(&dir, "cat", &[], &["cat", &f]) {
        Some(r) => r,
        None => return,
    };
    let (_, alone_py) = record(&dir, "py", &[], &[python(), "-c", "print(1)"]).expect("traced");
    for cmd in [vec!["cat", &f], vec![python(), "-c", "print(1)"]] {
        let mut args = vec!["record", "--append", &m, "--"];
        args.extend_from_slice(&cmd);
        let out = syscage(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let merged_names = allowed_names(&merged);
    for n in allowed_names(&alone_cat)
        .iter()
        .chain(&allowed_names(&alone_py))
    {
        assert!(merged_names.contains(n), "{n} lost in the merge");
    }
    let kill = kill_variant(&merged);
    for cmd in [vec!["cat", &f], vec![python(), "-c", "print(1)"]] {
        let out = run_with(&kill, &cmd);
        assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
    }
}

/// `--append` into a profile whose default is KILL_PROCESS keeps that
/// default (and adds the new run's syscalls).
#[test]
fn append_keeps_the_existing_default_action() {
    let dir = scratch("append-default");
    let (_, first) = match record(&dir, "first", &[], &["true"]) {
        Some(r) => r,
        None => return,
    };
    let strict = kill_variant(&first);
    let st = s(&strict);
    let out = syscage(&["record", "--append", &st, "--", "sh", "-c", "echo x"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = profile_json(&strict);
    assert_eq!(v["defaultAction"], "SCMP_ACT_KILL_PROCESS", "{v}");
    assert!(v.get("defaultErrnoRet").is_none(), "{v}");
    let out = run_with(&strict, &["sh", "-c", "echo x"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// What the profile allows without a recorded call is listed with its
/// reason: the signal returns and restarts `true` never makes.
#[test]
fn unobserved_additions_are_listed_with_their_reason() {
    let dir = scratch("unobserved");
    let Some((out, profile)) = record(&dir, "true", &[], &["true"]) else {
        return;
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("syscage: not seen, allowed on x86_64:"))
        .unwrap_or_else(|| panic!("no line for the unseen additions: {err}"));
    for name in ["rt_sigreturn", "restart_syscall"] {
        assert!(line.contains(name), "{line}");
        assert!(allowed_names(&profile).iter().any(|n| n == name));
    }
    assert!(line.contains("signal"), "{line}");
}

#[test]
fn stdout_summary_and_oci_format() {
    let out = syscage(&["record", "-f", "oci", "--summary", "--", "true"]);
    if !traced(&out) {
        return;
    }
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("profile on stdout");
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(v["defaultErrnoRet"], 1);
    let err = text(&out.stderr);
    assert!(err
        .lines()
        .next()
        .is_some_and(|l| l.contains("calls") && l.contains("first pid")));
    assert!(
        err.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..]
                .starts_with(&["1", "execve", "x86_64"])),
        "{err}"
    );
    assert!(err.contains("total"));
    // The exit status is passed through.
    let out = syscage(&["record", "-o", "/dev/null", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn bad_usage_is_a_one_line_error() {
    let out = syscage(&["record", "--", "syscage-no-such-program"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("command not found"), "{err}");
    let out = syscage(&["record"]);
    assert_eq!(out.status.code(), Some(2));
    let dir = scratch("bad-append");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"defaultAction\": 3}").expect("write");
    let out = syscage(&["record", "--append", &s(&bad), "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.json:1:"),
        "{}",
        text(&out.stderr)
    );
}
