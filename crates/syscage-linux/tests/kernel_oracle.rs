//! The kernel as the oracle: for fixed and randomly generated policies,
//! compile, install in a forked child (never in the test process), make
//! real, harmless syscalls with chosen arguments (invalid file descriptors,
//! queries) and check that what the kernel did — return value or errno,
//! SIGSYS with its siginfo, a killed thread or process, a user
//! notification — is what the emulator predicts from the compiled program.
//!
//! Covered: x86_64 `syscall`, i386 `int 0x80` from the 64-bit process, x32
//! numbers (bit 30), arguments whose high 32 bits decide, every action the
//! kernel offers (USER_NOTIF with and without a listener, TRACE without a
//! tracer), stacked filters (the kernel's "most severe, newest first on a
//! tie"), and TSYNC (the filter installed by one thread, the calls made by
//! another). Seeds: `SYSCAGE_ORACLE_SEED` (default fixed), printed on failure.
#![cfg(target_arch = "x86_64")]

mod child;

use std::sync::atomic::{AtomicI32, AtomicI64, AtomicPtr, AtomicU32, Ordering};
use syscage::action::{Action, SECCOMP_RET_ACTION_FULL};
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::bpf::data::SeccompData;
use syscage::bpf::{ByteOrder, Program};
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{CmpOp, Condition, Policy, Rule};
use syscage_linux::install::{self, Flags, InstallOptions};

// ---------------------------------------------------------------- calls

/// How a syscall is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Abi {
    /// `syscall` with a plain number.
    X64,
    /// `syscall` with bit 30 set.
    X32,
    /// `int 0x80`.
    I386,
}

/// One syscall to make: the number as the filter sees it, and its arguments.
#[derive(Clone, Copy, Debug)]
struct Call {
    abi: Abi,
    nr: u32,
    args: [u64; 6],
}

impl Call {
    /// What the filter sees (compat arguments are 32-bit registers, zero-extended).
    fn data(&self) -> SeccompData {
        let arch = if self.abi == Abi::I386 {
            Arch::X86
        } else {
            Arch::X86_64
        };
        let mut args = self.args;
        if self.abi == Abi::I386 {
            for a in &mut args {
                *a &= 0xffff_ffff;
            }
        }
        SeccompData {
            nr: self.nr,
            arch: arch.audit(),
            instruction_pointer: 0,
            args,
        }
    }

    fn make(&self) -> i64 {
        match self.abi {
            Abi::X64 | Abi::X32 => raw_syscall(self.nr as u64, self.args),
            Abi::I386 => int80(self.nr, self.args) as i64,
        }
    }
}

fn raw_syscall(nr: u64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the oracle only makes syscalls that change nothing outside this
    // child (queries, calls on invalid file descriptors, unknown numbers).
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as i64 => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

fn int80(nr: u32, a: [u64; 6]) -> i32 {
    let ret: i32;
    // SAFETY: as raw_syscall; rbx and rbp, which the compiler reserves, are
    // saved and restored around the call; int 0x80 clobbers r8-r11.
    unsafe {
        std::arch::asm!(
            "push rbx",
            "push rbp",
            "mov ebx, {a0:e}",
            "mov ebp, {a5:e}",
            "int 0x80",
            "pop rbp",
            "pop rbx",
            a0 = in(reg) a[0] as u32,
            a5 = in(reg) a[5] as u32,
            inlateout("eax") nr as i32 => ret,
            in("ecx") a[1] as u32, in("edx") a[2] as u32,
            in("esi") a[3] as u32, in("edi") a[4] as u32,
            lateout("r8") _, lateout("r9") _, lateout("r10") _, lateout("r11") _,
        );
    }
    ret
}

/// Harmless syscalls per ABI: (name, needs a query value in arg 0).
/// Calls with a file descriptor get invalid ones (every generated argument
/// has low 32 bits ≥ 0x7000_0000, past any fd), `personality` only the
/// query 0xffffffff, and unknown numbers fail with ENOSYS.
const PROBES: [&str; 12] = [
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "close",
    "dup",
    "fchdir",
    "lseek",
    "fcntl",
    "personality",
];
const PROBES_I386: [&str; 12] = [
    "getpid",
    "getppid",
    "gettid",
    "getuid32",
    "geteuid32",
    "getgid32",
    "close",
    "dup",
    "fchdir",
    "lseek",
    "fcntl64",
    "personality",
];
/// A number no table has, on every ABI.
const UNKNOWN_NR: u32 = 999;

fn probe_names(abi: Abi) -> &'static [&'static str] {
    if abi == Abi::I386 {
        &PROBES_I386
    } else {
        &PROBES
    }
}

fn arch_of(abi: Abi) -> Arch {
    match abi {
        Abi::X64 => Arch::X86_64,
        Abi::X32 => Arch::X32,
        Abi::I386 => Arch::X86,
    }
}

// ---------------------------------------------------------------- RNG

/// SplitMix64: a small seeded generator, so every failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const LOW: [u64; 6] = [
    0x7000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xdead_beef,
    0xffff_ffff,
];
const HIGH: [u64; 5] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

fn value(rng: &mut Rng) -> u64 {
    (rng.pick(&HIGH) << 32) | rng.pick(&LOW)
}

fn random_action(rng: &mut Rng, notif: bool) -> Action {
    let data = |rng: &mut Rng| rng.pick(&[0u16, 1, 13, 38, 4095, 4096, 65535]);
    match rng.below(if notif { 9 } else { 8 }) {
        0 => Action::Allow,
        1 => Action::Log,
        2 => Action::Errno(data(rng)),
        3 => Action::Errno(data(rng)),
        4 => Action::Trap(data(rng)),
        5 => Action::Trace(data(rng)),
        6 => Action::KillThread,
        7 => Action::KillProcess,
        _ => Action::UserNotif,
    }
}

fn random_condition(rng: &mut Rng) -> Condition {
    let v = value(rng);
    let op = match rng.below(7) {
        0 => CmpOp::Eq(v),
        1 => CmpOp::Ne(v),
        2 => CmpOp::Lt(v),
        3 => CmpOp::Le(v),
        4 => CmpOp::Gt(v),
        5 => CmpOp::Ge(v),
        _ => {
            let mask = rng.pick(&[
                0xffff_ffff_0000_0000,
                0x8000_0000_8000_0000,
                0xffff_ffff,
                0x1,
                u64::MAX,
            ]);
            CmpOp::MaskedEq {
                mask,
                value: v & mask,
            }
        }
    };
    let arg = rng.below(6) as u8;
    if rng.chance(25) {
        Condition::new32(arg, op)
    } else {
        Condition::new(arg, op)
    }
}

fn random_policy(rng: &mut Rng, notif: bool, i386: bool) -> Policy {
    let mut pool = vec![Arch::X86_64, Arch::X32];
    if i386 {
        pool.push(Arch::X86);
    }
    let mut arches = Vec::new();
    while arches.is_empty() {
        for a in &pool {
            if rng.chance(60) {
                arches.push(*a);
            }
        }
    }
    let mut policy = Policy::new(random_action(rng, notif));
    policy.arches = arches;
    policy.bad_arch_action = random_action(rng, notif);
    if rng.chance(40) {
        policy.unknown_action = Some(random_action(rng, notif));
    }
    for _ in 0..rng.below(14) {
        let abi = rng.pick(&[Abi::X64, Abi::X32, Abi::I386]);
        let name = rng.pick(probe_names(abi));
        let mut rule = Rule::new(name, random_action(rng, notif));
        for _ in 0..rng.below(3) {
            rule = rule.with(random_condition(rng));
        }
        if rng.chance(20) {
            rule = rule.on_arch(rng.pick(&policy.arches));
        }
        policy.add_rule(rule);
    }
    policy
}

fn random_call(rng: &mut Rng, i386: bool) -> Call {
    let abis: &[Abi] = if i386 {
        &[Abi::X64, Abi::X64, Abi::X32, Abi::I386, Abi::I386]
    } else {
        &[Abi::X64, Abi::X64, Abi::X32]
    };
    let abi = rng.pick(abis);
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = value(rng);
    }
    let nr = if rng.chance(8) {
        UNKNOWN_NR | if abi == Abi::X32 { X32_SYSCALL_BIT } else { 0 }
    } else {
        let name = rng.pick(probe_names(abi));
        if name == "personality" {
            args[0] |= 0xffff_ffff;
        }
        arch_of(abi)
            .syscall_nr(name)
            .unwrap_or_else(|| panic!("{name} on {abi:?}"))
    };
    Call { abi, nr, args }
}

// ---------------------------------------------------------------- the child

const MAX_CALLS: usize = 128;
/// What the user-notification supervisor answers.
const NOTIF_VALUE: i64 = 0x5ecc;

const ST_STARTED: u32 = 1;
const ST_RETURNED: u32 = 2;

#[repr(C)]
struct Slot {
    state: AtomicU32,
    trapped: AtomicU32,
    ret: AtomicI64,
    baseline: AtomicI64,
    si_nr: AtomicU32,
    si_arch: AtomicU32,
    si_errno: AtomicI32,
}

/// Memory shared between the test process and its child (MAP_SHARED).
#[repr(C)]
struct Shared {
    finished: AtomicU32,
    thread_died: AtomicU32,
    install_errno: AtomicI32,
    listener: AtomicI32,
    baseline_done: AtomicU32,
    installed: AtomicU32,
    current: AtomicU32,
    /// 1 + number of a syscall trapped outside a call (0: none).
    stray: AtomicI32,
    /// The main thread is done with syscalls (it only spins from then on).
    main_ready: AtomicU32,
    /// The caller is stuck in a nested SIGSYS handler.
    stuck: AtomicU32,
    /// Process id of the child (audit records name the thread group).
    caller_pid: AtomicI32,
    slots: [Slot; MAX_CALLS],
}

static SHARED: AtomicPtr<Shared> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// Set by the caller thread around each call: SIGSYS outside a call
    /// (another thread's, under TSYNC) is not the call's.
    static IN_CALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn shared_map() -> &'static Shared {
    // SAFETY: a fresh anonymous shared mapping; all-zero is a valid Shared
    // (atomics); it is never unmapped, so 'static holds.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            std::mem::size_of::<Shared>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        &*(p as *const Shared)
    }
}

fn reset(s: &Shared) {
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
struct Job<'a> {
    filters: &'a [(Vec<libc::sock_filter>, InstallOptions)],
    calls: &'a [Call],
    start: usize,
    /// Make the calls from a sibling thread that the installer syncs with TSYNC.
    tsync_sibling: bool,
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
fn child_main(s: &'static Shared, job: &Job<'_>) -> ! {
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
fn reap(s: &Shared, pid: i32, label: &str) -> child::Ended {
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

// ---------------------------------------------------------------- outcomes

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Returned(i64),
    Trapped { nr: u32, arch: u32, errno: i32 },
    ThreadKilled,
    ProcessKilled,
}

/// Runs the calls in as many children as needed (a kill ends a child) and
/// returns what the kernel did for each, with the unfiltered baselines.
fn observe(
    label: &str,
    s: &'static Shared,
    filters: &[(Vec<libc::sock_filter>, InstallOptions)],
    calls: &[Call],
    tsync: bool,
) -> Vec<(Outcome, i64)> {
    let mut out = Vec::with_capacity(calls.len());
    let mut start = 0;
    while start < calls.len() {
        reset(s);
        let job = Job {
            filters,
            calls,
            start,
            tsync_sibling: tsync,
        };
        // SAFETY: the child runs child_main, which never returns (the test process kills it).
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            child_main(s, &job);
        }
        let ended = reap(s, pid, label);
        assert_eq!(
            s.install_errno.load(Ordering::Acquire),
            0,
            "{label}: the kernel refused a checked filter"
        );
        let mut progressed = false;
        let from = start;
        for i in from..calls.len() {
            let slot = &s.slots[i];
            let baseline = slot.baseline.load(Ordering::Relaxed);
            let state = slot.state.load(Ordering::Acquire);
            if state == 0 {
                break;
            }
            progressed = true;
            start = i + 1;
            if slot.trapped.load(Ordering::Acquire) != 0 {
                let o = Outcome::Trapped {
                    nr: slot.si_nr.load(Ordering::Relaxed),
                    arch: slot.si_arch.load(Ordering::Relaxed),
                    errno: slot.si_errno.load(Ordering::Relaxed),
                };
                out.push((o, baseline));
                if state == ST_STARTED {
                    // Killed after the handler, on its way back (rt_sigreturn refused).
                    break;
                }
                continue;
            }
            if state == ST_RETURNED {
                out.push((
                    Outcome::Returned(slot.ret.load(Ordering::Relaxed)),
                    baseline,
                ));
                continue;
            }
            let o = if s.thread_died.load(Ordering::Acquire) != 0 {
                Outcome::ThreadKilled
            } else {
                assert_eq!(
                    ended,
                    child::Ended::Signal(libc::SIGSYS),
                    "call {i} started and never returned"
                );
                Outcome::ProcessKilled
            };
            out.push((o, baseline));
            break;
        }
        assert!(progressed, "{label}: a child made no call (ended {ended:?}, tsync {tsync}, {} filters, start {start}, stray trap {})", filters.len(), s.stray.load(Ordering::Relaxed) - 1);
    }
    out
}

/// The kernel's choice among stacked filters: newest first, the lowest
/// action (as s32) wins, ties keep the newer. Returns (ret, winner index).
fn stacked_ret(programs: &[Program], data: &SeccompData) -> (u32, usize) {
    let mut best: Option<(u32, usize)> = None;
    for (i, p) in programs.iter().enumerate().rev() {
        let ret = syscage::emu::run(p, data, ByteOrder::Little)
            .expect("valid program")
            .ret;
        let rank = (ret & SECCOMP_RET_ACTION_FULL) as i32;
        if best.is_none_or(|(b, _)| rank < (b & SECCOMP_RET_ACTION_FULL) as i32) {
            best = Some((ret, i));
        }
    }
    best.expect("at least one filter")
}

fn predict(
    programs: &[Program],
    listener_at: Option<usize>,
    call: &Call,
    baseline: i64,
) -> Outcome {
    let data = call.data();
    let (ret, winner) = stacked_ret(programs, &data);
    match Action::from_ret(ret) {
        Action::Allow | Action::Log => Outcome::Returned(baseline),
        Action::Errno(d) => Outcome::Returned(-(d.min(4095) as i64)),
        Action::Trace(_) => Outcome::Returned(-(libc::ENOSYS as i64)),
        Action::UserNotif if listener_at == Some(winner) => Outcome::Returned(NOTIF_VALUE),
        Action::UserNotif => Outcome::Returned(-(libc::ENOSYS as i64)),
        Action::Trap(d) => Outcome::Trapped {
            nr: data.nr,
            arch: data.arch,
            errno: d as i32,
        },
        Action::KillThread => Outcome::ThreadKilled,
        Action::KillProcess => Outcome::ProcessKilled,
    }
}

// ---------------------------------------------------------------- set-up

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether `int 0x80` works in a 64-bit process here (IA32 emulation).
fn has_ia32() -> bool {
    let ended = child::in_child(|| {
        // SAFETY: getpid takes no argument.
        let me = unsafe { libc::getpid() };
        if int80(20, [0; 6]) == me {
            0
        } else {
            1
        }
    });
    let ok = ended == child::Ended::Exit(0);
    assert!(
        ok || !ci(),
        "CI needs IA32 emulation (int 0x80) for the i386 cases"
    );
    ok
}

fn require_kernel() -> bool {
    let ok = syscage_linux::probe::has_seccomp() && install::has_cap_sys_admin();
    assert!(ok || !ci(), "CI needs root and a kernel with seccomp");
    ok
}

fn seed() -> u64 {
    std::env::var("SYSCAGE_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5ecc_a9e0)
}

/// Compiles, checks, runs and compares one case; returns the number of filtered calls made.
fn check_case(
    s: &'static Shared,
    label: &str,
    policies: &[Policy],
    flags: &[Flags],
    calls: &[Call],
    tsync: bool,
) -> usize {
    let programs: Vec<Program> = policies
        .iter()
        .map(|p| {
            compile(p, &CompileOptions::default())
                .unwrap_or_else(|e| panic!("{label}: compile: {e}\n{p:#?}"))
        })
        .collect();
    for (p, prog) in policies.iter().zip(&programs) {
        for c in calls {
            let d = c.data();
            let emu = syscage::emu::run(prog, &d, ByteOrder::Little)
                .unwrap()
                .action;
            assert_eq!(
                emu,
                p.evaluate(&d),
                "{label}: compiled program disagrees with the policy on {c:?}"
            );
        }
    }
    let filters: Vec<(Vec<libc::sock_filter>, InstallOptions)> = programs
        .iter()
        .zip(flags)
        .enumerate()
        .map(|(i, (p, f))| {
            let opts = InstallOptions {
                flags: *f,
                no_new_privs: i == 0,
            };
            install::check(
                p,
                &InstallOptions {
                    no_new_privs: true,
                    ..opts
                },
            )
            .unwrap_or_else(|e| panic!("{label}: {e}"));
            (install::raw_filter(p), opts)
        })
        .collect();
    let listener_at = flags.iter().position(|f| f.new_listener);
    let observed = observe(label, s, &filters, calls, tsync);
    for (i, (got, baseline)) in observed.iter().enumerate() {
        let want = predict(&programs, listener_at, &calls[i], *baseline);
        assert_eq!(
            *got, want,
            "{label}: call {i} {:?} (baseline {baseline})",
            calls[i]
        );
    }
    observed.len()
}

// ---------------------------------------------------------------- tests

#[test]
fn fixed_policies_every_action_and_abi() {
    if !require_kernel() {
        return;
    }
    let i386 = has_ia32();
    let s = shared_map();
    let x64 = |name: &str, args: [u64; 6]| Call {
        abi: Abi::X64,
        nr: Arch::X86_64.syscall_nr(name).unwrap(),
        args,
    };
    let bad = 0xffff_ffffu64;
    // Every action on getppid; the high half of arg 0 of close decides.
    let actions = [
        Action::Allow,
        Action::Log,
        Action::Errno(0),
        Action::Errno(13),
        Action::Errno(5000),
        Action::Trap(9),
        Action::Trace(3),
        Action::UserNotif,
        Action::KillThread,
        Action::KillProcess,
    ];
    let mut made = 0;
    for (k, a) in actions.iter().enumerate() {
        for listener in [false, true] {
            let mut p = Policy::new(Action::Allow);
            p.arches = vec![Arch::X86_64];
            p.add_rule(Rule::new("getppid", *a));
            p.add_rule(
                Rule::new("close", Action::Errno(77))
                    .with(Condition::new(0, CmpOp::Ge(0x1_0000_0000))),
            );
            let flags = Flags {
                new_listener: listener,
                ..Flags::default()
            };
            let calls = [
                x64("close", [bad, 0, 0, 0, 0, 0]),
                x64("close", [(1 << 32) | bad, 0, 0, 0, 0, 0]),
                x64("getppid", [0; 6]),
                x64("getpid", [0; 6]),
            ];
            made += check_case(
                s,
                &format!("action {k} listener {listener}"),
                &[p],
                &[flags],
                &calls,
                false,
            );
        }
    }
    // An i386 policy and an x86_64 one: int 0x80 takes only the i386 rules.
    if i386 {
        let mut p = Policy::new(Action::Allow);
        p.arches = vec![Arch::X86_64, Arch::X86];
        p.add_rule(Rule::new("getpid", Action::Errno(11)).on_arch(Arch::X86));
        p.add_rule(Rule::new("getpid", Action::Errno(22)).on_arch(Arch::X86_64));
        let calls = [
            Call {
                abi: Abi::I386,
                nr: 20,
                args: [0; 6],
            },
            x64("getpid", [0; 6]),
            Call {
                abi: Abi::I386,
                nr: 39,
                args: [0; 6],
            },
        ];
        made += check_case(
            s,
            "i386 vs x86_64",
            &[p],
            &[Flags::default()],
            &calls,
            false,
        );
    }
    // x32 numbers without x32 in the policy: the bad-arch action.
    let mut p = Policy::new(Action::Allow);
    p.arches = vec![Arch::X86_64];
    p.bad_arch_action = Action::Errno(33);
    let calls = [
        Call {
            abi: Abi::X32,
            nr: 39 | X32_SYSCALL_BIT,
            args: [0; 6],
        },
        x64("getpid", [0; 6]),
    ];
    made += check_case(s, "x32 bad arch", &[p], &[Flags::default()], &calls, false);
    assert!(made >= 80, "{made}");
}

#[test]
fn log_action_writes_one_audit_record_per_logged_call() {
    if !require_kernel() {
        return;
    }
    let collector = match syscage_linux::audit::Collector::start_netlink() {
        Ok(c) => c,
        Err(e) => {
            assert!(!ci(), "CI runs as root without an audit daemon: {e}");
            return;
        }
    };
    let s = shared_map();
    let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
    let mut p = Policy::new(Action::Allow);
    p.arches = vec![Arch::X86_64];
    p.add_rule(Rule::new("getppid", Action::Log));
    p.add_rule(Rule::new("close", Action::Log).with(Condition::new(
        0,
        CmpOp::MaskedEq {
            mask: 1 << 32,
            value: 1 << 32,
        },
    )));
    let mut rng = Rng(seed());
    let calls: Vec<Call> = (0..40)
        .map(|_| {
            let name = rng.pick(&["getppid", "getpid", "close", "close"]);
            Call {
                abi: Abi::X64,
                nr: nr(name),
                args: [value(&mut rng), 0, 0, 0, 0, 0],
            }
        })
        .collect();
    let prog = compile(&p, &CompileOptions::default()).unwrap();
    let logged = calls
        .iter()
        .filter(|c| {
            syscage::emu::run(&prog, &c.data(), ByteOrder::Little)
                .unwrap()
                .action
                == Action::Log
        })
        .count();
    check_case(s, "log", &[p], &[Flags::default()], &calls, false);
    let pid = s.caller_pid.load(Ordering::Acquire) as u32;
    let got = collector.finish();
    let records: Vec<_> = got.records.iter().filter(|r| r.pid == pid).collect();
    assert_eq!(records.len(), logged, "one record per logged call");
    assert!(records
        .iter()
        .all(|r| r.code == Action::Log.to_ret() && r.arch == Arch::X86_64.audit()));
    let logged_nrs: Vec<u32> = calls
        .iter()
        .filter(|c| {
            syscage::emu::run(&prog, &c.data(), ByteOrder::Little)
                .unwrap()
                .action
                == Action::Log
        })
        .map(|c| c.nr)
        .collect();
    assert_eq!(
        records.iter().map(|r| r.syscall).collect::<Vec<_>>(),
        logged_nrs
    );
}

#[test]
fn tsync_reaches_the_other_threads() {
    if !require_kernel() {
        return;
    }
    let s = shared_map();
    let mut p = Policy::new(Action::Allow);
    p.arches = vec![Arch::X86_64];
    p.add_rule(Rule::new("getppid", Action::Errno(44)));
    p.add_rule(Rule::new("gettid", Action::KillThread));
    let nr = |n: &str| Arch::X86_64.syscall_nr(n).unwrap();
    let calls = [
        Call {
            abi: Abi::X64,
            nr: nr("getppid"),
            args: [0; 6],
        },
        Call {
            abi: Abi::X64,
            nr: nr("getpid"),
            args: [0; 6],
        },
        Call {
            abi: Abi::X64,
            nr: nr("gettid"),
            args: [0; 6],
        },
    ];
    let flags = Flags {
        tsync: true,
        ..Flags::default()
    };
    let made = check_case(s, "tsync", &[p], &[flags], &calls, true);
    assert_eq!(made, 3);
}

#[test]
fn random_policies_agree_with_the_emulator() {
    if !require_kernel() {
        return;
    }
    let i386 = has_ia32();
    let s = shared_map();
    let seed = seed();
    let mut rng = Rng(seed);
    let mut made = 0;
    let cases = 48;
    for case in 0..cases {
        let tsync = rng.chance(20);
        let notif = !tsync && rng.chance(40);
        let stacked = if rng.chance(30) { 2 + rng.below(2) } else { 1 };
        let mut policies = Vec::new();
        let mut flags = Vec::new();
        let listener_at = if notif {
            Some(rng.below(stacked))
        } else {
            None
        };
        for i in 0..stacked {
            let mut p = random_policy(&mut rng, notif, i386);
            if i + 1 < stacked {
                // Later filters are installed through the earlier ones.
                p.add_rule(Rule::new("seccomp", Action::Allow).on_arch(Arch::X86_64));
                if !p.arches.contains(&Arch::X86_64) {
                    p.arches.push(Arch::X86_64);
                }
            }
            policies.push(p);
            flags.push(Flags {
                new_listener: listener_at == Some(i),
                log: rng.chance(20),
                spec_allow: rng.chance(20),
                ..Flags::default()
            });
        }
        if tsync {
            for f in &mut flags {
                f.tsync = true;
                f.tsync_esrch = f.new_listener;
            }
        }
        let calls: Vec<Call> = (0..64).map(|_| random_call(&mut rng, i386)).collect();
        if std::env::var("SYSCAGE_ORACLE_DUMP").ok() == Some(case.to_string()) {
            eprintln!("{policies:#?}\n{flags:?} tsync {tsync}");
        }
        made += check_case(
            s,
            &format!("seed {seed} case {case}"),
            &policies,
            &flags,
            &calls,
            tsync,
        );
    }
    assert!(made >= 2500, "only {made} filtered syscalls were made");
    eprintln!("kernel oracle: {made} filtered syscalls, seed {seed}");
}
