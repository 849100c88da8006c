//! Attaching to live processes and reading their seccomp filters.

use libc::pid_t;

use nix::sys::ptrace::Options;

use super::{
    cont, named, pid, ptrace_event, ptrace_raw, wait_tid, TraceError, PTRACE_EVENT_STOP,
    PTRACE_GET_SECCOMP_METADATA, PTRACE_SECCOMP_GET_FILTER,
};

/// `PTRACE_SEIZE` with `PTRACE_O_*` `options`: attaches to `tid` without
/// stopping it (group-stops are then reported as `PTRACE_EVENT_STOP`).
pub fn seize(tid: pid_t, options: Options) -> Result<(), TraceError> {
    named(
        "PTRACE_SEIZE",
        tid,
        nix::sys::ptrace::seize(pid(tid), options),
    )
}

/// Attaches to a live thread without stopping it for good:
/// `PTRACE_SEIZE` (no options), then `PTRACE_INTERRUPT`, then waits for
/// the resulting `PTRACE_EVENT_STOP`. Returns `Ok(false)` if the thread
/// exited before it stopped (it is then gone, nothing to detach).
pub fn seize_and_interrupt(tid: pid_t) -> Result<bool, TraceError> {
    seize(tid, Options::empty())?;
    if let Err(e) = named(
        "PTRACE_INTERRUPT",
        tid,
        nix::sys::ptrace::interrupt(pid(tid)),
    ) {
        let _ = detach(tid);
        return Err(e);
    }
    loop {
        let status = wait_tid(tid)?;
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Ok(false);
        }
        let event = ptrace_event(status);
        if event == PTRACE_EVENT_STOP {
            return Ok(true);
        }
        // A signal-delivery stop that raced with the interrupt: deliver
        // the signal unchanged and wait for the interrupt stop.
        let sig = libc::WSTOPSIG(status);
        let sig = if event == 0 { sig } else { 0 };
        cont(tid, sig)?;
    }
}

/// `PTRACE_DETACH`: lets the tracee go on as before.
pub fn detach(tid: pid_t) -> Result<(), TraceError> {
    named(
        "PTRACE_DETACH",
        tid,
        nix::sys::ptrace::detach(pid(tid), None),
    )
}

/// `PTRACE_SECCOMP_GET_FILTER`: the instructions of the seccomp filter
/// number `index` of a stopped tracee, `None` past the last (`ENOENT`).
///
/// Index 0 is the OLDEST filter (the kernel's `get_nth_filter` counts from
/// the root of the filter chain), which ptrace(2) gets backwards. Needs
/// `CAP_SYS_ADMIN` and the tracer itself not under seccomp (`EACCES`
/// otherwise); a tracee not in filter mode gives `EINVAL`. Returns raw
/// `struct sock_filter` fields in native byte order.
pub fn seccomp_filter(tid: pid_t, index: u64) -> Result<Option<Vec<[u8; 8]>>, TraceError> {
    // Raw: nix has no call for PTRACE_SECCOMP_GET_FILTER.
    let count = match ptrace_raw(
        PTRACE_SECCOMP_GET_FILTER,
        "PTRACE_SECCOMP_GET_FILTER",
        tid,
        index as usize,
        0,
    ) {
        Ok(n) => n as usize,
        Err(e) if e.errno() == Some(libc::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = vec![[0u8; 8]; count];
    let n = ptrace_raw(
        PTRACE_SECCOMP_GET_FILTER,
        "PTRACE_SECCOMP_GET_FILTER",
        tid,
        index as usize,
        buf.as_mut_ptr() as usize,
    )? as usize;
    buf.truncate(n.min(count));
    Ok(Some(buf))
}

/// `PTRACE_GET_SECCOMP_METADATA`: the flags of filter `index` (same
/// numbering as [`seccomp_filter`]). The kernel reports only
/// `SECCOMP_FILTER_FLAG_LOG`; the other install flags are not kept.
pub fn seccomp_metadata(tid: pid_t, index: u64) -> Result<u64, TraceError> {
    let mut md = [index, 0u64];
    // Raw: nix has no call for PTRACE_GET_SECCOMP_METADATA.
    ptrace_raw(
        PTRACE_GET_SECCOMP_METADATA,
        "PTRACE_GET_SECCOMP_METADATA",
        tid,
        std::mem::size_of_val(&md),
        md.as_mut_ptr() as usize,
    )?;
    Ok(md[1])
}
