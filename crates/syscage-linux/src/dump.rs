//! Extracting the seccomp filters of programs (`syscage dump`).
//!
//! Two ways in:
//!
//! - [`dump_command`] runs a program under ptrace, follows its threads,
//!   forks and execs, and catches every successful
//!   `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER|SECCOMP_MODE_STRICT, …)` and
//!   `seccomp(SECCOMP_SET_MODE_FILTER|SECCOMP_SET_MODE_STRICT, flags, …)`:
//!   the `struct sock_fprog` is read from the tracee at syscall entry and
//!   kept if the syscall returns success.
//! - [`dump_pid`] reads every filter of a live thread with
//!   `PTRACE_SECCOMP_GET_FILTER` and `PTRACE_GET_SECCOMP_METADATA`, oldest
//!   first, then detaches so the process goes on unchanged.
//!
//! Each [`DumpedFilter`] carries the arch of its target (x86_64 or i386
//! personality) so a disassembly names syscalls right.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use libc::pid_t;
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, RawInsn};

use crate::tracee::{self, StdinMode, Stop, SyscallStop, TraceError};

mod strict;
pub use strict::strict_mode_filter;

/// `PR_SET_SECCOMP` (prctl(2) option 22).
pub const PR_SET_SECCOMP: u64 = 22;
/// `SECCOMP_MODE_STRICT` (prctl's mode argument).
pub const SECCOMP_MODE_STRICT: u64 = 1;
/// `SECCOMP_MODE_FILTER` (prctl's mode argument).
pub const SECCOMP_MODE_FILTER: u64 = 2;
/// `SECCOMP_SET_MODE_STRICT` (seccomp(2) operation 0).
pub const SECCOMP_SET_MODE_STRICT: u64 = 0;
/// `SECCOMP_SET_MODE_FILTER` (seccomp(2) operation 1).
pub const SECCOMP_SET_MODE_FILTER: u64 = 1;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: seccomp(2) returns a notification fd.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 8;

/// The `SECCOMP_FILTER_FLAG_*` bits and their names, lowest first.
pub const FILTER_FLAGS: [(u32, &str); 6] = [
    (1, "TSYNC"),
    (2, "LOG"),
    (4, "SPEC_ALLOW"),
    (8, "NEW_LISTENER"),
    (16, "TSYNC_ESRCH"),
    (32, "WAIT_KILLABLE_RECV"),
];

/// Names of the set `SECCOMP_FILTER_FLAG_*` bits (unknown bits as hex).
pub fn flag_names(flags: u32) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = flags;
    for (bit, name) in FILTER_FLAGS {
        if flags & bit != 0 {
            names.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(format!("{rest:#x}"));
    }
    names
}

/// How a filter got installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstallCall {
    /// `prctl(PR_SET_SECCOMP, …)`.
    Prctl,
    /// `seccomp(2)`.
    Seccomp,
    /// Read back from a live process (`PTRACE_SECCOMP_GET_FILTER` or
    /// `/proc/PID/status` for strict mode): the call is not known.
    Unknown,
}

impl InstallCall {
    /// `prctl`, `seccomp` or `unknown`.
    pub const fn name(self) -> &'static str {
        match self {
            InstallCall::Prctl => "prctl",
            InstallCall::Seccomp => "seccomp",
            InstallCall::Unknown => "unknown",
        }
    }
}

/// The seccomp mode a filter was installed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeccompMode {
    /// `SECCOMP_MODE_FILTER`: a BPF program.
    Filter,
    /// `SECCOMP_MODE_STRICT`: read, write, exit, sigreturn only; the
    /// instructions are the equivalent filter ([`strict_mode_filter`]).
    Strict,
}

impl SeccompMode {
    /// `filter` or `strict`.
    pub const fn name(self) -> &'static str {
        match self {
            SeccompMode::Filter => "filter",
            SeccompMode::Strict => "strict",
        }
    }
}

/// One filter found by a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpedFilter {
    /// The thread that installed it ([`dump_command`]) or was dumped
    /// ([`dump_pid`]).
    pub pid: pid_t,
    /// 1-based position: order of installation (oldest is 1).
    pub order: usize,
    /// The syscall that installed it.
    pub call: InstallCall,
    /// Filter or strict mode.
    pub mode: SeccompMode,
    /// `SECCOMP_FILTER_FLAG_*` given to seccomp(2) (for [`dump_pid`]: only
    /// what the kernel keeps, i.e. `LOG`).
    pub flags: u32,
    /// Personality of the target process (x86_64 or i386), for naming
    /// syscalls.
    pub arch: Arch,
    /// The instructions (`struct sock_filter`), exactly as installed.
    pub insns: Vec<RawInsn>,
}

impl DumpedFilter {
    /// The filter as bytes, in the target's byte order: exactly the
    /// `struct sock_filter` array the program passed.
    pub fn to_bytes(&self) -> Vec<u8> {
        syscage::bpf::codec::encode(&self.insns, self.arch.byte_order())
    }
}

/// Errors of a dump.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// ptrace and friends.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// `-p` of a pid with no `/proc/PID`.
    #[error("no process with pid {0}")]
    NoSuchProcess(pid_t),
    /// The process exited while it was being dumped.
    #[error("process {0} exited during the dump")]
    ExitedDuringDump(pid_t),
    /// Missing privileges for `PTRACE_SECCOMP_GET_FILTER`.
    #[error("reading the filters of process {pid} needs CAP_SYS_ADMIN (run as root) and syscage itself not running under seccomp{detail}")]
    NotPermitted {
        /// The target.
        pid: pid_t,
        /// What exactly was missing.
        detail: String,
    },
    /// ptrace(PTRACE_SEIZE) refused: already traced, or Yama.
    #[error("cannot attach to process {pid}: {source} (already traced by another debugger, or ptrace restricted by /proc/sys/kernel/yama/ptrace_scope?)")]
    Attach {
        /// The target.
        pid: pid_t,
        /// The errno.
        source: io::Error,
    },
    /// `/proc/PID/status` could not be read or parsed.
    #[error("cannot read /proc/{pid}/status: {detail}")]
    Status {
        /// The target.
        pid: pid_t,
        /// What went wrong.
        detail: String,
    },
}

/// Options of [`dump_command`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CommandOptions {
    /// Stop after this many filters and kill the program.
    pub limit: Option<usize>,
    /// Kill the program after this long.
    pub timeout: Option<Duration>,
    /// The program's stdin.
    pub stdin: StdinMode,
}

/// How the traced program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramEnd {
    /// The first process exited with this code.
    Exited(i32),
    /// The first process was killed by this signal.
    Signaled(i32),
    /// Killed by the dump after `limit` filters.
    LimitReached,
    /// Killed by the dump after `timeout`.
    TimedOut,
}

/// Result of [`dump_command`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandDump {
    /// The pid of the program started.
    pub pid: pid_t,
    /// Every filter installed successfully, in order.
    pub filters: Vec<DumpedFilter>,
    /// How the program ended.
    pub end: ProgramEnd,
}

/// A filter install seen at syscall entry, waiting for its exit.
struct PendingInstall {
    call: InstallCall,
    mode: SeccompMode,
    flags: u32,
    arch: Arch,
    insns: Vec<RawInsn>,
}

/// Per-thread state of the tracer loop.
#[derive(Default)]
struct ThreadState {
    /// The next syscall stop is an entry (for kernels without
    /// `PTRACE_GET_SYSCALL_INFO`).
    at_entry: bool,
    pending: Option<PendingInstall>,
}

/// Kills every live tracee when the timeout expires (from another thread:
/// the tracer thread is blocked in waitpid).
struct Watchdog {
    state: Arc<(Mutex<WatchState>, Condvar)>,
    handle: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct WatchState {
    live: HashSet<pid_t>,
    done: bool,
    fired: bool,
}

impl Watchdog {
    fn start(timeout: Option<Duration>, root: pid_t) -> Watchdog {
        let state = Arc::new((Mutex::new(WatchState::default()), Condvar::new()));
        state.0.lock().unwrap_or_else(|p| p.into_inner()).live.insert(root);
        let handle = timeout.map(|t| {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let (lock, cv) = &*state;
                let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (mut guard, _) = cv
                    .wait_timeout_while(guard, t, |s| !s.done)
                    .unwrap_or_else(|p| p.into_inner());
                if !guard.done {
                    guard.fired = true;
                    for &tid in &guard.live {
                        kill_tree_member(tid);
                    }
                }
            })
        });
        Watchdog { state, handle }
    }

    fn with<R>(&self, f: impl FnOnce(&mut WatchState) -> R) -> R {
        f(&mut self.state.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn finish(mut self) -> bool {
        self.with(|s| s.done = true);
        self.state.1.notify_all();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.with(|s| s.fired)
    }
}

fn kill_tree_member(tid: pid_t) {
    // SAFETY: kill(2) on a tracee we follow (a thread id; SIGKILL kills
    // its whole process); no memory is involved.
    unsafe {
        libc::kill(tid, libc::SIGKILL);
    }
}

/// Runs `argv` under ptrace and returns every filter it (or any thread,
/// child or exec'd image of it) installs, in installation order.
/// `on_filter` sees each filter as soon as its install succeeded.
///
/// Filters are read at syscall entry; another thread that rewrites the
/// `sock_fprog` between that read and the kernel's copy would go unseen.
pub fn dump_command(
    argv: &[OsString],
    opts: &CommandOptions,
    mut on_filter: impl FnMut(&DumpedFilter),
) -> Result<CommandDump, DumpError> {
    let root = tracee::spawn(argv, opts.stdin)?;
    let watchdog = Watchdog::start(opts.timeout, root);
    let mut threads: HashMap<pid_t, ThreadState> = HashMap::new();
    threads.insert(
        root,
        ThreadState {
            at_entry: true,
            pending: None,
        },
    );
    let mut filters: Vec<DumpedFilter> = Vec::new();
    let mut end = None;
    let mut limit_hit = false;
    let result = (|| -> Result<(), DumpError> {
        tracee::resume_syscall(root, 0)?;
        while let Some(stop) = tracee::wait_any(|t| !threads.contains_key(&t))? {
            match stop {
                Stop::Exited { tid, code } => {
                    forget(&mut threads, &watchdog, tid);
                    if tid == root {
                        end.get_or_insert(ProgramEnd::Exited(code));
                    }
                }
                Stop::Signaled { tid, sig } => {
                    forget(&mut threads, &watchdog, tid);
                    if tid == root {
                        end.get_or_insert(ProgramEnd::Signaled(sig));
                    }
                }
                Stop::NewChild { tid } => {
                    track(&mut threads, &watchdog, tid);
                    tracee::resume_syscall(tid, 0)?;
                }
                Stop::Event { tid, event, msg } => {
                    // New children of fork/clone are tracked at their
                    // first stop (Stop::NewChild), which may come before
                    // or after this event.
                    if event == tracee::PTRACE_EVENT_EXEC && msg as pid_t != tid {
                        // A non-leader thread exec'd and took over the
                        // leader's tid; the old tid is gone.
                        let old = threads.remove(&(msg as pid_t)).unwrap_or_default();
                        threads.insert(tid, old);
                    }
                    tracee::resume_syscall(tid, 0)?;
                }
                Stop::GroupStop { tid, .. } => tracee::resume_syscall(tid, 0)?,
                Stop::Signal { tid, sig } => tracee::resume_syscall(tid, sig)?,
                Stop::Syscall { tid } => {
                    let state = track(&mut threads, &watchdog, tid);
                    let at_entry = state.at_entry;
                    let stop = tracee::syscall_stop(tid, Some(at_entry));
                    match stop {
                        Ok(SyscallStop::Entry {
                            audit_arch,
                            nr,
                            args,
                        }) => {
                            state.at_entry = false;
                            state.pending = install_at_entry(tid, audit_arch, nr, &args);
                        }
                        Ok(SyscallStop::Exit { rval, .. }) => {
                            state.at_entry = true;
                            if let Some(p) = state.pending.take() {
                                if install_succeeded(&p, rval) {
                                    let f = DumpedFilter {
                                        pid: tid,
                                        order: filters.len() + 1,
                                        call: p.call,
                                        mode: p.mode,
                                        flags: p.flags,
                                        arch: p.arch,
                                        insns: p.insns,
                                    };
                                    on_filter(&f);
                                    filters.push(f);
                                }
                            }
                        }
                        // The thread died under us (SIGKILL): its exit
                        // is reported next.
                        Err(e) if e.errno() == Some(libc::ESRCH) => continue,
                        Err(e) => return Err(e.into()),
                    }
                    if opts.limit.is_some_and(|l| filters.len() >= l) && !limit_hit {
                        limit_hit = true;
                        watchdog.with(|s| s.live.iter().for_each(|&t| kill_tree_member(t)));
                    }
                    tracee::resume_syscall(tid, 0)?;
                }
            }
        }
        Ok(())
    })();
    if result.is_err() {
        watchdog.with(|s| s.live.iter().for_each(|&t| kill_tree_member(t)));
        // Reap what is left so nothing stays stopped or zombie.
        while let Ok(Some(_)) = tracee::wait_any(|_| false) {}
    }
    let fired = watchdog.finish();
    result?;
    let end = if limit_hit {
        ProgramEnd::LimitReached
    } else if fired {
        ProgramEnd::TimedOut
    } else {
        end.unwrap_or(ProgramEnd::Signaled(libc::SIGKILL))
    };
    Ok(CommandDump {
        pid: root,
        filters,
        end,
    })
}

fn track<'a>(
    threads: &'a mut HashMap<pid_t, ThreadState>,
    watchdog: &Watchdog,
    tid: pid_t,
) -> &'a mut ThreadState {
    threads.entry(tid).or_insert_with(|| {
        watchdog.with(|s| s.live.insert(tid));
        ThreadState {
            at_entry: true,
            pending: None,
        }
    })
}

fn forget(threads: &mut HashMap<pid_t, ThreadState>, watchdog: &Watchdog, tid: pid_t) {
    threads.remove(&tid);
    watchdog.with(|s| s.live.remove(&tid));
}

/// Syscall numbers of prctl and seccomp for an audit arch.
fn install_syscalls(audit_arch: u32) -> Option<(Arch, u64, u64)> {
    let arch = Arch::from_audit(audit_arch)?;
    let prctl = arch.syscall_nr("prctl")? as u64;
    let seccomp = arch.syscall_nr("seccomp")? as u64;
    Some((arch, prctl, seccomp))
}

/// Recognizes a filter install at syscall entry and reads its program.
fn install_at_entry(tid: pid_t, audit_arch: u32, nr: u64, args: &[u64; 6]) -> Option<PendingInstall> {
    let (call_arch, prctl, seccomp) = install_syscalls(audit_arch)?;
    let (call, mode, flags, fprog) = if nr == prctl && args[0] == PR_SET_SECCOMP {
        match args[1] {
            SECCOMP_MODE_STRICT => (InstallCall::Prctl, SeccompMode::Strict, 0, 0),
            SECCOMP_MODE_FILTER => (InstallCall::Prctl, SeccompMode::Filter, 0, args[2]),
            _ => return None,
        }
    } else if nr == seccomp {
        match args[0] {
            SECCOMP_SET_MODE_STRICT => (InstallCall::Seccomp, SeccompMode::Strict, args[1] as u32, 0),
            SECCOMP_SET_MODE_FILTER => {
                (InstallCall::Seccomp, SeccompMode::Filter, args[1] as u32, args[2])
            }
            _ => return None,
        }
    } else {
        return None;
    };
    // The process personality names the syscalls; a 64-bit process that
    // installs through `int 0x80` still runs mostly x86_64 syscalls.
    let arch = tracee::personality(tid).unwrap_or(call_arch);
    let insns = match mode {
        SeccompMode::Strict => strict_mode_filter(arch),
        SeccompMode::Filter => read_fprog(tid, call_arch, fprog)?,
    };
    Some(PendingInstall {
        call,
        mode,
        flags,
        arch,
        insns,
    })
}

/// Reads a `struct sock_fprog { unsigned short len; struct sock_filter *filter; }`
/// laid out for the calling convention `arch` (compat: 4-byte pointer).
fn read_fprog(tid: pid_t, arch: Arch, addr: u64) -> Option<Vec<RawInsn>> {
    let order = arch.byte_order();
    let ptr_size = if arch.is_64bit() { 8 } else { 4 };
    let head = tracee::read_memory(tid, addr, 2 * ptr_size).ok()?;
    let len = match order {
        ByteOrder::Little => u16::from_le_bytes([head[0], head[1]]),
        ByteOrder::Big => u16::from_be_bytes([head[0], head[1]]),
    } as usize;
    let p = &head[ptr_size..2 * ptr_size];
    let filter = match (ptr_size, order) {
        (8, ByteOrder::Little) => u64::from_le_bytes(p.try_into().ok()?),
        (8, ByteOrder::Big) => u64::from_be_bytes(p.try_into().ok()?),
        (_, ByteOrder::Little) => u32::from_le_bytes(p.try_into().ok()?) as u64,
        (_, ByteOrder::Big) => u32::from_be_bytes(p.try_into().ok()?) as u64,
    };
    if len == 0 {
        return None; // the kernel rejects it with EINVAL
    }
    let bytes = tracee::read_memory(tid, filter, len * 8).ok()?;
    syscage::bpf::codec::decode(&bytes, order).ok()
}

/// Whether the install syscall's return value means success. seccomp(2)
/// with `NEW_LISTENER` returns a file descriptor; with `TSYNC` a failure
/// can be a positive thread id, so only 0 is success otherwise.
fn install_succeeded(p: &PendingInstall, rval: i64) -> bool {
    if p.call == InstallCall::Seccomp && p.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
        rval >= 0
    } else {
        rval == 0
    }
}

/// Result of [`dump_pid`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PidDump {
    /// The thread dumped.
    pub pid: pid_t,
    /// Its seccomp mode (`None`: seccomp is off, there are no filters).
    pub mode: Option<SeccompMode>,
    /// Its filters, oldest first.
    pub filters: Vec<DumpedFilter>,
}

/// Reads `Seccomp:` of `/proc/PID/status` (0 off, 1 strict, 2 filter).
fn proc_seccomp_mode(pid: pid_t) -> Result<u32, DumpError> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            DumpError::NoSuchProcess(pid)
        } else {
            DumpError::Status {
                pid,
                detail: e.to_string(),
            }
        }
    })?;
    status_field(&text, "Seccomp")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DumpError::Status {
            pid,
            detail: "no 'Seccomp:' line (kernel without CONFIG_SECCOMP?)".into(),
        })
}

fn status_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Why this process may not read filters: missing `CAP_SYS_ADMIN` or
/// being under seccomp itself (`None` when neither).
fn own_privilege_problem() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let cap = status_field(&text, "CapEff").and_then(|v| u64::from_str_radix(v, 16).ok());
    const CAP_SYS_ADMIN: u32 = 21;
    if cap.is_some_and(|c| c & (1 << CAP_SYS_ADMIN) == 0) {
        return Some(": CAP_SYS_ADMIN is not in this process's effective capabilities".into());
    }
    if status_field(&text, "Seccomp").is_some_and(|m| m != "0") {
        return Some(": this process runs under a seccomp filter".into());
    }
    None
}

/// Every seccomp filter of the live thread `pid`, oldest first, with the
/// flags the kernel keeps (`LOG`). Attaches with `PTRACE_SEIZE` +
/// `PTRACE_INTERRUPT`, reads with `PTRACE_SECCOMP_GET_FILTER` and
/// `PTRACE_GET_SECCOMP_METADATA`, detaches: the process goes on unchanged.
/// A process in strict mode gets the equivalent filter.
///
/// Filters are per thread; this reads those of thread `pid` (a process's
/// main thread when given a pid).
pub fn dump_pid(pid: pid_t) -> Result<PidDump, DumpError> {
    if pid <= 0 {
        return Err(DumpError::NoSuchProcess(pid));
    }
    let mode = proc_seccomp_mode(pid)?;
    if mode == 0 {
        return Ok(PidDump {
            pid,
            mode: None,
            filters: Vec::new(),
        });
    }
    if mode == 2 {
        if let Some(detail) = own_privilege_problem() {
            return Err(DumpError::NotPermitted { pid, detail });
        }
    }
    match tracee::seize_and_interrupt(pid) {
        Ok(true) => {}
        Ok(false) => return Err(DumpError::ExitedDuringDump(pid)),
        Err(e) => {
            return Err(match e.errno() {
                Some(libc::ESRCH) => {
                    if std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        DumpError::ExitedDuringDump(pid)
                    } else {
                        DumpError::NoSuchProcess(pid)
                    }
                }
                Some(errno @ (libc::EPERM | libc::EACCES)) => DumpError::Attach {
                    pid,
                    source: io::Error::from_raw_os_error(errno),
                },
                _ => e.into(),
            })
        }
    }
    let result = read_filters(pid, mode);
    // Detach whatever happened; a tracee that died is not an error here.
    match tracee::detach(pid) {
        Err(e) if e.errno() != Some(libc::ESRCH) && result.is_ok() => return Err(e.into()),
        _ => {}
    }
    result
}

fn read_filters(pid: pid_t, mode: u32) -> Result<PidDump, DumpError> {
    let arch = tracee::personality(pid).map_err(|e| gone_or(pid, e))?;
    if mode == 1 {
        return Ok(PidDump {
            pid,
            mode: Some(SeccompMode::Strict),
            filters: vec![DumpedFilter {
                pid,
                order: 1,
                call: InstallCall::Unknown,
                mode: SeccompMode::Strict,
                flags: 0,
                arch,
                insns: strict_mode_filter(arch),
            }],
        });
    }
    let mut filters = Vec::new();
    let native = ByteOrder::native();
    for index in 0u64.. {
        let raw = match tracee::seccomp_filter(pid, index) {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) if matches!(e.errno(), Some(libc::EACCES | libc::EPERM)) => {
                return Err(DumpError::NotPermitted {
                    pid,
                    detail: format!(" ({e})"),
                })
            }
            Err(e) => return Err(gone_or(pid, e)),
        };
        let flags = tracee::seccomp_metadata(pid, index).map_err(|e| gone_or(pid, e))? as u32;
        let bytes: Vec<u8> = raw.concat();
        // The kernel hands back `struct sock_filter` in host order.
        let insns = syscage::bpf::codec::decode(&bytes, native).unwrap_or_default();
        filters.push(DumpedFilter {
            pid,
            order: index as usize + 1,
            call: InstallCall::Unknown,
            mode: SeccompMode::Filter,
            flags,
            arch,
            insns,
        });
    }
    Ok(PidDump {
        pid,
        mode: Some(SeccompMode::Filter),
        filters,
    })
}

fn gone_or(pid: pid_t, e: TraceError) -> DumpError {
    if e.errno() == Some(libc::ESRCH) {
        DumpError::ExitedDuringDump(pid)
    } else {
        e.into()
    }
}
