//! `syscage record -- runc run …` with the eBPF syscall counter (the
//! default container recorder) against the audit recorder
//! (`SYSCAGE_CONTAINER_RECORDER=audit`) on the same workloads, in a
//! bundle the test builds: the two write the same profile, and the
//! workload runs under the eBPF recorder's profile with zero denials
//! (`check` exits 0, and the container itself succeeds under it).
//!
//! "The same" is exact for the allowed names and for the workload's part
//! of `--summary` (which calls, by whom), on the deterministic busybox
//! workloads. The runtime's own calls are compared as sets minus the
//! runtime's measured set: runc's Go runtime makes `futex`, `nanosleep`, …
//! in some runs only, whichever recorder runs (both profiles allow them
//! through the measured entry anyway).
//!
//! Without root or bpf(2), `NOT CHECKED` (a failure under `CI=true`).

mod container;

use container::bundle::Bundle;
use container::workloads::{build_rootfs, ready, Workload, WORKLOADS};
use container::{allowed_names, not_checked, s, serial, syscage_command, text, Scratch};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

/// `syscage record -f oci --summary -o OUT -- CMD` with `recorder`
/// (`None`: the variable unset).
fn record(cache: &Path, recorder: Option<&str>, out: &Path, cmd: &[String]) -> Output {
    let mut args: Vec<String> = ["record", "-f", "oci", "--summary", "-o", &s(out), "--"]
        .map(String::from)
        .to_vec();
    args.extend_from_slice(cmd);
    let mut c = syscage_command(cache, None, &args);
    match recorder {
        Some(r) => c.env("SYSCAGE_CONTAINER_RECORDER", r),
        None => c.env_remove("SYSCAGE_CONTAINER_RECORDER"),
    };
    c.output().expect("run syscage")
}

/// The `--summary` rows: (syscall, arch, made by).
fn summary_rows(o: &Output) -> BTreeSet<(String, String, String)> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4 && f[0].parse::<u64>().is_ok())
                .then(|| (f[1].to_string(), f[2].to_string(), f[3].to_string()))
        })
        .collect()
}

/// The names in the runtime cache files (what `--for` measured).
fn measured(cache: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in std::fs::read_dir(cache.join("syscage/runtimes")).unwrap() {
        let t = std::fs::read_to_string(f.unwrap().path()).unwrap();
        out.extend(
            t.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split(' ').nth(1).map(str::to_string)),
        );
    }
    out
}

fn deterministic(w: &Workload) -> bool {
    matches!(w.name, "shell" | "pipeline")
}

#[test]
fn ebpf_and_audit_recorders_write_the_same_runc_profile() {
    let _guard = serial();
    if !ready(&["runc"]) {
        return;
    }
    let dir = Scratch::new("ebpf-rec");
    let cache = container::cache_dir();
    let b = Bundle::new(&dir.path("bundle"));
    build_rootfs(&b.rootfs());
    let id = format!("syscage-ebpf-{}", std::process::id());
    for w in WORKLOADS.iter().filter(|w| !w.net_raw) {
        b.configure(w.args, false, &[], true, None);
        let cmd = b.run_command("runc", &id);
        let ebpf_out = dir.path("ebpf.json");
        let e = record(&cache, Some("ebpf"), &ebpf_out, &cmd);
        b.delete("runc", &id);
        if e.status.code() != Some(0)
            && String::from_utf8_lossy(&e.stderr).contains("eBPF syscall counter cannot run")
        {
            not_checked(&format!("the eBPF counter cannot run here: {}", text(&e)));
            return;
        }
        assert_eq!(e.status.code(), Some(0), "{}: ebpf: {}", w.name, text(&e));
        assert!(String::from_utf8_lossy(&e.stdout).contains(w.prints));
        let audit_out = dir.path("audit.json");
        let a = record(&cache, Some("audit"), &audit_out, &cmd);
        b.delete("runc", &id);
        assert_eq!(a.status.code(), Some(0), "{}: audit: {}", w.name, text(&a));
        let measured = measured(&cache);
        let (er, ar) = (summary_rows(&e), summary_rows(&a));
        assert!(
            er.iter().any(|r| r.2 == "runtime") && er.iter().any(|r| r.2 == "workload"),
            "{}: both makers seen: {er:?}",
            w.name
        );
        let part = |rows: &BTreeSet<(String, String, String)>, maker: &str| -> BTreeSet<_> {
            rows.iter()
                .filter(|r| r.2 == maker && (maker == "workload" || !measured.contains(&r.0)))
                .cloned()
                .collect()
        };
        assert_eq!(
            part(&er, "runtime"),
            part(&ar, "runtime"),
            "{}: the runtime's calls outside its measured set",
            w.name
        );
        let profile = |p: &Path| allowed_names(&std::fs::read_to_string(p).unwrap());
        if deterministic(w) {
            assert_eq!(part(&er, "workload"), part(&ar, "workload"), "{}", w.name);
            assert_eq!(profile(&ebpf_out), profile(&audit_out), "{}", w.name);
        } else {
            // python3: which of futex, … a run makes varies; the names
            // both saw are most of them, and each side's extras are few.
            let (ep, ap): (BTreeSet<_>, BTreeSet<_>) = (
                profile(&ebpf_out).into_iter().collect(),
                profile(&audit_out).into_iter().collect(),
            );
            let differ: Vec<_> = ep.symmetric_difference(&ap).collect();
            assert!(differ.len() <= 3, "{}: {differ:?}", w.name);
        }
        // Zero denials under the eBPF recorder's profile: the container
        // runs under it, and `check` finds nothing refused.
        let p = std::fs::read_to_string(&ebpf_out).unwrap();
        b.configure(w.args, false, &[], true, Some(&p));
        let o = b.run("runc", &id);
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(w.prints),
            "{}: under the profile: {}",
            w.name,
            text(&o)
        );
        b.configure(w.args, false, &[], true, None);
        let mut args = vec!["check".to_string(), s(&ebpf_out), "--".to_string()];
        args.extend_from_slice(&cmd);
        let c = syscage_command(&cache, None, &args).output().unwrap();
        b.delete("runc", &id);
        assert_eq!(
            c.status.code(),
            Some(0),
            "{}: denials: {}",
            w.name,
            text(&c)
        );
    }
}

#[test]
fn the_default_recorder_is_ebpf_and_a_bad_choice_is_refused() {
    let _guard = serial();
    if !ready(&["runc"]) {
        return;
    }
    let dir = Scratch::new("ebpf-default");
    let cache = container::cache_dir();
    let b = Bundle::new(&dir.path("bundle"));
    build_rootfs(&b.rootfs());
    let id = format!("syscage-ebpf-default-{}", std::process::id());
    let w = &WORKLOADS[0];
    b.configure(w.args, false, &[], true, None);
    let cmd = b.run_command("runc", &id);
    let bad = record(&cache, Some("strace"), &dir.path("bad.json"), &cmd);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("SYSCAGE_CONTAINER_RECORDER=strace"),
        "{}",
        text(&bad)
    );
    assert!(!dir.path("bad.json").exists(), "nothing written");
    let o = record(&cache, None, &dir.path("default.json"), &cmd);
    b.delete("runc", &id);
    let stderr = String::from_utf8_lossy(&o.stderr);
    if stderr.contains("eBPF syscall counter cannot run") {
        not_checked(&format!("the eBPF counter cannot run here: {}", text(&o)));
        return;
    }
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(w.prints));
    assert!(summary_rows(&o)
        .iter()
        .any(|r| r.0 == "mkdir" && r.2 == "workload"));
}
