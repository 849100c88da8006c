//! podman with a private store for one test: `--root`, `--runroot` and
//! `--storage-driver vfs` on its command line (never the system store),
//! and the same store in a private `storage.conf` (`CONTAINERS_STORAGE_CONF`)
//! for what syscage runs without those options (`record --for podman`).
//! A private `containers.conf` (`CONTAINERS_CONF`) sets the containers'
//! rlimits to what this process may set: podman's default raises
//! RLIMIT_NOFILE and RLIMIT_NPROC to 1048576, which needs
//! CAP_SYS_RESOURCE (`setrlimit … Operation not permitted` without it).
//! On drop: every container removed, the store reset, whatever podman
//! mounted under the directory unmounted, the directory removed (also when
//! a test panics).

use super::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Podman {
    pub dir: PathBuf,
}

/// The hard limit of `resource` (`prlimit` of this process).
fn hard_limit(resource: &str) -> Result<u64, String> {
    let out = Command::new("prlimit")
        .args(["--pid", &std::process::id().to_string(), "--noheadings"])
        .args([format!("--{resource}"), "--output=HARD".into()])
        .output()
        .map_err(|e| format!("prlimit: {e}"))?;
    let t = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if t == "unlimited" {
        return Ok(1 << 20);
    }
    t.parse()
        .map_err(|_| format!("prlimit --{resource}: {t:?}"))
}

impl Podman {
    /// A private store in a fresh directory, checked by running a
    /// container of busybox alone (a failure says why podman does not run
    /// containers here).
    pub fn start(name: &str) -> Result<Podman, String> {
        let dir =
            std::env::temp_dir().join(format!("syscage-podman-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let p = Podman { dir };
        let nofile = hard_limit("nofile")?;
        // Below the hard limit: equal to it failed here.
        let nproc = hard_limit("nproc")?.min(2000) / 2;
        std::fs::write(
            p.dir.join("containers.conf"),
            format!("[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n"),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            p.dir.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
                p.dir.join("store").display(),
                p.dir.join("run").display()
            ),
        )
        .map_err(|e| e.to_string())?;
        let o = p.podman(&["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
        if !o.status.success() {
            return Err(format!("podman info: {}", text(&o)));
        }
        // A container of busybox alone.
        let probe = p.dir.join("probe");
        std::fs::create_dir_all(probe.join("bin")).map_err(|e| e.to_string())?;
        std::fs::copy(super::rootfs::BUSYBOX, probe.join("bin/busybox"))
            .map_err(|e| format!("{}: {e}", super::rootfs::BUSYBOX))?;
        p.import(&super::rootfs::tar(&probe), "syscage-probe:1")?;
        let _ = std::fs::remove_dir_all(&probe);
        let o = p.podman(&[
            "run",
            "--rm",
            "--network",
            "none",
            "syscage-probe:1",
            "/bin/busybox",
            "true",
        ]);
        let _ = p.podman(&["rmi", "-f", "syscage-probe:1"]);
        if !o.status.success() {
            return Err(format!("podman run: {}", text(&o)));
        }
        Ok(p)
    }

    /// The options before podman's subcommand: the private store.
    pub fn global(&self) -> Vec<String> {
        vec![
            "--root".into(),
            self.dir.join("store").to_string_lossy().into_owned(),
            "--runroot".into(),
            self.dir.join("run").to_string_lossy().into_owned(),
            "--storage-driver".into(),
            "vfs".into(),
        ]
    }

    /// `podman GLOBAL` (the private configuration in its environment).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("podman");
        self.env(&mut cmd);
        cmd.args(self.global());
        cmd
    }

    /// The private `containers.conf` and `storage.conf` in `cmd`'s
    /// environment.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", self.dir.join("storage.conf"));
    }

    /// `podman GLOBAL ARGS`.
    pub fn podman(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("podman")
    }

    /// `podman import` of a tar as `tag`.
    pub fn import(&self, tar: &[u8], tag: &str) -> Result<(), String> {
        let path = self.dir.join("image.tar");
        std::fs::write(&path, tar).map_err(|e| e.to_string())?;
        let o = self.podman(&["import", &path.to_string_lossy(), tag]);
        let _ = std::fs::remove_file(&path);
        if o.status.success() {
            Ok(())
        } else {
            Err(format!("podman import: {}", text(&o)))
        }
    }

    /// The command line `podman GLOBAL ARGS` (for syscage to run).
    pub fn cmdline(&self, args: &[String]) -> Vec<String> {
        let mut out = vec!["podman".to_string()];
        out.extend(self.global());
        out.extend_from_slice(args);
        out
    }

    /// Every container's id, running or not.
    pub fn containers(&self) -> Vec<String> {
        let out = self.podman(&["ps", "-aq"]);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Images whose name contains `name`.
    pub fn images(&self, name: &str) -> Vec<String> {
        let out = self.podman(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(name))
            .map(str::to_string)
            .collect()
    }

    /// Mount points at or under the directory, deepest first.
    fn mounts(&self) -> Vec<String> {
        let prefix = self.dir.to_string_lossy().into_owned();
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut out: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| m.starts_with(&prefix))
            .map(str::to_string)
            .collect();
        out.sort_by_key(|m| std::cmp::Reverse(m.len()));
        out
    }
}

/// `podman run …` arguments for `w`: Docker's, plus CAP_NET_RAW when it
/// needs it (podman's default capabilities lack it, Docker's have it).
pub fn run_args(w: &super::workloads::Workload, nnp: bool, profile: Option<&Path>) -> Vec<String> {
    let mut args = super::workloads::docker_run_args(w, nnp, profile);
    if w.net_raw {
        args.splice(1..1, ["--cap-add".to_string(), "NET_RAW".into()]);
    }
    args
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.podman(&["rm", "-af", "-t", "0"]);
        let _ = self.podman(&["system", "reset", "-f"]);
        for m in self.mounts() {
            let _ = Command::new("umount").args(["-l", &m]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Podman {
    /// `syscage ARGS` with the runtime cache in `cache` and this store's
    /// configuration in its environment.
    pub fn syscage(&self, cache: &Path, args: &[String]) -> Output {
        let mut cmd = super::syscage_command(cache, None, args);
        self.env(&mut cmd);
        cmd.output().expect("run syscage")
    }

    /// Runs `podman run ARGS` for `w` (see [`run_args`]).
    pub fn run(&self, w: &super::workloads::Workload, nnp: bool, profile: Option<&Path>) -> Output {
        let args = run_args(w, nnp, profile);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.podman(&args)
    }
}

/// A private podman store, or why there is none: a failure under
/// `CI=true`, else `NOT CHECKED` (returns None).
pub fn start_or_not_checked(name: &str) -> Option<Podman> {
    match Podman::start(name) {
        Ok(p) => Some(p),
        Err(e) => {
            super::not_checked(&format!("podman does not run containers here: {e}"));
            None
        }
    }
}
