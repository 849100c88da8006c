//! ptrace(2) requests that restart a stopped tracee, and its event message.

use libc::pid_t;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::{named, pid, ptrace_raw, TraceError, PTRACE_SYSCALL};

/// `PTRACE_GETEVENTMSG`.
pub fn event_msg(tid: pid_t) -> Result<u64, TraceError> {
    let msg = named(
        "PTRACE_GETEVENTMSG",
        tid,
        nix::sys::ptrace::getevent(pid(tid)),
    )?;
    // The kernel writes an unsigned long: the same bits.
    Ok(msg as libc::c_ulong as u64)
}

/// `PTRACE_SYSCALL`: resumes `tid` until its next syscall stop, delivering
/// signal `sig` (0 for none). A tracee that died meanwhile (`ESRCH`) is not
/// an error: its exit is reported by the next wait.
pub fn resume_syscall(tid: pid_t, sig: i32) -> Result<(), TraceError> {
    let syscall = nix::sys::ptrace::syscall::<Option<Signal>>;
    match restart(PTRACE_SYSCALL, "PTRACE_SYSCALL", tid, sig, syscall) {
        Err(e) if e.errno() == Some(libc::ESRCH) => Ok(()),
        r => r,
    }
}

/// `PTRACE_CONT`: resumes `tid`, delivering signal `sig` (0 for none).
/// `ESRCH` (the tracee was killed meanwhile) is returned as an error; the
/// exit itself comes with a later wait.
pub fn cont(tid: pid_t, sig: i32) -> Result<(), TraceError> {
    let cont = nix::sys::ptrace::cont::<Option<Signal>>;
    restart(libc::PTRACE_CONT, "PTRACE_CONT", tid, sig, cont)
}

/// A restarting request delivering `sig` (0 for none): through nix, or
/// raw for a real-time signal, which nix's `Signal` cannot name (a
/// tracee's `SIGRTMIN+n` must still be delivered).
fn restart(
    request: libc::c_uint,
    name: &'static str,
    tid: pid_t,
    sig: i32,
    wrapped: fn(Pid, Option<Signal>) -> nix::Result<()>,
) -> Result<(), TraceError> {
    let signal = match sig {
        0 => None,
        s => match Signal::try_from(s) {
            Ok(s) => Some(s),
            // Raw: a real-time signal (see above).
            Err(_) => return ptrace_raw(request, name, tid, 0, sig as usize).map(drop),
        },
    };
    named(name, tid, wrapped(pid(tid), signal))
}

/// `PTRACE_LISTEN`: leaves a seized tracee in its group-stop, but lets it
/// report the next stop or `SIGCONT`.
pub fn listen(tid: pid_t) -> Result<(), TraceError> {
    // Raw: nix has the request number but no call for PTRACE_LISTEN.
    ptrace_raw(libc::PTRACE_LISTEN, "PTRACE_LISTEN", tid, 0, 0).map(drop)
}
