//! Test program for `syscage record` (crates/syscage-cli/tests/record_cli.rs):
//! each mode exercises one thing the recorder must follow. With `--extra`
//! as the last argument it makes one syscall more than without, and exits
//! with 3 if that syscall failed with EPERM (a filter denied it).
//!
//! Modes:
//! - `threads N`: N threads, each writing to /dev/null.
//! - `forkexec`: fork + execve of `/bin/echo`, and a posix_spawn of `/bin/true`.
//! - `int80`: i386 `getpid` and `getuid32` through `int 0x80` from 64-bit code.
//! - `socket inet|unix`: one socket of that family.
//! - `storm N`: N signals from another process and a thread, with a handler.
//! - `stop`: stops itself (SIGSTOP); a child sends SIGCONT.
//! - `unknown`: syscall number 999, which no table knows.
//! - `handler SECS [MARK]`: a SIGUSR1 handler, then a sleep.
//! - `sleep SECS [MARK]`: sleeps (for kill and Ctrl-C tests).
//! - `killparent SIG [SECS] [MARK]`: sends SIG to its parent, then sleeps SECS.
//! - `listener`: installs an allow-all filter with its own user-notification
//!   listener (`SECCOMP_FILTER_FLAG_NEW_LISTENER`) and prints `listener: ok`
//!   or the errno (`EBUSY` when a filter already has one).

use std::io::Write;
use std::process::exit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The extra syscall: `sched_getscheduler(0)`, which neither the Rust
/// runtime nor the C library makes on their own.
fn extra_native() {
    // SAFETY: sched_getscheduler takes a pid and touches no memory.
    let r = unsafe { libc::syscall(libc::SYS_sched_getscheduler, 0) };
    report_extra(r, errno());
}

fn report_extra(r: i64, errno: i32) {
    if r < 0 && errno == libc::EPERM {
        println!("extra: denied");
        exit(3);
    }
    println!("extra: ok");
}

fn threads(n: usize) {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            std::thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/null")
                    .expect("open /dev/null");
                for _ in 0..100 {
                    f.write_all(format!("thread {i}\n").as_bytes())
                        .expect("write");
                }
                i
            })
        })
        .collect();
    let sum: usize = handles.into_iter().map(|h| h.join().expect("join")).sum();
    println!("threads: {n} joined, sum {sum}");
}

fn forkexec() {
    let prog = c"/bin/echo";
    let arg1 = c"child says hi";
    let argv = [prog.as_ptr(), arg1.as_ptr(), std::ptr::null()];
    // SAFETY: the child only calls execv and _exit (async-signal-safe) on
    // C strings built before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: see above.
        unsafe {
            libc::execv(prog.as_ptr(), argv.as_ptr());
            libc::_exit(127);
        }
    }
    let mut status = 0;
    // SAFETY: waits for our own child into a local.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let spawned = std::process::Command::new("/bin/true")
        .status()
        .expect("spawn /bin/true");
    println!(
        "forkexec: echo status {}, true status {}",
        libc::WEXITSTATUS(status),
        spawned.code().unwrap_or(-1)
    );
}

/// An i386 syscall without arguments through `int 0x80`; returns the raw
/// result (a negative errno on failure).
#[cfg(target_arch = "x86_64")]
fn int80(nr: u32) -> i32 {
    let ret: i32;
    // SAFETY: `int 0x80` enters the kernel's i386 entry; the syscalls used
    // here (getpid, getuid32, getppid) take no pointers. The kernel
    // clobbers only eax and the flags, and r8-r11 are declared clobbered
    // for older kernels that zero them.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inlateout("eax") nr => ret,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            options(nostack)
        );
    }
    ret
}

#[cfg(target_arch = "x86_64")]
fn int80_mode(extra: bool) {
    // <asm/unistd_32.h>: getpid 20, getuid32 199, getppid 64.
    let pid = int80(20);
    let uid = int80(199);
    // SAFETY: getpid/getuid take no arguments.
    let (native_pid, native_uid) = unsafe { (libc::getpid(), libc::getuid()) };
    if pid != native_pid || uid as u32 != native_uid {
        println!("int80: getpid {pid} (native {native_pid}), getuid32 {uid} (native {native_uid})");
        exit(4);
    }
    println!("int80: getpid and getuid32 agree with the native calls");
    if extra {
        let r = int80(64);
        report_extra(r.min(0) as i64, -r.min(0));
    }
}

fn socket_mode(family: &str) {
    let (domain, ty) = match family {
        "inet" => (libc::AF_INET, libc::SOCK_STREAM),
        "unix" => (libc::AF_UNIX, libc::SOCK_DGRAM),
        other => {
            eprintln!("record_probe: socket family {other}?");
            exit(2);
        }
    };
    // SAFETY: socket takes integers; the fd is closed at once.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        let e = errno();
        println!("socket: errno {e}");
        exit(if e == libc::EPERM { 3 } else { 1 });
    }
    // SAFETY: closes the fd just created.
    unsafe { libc::close(fd) };
    println!("socket: ok");
}

static HANDLED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_usr1(_: libc::c_int) {
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

fn storm(n: u64) {
    // SAFETY: installs a handler that only touches an atomic.
    unsafe { libc::signal(libc::SIGUSR1, on_usr1 as *const () as libc::sighandler_t) };
    // SAFETY: getpid takes no arguments.
    let me = unsafe { libc::getpid() };
    // SAFETY: the child only calls kill and _exit.
    let child = unsafe { libc::fork() };
    if child == 0 {
        for _ in 0..n {
            // SAFETY: signals our parent.
            unsafe { libc::kill(me, libc::SIGUSR1) };
        }
        // SAFETY: ends the child.
        unsafe { libc::_exit(0) };
    }
    let t = std::thread::spawn(move || {
        for _ in 0..n {
            // SAFETY: signals our own process.
            unsafe { libc::kill(me, libc::SIGUSR1) };
        }
    });
    t.join().expect("join");
    let mut status = 0;
    // SAFETY: waits for our own child into a local (EINTR retried).
    while unsafe { libc::waitpid(child, &mut status, 0) } == -1 && errno() == libc::EINTR {}
    println!(
        "storm: child status {}, handled {} signals",
        libc::WEXITSTATUS(status),
        if HANDLED.load(Ordering::Relaxed) > 0 {
            "some"
        } else {
            "no"
        }
    );
}

fn stop() {
    // SAFETY: getpid takes no arguments.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the child sleeps, sends SIGCONT to its parent and exits.
    let child = unsafe { libc::fork() };
    if child == 0 {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: signals our parent.
        unsafe {
            libc::kill(parent, libc::SIGCONT);
            libc::_exit(0);
        }
    }
    // SAFETY: stops this process until SIGCONT.
    unsafe { libc::raise(libc::SIGSTOP) };
    let mut status = 0;
    // SAFETY: waits for our own child into a local.
    unsafe { libc::waitpid(child, &mut status, 0) };
    println!("stop: continued");
}

/// A filter with its own listener, as a container runtime or sandbox
/// supervisor installs one.
fn listener_mode() {
    let mut filter = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    }];
    let prog = libc::sock_fprog {
        len: 1,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: prctl and seccomp with a valid one-instruction program.
    let r = unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog as *const libc::sock_fprog,
        )
    };
    if r >= 0 {
        println!("listener: ok");
    } else {
        println!("listener: errno {}", errno());
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let extra = args.last().map(String::as_str) == Some("--extra");
    if extra {
        args.pop();
    }
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    match args.first().map(String::as_str) {
        Some("threads") => threads(arg(1, "4").parse().expect("thread count")),
        Some("forkexec") => forkexec(),
        #[cfg(target_arch = "x86_64")]
        Some("int80") => int80_mode(extra),
        Some("socket") => socket_mode(&arg(1, "inet")),
        Some("storm") => storm(arg(1, "1000").parse().expect("signal count")),
        Some("stop") => stop(),
        Some("handler") => {
            // SAFETY: installs a handler that only touches an atomic.
            unsafe { libc::signal(libc::SIGUSR1, on_usr1 as *const () as libc::sighandler_t) };
            std::thread::sleep(Duration::from_secs_f64(
                arg(1, "1").parse().expect("seconds"),
            ));
            println!("handler: done");
        }
        Some("unknown") => {
            // 999 is no syscall on x86_64 (the table ends in the 400s).
            // SAFETY: an unknown number makes the kernel return ENOSYS.
            let r = unsafe { libc::syscall(999) };
            println!("unknown: {r}, errno {}", errno());
        }
        Some("sleep") => std::thread::sleep(Duration::from_secs_f64(
            arg(1, "30").parse().expect("seconds"),
        )),
        Some("killparent") => {
            let sig: i32 = arg(1, "15").parse().expect("signal number");
            // SAFETY: signals our parent; no memory involved.
            unsafe { libc::kill(libc::getppid(), sig) };
            std::thread::sleep(Duration::from_secs_f64(
                arg(2, "0").parse().expect("seconds"),
            ));
            println!("killparent: still here");
        }
        Some("listener") => listener_mode(),
        _ => {
            eprintln!("usage: record_probe threads N|forkexec|int80|socket inet|unix|storm N|stop|sleep S|killparent SIG [S]|listener [--extra]");
            exit(2);
        }
    }
    if extra && args.first().map(String::as_str) != Some("int80") {
        extra_native();
    }
}
