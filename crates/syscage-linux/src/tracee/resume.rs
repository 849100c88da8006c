//! ptrace(2) requests that restart a stopped tracee, and its event message.

use libc::pid_t;

use super::{ptrace_get, ptrace_raw, TraceError, PTRACE_GETEVENTMSG, PTRACE_SYSCALL};

/// `PTRACE_GETEVENTMSG`.
pub fn event_msg(tid: pid_t) -> Result<u64, TraceError> {
    let msg: libc::c_ulong = ptrace_get(PTRACE_GETEVENTMSG, "PTRACE_GETEVENTMSG", tid)?;
    Ok(msg as u64)
}

/// `PTRACE_SYSCALL`: resumes `tid` until its next syscall stop, delivering
/// signal `sig` (0 for none). A tracee that died meanwhile (`ESRCH`) is not
/// an error: its exit is reported by the next wait.
pub fn resume_syscall(tid: pid_t, sig: i32) -> Result<(), TraceError> {
    match ptrace_raw(PTRACE_SYSCALL, "PTRACE_SYSCALL", tid, 0, sig as usize) {
        Err(e) if e.errno() == Some(libc::ESRCH) => Ok(()),
        r => r.map(drop),
    }
}

/// `PTRACE_CONT`: resumes `tid`, delivering signal `sig` (0 for none).
/// `ESRCH` (the tracee was killed meanwhile) is returned as an error; the
/// exit itself comes with a later wait.
pub fn cont(tid: pid_t, sig: i32) -> Result<(), TraceError> {
    ptrace_raw(libc::PTRACE_CONT, "PTRACE_CONT", tid, 0, sig as usize).map(drop)
}

/// `PTRACE_LISTEN`: leaves a seized tracee in its group-stop, but lets it
/// report the next stop or `SIGCONT`.
pub fn listen(tid: pid_t) -> Result<(), TraceError> {
    ptrace_raw(libc::PTRACE_LISTEN, "PTRACE_LISTEN", tid, 0, 0).map(drop)
}
