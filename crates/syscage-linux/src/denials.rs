//! Naming every syscall a filter refused with an errno, exactly, through
//! the filter itself: the filter `run` installs returns
//! `SECCOMP_RET_USER_NOTIF` wherever the policy says `SECCOMP_RET_ERRNO`,
//! and a supervisor thread holding the listener answers each notification
//! with the errno the original filter gives (found by running the original
//! program on the notification's `seccomp_data` in syscage's emulator) and
//! counts it. Allowed syscalls never reach it: they cost nothing more.
//!
//! The listener is handed over as `record` does (see
//! [`crate::record`]'s `listen`): the child publishes its fd number in a
//! shared page and spins without a syscall until the parent has copied it
//! with `pidfd_getfd(2)`, so that no refused syscall waits for a listener
//! nobody holds. Where the kernel refuses a second listener in the chain
//! (`EBUSY`: an inherited filter has one, e.g. syscage under syscage), the
//! child installs the original filter instead and says so.
//!
//! Once the program has ended the listener is closed: a process it left
//! behind then gets `ENOSYS` for a refused syscall instead of its errno.

use crate::install::{FilterFlags, InstallOptions};
use crate::shared_memory::SharedMemory;
use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use syscage::action::Action;
use syscage::bpf::data::SeccompData;
use syscage::bpf::Program;
use syscage::compile::{compile, CompileOptions};
use syscage::policy::Policy;

/// What [`Handoff::fd`] holds when the child installed the original filter
/// because the kernel refused a listener (`EBUSY`).
pub(crate) const NO_LISTENER: i32 = -2;

/// The page the child and the parent share before `execve`.
#[repr(C)]
pub(crate) struct Handoff {
    /// The listener's fd number in the child (-1 until installed).
    pub fd: AtomicI32,
    /// Set to 1 by the parent once it holds the listener.
    pub go: AtomicI32,
}

/// The filter to install in place of `original`, and the original itself.
#[derive(Clone, Debug)]
pub struct Routing {
    /// The program with each ERRNO return turned into USER_NOTIF.
    pub routed: Vec<libc::sock_filter>,
    /// The policy's own program, which says each errno.
    pub original: Program,
}

impl Routing {
    /// The routing for `policy`, compiled to `original`: `Ok(None)` when
    /// the policy refuses nothing with an errno; `Err` with the reason
    /// when refusals cannot be named here.
    pub fn for_policy(
        policy: &Policy,
        original: &Program,
        opts: &InstallOptions,
    ) -> Result<Option<Routing>, &'static str> {
        let any = policy
            .decided_actions()
            .any(|a| matches!(a, Action::Errno(_)));
        if !any {
            return Ok(None);
        }
        if opts.flags.contains(FilterFlags::TSYNC) {
            return Err("TSYNC filters are not routed to a listener");
        }
        if !supported() {
            return Err("this kernel lacks SECCOMP_RET_USER_NOTIF or pidfd_getfd(2) (Linux 5.6)");
        }
        let notify = |a: Action| {
            if matches!(a, Action::Errno(_)) {
                Action::UserNotif
            } else {
                a
            }
        };
        let mut routed = policy.clone();
        routed
            .map_actions(notify)
            .map_err(|_| "the routed filter has an invalid action")?;
        let prog = compile(&routed, &CompileOptions::default())
            .map_err(|_| "the routed filter does not compile")?;
        let mut listener = *opts;
        listener.flags |= FilterFlags::NEW_LISTENER;
        if crate::install::check(&prog, &listener).is_err() {
            return Err("the kernel would refuse the filter with a listener");
        }
        Ok(Some(Routing {
            routed: crate::install::raw_filter(&prog),
            original: original.clone(),
        }))
    }
}

/// Whether refused syscalls can be named here: `SECCOMP_RET_USER_NOTIF`
/// and `pidfd_getfd(2)` (Linux 5.6).
pub fn supported() -> bool {
    let notif = crate::probe::action_available(Action::UserNotif).unwrap_or(false);
    notif && crate::pidfd::copy_fd_available()
}

/// One refused syscall, counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// Number as the filter saw it.
    pub nr: u32,
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    /// The errno it got.
    pub errno: u16,
    /// How many times.
    pub count: u64,
    /// The first caller's thread id.
    pub first_pid: u32,
    /// Its `comm` (empty if it was gone).
    pub first_comm: String,
}

/// What the run learned of refused syscalls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denials {
    /// Not asked for (no errno in the filter, or strict mode).
    NotAsked,
    /// Every refusal, by syscall, arch and errno (empty: none).
    Named(Vec<Denial>),
    /// Refusals could not be named, and why.
    NotNamed(&'static str),
}

/// The supervisor thread.
pub(crate) struct Supervisor {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Denial>>,
}

impl Supervisor {
    /// Starts answering notifications on `listener`.
    pub(crate) fn start(listener: OwnedFd, original: Program) -> Supervisor {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || serve(&listener, &original, &flag));
        Supervisor { stop, thread }
    }

    /// Stops (after the program ended) and returns what was refused.
    pub(crate) fn finish(self) -> Vec<Denial> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

type Key = (u32, u32, u16);

fn serve(listener: &OwnedFd, original: &Program, stop: &AtomicBool) -> Vec<Denial> {
    let mut seen: BTreeMap<Key, Denial> = BTreeMap::new();
    let order = syscage::arch::Arch::native().byte_order();
    loop {
        let mut pfd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 50) };
        if n <= 0 {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            continue;
        }
        if pfd.revents & libc::POLLIN == 0 {
            // POLLHUP: no task uses the filter any more.
            break;
        }
        let Ok(n) = crate::notify::recv(listener.as_fd()) else {
            continue;
        };
        let errno = errno_of(original, &n.data, order);
        let _ = crate::notify::respond(
            listener.as_fd(),
            n.id,
            crate::notify::Response::Errno(i32::from(errno)),
        );
        let d = seen
            .entry((n.data.nr, n.data.arch, errno))
            .or_insert_with(|| Denial {
                nr: n.data.nr,
                arch: n.data.arch,
                errno,
                count: 0,
                first_pid: n.pid,
                first_comm: std::fs::read_to_string(format!("/proc/{}/comm", n.pid))
                    .map(|c| c.trim_end().to_string())
                    .unwrap_or_default(),
            });
        d.count += 1;
    }
    seen.into_values().collect()
}

/// The errno the original filter gives `data` (EPERM if, against every
/// expectation, it does not say ERRNO).
fn errno_of(original: &Program, data: &SeccompData, order: syscage::bpf::ByteOrder) -> u16 {
    match syscage::emu::run(original, data, order).map(|o| o.action) {
        Ok(Action::Errno(e)) => e,
        _ => libc::EPERM as u16,
    }
}

/// Parent side: waits for the child's listener fd number, copies the fd
/// and lets the child go on. `Ok(None)`: the child installed the original
/// filter (a listener was refused).
pub(crate) fn take_listener(
    pid: libc::pid_t,
    handoff: &SharedMemory<Handoff>,
) -> std::io::Result<Option<OwnedFd>> {
    let h = handoff.as_ptr();
    let fd = loop {
        // SAFETY: `h` points into the shared page, alive for this call.
        let fd = unsafe { (*h).fd.load(Ordering::SeqCst) };
        if fd >= 0 || fd == NO_LISTENER {
            break fd;
        }
        // The child may have failed before (its report says why).
        let gone = child_ended(pid);
        if gone {
            return Err(std::io::Error::from_raw_os_error(libc::ECHILD));
        }
        std::thread::sleep(std::time::Duration::from_micros(20));
    };
    if fd == NO_LISTENER {
        return Ok(None);
    }
    let copied = crate::pidfd::open(pid).and_then(|pidfd| crate::pidfd::copy_fd(pidfd.as_fd(), fd));
    // SAFETY: as above. Without our copy, the child stacks the original
    // filter on the routed one: its ERRNO outranks USER_NOTIF, so every
    // refused call still gets its errno (unnamed), never ENOSYS.
    unsafe {
        (*h).go.store(
            if copied.is_ok() { GO } else { GO_WITHOUT },
            Ordering::SeqCst,
        )
    };
    copied.map(Some)
}

/// Whether our child `pid` has ended (`waitid(WEXITED | WNOHANG |
/// WNOWAIT)`: it is left to be reaped, with its status, by the caller).
fn child_ended(pid: libc::pid_t) -> bool {
    use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(nix::unistd::Pid::from_raw(pid)), flags) {
        Ok(WaitStatus::StillAlive) => false,
        Ok(status) => status.pid() == Some(nix::unistd::Pid::from_raw(pid)),
        // Killed by a real-time signal, which nix's `Signal` cannot name:
        // it has ended all the same.
        Err(nix::errno::Errno::EINVAL) => true,
        Err(_) => false,
    }
}

/// [`Handoff::go`]: the parent holds the listener.
pub(crate) const GO: i32 = 1;
/// [`Handoff::go`]: the parent could not copy it; the child must stack
/// the original filter.
pub(crate) const GO_WITHOUT: i32 = 2;

/// Child side, right after installing: publishes the listener (or
/// [`NO_LISTENER`]) and, with a listener, spins without a syscall until
/// the parent says [`GO`] or [`GO_WITHOUT`], which it returns (0 without
/// a listener).
///
/// # Safety
/// `h` points into the shared page; call it in the forked child only.
pub(crate) unsafe fn publish(h: *mut Handoff, fd: i32) -> i32 {
    // SAFETY: the caller guarantees `h` is the live shared page.
    unsafe {
        (*h).fd.store(fd, Ordering::SeqCst);
        if fd < 0 {
            return 0;
        }
        loop {
            let go = (*h).go.load(Ordering::SeqCst);
            if go != 0 {
                return go;
            }
            std::hint::spin_loop();
        }
    }
}
