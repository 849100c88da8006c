//! `dump -- CMD`: run a program under ptrace and catch its filter installs.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use libc::pid_t;
use syscage::arch::Arch;
use syscage::bpf::{ByteOrder, RawInsn};

use super::{
    strict_mode_filter, DumpError, DumpedFilter, InstallCall, SeccompMode, PR_SET_SECCOMP,
    SECCOMP_MODE_FILTER, SECCOMP_MODE_STRICT, SECCOMP_SET_MODE_FILTER, SECCOMP_SET_MODE_STRICT,
};
use crate::filter_flags::FilterFlags;
use crate::forward::Forwarding;
use crate::tracee::{self, StdinMode, Stop, SyscallStop};

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
    flags: FilterFlags,
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
        state
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .live
            .insert(root);
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
    // A thread id: SIGKILL kills its whole process. It may be gone.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(tid),
        nix::sys::signal::Signal::SIGKILL,
    );
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
    // After the spawn (the program must not inherit the blocked mask),
    // before the watchdog's thread (which must).
    let forwarding = Forwarding::start();
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
    // Numbers of prctl and seccomp per calling convention, looked up once.
    let mut install_nrs: HashMap<(u32, Option<Arch>), Option<InstallNrs>> = HashMap::new();
    let result = (|| -> Result<(), DumpError> {
        tracee::resume_syscall(root, 0)?;
        while let Some(stop) = next_stop(&forwarding, root, end.is_none(), &watchdog, &threads)? {
            // After the limit or the timeout, every tracee that stops is
            // killed, so children forked meanwhile do not run on.
            let stopping = limit_hit || watchdog.with(|s| s.fired);
            let resume = |tid: pid_t, sig: i32| {
                if stopping {
                    kill_tree_member(tid);
                }
                tracee::resume_syscall(tid, sig)
            };
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
                    resume(tid, 0)?;
                }
                Stop::Event { tid, event, msg } => {
                    let msg = msg as pid_t;
                    match event {
                        tracee::PTRACE_EVENT_FORK
                        | tracee::PTRACE_EVENT_VFORK
                        | tracee::PTRACE_EVENT_CLONE => {
                            // The child is tracked at its first stop
                            // (Stop::NewChild), which may come before or
                            // after this event; the watchdog knows it now.
                            watchdog.with(|s| s.live.insert(msg));
                        }
                        tracee::PTRACE_EVENT_EXEC if msg != tid => {
                            // A non-leader thread exec'd and took over the
                            // leader's tid; its old tid is gone.
                            let old = threads.remove(&msg).unwrap_or_default();
                            watchdog.with(|s| s.live.remove(&msg));
                            threads.insert(tid, old);
                        }
                        _ => {}
                    }
                    resume(tid, 0)?;
                }
                Stop::GroupStop { tid, .. } => resume(tid, 0)?,
                Stop::Signal { tid, sig } => resume(tid, sig)?,
                Stop::Syscall { tid } => {
                    let state = track(&mut threads, &watchdog, tid);
                    let at_entry = state.at_entry;
                    match tracee::syscall_stop(tid, Some(at_entry)) {
                        Ok(SyscallStop::Entry {
                            audit_arch,
                            nr,
                            args,
                        }) => {
                            state.at_entry = false;
                            let nrs = *install_nrs
                                .entry((audit_arch, call_arch(audit_arch, nr)))
                                .or_insert_with(|| install_syscalls(audit_arch, nr));
                            state.pending =
                                nrs.and_then(|nrs| install_at_entry(tid, nrs, nr, &args));
                        }
                        Ok(SyscallStop::Exit { rval, .. }) => {
                            state.at_entry = true;
                            let pending = state.pending.take();
                            if let Some(p) = pending.filter(|p| install_succeeded(p, rval)) {
                                if !limit_hit {
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
                    if !limit_hit && opts.limit.is_some_and(|l| filters.len() >= l) {
                        limit_hit = true;
                        watchdog.with(|s| s.live.iter().for_each(|&t| kill_tree_member(t)));
                    }
                    resume(tid, 0)?;
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

/// The next stop of any tracee, `None` when none is left; meanwhile passes
/// the termination signals syscage receives on to the program (its first
/// process while it lives, then every process of it), as `record` does.
fn next_stop(
    forwarding: &Forwarding,
    root: pid_t,
    root_alive: bool,
    watchdog: &Watchdog,
    threads: &HashMap<pid_t, ThreadState>,
) -> Result<Option<Stop>, DumpError> {
    loop {
        if forwarding.noted() {
            let live = watchdog.with(|s| s.live.clone());
            forwarding.pass_on(root, root_alive, &live);
        }
        match tracee::waitpid_status(-1, libc::__WALL | libc::WNOHANG) {
            Ok(Some((tid, status))) => {
                return Ok(Some(tracee::classify(tid, status, &mut |t| {
                    !threads.contains_key(&t)
                })));
            }
            Ok(None) => forwarding.sleep(None),
            Err(e) => match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(None),
                _ => return Err(tracee::TraceError::Wait(e).into()),
            },
        }
    }
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

/// A calling convention and its numbers of prctl and seccomp.
type InstallNrs = (Arch, u64, u64);

/// The calling convention of a syscall stop: [`Arch::classify`] of its
/// audit arch and (32-bit) number, x32 on x86_64's audit arch for x32
/// numbers.
fn call_arch(audit_arch: u32, nr: u64) -> Option<Arch> {
    Arch::classify(audit_arch, nr as u32).map(|(a, _)| a)
}

/// The calling convention of a syscall stop and its numbers of prctl and
/// seccomp.
fn install_syscalls(audit_arch: u32, nr: u64) -> Option<InstallNrs> {
    let arch = call_arch(audit_arch, nr)?;
    let prctl = arch.syscall_nr("prctl")? as u64;
    let seccomp = arch.syscall_nr("seccomp")? as u64;
    Some((arch, prctl, seccomp))
}

/// Recognizes a filter install at syscall entry and reads its program.
fn install_at_entry(
    tid: pid_t,
    (call_arch, prctl, seccomp): InstallNrs,
    nr: u64,
    args: &[u64; 6],
) -> Option<PendingInstall> {
    let (call, mode, flags, fprog) = if nr == prctl && args[0] == PR_SET_SECCOMP {
        match args[1] {
            SECCOMP_MODE_STRICT => (
                InstallCall::Prctl,
                SeccompMode::Strict,
                FilterFlags::empty(),
                0,
            ),
            SECCOMP_MODE_FILTER => (
                InstallCall::Prctl,
                SeccompMode::Filter,
                FilterFlags::empty(),
                args[2],
            ),
            _ => return None,
        }
    } else if nr == seccomp {
        match args[0] {
            SECCOMP_SET_MODE_STRICT => {
                let flags = FilterFlags::from_bits_retain(args[1] as u32);
                (InstallCall::Seccomp, SeccompMode::Strict, flags, 0)
            }
            SECCOMP_SET_MODE_FILTER => (
                InstallCall::Seccomp,
                SeccompMode::Filter,
                FilterFlags::from_bits_retain(args[1] as u32),
                args[2],
            ),
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
/// laid out for the calling convention `arch`: compat calls (i386, x32,
/// 32-bit arches) use `struct compat_sock_fprog` with a 4-byte pointer.
fn read_fprog(tid: pid_t, arch: Arch, addr: u64) -> Option<Vec<RawInsn>> {
    let order = arch.byte_order();
    let compat = arch == Arch::X32 || !arch.is_64bit();
    let ptr_size = if compat { 4 } else { 8 };
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
    if p.call == InstallCall::Seccomp && p.flags.contains(FilterFlags::NEW_LISTENER) {
        rval >= 0
    } else {
        rval == 0
    }
}
