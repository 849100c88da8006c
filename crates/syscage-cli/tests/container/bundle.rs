//! OCI bundles for runc and crun: `runc spec`'s configuration with the
//! test's process and `linux.seccomp`, run under a private state root.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A bundle directory whose `rootfs` the caller fills.
pub struct Bundle {
    pub dir: PathBuf,
}

impl Bundle {
    /// `dir/config.json` from `runc spec` (terminal off) and an empty
    /// `dir/rootfs`.
    pub fn new(dir: &Path) -> Bundle {
        std::fs::create_dir_all(dir.join("rootfs")).unwrap();
        let out = Command::new("runc")
            .args(["spec", "--bundle"])
            .arg(dir)
            .output()
            .expect("runc spec");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Bundle {
            dir: dir.to_path_buf(),
        }
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// Sets the process, no_new_privileges, added capabilities, whether it
    /// gets a network namespace of its own, and the seccomp profile (an OCI
    /// `linux.seccomp` object, or none).
    pub fn configure(
        &self,
        args: &[&str],
        nnp: bool,
        caps: &[&str],
        netns: bool,
        seccomp: Option<&str>,
    ) {
        let path = self.dir.join("config.json");
        let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        c["process"]["terminal"] = json!(false);
        c["process"]["args"] = json!(args);
        c["process"]["noNewPrivileges"] = json!(nnp);
        c["root"]["readonly"] = json!(false);
        let namespaces = c["linux"]["namespaces"].as_array_mut().unwrap();
        namespaces.retain(|n| n["type"] != "network");
        if netns {
            namespaces.push(json!({"type": "network"}));
        }
        for set in ["bounding", "effective", "permitted", "ambient"] {
            let list = c["process"]["capabilities"][set].as_array_mut().unwrap();
            for cap in caps {
                list.push(json!(cap));
            }
        }
        match seccomp {
            Some(p) => {
                c["linux"]["seccomp"] = serde_json::from_str(p).expect("seccomp JSON");
            }
            None => {
                c["linux"].as_object_mut().unwrap().remove("seccomp");
            }
        }
        std::fs::write(&path, serde_json::to_string_pretty(&c).unwrap()).unwrap();
    }

    /// The command line `RUNTIME --root STATE run --bundle DIR ID`.
    pub fn run_command(&self, runtime: &str, id: &str) -> Vec<String> {
        vec![
            runtime.to_string(),
            "--root".into(),
            self.dir.join("state").to_string_lossy().into_owned(),
            "run".into(),
            "--bundle".into(),
            self.dir.to_string_lossy().into_owned(),
            id.to_string(),
        ]
    }

    /// Runs the container to its end with `runtime`; then deletes it.
    pub fn run(&self, runtime: &str, id: &str) -> Output {
        let cmd = self.run_command(runtime, id);
        let out = Command::new(&cmd[0])
            .args(&cmd[1..])
            .stdin(Stdio::null())
            .output()
            .expect("runtime");
        self.delete(runtime, id);
        out
    }

    /// `RUNTIME delete -f ID`, whatever state it is in.
    pub fn delete(&self, runtime: &str, id: &str) {
        let _ = Command::new(runtime)
            .arg("--root")
            .arg(self.dir.join("state"))
            .args(["delete", "-f", id])
            .output();
    }
}

/// crun refuses a hybrid cgroup layout whose v2 hierarchy holds
/// controllers ("cgroups in hybrid mode not supported, drop all
/// controllers from cgroupv2"): move those to v1 hierarchies of their own,
/// as root, once (a no-op when there are none).
pub fn crun_cgroup_ready() -> Result<(), String> {
    let unified = Path::new("/sys/fs/cgroup/unified/cgroup.controllers");
    let Ok(list) = std::fs::read_to_string(unified) else {
        return Ok(());
    };
    for controller in list.split_whitespace() {
        let at = Path::new("/sys/fs/cgroup").join(controller);
        std::fs::create_dir_all(&at).map_err(|e| format!("mkdir {}: {e}", at.display()))?;
        let out = Command::new("mount")
            .args(["-t", "cgroup", "-o", controller, "cgroup"])
            .arg(&at)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "mount the {controller} cgroup controller: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}
