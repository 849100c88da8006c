//! Forking helpers for tests: filters are installed in children only.
#![allow(dead_code)]

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// exit(code)
    Exit(i32),
    /// killed by this signal
    Signal(i32),
}

/// A check this machine cannot make: fails loudly under CI=true, else
/// says `NOT CHECKED: why`.
pub fn not_checked(why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI needs: {why}"
    );
    eprintln!("NOT CHECKED: {why}");
}

/// Whether the kernel has seccomp: fails loudly under CI=true when it is
/// missing, else says `NOT CHECKED` and tells the test to stop.
pub fn require_seccomp() -> bool {
    let ok = syscage_linux::probe::has_seccomp();
    if !ok {
        not_checked("a kernel with seccomp filter mode");
    }
    ok
}

/// Runs `f` in a forked child and returns how the child ended.
pub fn in_child(f: impl FnOnce() -> i32) -> Ended {
    // SAFETY: the child runs `f` and exits with _exit, never returning into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: ends the child without running the harness's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    wait(pid)
}

/// Waits for a child.
pub fn wait(pid: i32) -> Ended {
    let mut status = 0;
    // SAFETY: waits for our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    assert_eq!(r, pid);
    if libc::WIFEXITED(status) {
        Ended::Exit(libc::WEXITSTATUS(status))
    } else {
        Ended::Signal(libc::WTERMSIG(status))
    }
}

/// A pipe (read end, write end).
pub fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two fds.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

/// Writes one byte.
pub fn write_byte(fd: i32) {
    // SAFETY: writes one byte from a static.
    unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) };
}

/// Reads one byte.
pub fn read_byte(fd: i32) {
    let mut b = 0u8;
    // SAFETY: reads one byte into a local.
    unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
}
