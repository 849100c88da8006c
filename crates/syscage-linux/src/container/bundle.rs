//! What a measuring run starts: an OCI bundle (`config.json` and a root
//! filesystem holding one program) for runc and crun, and the same root
//! filesystem as a tar archive for `docker import` / `podman import`.

use super::ContainerError;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Where the measuring program lives inside the container.
pub const PROGRAM: &str = "/true";

/// How the measuring container's process is set up: the points where the
/// runtime loads the filter differ with these (runc loads it before
/// changing user and capabilities without `noNewPrivileges`, and right
/// before `execve` with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Variant {
    /// `process.noNewPrivileges` (`--security-opt no-new-privileges`).
    pub no_new_privileges: bool,
    /// `process.user.uid` and `gid` (`--user`).
    pub uid: u32,
}

impl Variant {
    /// The variants every measurement runs.
    pub const ALL: [Variant; 3] = [
        Variant {
            no_new_privileges: false,
            uid: 0,
        },
        Variant {
            no_new_privileges: true,
            uid: 0,
        },
        Variant {
            no_new_privileges: false,
            uid: 65534,
        },
    ];

    /// A short name, as the cache file and `--summary` print it.
    pub fn name(self) -> String {
        format!(
            "{}uid{}",
            if self.no_new_privileges { "nnp," } else { "" },
            self.uid
        )
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ContainerError + '_ {
    move |source| ContainerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `dir/rootfs` with `program` as [`PROGRAM`] (mode 0755) and
/// `dir/config.json` that runs it under `seccomp` (an OCI `linux.seccomp`
/// object) as `variant` says. The rest of the configuration is what
/// `runc spec` writes: its mounts, namespaces, masked paths and
/// capabilities.
pub fn write_bundle(
    dir: &Path,
    program: &[u8],
    seccomp: &str,
    variant: Variant,
) -> Result<(), ContainerError> {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).map_err(io(&rootfs))?;
    let exe = rootfs.join(PROGRAM.trim_start_matches('/'));
    std::fs::write(&exe, program).map_err(io(&exe))?;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).map_err(io(&exe))?;
    let config = dir.join("config.json");
    std::fs::write(&config, config_json(seccomp, variant)).map_err(io(&config))
}

/// `config.json` of the measuring bundle.
pub fn config_json(seccomp: &str, variant: Variant) -> String {
    let caps = r#"["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]"#;
    format!(
        r#"{{
  "ociVersion": "1.0.2-dev",
  "process": {{
    "terminal": false,
    "user": {{"uid": {uid}, "gid": {uid}}},
    "args": ["{PROGRAM}"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
    "capabilities": {{"bounding": {caps}, "effective": {caps}, "permitted": {caps}}},
    "rlimits": [{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}}],
    "noNewPrivileges": {nnp}
  }},
  "root": {{"path": "rootfs", "readonly": true}},
  "hostname": "syscage",
  "mounts": [
    {{"destination": "/proc", "type": "proc", "source": "proc"}},
    {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}},
    {{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}},
    {{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}},
    {{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}},
    {{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}}
  ],
  "linux": {{
    "resources": {{"devices": [{{"allow": false, "access": "rwm"}}]}},
    "namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    "seccomp": {seccomp}
  }}
}}
"#,
        uid = variant.uid,
        nnp = variant.no_new_privileges,
        seccomp = seccomp.trim(),
    )
}

/// A POSIX tar archive (ustar) of one regular file, mode 0755, at `name`:
/// the image `docker import` makes of the measuring program.
pub fn tar_one_file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, s: &[u8]| h[at..at + s.len()].copy_from_slice(s);
    put(&mut h, 0, name.trim_start_matches('/').as_bytes());
    put(&mut h, 100, b"0000755\0");
    put(&mut h, 108, b"0000000\0");
    put(&mut h, 116, b"0000000\0");
    put(&mut h, 124, format!("{:011o}\0", data.len()).as_bytes());
    put(&mut h, 136, b"00000000000\0");
    put(&mut h, 148, b"        ");
    h[156] = b'0';
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_archive_lists_the_file_with_its_size() {
        let dir = std::env::temp_dir().join(format!("syscage-tar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tar = dir.join("a.tar");
        std::fs::write(&tar, tar_one_file("/true", b"hello")).unwrap();
        let out = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&tar)
            .output();
        std::fs::remove_dir_all(&dir).unwrap();
        let out = out.expect("tar(1) is part of every Debian system");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.starts_with("-rwxr-xr-x"), "{text}");
        assert!(
            text.contains(" 5 ") && text.trim_end().ends_with("true"),
            "{text}"
        );
    }
}
