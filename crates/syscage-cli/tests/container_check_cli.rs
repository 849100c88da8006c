//! `syscage check` on real runtimes: it names the runtime's syscalls that
//! a profile recorded outside a container lacks (the seed's failure), and
//! bad input (unknown front end, a `docker run` that fails by itself, an
//! unwritable profile path) exits 2 leaving nothing behind.

mod container;

use container::bundle::Bundle;
use container::dockerd::Dockerd;
use container::podman;
use container::{require, rootfs, s, serial, syscage, text, Scratch};
use std::path::Path;

const ECHO: [&str; 3] = ["/bin/sh", "-c", "echo hi"];

/// Records `echo hi` in `root` outside any container, without `--for`.
fn record_plain(cache: &Path, root: &Path, format: &str, out: &Path) {
    let mut args: Vec<String> = ["record", "-f", format, "-o"].map(String::from).to_vec();
    args.extend([s(out), "--".into(), "chroot".into(), s(root)]);
    args.extend(ECHO.map(String::from));
    let o = syscage(cache, None, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// The `(syscall, made by)` rows of `check`'s report.
fn rows(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4 && f[0].parse::<u64>().is_ok())
                .then(|| (f[1].to_string(), f[3].to_string()))
        })
        .collect()
}

fn assert_names_runtime_calls(o: &std::process::Output, what: &str) {
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{what}: {}", text(o));
    assert!(
        out.contains("hi\n"),
        "{what}: the container ran: {}",
        text(o)
    );
    let rows = rows(&out);
    for name in ["fstatfs", "getdents64"] {
        assert!(
            rows.contains(&(name.to_string(), "runtime".to_string())),
            "{what}: {name} not named as the runtime's: {}",
            text(o)
        );
    }
    assert!(
        rows.iter().all(|(_, who)| who == "runtime"),
        "{what}: the workload was recorded, nothing of it is missing: {}",
        text(o)
    );
}

#[test]
fn check_names_what_runc_needs_after_loading_the_filter() {
    let _guard = serial();
    if !require(&["runc"])
        || !rootfs::have_busybox_static()
            && !container::not_checked("busybox-static is not installed")
    {
        return;
    }
    let dir = Scratch::new("check-runc");
    let cache = container::cache_dir();
    let b = Bundle::new(&dir.path("bundle"));
    rootfs::busybox(&b.rootfs());
    let plain = dir.path("plain.json");
    record_plain(&cache, &b.rootfs(), "oci", &plain);
    for nnp in [false, true] {
        b.configure(&ECHO, nnp, &[], true, None);
        let id = format!("syscage-check-{}", std::process::id());
        let mut args = vec!["check".to_string(), s(&plain), "--".into()];
        args.extend(b.run_command("runc", &id));
        let o = syscage(&cache, None, &args);
        b.delete("runc", &id);
        assert_names_runtime_calls(&o, &format!("runc nnp={nnp}"));
    }
    // compile --for runc mends that profile: the container starts, and
    // check finds nothing missing.
    let args: Vec<String> = ["compile", "--for", "runc", "-f", "json", &s(&plain)]
        .map(String::from)
        .to_vec();
    let o = syscage(&cache, None, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mended = String::from_utf8_lossy(&o.stdout).into_owned();
    let fixed = dir.path("fixed.json");
    std::fs::write(&fixed, &mended).unwrap();
    for nnp in [false, true] {
        b.configure(&ECHO, nnp, &[], true, Some(&mended));
        let id = format!("syscage-mended-{}", std::process::id());
        let o = b.run("runc", &id);
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout) == "hi\n",
            "runc nnp={nnp}: {}",
            text(&o)
        );
        let mut args = vec!["check".to_string(), s(&fixed), "--".into()];
        args.extend(b.run_command("runc", &id));
        let o = syscage(&cache, None, &args);
        b.delete("runc", &id);
        assert_eq!(o.status.code(), Some(0), "runc nnp={nnp}: {}", text(&o));
    }
}

#[test]
fn check_names_what_docker_needs_and_bad_input_exits_2() {
    let _guard = serial();
    if !require(&["dockerd", container::dockerd::client()])
        || !rootfs::have_busybox_static()
            && !container::not_checked("busybox-static is not installed")
    {
        return;
    }
    let dir = Scratch::new("check-docker");
    let cache = container::cache_dir();
    let root = dir.path("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    rootfs::busybox(&root);
    let d = Dockerd::start("check").unwrap_or_else(|e| panic!("{e}"));
    d.import(&rootfs::tar(&root), "syscage-check:1");
    let host = d.host();
    let plain = dir.path("plain.json");
    record_plain(&cache, &root, "docker", &plain);
    let docker = |extra: &[&str], image: &str| {
        let mut args = vec!["check".to_string(), s(&plain), "--".into()];
        args.extend([
            container::dockerd::client().to_string(),
            "-H".into(),
            host.clone(),
        ]);
        args.extend(["run", "--rm", "--network", "none"].map(String::from));
        args.extend(extra.iter().map(|a| a.to_string()));
        args.push(image.into());
        args.extend(ECHO.map(String::from));
        syscage(&cache, Some(&host), &args)
    };
    assert_names_runtime_calls(&docker(&[], "syscage-check:1"), "docker");
    assert_names_runtime_calls(
        &docker(&["--security-opt", "no-new-privileges"], "syscage-check:1"),
        "docker nnp",
    );

    // A docker run that fails by itself: exit 2, no container left.
    let o = docker(&[], "syscage-no-such-image:1");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("failed"),
        "{}",
        text(&o)
    );
    assert!(d.running().is_empty(), "containers left: {:?}", d.running());

    // Recording it: exit 2, no profile written, no container left.
    let out = dir.path("bad-image.json");
    let mut args: Vec<String> = vec!["record".into(), "-o".into(), s(&out), "--".into()];
    args.extend([
        container::dockerd::client().to_string(),
        "-H".into(),
        host.clone(),
    ]);
    args.extend(
        [
            "run",
            "--rm",
            "--network",
            "none",
            "syscage-no-such-image:1",
        ]
        .map(String::from),
    );
    args.extend(ECHO.map(String::from));
    let o = syscage(&cache, Some(&host), &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!out.exists(), "a profile was written");
    assert!(d.running().is_empty(), "containers left: {:?}", d.running());

    // Recording with the daemon named by -H only (no DOCKER_HOST): the
    // runtime is measured on that daemon too.
    let out = dir.path("by-h.json");
    let mut args: Vec<String> = vec!["record".into(), "-o".into(), s(&out), "--".into()];
    args.extend([
        container::dockerd::client().to_string(),
        "-H".into(),
        host.clone(),
    ]);
    args.extend(["run", "--rm", "--network", "none", "syscage-check:1"].map(String::from));
    args.extend(ECHO.map(String::from));
    let o = syscage(&cache, None, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("syscage --for docker"));

    // A command that sets its own profile.
    let o = docker(&["--security-opt", "seccomp=unconfined"], "syscage-check:1");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // An unknown front end.
    let args: Vec<String> = ["check", &s(&plain), "--", "lxc-start", "run", "x"]
        .map(String::from)
        .to_vec();
    let o = syscage(&cache, None, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("unknown container runtime front end 'lxc-start'"),
        "{}",
        text(&o)
    );

    // An unwritable profile path: exit 2, nothing written.
    let out = dir.path("no-such-dir/p.json");
    let mut args: Vec<String> = ["record", "--for", "docker", "-o"]
        .map(String::from)
        .to_vec();
    args.extend([s(&out), "--".into(), "chroot".into(), s(&root)]);
    args.extend(ECHO.map(String::from));
    let o = syscage(&cache, Some(&host), &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!out.exists() && !dir.path("no-such-dir").exists());
    assert!(d.running().is_empty(), "containers left: {:?}", d.running());
    // No measuring image was left behind either.
    let images = d.docker(&["images", "-q", "syscage-measure"]);
    assert!(
        String::from_utf8_lossy(&images.stdout).trim().is_empty(),
        "{}",
        text(&images)
    );
}

#[test]
fn check_names_what_podman_needs_and_bad_input_exits_2() {
    let _guard = serial();
    if !require(&["podman"])
        || !rootfs::have_busybox_static()
            && !container::not_checked("busybox-static is not installed")
    {
        return;
    }
    let dir = Scratch::new("check-podman");
    let cache = container::cache_dir();
    let root = dir.path("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    rootfs::busybox(&root);
    let Some(p) = podman::start_or_not_checked("check") else {
        return;
    };
    p.import(&rootfs::tar(&root), "syscage-check:1")
        .unwrap_or_else(|e| panic!("{e}"));
    let plain = dir.path("plain.json");
    record_plain(&cache, &root, "docker", &plain);
    let run = |extra: &[&str], image: &str| {
        let mut args: Vec<String> = ["run", "--rm", "--network", "none"]
            .map(String::from)
            .to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        args.push(image.into());
        args.extend(ECHO.map(String::from));
        p.cmdline(&args)
    };
    let check = |extra: &[&str], image: &str| {
        let mut args = vec!["check".to_string(), s(&plain), "--".into()];
        args.extend(run(extra, image));
        p.syscage(&cache, &args)
    };
    // podman runs crun here: between loading the filter and executing the
    // workload it changes user and capabilities (setresuid, capset, …),
    // which `echo hi` outside a container never does.
    let o = check(&[], "syscage-check:1");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(out.contains("hi\n"), "the container ran: {}", text(&o));
    let named = rows(&out);
    for name in ["capset", "setresuid"] {
        assert!(
            named.contains(&(name.to_string(), "runtime".to_string())),
            "{name} not named as the runtime's: {}",
            text(&o)
        );
    }
    assert!(
        named.iter().all(|(_, who)| who == "runtime"),
        "the workload was recorded, nothing of it is missing: {}",
        text(&o)
    );
    // With no-new-privileges crun loads the filter right before execve:
    // whatever is missing, it is none of the workload's.
    let o = check(&["--security-opt", "no-new-privileges"], "syscage-check:1");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        matches!(o.status.code(), Some(0 | 1)) && out.contains("hi\n"),
        "{}",
        text(&o)
    );
    assert!(
        rows(&out).iter().all(|(_, who)| who == "runtime"),
        "{}",
        text(&o)
    );

    // compile --for podman mends the profile: check finds nothing missing.
    let args: Vec<String> = ["compile", "--for", "podman", "-f", "json", &s(&plain)]
        .map(String::from)
        .to_vec();
    let o = p.syscage(&cache, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let fixed = dir.path("fixed.json");
    std::fs::write(&fixed, &o.stdout).unwrap();
    for extra in [&[][..], &["--security-opt", "no-new-privileges"][..]] {
        let mut args = vec!["check".to_string(), s(&fixed), "--".into()];
        args.extend(run(extra, "syscage-check:1"));
        let o = p.syscage(&cache, &args);
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", text(&o));
    }

    // A podman run that fails by itself: exit 2, no container left.
    let o = check(&["--pull", "never"], "syscage-no-such-image:1");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("failed"),
        "{}",
        text(&o)
    );
    assert!(
        p.containers().is_empty(),
        "containers left: {:?}",
        p.containers()
    );

    // Recording it: exit 2, no profile written, no container left.
    let out = dir.path("bad-image.json");
    let mut args: Vec<String> = vec!["record".into(), "-o".into(), s(&out), "--".into()];
    args.extend(run(&["--pull", "never"], "syscage-no-such-image:1"));
    let o = p.syscage(&cache, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!out.exists(), "a profile was written");
    assert!(
        p.containers().is_empty(),
        "containers left: {:?}",
        p.containers()
    );

    // A command that sets its own profile.
    let o = check(&["--security-opt", "seccomp=unconfined"], "syscage-check:1");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // Recording with the store named by podman's options only: the
    // runtime is measured (a fresh cache) through the same options. The
    // environment's storage.conf names a store podman cannot create, so
    // a measuring podman without those options fails.
    let bad_conf = dir.path("bad-storage.conf");
    std::fs::write(
        &bad_conf,
        "[storage]\ndriver = \"vfs\"\ngraphroot = \"/dev/null/store\"\nrunroot = \"/dev/null/run\"\n",
    )
    .unwrap();
    let fresh = dir.path("fresh-cache");
    let out = dir.path("by-options.json");
    let mut args: Vec<String> = vec!["record".into(), "-o".into(), s(&out), "--".into()];
    args.extend(run(&[], "syscage-check:1"));
    let mut cmd = container::syscage_command(&fresh, None, &args);
    p.env(&mut cmd);
    let o = cmd
        .env("CONTAINERS_STORAGE_CONF", &bad_conf)
        .output()
        .expect("run syscage");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.exists(), "{}", text(&o));
    // Measured through those options: the fresh cache holds podman's set.
    let measured: Vec<String> = std::fs::read_dir(fresh.join("syscage/runtimes"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .filter(|t| t.contains("# version: podman "))
        .collect();
    assert!(
        measured.len() == 1 && measured[0].contains(" capset "),
        "{measured:?}"
    );
    assert!(
        p.containers().is_empty(),
        "containers left: {:?}",
        p.containers()
    );
    // No measuring image was left behind either.
    assert!(
        p.images("syscage-measure").is_empty(),
        "{:?}",
        p.images("syscage-measure")
    );
}
