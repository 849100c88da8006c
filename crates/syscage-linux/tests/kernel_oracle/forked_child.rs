//! The forked child that makes the calls under the filters: the memory it
//! shares with the test process, its SIGSYS handler, the caller thread
//! (baseline, then filtered calls), the TSYNC installer, the user-notification
//! supervisor, and how the test process reaps it.

use super::calls::Call;
use crate::child;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicPtr, AtomicU32, Ordering};
use syscage_linux::install::{self, InstallOptions};
use syscage_linux::shared_memory::SharedMemory;

const MAX_CALLS: usize = 128;
/// What the user-notification supervisor answers.
pub const NOTIF_VALUE: i64 = 0x5ecc;

pub const ST_STARTED: u32 = 1;
pub const ST_RETURNED: u32 = 2;

#[repr(C)]
pub struct Slot {
    pub state: AtomicU32,
    pub trapped: AtomicU32,
    pub ret: AtomicI64,
    pub baseline: AtomicI64,
    pub si_nr: AtomicU32,
    pub si_arch: AtomicU32,
    pub si_errno: AtomicI32,
}

/// Memory shared between the test process and its child (MAP_SHARED).
#[repr(C)]
pub struct Shared {
    pub finished: AtomicU32,
    pub thread_died: AtomicU32,
    pub install_errno: AtomicI32,
    pub listener: AtomicI32,
    pub baseline_done: AtomicU32,
    pub installed: AtomicU32,
    pub current: AtomicU32,
    /// 1 + number of a syscall trapped outside a call (0: none).
    pub stray: AtomicI32,
    /// The main thread is done with syscalls (it only spins from then on).
    pub main_ready: AtomicU32,
    /// The caller is stuck in a nested SIGSYS handler.
    pub stuck: AtomicU32,
    /// Process id of the child (audit records name the thread group).
    pub caller_pid: AtomicI32,
    pub slots: [Slot; MAX_CALLS],
}

static SHARED: AtomicPtr<Shared> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// Set by the caller thread around each call: SIGSYS outside a call
    /// (another thread's, under TSYNC) is not the call's.
    static IN_CALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub fn shared_map() -> &'static Shared {
    let memory = SharedMemory::<Shared>::new().expect("mmap");
    let p = memory.as_ptr();
    // Never unmapped, so 'static holds.
    std::mem::forget(memory);
    // SAFETY: all-zero is a valid Shared (atomics), and the mapping lives
    // as long as the process.
    unsafe { &*p }
}

pub fn reset(s: &Shared) {
    // SAFETY: only the test process touches the mapping between children.
    unsafe { std::ptr::write_bytes(s as *const Shared as *mut Shared, 0, 1) };
}

extern "C" fn on_sigsys(_sig: i32, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo; SHARED was set before any filter.
    let (s, info) = unsafe { (&*SHARED.load(Ordering::Relaxed), &*info) };
    if !IN_CALL.with(|c| c.get()) {
        s.stray.store(
            syscage_linux::runner::sigsys_fields(info).0 as i32 + 1,
            Ordering::Relaxed,
        );
        return;
    }
    let slot = &s.slots[s.current.load(Ordering::Relaxed) as usize];
    if slot.trapped.load(Ordering::Relaxed) != 0 {
        // A second SIGSYS within the call: its rt_sigreturn was trapped too.
        // Keep the first and stop here; the test process ends the child.
        s.stuck.store(1, Ordering::Release);
        loop {
            std::hint::spin_loop();
        }
    }
    let (nr, arch) = syscage_linux::runner::sigsys_fields(info);
    slot.si_nr.store(nr, Ordering::Relaxed);
    slot.si_arch.store(arch, Ordering::Relaxed);
    slot.si_errno.store(info.si_errno, Ordering::Relaxed);
    slot.trapped.store(1, Ordering::Release);
}

/// One child's job.
pub struct Job<'a> {
    pub filters: &'a [(Vec<libc::sock_filter>, InstallOptions)],
    pub calls: &'a [Call],
    pub start: usize,
    /// Make the calls from a sibling thread that the installer syncs with TSYNC.
    pub tsync_sibling: bool,
}

fn spin_until(flag: &AtomicU32) {
    while flag.load(Ordering::Acquire) == 0 {
        std::hint::spin_loop();
    }
}

/// The thread that makes the calls: baseline unfiltered, then filtered.
fn caller(s: &'static Shared, job: &Job<'_>, install_here: bool) {
    // SAFETY: getpid takes no argument (no filter yet).
    s.caller_pid
        .store(unsafe { libc::getpid() }, Ordering::Release);
    for i in job.start..job.calls.len() {
        s.slots[i]
            .baseline
            .store(job.calls[i].make(), Ordering::Relaxed);
    }
    s.baseline_done.store(1, Ordering::Release);
    if install_here {
        install_all(s, job);
    } else {
        spin_until(&s.installed);
    }
    if s.install_errno.load(Ordering::Acquire) != 0 {
        s.finished.store(1, Ordering::Release);
        loop {
            std::hint::spin_loop();
        }
    }
    for i in job.start..job.calls.len() {
        let slot = &s.slots[i];
        s.current.store(i as u32, Ordering::Relaxed);
        slot.state.store(ST_STARTED, Ordering::Release);
        IN_CALL.with(|c| c.set(true));
        let r = job.calls[i].make();
        IN_CALL.with(|c| c.set(false));
        slot.ret.store(r, Ordering::Relaxed);
        slot.state.store(ST_RETURNED, Ordering::Release);
    }
    s.finished.store(1, Ordering::Release);
    // Exiting the thread would make syscalls the filter may refuse: wait to be ended.
    loop {
        std::hint::spin_loop();
    }
}

/// Installs the filters in order (oldest first), without allocating.
fn install_all(s: &Shared, job: &Job<'_>) {
    for (raw, opts) in job.filters {
        match install::install_raw(raw, opts) {
            Ok(got) => {
                if let Some(fd) = got.listener {
                    use std::os::fd::IntoRawFd;
                    s.listener.store(fd.into_raw_fd(), Ordering::Release);
                }
            }
            Err(syscage_linux::Error::Sys { source, .. }) => {
                s.install_errno
                    .store(source.raw_os_error().unwrap_or(-1), Ordering::Release);
                break;
            }
            Err(_) => {
                s.install_errno.store(-1, Ordering::Release);
                break;
            }
        }
    }
    s.installed.store(1, Ordering::Release);
}

/// Answers every user notification with NOTIF_VALUE.
fn supervisor(s: &'static Shared) {
    loop {
        let fd = s.listener.load(Ordering::Acquire);
        if fd > 0 {
            // SAFETY: the caller thread published a listener fd that stays open.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            while let Ok(n) = syscage_linux::notify::recv(fd) {
                let _ = syscage_linux::notify::respond(
                    fd,
                    n.id,
                    syscage_linux::notify::Response::Value(NOTIF_VALUE),
                );
            }
            return;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

fn pthread_dead(t: libc::pthread_t) -> bool {
    // SAFETY: `t` is a joinable thread of this process, joined at most once
    // (the caller stops asking after a 0).
    unsafe { libc::pthread_tryjoin_np(t, std::ptr::null_mut()) == 0 }
}

/// The child: threads first (no filter yet), then the job; never returns.
pub fn child_main(s: &'static Shared, job: &Job<'_>) -> ! {
    use std::os::unix::thread::JoinHandleExt;
    SHARED.store(s as *const Shared as *mut Shared, Ordering::Relaxed);
    // SAFETY: a SA_SIGINFO handler that only stores into the shared mapping.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
    }
    if !job.tsync_sibling {
        // Under TSYNC every thread gets the filter: no supervisor then, and
        // this thread makes no syscall once the filter may be there.
        std::thread::spawn(move || supervisor(s));
    }
    let job_ptr = job as *const Job<'_> as usize;
    let caller_thread = if job.tsync_sibling {
        // The caller only calls; an installer thread installs with TSYNC.
        let c = std::thread::spawn(move || {
            // SAFETY: the job outlives the child, which ends in this function.
            caller(s, unsafe { &*(job_ptr as *const Job<'_>) }, false)
        });
        std::thread::spawn(move || {
            spin_until(&s.baseline_done);
            spin_until(&s.main_ready);
            // SAFETY: as above.
            install_all(s, unsafe { &*(job_ptr as *const Job<'_>) });
            loop {
                std::hint::spin_loop();
            }
        });
        c
    } else {
        // SAFETY: as above.
        std::thread::spawn(move || caller(s, unsafe { &*(job_ptr as *const Job<'_>) }, true))
    };
    let t = caller_thread.as_pthread_t();
    std::mem::forget(caller_thread);
    // pthread_create restores the signal mask after clone: the TSYNC
    // installer waits until this thread is past every syscall of its own.
    s.main_ready.store(1, Ordering::Release);
    // No syscall from here on (under TSYNC this thread is filtered too):
    // the test process ends the child once a flag says it is done.
    loop {
        if pthread_dead(t) {
            s.thread_died.store(1, Ordering::Release);
            loop {
                std::hint::spin_loop();
            }
        }
        std::hint::spin_loop();
    }
}

/// Waits for the child to die, or kills it once it is done (all calls
/// made, its caller thread killed, or stuck in a nested SIGSYS).
pub fn reap(s: &Shared, pid: i32, label: &str) -> child::Ended {
    let start = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: polls our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return if libc::WIFEXITED(status) {
                child::Ended::Exit(libc::WEXITSTATUS(status))
            } else {
                child::Ended::Signal(libc::WTERMSIG(status))
            };
        }
        let done = [&s.finished, &s.stuck, &s.thread_died]
            .iter()
            .any(|f| f.load(Ordering::Acquire) != 0);
        let hung = start.elapsed() > std::time::Duration::from_secs(10);
        if done || hung {
            // SAFETY: kills our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let ended = child::wait(pid);
            assert!(
                !hung,
                "{label}: child hung at call {}",
                s.current.load(Ordering::Relaxed)
            );
            return ended;
        }
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}
