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

use super::bundle::Variant;
use super::measure::RuntimeCalls;
use super::{ContainerError, Runtime};
use std::collections::BTreeSet;
use std::path::PathBuf;
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
    let path = path(runtime, version);
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| ContainerError::Io { path, source }
    };
    let dir = dir();
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let tmp = dir.join(format!(".{}.{}.tmp", runtime.name(), std::process::id()));
    std::fs::write(&tmp, to_text(runtime, version, calls)).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(&path)(e)
    })
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
}
