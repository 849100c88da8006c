//! Root filesystems for the test containers: busybox-static with its
//! applets as symlinks, plus dynamically linked host programs copied with
//! the libraries `ldd` names.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The host's busybox-static.
pub const BUSYBOX: &str = "/bin/busybox";

/// Applets linked in `/bin`.
const APPLETS: &[&str] = &[
    "sh", "echo", "ls", "mkdir", "cat", "ping", "true", "wc", "sort", "tr", "seq", "sleep", "grep",
    "head", "rm", "find", "sed",
];

/// Whether the host's busybox is statically linked (busybox-static).
pub fn have_busybox_static() -> bool {
    Command::new("ldd").arg(BUSYBOX).output().is_ok_and(|o| {
        !o.status.success() || String::from_utf8_lossy(&o.stdout).contains("not a dynamic")
    }) && Path::new(BUSYBOX).exists()
}

/// Builds `dir` with busybox and `/tmp`, `/proc`, `/dev`, `/sys`, `/etc`.
pub fn busybox(dir: &Path) {
    for d in ["bin", "tmp", "proc", "dev", "sys", "etc"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy(BUSYBOX, dir.join("bin/busybox")).expect("copy busybox");
    for a in APPLETS {
        symlink("busybox", dir.join("bin").join(a)).unwrap();
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(dir.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
}

/// Copies `file` (a host path) to the same path under `dir`.
pub fn copy_in(dir: &Path, file: &Path) {
    let to = dir.join(file.strip_prefix("/").unwrap_or(file));
    if to.exists() {
        return;
    }
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(file, &to).unwrap_or_else(|e| panic!("copy {}: {e}", file.display()));
}

/// The libraries `ldd` names for `program`, and its dynamic loader.
pub fn libraries(program: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(program).output().expect("ldd");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rest)) => rest.trim().split(' ').next()?,
                None => l.split(' ').next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// Copies the dynamically linked `program` and its libraries into `dir`.
pub fn add_program(dir: &Path, program: &Path) {
    let real = std::fs::canonicalize(program).unwrap();
    copy_in(dir, &real);
    for lib in libraries(&real) {
        copy_in(dir, &lib);
    }
    if real != program {
        let link = dir.join(program.strip_prefix("/").unwrap());
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = symlink(&real, link);
    }
}

/// Adds Debian's python3 (`/usr/bin/python3`), its libraries and the
/// standard-library modules that `imports` (run with `-S`) loads.
pub fn add_python(dir: &Path, imports: &str) {
    let python = Path::new("/usr/bin/python3");
    add_program(dir, python);
    let out = Command::new(python)
        .args(["-S", "-c"])
        .arg(format!(
            "{imports}\nimport sys\nfor m in list(sys.modules.values()):\n    f = getattr(m, '__file__', None)\n    if f: print(f)"
        ))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in String::from_utf8_lossy(&out.stdout).lines() {
        copy_in(dir, Path::new(f));
    }
}

/// Whether Debian's python3 is installed.
pub fn have_python() -> bool {
    Path::new("/usr/bin/python3").exists()
}

/// `dir` as a tar archive on stdout of `tar -C dir -c .`.
pub fn tar(dir: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["-c", "."])
        .output()
        .expect("tar");
    assert!(out.status.success());
    out.stdout
}
