//! A private Docker daemon for one test binary: its own data root, exec
//! root, pid file and socket, vfs storage, no iptables, no bridge, its
//! own containerd namespaces. Stopped and removed on drop (also when a
//! test panics), with its containerd.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The docker client that matches Debian's daemon.
pub fn client() -> &'static str {
    if std::path::Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    }
}

pub struct Dockerd {
    pub dir: PathBuf,
    child: Child,
}

impl Dockerd {
    /// `unix://…/sock`, for `-H` and `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.dir.join("sock").display())
    }

    /// Starts a daemon and waits until it answers (at most 60 s).
    pub fn start(name: &str) -> Result<Dockerd, String> {
        let dir =
            std::env::temp_dir().join(format!("syscage-dockerd-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let ns = format!("syscage-test-{}-{name}", std::process::id());
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", dir.join("sock").display()))
            .args([
                "--storage-driver",
                "vfs",
                "--iptables=false",
                "--bridge=none",
            ])
            .args(["--containerd-namespace", &ns])
            .args(["--containerd-plugins-namespace", &format!("{ns}-plugins")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("cannot start dockerd: {e}"))?;
        let d = Dockerd { dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if d.docker(&["version"]).status.success() {
                return Ok(d);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(d.dir.join("log")).unwrap_or_default();
        Err(format!("dockerd did not answer within 60 s: {log}"))
    }

    /// `docker -H SOCK ARGS`.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new(client())
            .arg("-H")
            .arg(self.host())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("docker client")
    }

    /// `docker import` of a tar as `tag`.
    pub fn import(&self, tar: &[u8], tag: &str) {
        use std::io::Write;
        let mut child = Command::new(client())
            .arg("-H")
            .arg(self.host())
            .args(["import", "-", tag])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("docker import");
        child.stdin.take().unwrap().write_all(tar).unwrap();
        assert!(child.wait().unwrap().success(), "docker import {tag}");
    }

    /// Running containers' ids.
    pub fn running(&self) -> Vec<String> {
        let out = self.docker(&["ps", "-aq"]);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
}

/// Whether the process `pid` still exists.
fn alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let containerd: Option<i32> =
            std::fs::read_to_string(self.dir.join("exec/containerd/containerd.pid"))
                .ok()
                .and_then(|s| s.trim().parse().ok());
        for c in self.running() {
            let _ = self.docker(&["rm", "-f", &c]);
        }
        let pid = self.child.id() as i32;
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Some(c) = containerd {
            let deadline = Instant::now() + Duration::from_secs(20);
            while alive(c) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            if alive(c) {
                let _ = Command::new("kill")
                    .args(["-KILL", &c.to_string()])
                    .status();
            }
        }
        // vfs layers may hold read-only bind mounts of nothing; plain removal.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
