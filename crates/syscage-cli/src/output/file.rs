//! The files `-o` names, written so that a symlink planted at the name by
//! another user cannot redirect the write (a `dump -o /tmp/d` into a
//! world-writable directory must not overwrite the file a symlink points
//! at).
//!
//! - A single output file ([`Replacement`]) is written to a new temporary
//!   file in the same directory (`O_CREAT|O_EXCL|O_NOFOLLOW`) and renamed
//!   over the name: a symlink there is replaced, never followed. The new
//!   file keeps the mode of the regular file it replaces; otherwise it gets
//!   0666 less the umask, as for any new file.
//! - Files that must not exist yet ([`create_new`], the `PID-ORDER.EXT` of
//!   `dump -o DIR`) are created with `O_CREAT|O_EXCL|O_NOFOLLOW`: any file
//!   or symlink already there is an error naming it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

/// Opens `path` as a new file: `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC`,
/// mode 0666 less the umask.
fn open_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(0o666)
        .open(path)
}

/// Creates `path`, which must not exist (not even as a symlink), and
/// writes `bytes` into it.
pub fn create_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = open_new(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            anyhow!(
                "{}: already exists; syscage does not overwrite it (remove it or choose another directory)",
                path.display()
            )
        } else {
            anyhow!("cannot create {}: {e}", path.display())
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Checks that new files can be created in `dir` (it exists, is a directory
/// and is writable), by creating and removing one.
pub fn check_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("{}: cannot use as the output directory", dir.display()))?;
    if !meta.is_dir() {
        return Err(anyhow!("{}: not a directory", dir.display()));
    }
    let (probe, _file) = create_temp(dir, "probe".as_ref())
        .map_err(|e| anyhow!("{}: cannot create files there: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// An output file being replaced: the temporary file exists from
/// [`Replacement::create`] on (so a bad path fails before any work), the
/// name is replaced by [`Replacement::commit`]; dropped uncommitted, the
/// temporary file is removed and the name is untouched.
///
/// A name that is not a file to replace — a character device, FIFO or
/// socket such as `/dev/null` or `/dev/stdout` — is written in place
/// instead: renaming over it would replace the device node itself (as
/// root, `-o /dev/null` would turn `/dev/null` into a regular file). A
/// symlink is followed only to such a node, and, in a sticky directory
/// (`/tmp`), only if it belongs to us or to the directory's owner (the
/// kernel's `fs.protected_symlinks` rule); a symlink to anything else is
/// replaced, never followed.
pub struct Replacement {
    target: PathBuf,
    sink: Sink,
    committed: bool,
}

/// Where [`Replacement::commit`] writes.
enum Sink {
    /// A new temporary file beside the target, renamed over it.
    Rename { temp: PathBuf, file: File },
    /// The target itself, a device, FIFO or socket opened for writing.
    InPlace(File),
}

/// What `target` names, as far as writing it is concerned.
enum Existing {
    /// Nothing, a regular file, or a symlink to be replaced.
    Replaceable,
    /// A node written in place (device, FIFO, socket), directly or
    /// through a symlink we may follow.
    Node,
}

fn classify(target: &Path) -> Result<Existing> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return Ok(Existing::Replaceable);
    };
    let ft = meta.file_type();
    let is_node = |ft: std::fs::FileType| ft.is_char_device() || ft.is_fifo() || ft.is_socket();
    if ft.is_file() {
        return Ok(Existing::Replaceable);
    }
    if is_node(ft) {
        return Ok(Existing::Node);
    }
    if ft.is_symlink() {
        let Ok(dest) = std::fs::metadata(target) else {
            return Ok(Existing::Replaceable);
        };
        if !is_node(dest.file_type()) {
            return Ok(Existing::Replaceable);
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let dir_meta =
            std::fs::metadata(dir).with_context(|| format!("cannot write {}", target.display()))?;
        let me = nix::unistd::geteuid().as_raw();
        if dir_meta.mode() & 0o1000 != 0 && meta.uid() != me && meta.uid() != dir_meta.uid() {
            return Err(anyhow!(
                "{}: a symlink another user made in a shared directory; syscage does not follow it",
                target.display()
            ));
        }
        return Ok(Existing::Node);
    }
    Err(anyhow!(
        "{}: not a file syscage can write (a directory or block device)",
        target.display()
    ))
}

impl Replacement {
    /// Creates the temporary file beside `target` (or opens `target`
    /// itself when it is a device, FIFO or socket).
    pub fn create(target: &Path) -> Result<Replacement> {
        if let Existing::Node = classify(target)? {
            let file = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_CLOEXEC)
                .open(target)
                .with_context(|| format!("cannot write {}", target.display()))?;
            return Ok(Replacement {
                target: target.to_path_buf(),
                sink: Sink::InPlace(file),
                committed: false,
            });
        }
        let name = target
            .file_name()
            .ok_or_else(|| anyhow!("{}: not a file name", target.display()))?;
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let (temp, file) = create_temp(dir, name).map_err(|e| {
            anyhow!(
                "cannot write {}: cannot create a file in {}: {e}",
                target.display(),
                dir.display()
            )
        })?;
        Ok(Replacement {
            target: target.to_path_buf(),
            sink: Sink::Rename { temp, file },
            committed: false,
        })
    }

    /// Writes `bytes` and renames the file over the target name (or
    /// writes them to the device, FIFO or socket it names).
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let target = self.target.clone();
        let context = || format!("cannot write {}", target.display());
        match &mut self.sink {
            Sink::InPlace(file) => {
                file.write_all(bytes).with_context(context)?;
            }
            Sink::Rename { temp, file } => {
                // Keep the mode of the regular file being replaced (not of
                // what a symlink points at).
                if let Ok(old) = std::fs::symlink_metadata(&target) {
                    if old.file_type().is_file() {
                        file.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))
                            .with_context(context)?;
                    }
                }
                file.write_all(bytes).with_context(context)?;
                file.sync_all().with_context(context)?;
                std::fs::rename(&*temp, &target).with_context(context)?;
            }
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if let Sink::Rename { temp, .. } = &self.sink {
            if !self.committed {
                let _ = std::fs::remove_file(temp);
            }
        }
    }
}

/// Creates a new hidden file `.NAME.syscage-RANDOM` in `dir`.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    let mut attempt = 0;
    loop {
        let temp = dir.join(format!(
            ".{}.syscage-{}",
            name.to_string_lossy(),
            unpredictable()
        ));
        match open_new(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Writes `bytes` to `target` through a [`Replacement`].
pub fn replace(target: &Path, bytes: &[u8]) -> Result<()> {
    Replacement::create(target)?.commit(bytes)
}

/// A name part another user cannot guess ahead of time (pid, clock, a
/// counter, hashed), so that the temporary name is rarely taken.
fn unpredictable() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("syscage-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn create_new_does_not_follow_a_dangling_symlink() {
        let dir = scratch("dangling");
        let link = dir.join("1-1.asm");
        std::os::unix::fs::symlink(dir.join("victim"), &link).unwrap();
        let err = create_new(&link, b"x").unwrap_err().to_string();
        assert!(err.contains("1-1.asm: already exists"), "{err}");
        assert!(!dir.join("victim").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_uncommitted_replacement_leaves_the_directory_as_it_was() {
        let dir = scratch("uncommitted");
        std::fs::write(dir.join("out.json"), b"old").unwrap();
        let r = Replacement::create(&dir.join("out.json")).unwrap();
        assert_eq!(names(&dir).len(), 2);
        drop(r);
        assert_eq!(names(&dir), ["out.json"]);
        assert_eq!(std::fs::read(dir.join("out.json")).unwrap(), b"old");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn replace_swaps_a_symlink_for_the_file() {
        let dir = scratch("swap");
        std::fs::write(dir.join("victim"), b"victim").unwrap();
        std::os::unix::fs::symlink(dir.join("victim"), dir.join("out")).unwrap();
        replace(&dir.join("out"), b"new").unwrap();
        assert_eq!(std::fs::read(dir.join("victim")).unwrap(), b"victim");
        let meta = std::fs::symlink_metadata(dir.join("out")).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"new");
        assert_eq!(names(&dir), ["out", "victim"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_device_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        // /dev/null must stay the character device it is.
        replace(Path::new("/dev/null"), b"discarded").unwrap();
        let meta = std::fs::symlink_metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device());
        // A FIFO named by -o is written through, and stays a FIFO.
        let dir = scratch("fifo");
        let fifo = dir.join("out.fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        replace(&fifo, b"through").unwrap();
        assert_eq!(reader.join().unwrap(), b"through");
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
