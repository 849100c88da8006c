//! The acceptance workloads of the container tests and the root
//! filesystem they run in.

use super::{not_checked, require, rootfs, s};
use std::path::Path;

/// A workload: its command, what it prints, whether it needs
/// CAP_NET_RAW.
pub struct Workload {
    pub name: &'static str,
    pub args: &'static [&'static str],
    pub prints: &'static str,
    pub net_raw: bool,
}

const PY_THREADS: &str = "import threading\nout = []\nts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]\nfor t in ts: t.start()\nfor t in ts: t.join()\nprint(sorted(out))";

pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "shell",
        args: &[
            "/bin/sh",
            "-c",
            "mkdir -p /tmp/d/e && echo x > /tmp/d/e/f && ls /tmp/d && cat /tmp/d/e/f",
        ],
        prints: "e\nx\n",
        net_raw: false,
    },
    Workload {
        name: "ping",
        args: &["/bin/ping", "-c1", "127.0.0.1"],
        prints: "1 packets received",
        net_raw: true,
    },
    Workload {
        name: "pipeline",
        args: &[
            "/bin/sh",
            "-c",
            "seq 1 200 | sort -rn | head -3 | tr '\\n' ' '",
        ],
        prints: "200 199 198 ",
        net_raw: false,
    },
    Workload {
        name: "python",
        args: &[
            "/usr/bin/python3",
            "-S",
            "-B",
            "-c",
            "import os; print(sum(range(10)), len(os.listdir('/')) > 0)",
        ],
        prints: "45 True\n",
        net_raw: false,
    },
    Workload {
        name: "threads",
        args: &["/usr/bin/python3", "-S", "-B", "-c", PY_THREADS],
        prints: "[0, 1, 2, 3]\n",
        net_raw: false,
    },
];

/// The root filesystem every workload runs in.
pub fn build_rootfs(dir: &Path) {
    rootfs::busybox(dir);
    rootfs::add_python(dir, "import os, threading");
    // The loopback interface of a network namespace is down until set up;
    // the workloads' ping goes to 127.0.0.1 in the host's for `chroot`.
}

/// `run …` of `docker run` for `w` (the test image, no network), with
/// `profile` as its seccomp profile and no-new-privileges if `nnp`.
pub fn docker_run_args(w: &Workload, nnp: bool, profile: Option<&Path>) -> Vec<String> {
    let mut args: Vec<String> = ["run", "--rm", "--network", "none"]
        .map(String::from)
        .to_vec();
    if let Some(p) = profile {
        args.extend(["--security-opt".to_string(), format!("seccomp={}", s(p))]);
    }
    if nnp {
        args.extend(["--security-opt", "no-new-privileges"].map(String::from));
    }
    args.push("syscage-test:1".into());
    args.extend(w.args.iter().map(|a| a.to_string()));
    args
}

/// How many times each workload runs per configuration:
/// `SYSCAGE_CONTAINER_RUNS`, default 1.
pub fn runs() -> usize {
    std::env::var("SYSCAGE_CONTAINER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// Whether `programs` and what the workloads' root filesystem is built
/// from (busybox-static, Debian's python3) are installed: a missing one
/// fails under `CI=true`, else the test prints `NOT CHECKED` and stops.
pub fn ready(programs: &[&str]) -> bool {
    require(programs)
        && (rootfs::have_busybox_static() || not_checked("busybox-static is not installed"))
        && (rootfs::have_python() || not_checked("Debian's python3 is not installed"))
}
