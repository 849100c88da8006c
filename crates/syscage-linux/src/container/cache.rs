//! The measured sets, kept per runtime and version so a runtime is
//! measured once: `$XDG_CACHE_HOME/syscage/runtimes/` (else
//! `~/.cache/syscage/runtimes/`, else `/var/cache/syscage/runtimes/`), one
//! text file per runtime version, written to a temporary file and renamed
//! into place so a reader never sees half of one.
//!
//! A file reads:
//!
//! ```text
//! # syscage: syscalls runc makes under the container's filter before executing the workload
//! # version: runc version 1.1.5+ds1
//! x86_64 fstatfs uid0;nnp,uid0
//! ```
//!
//! (arch, syscall name or number, the variants it was seen in).
//!
//! Asking runc or crun its version (`runc --version`) starts a Go or C
//! program, 5 ms here, on every recording. So the version of a runtime
//! binary is kept too, keyed by what identifies that file (its resolved
//! path, device, inode, size, modification and change times: an upgrade
//! replaces the file, which changes them): `runc-version-KEY.txt`.

use super::bundle::Variant;
use super::measure::RuntimeCalls;
use super::{ContainerError, Runtime};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syscage::arch::Arch;

/// The cache directory.
pub fn dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("syscage").join("runtimes")
}

/// FNV-1a of the version text: the file name's key.
fn key(version: &str) -> u64 {
    version.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The cache file of `runtime` at `version`.
pub fn path(runtime: Runtime, version: &str) -> PathBuf {
    dir().join(format!("{}-{:016x}.txt", runtime.name(), key(version)))
}

/// The text of a cache file.
pub fn to_text(runtime: Runtime, version: &str, calls: &RuntimeCalls) -> String {
    let mut out = format!(
        "# syscage: syscalls {} makes under the container's filter before executing the workload\n",
        runtime.name()
    );
    for line in version.lines() {
        out.push_str(&format!("# version: {line}\n"));
    }
    for ((arch, nr), variants) in &calls.calls {
        let name = arch
            .syscall_name(*nr)
            .map_or_else(|| nr.to_string(), str::to_string);
        let v: Vec<String> = variants.iter().map(|v| v.name()).collect();
        out.push_str(&format!("{} {name} {}\n", arch.name(), v.join(";")));
    }
    out
}

/// Parses a cache file; `None` when any line is not as written.
pub fn from_text(text: &str) -> Option<RuntimeCalls> {
    let mut calls = RuntimeCalls::default();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut f = line.split(' ');
        let arch = Arch::from_name(f.next()?)?;
        let name = f.next()?;
        let nr = arch.syscall_nr(name).or_else(|| name.parse().ok())?;
        let mut variants = BTreeSet::new();
        for v in f.next()?.split(';') {
            variants.insert(*Variant::ALL.iter().find(|x| x.name() == v)?);
        }
        calls.calls.insert((arch, nr), variants);
    }
    Some(calls)
}

/// The cached set, if there is a readable one.
pub fn load(runtime: Runtime, version: &str) -> Option<RuntimeCalls> {
    from_text(&std::fs::read_to_string(path(runtime, version)).ok()?)
}

/// Stores a set: a temporary file in the same directory, renamed over
/// the final name.
pub fn store(runtime: Runtime, version: &str, calls: &RuntimeCalls) -> Result<(), ContainerError> {
    write(&path(runtime, version), &to_text(runtime, version, calls))
}

/// Writes `text` to `path` in the cache directory: a new temporary file
/// (`O_CREAT|O_EXCL|O_NOFOLLOW`: nothing planted there is followed or
/// overwritten) renamed over `path`, so a reader never sees half of it.
fn write(path: &Path, text: &str) -> Result<(), ContainerError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ContainerError::Io { path, source }
    };
    let dir = dir();
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(io(&tmp));
    written
        .and_then(|()| std::fs::rename(&tmp, path).map_err(io(path)))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// What identifies the file `PATH` resolves `program` to: its canonical
/// path, device, inode, size, modification and change times; `None` if
/// it is not found.
pub fn binary_identity(program: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs).find_map(|dir| {
        let found = std::fs::canonicalize(dir.join(program)).ok()?;
        let m = std::fs::metadata(&found).ok()?;
        (m.is_file() && m.mode() & 0o111 != 0).then(|| {
            format!(
                "{} dev={} ino={} size={} mtime={}.{:09} ctime={}.{:09}",
                found.display(),
                m.dev(),
                m.ino(),
                m.size(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec()
            )
        })
    })
}

/// The version file of the runtime binary `identity` names.
fn version_path(runtime: Runtime, identity: &str) -> PathBuf {
    dir().join(format!(
        "{}-version-{:016x}.txt",
        runtime.name(),
        key(identity)
    ))
}

/// The version text stored for the binary `identity` names, if any (the
/// file's first line must be that identity).
pub fn load_version(runtime: Runtime, identity: &str) -> Option<String> {
    let text = std::fs::read_to_string(version_path(runtime, identity)).ok()?;
    let (first, version) = text.split_once('\n')?;
    (first == identity && !version.trim().is_empty()).then(|| version.trim().to_string())
}

/// Stores the version text of the binary `identity` names.
pub fn store_version(
    runtime: Runtime,
    identity: &str,
    version: &str,
) -> Result<(), ContainerError> {
    write(
        &version_path(runtime, identity),
        &format!("{identity}\n{version}\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_file_reads_back() {
        let mut calls = RuntimeCalls::default();
        let a = Arch::X86_64;
        calls.calls.insert(
            (a, a.syscall_nr("fstatfs").unwrap()),
            Variant::ALL.iter().copied().collect(),
        );
        calls
            .calls
            .insert((a, 999), BTreeSet::from([Variant::ALL[1]]));
        let text = to_text(Runtime::Runc, "runc version 1\ncommit: x", &calls);
        assert!(text.contains("# version: commit: x\n"), "{text}");
        assert!(
            text.contains("x86_64 fstatfs uid0;uid65534;nnp,uid0\n"),
            "{text}"
        );
        assert_eq!(from_text(&text), Some(calls));
        assert_eq!(from_text("x86_64 nosuchcall uid0\n"), None);
        assert_eq!(from_text("x86_64 read nosuchvariant\n"), None);
    }

    #[test]
    fn a_binarys_identity_names_the_file_path_resolves() {
        // `sh` is on every PATH this runs with.
        let id = binary_identity("sh").expect("sh on PATH");
        assert!(id.starts_with('/') && id.contains(" ino="), "{id}");
        assert_eq!(binary_identity("sh"), Some(id));
        assert_eq!(binary_identity("no-such-program-syscage"), None);
    }
}
