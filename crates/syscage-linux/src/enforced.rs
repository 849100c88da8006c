//! Checking that a filter is in force after `seccomp(2)` said it was
//! installed: the kernel's own view, `Seccomp:` (the mode) and
//! `Seccomp_filters:` (the number of filters, Linux ≥ 5.9) of
//! `/proc/self/status`, read before and after, with `prctl(PR_GET_SECCOMP)`
//! when `/proc` cannot be read.
//!
//! An outer filter can make `seccomp(2)` and `prctl(2)` return 0 without
//! running them (`SECCOMP_RET_ERRNO` with data 0); only a count that went
//! up (or, on kernels without the count, a mode that became 2) shows the
//! new filter is there. Everything here is async-signal-safe (a stack
//! buffer, `open`/`read`/`close`): it runs between `fork` and `execve`.

/// The seccomp state of the calling process as the kernel shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// `Seccomp:` of `/proc/self/status` (0 disabled, 1 strict, 2 filter),
    /// or `PR_GET_SECCOMP` when `/proc` could not be read.
    pub mode: Option<u32>,
    /// `Seccomp_filters:` (Linux ≥ 5.9).
    pub filters: Option<u32>,
}

/// The value after `key` (a line start, e.g. `b"\nSeccomp:"`) in a
/// `/proc/PID/status` text, as a decimal number.
pub fn field(text: &[u8], key: &[u8]) -> Option<u32> {
    let start = text.windows(key.len()).position(|w| w == key)? + key.len();
    let mut n: u32 = 0;
    let mut digits = 0;
    for &b in &text[start..] {
        match b {
            b' ' | b'\t' if digits == 0 => {}
            b'0'..=b'9' => {
                n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
                digits += 1;
            }
            _ => break,
        }
    }
    (digits > 0).then_some(n)
}

/// The fields of one status text (a [`Snapshot`] with no fallback).
pub fn parse(text: &[u8]) -> Snapshot {
    Snapshot {
        mode: field(text, b"\nSeccomp:"),
        filters: field(text, b"\nSeccomp_filters:"),
    }
}

/// Opens `/proc/self/status` (close-on-exec), or -1. A raw fd, not an
/// `OwnedFd`, on purpose: the forked child leaves it open until `execve`
/// closes it, since after installing, `close` may be what the new filter
/// (or strict mode, which allows only `read`, `write` and `_exit`) kills.
pub fn open_status() -> i32 {
    // SAFETY: a NUL-terminated path literal.
    unsafe {
        libc::open(
            c"/proc/self/status".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    }
}

/// Reads a freshly opened status fd (procfs makes the text at the first
/// read, so an fd opened before entering strict mode, where only `read`
/// is left, still shows the state at the read). Does not close it.
pub fn read_status(fd: i32) -> Snapshot {
    let mut buf = [0u8; 8192];
    let mut len = 0;
    while fd >= 0 && len < buf.len() {
        // SAFETY: reads into the unfilled tail of a stack buffer.
        let r = unsafe { libc::read(fd, buf[len..].as_mut_ptr().cast(), buf.len() - len) };
        if r <= 0 {
            break;
        }
        len += r as usize;
    }
    parse(&buf[..len])
}

/// Reads the calling process's [`Snapshot`] without allocating, from
/// `/proc/self/status` or else `PR_GET_SECCOMP`.
pub fn snapshot() -> Snapshot {
    let fd = open_status();
    let s = snapshot_from(fd);
    if fd >= 0 {
        // SAFETY: closes the fd opened above.
        unsafe { libc::close(fd) };
    }
    s
}

/// [`snapshot`] from a status fd opened earlier (see [`read_status`]):
/// after installing a filter that may refuse `open`, only `read` (and
/// `prctl` as the fallback) is needed. Does not close `fd`.
pub fn snapshot_from(fd: i32) -> Snapshot {
    let mut s = read_status(fd);
    if s.mode.is_none() {
        // SAFETY: PR_GET_SECCOMP takes no pointer.
        let r = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
        s.mode = (r >= 0).then_some(r as u32);
    }
    s
}

/// Whether `after` shows one filter more than `before`. Where the kernel
/// counted before and after, the count must have gone up by one and the
/// mode be filter mode (2). When the status was read before but cannot be
/// read after, the new filter refuses the read: then `PR_GET_SECCOMP`
/// must not say 0 (which is what a faking filter answers). Without a count
/// before (Linux < 5.9), the mode must be 2; under a filter already, that
/// cannot tell more.
pub fn filter_added(before: Snapshot, after: Snapshot) -> bool {
    filters_added(before, after, 1)
}

/// [`filter_added`] for `n` filters installed in a row.
pub fn filters_added(before: Snapshot, after: Snapshot, n: u32) -> bool {
    match (before.filters, after.filters) {
        (Some(b), Some(a)) => after.mode == Some(2) && a == b.wrapping_add(n),
        (Some(_), None) => after.mode != Some(0),
        (None, _) => after.mode == Some(2),
    }
}

/// Packs a failed check into the child's 32-bit report: mode after
/// (8 bits), filters before and after (12 bits each); all-ones for unknown.
pub fn pack(before: Snapshot, after: Snapshot) -> i32 {
    let f = |v: Option<u32>, bits: u32| v.map_or((1 << bits) - 1, |v| v.min((1 << bits) - 2));
    (f(after.mode, 8) | f(before.filters, 12) << 8 | f(after.filters, 12) << 20) as i32
}

/// The inverse of [`pack`]: `(mode after, filters before, filters after)`.
pub fn unpack(v: i32) -> (Option<u32>, Option<u32>, Option<u32>) {
    let v = v as u32;
    let f = |x: u32, bits: u32| (x != (1 << bits) - 1).then_some(x);
    (
        f(v & 0xff, 8),
        f((v >> 8) & 0xfff, 12),
        f((v >> 20) & 0xfff, 12),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &[u8] = b"Name:\tcat\nUmask:\t0022\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\nSpeculation_Store_Bypass:\tthread vulnerable\n";

    #[test]
    fn fields_are_read_from_a_status_text() {
        assert_eq!(
            parse(STATUS),
            Snapshot {
                mode: Some(2),
                filters: Some(3)
            }
        );
        assert_eq!(parse(b"Name:\tx\n"), Snapshot::default());
        assert_eq!(field(b"\nSeccomp:\t\n", b"\nSeccomp:"), None);
    }

    #[test]
    fn only_one_more_filter_counts_as_added() {
        let s = |mode, filters| Snapshot { mode, filters };
        assert!(filter_added(s(Some(0), Some(0)), s(Some(2), Some(1))));
        assert!(filter_added(s(Some(2), Some(1)), s(Some(2), Some(2))));
        // seccomp(2) faked: nothing changed.
        assert!(!filter_added(s(Some(0), Some(0)), s(Some(0), Some(0))));
        assert!(!filter_added(s(Some(2), Some(1)), s(Some(2), Some(1))));
        assert!(filters_added(s(Some(0), Some(0)), s(Some(2), Some(2)), 2));
        assert!(!filters_added(s(Some(0), Some(0)), s(Some(2), Some(1)), 2));
        // No count (Linux < 5.9): the mode must have become 2.
        assert!(filter_added(s(Some(0), None), s(Some(2), None)));
        assert!(!filter_added(s(Some(0), None), s(Some(0), None)));
        assert!(!filter_added(s(None, None), s(None, None)));
        // Read before, refused after by the new filter (prctl too, or 2).
        assert!(filter_added(s(Some(0), Some(0)), s(None, None)));
        assert!(filter_added(s(Some(0), Some(0)), s(Some(2), None)));
        assert!(!filter_added(s(Some(0), Some(0)), s(Some(0), None)));
    }

    #[test]
    fn pack_round_trips() {
        let s = |mode, filters| Snapshot { mode, filters };
        assert_eq!(
            unpack(pack(s(Some(0), Some(3)), s(Some(0), Some(3)))),
            (Some(0), Some(3), Some(3))
        );
        assert_eq!(
            unpack(pack(s(None, None), s(None, None))),
            (None, None, None)
        );
    }
}
