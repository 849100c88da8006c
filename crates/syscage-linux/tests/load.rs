//! `load(&Policy)` (libseccomp's `seccomp_load`) on the real kernel, always
//! in a forked child: the policy's ERRNO rule is in force after the load,
//! and its attributes (no_new_privs, TSYNC, LOG) are honoured.

mod child;

use child::{in_child, not_checked, pipe, read_byte, require_seccomp, wait, write_byte, Ended};
use syscage::action::Action;
use syscage::policy::{Attributes, Policy};
use syscage_linux::filter_flags::FilterFlags;
use syscage_linux::load::{self, LoadError};
use syscage_linux::status;

/// ALLOW everything but `getppid`, which fails with `errno`.
fn deny_getppid(errno: u16, attrs: Attributes) -> Policy {
    let mut p = Policy::init(Action::Allow).unwrap();
    p.rule_add(Action::Errno(errno), "getppid", &[]).unwrap();
    p.set_attributes(attrs).unwrap();
    p
}

/// `getppid()`'s errno, 0 when it succeeded.
fn getppid_errno() -> i32 {
    // SAFETY: getppid takes no argument.
    let r = unsafe { libc::syscall(libc::SYS_getppid) };
    if r == -1 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    }
}

#[test]
fn the_errno_rule_is_in_force_after_load_on_every_thread_with_no_new_privs() {
    if !require_seccomp() {
        return;
    }
    if !syscage_linux::probe::flag_available(FilterFlags::TSYNC) {
        return not_checked("SECCOMP_FILTER_FLAG_TSYNC");
    }
    let attrs = Attributes {
        no_new_privs: true,
        tsync: true,
        ..Attributes::default()
    };
    let policy = deny_getppid(13, attrs);
    let ended = in_child(|| {
        // A thread started before the load: TSYNC reaches it too.
        let (go_rd, go_wr) = pipe();
        let thread = std::thread::spawn(move || {
            read_byte(go_rd);
            getppid_errno()
        });
        if getppid_errno() != 0 {
            return 2;
        }
        if load::load(&policy).is_err() {
            return 3;
        }
        write_byte(go_wr);
        let in_thread = thread.join().unwrap_or(-1);
        let me = status::read_self().unwrap();
        match (getppid_errno(), in_thread, me.no_new_privs, me.filters) {
            (13, 13, Some(true), Some(1) | None) => 0,
            (13, 13, Some(true), _) => 4,
            (13, 13, _, _) => 5,
            (13, _, _, _) => 6,
            _ => 1,
        }
    });
    assert_eq!(ended, Ended::Exit(0));
}

#[test]
fn without_no_new_privs_the_flag_stays_unset() {
    if !require_seccomp() {
        return;
    }
    if !syscage_linux::install::has_cap_sys_admin() {
        return not_checked("CAP_SYS_ADMIN (a filter without no_new_privs)");
    }
    let attrs = Attributes {
        no_new_privs: false,
        ..Attributes::default()
    };
    let policy = deny_getppid(1, attrs);
    let ended = in_child(|| {
        if load::load(&policy).is_err() {
            return 3;
        }
        let me = status::read_self().unwrap();
        match (getppid_errno(), me.no_new_privs) {
            (1, Some(false)) => 0,
            (1, _) => 4,
            _ => 1,
        }
    });
    assert_eq!(ended, Ended::Exit(0));
}

#[test]
fn the_log_attribute_is_kept_by_the_kernel() {
    if !require_seccomp() {
        return;
    }
    if !syscage_linux::probe::flag_available(FilterFlags::LOG) {
        return not_checked("SECCOMP_FILTER_FLAG_LOG");
    }
    let attrs = Attributes {
        log: true,
        ..Attributes::default()
    };
    let policy = deny_getppid(1, attrs);
    let (ready_rd, ready_wr) = pipe();
    let (done_rd, done_wr) = pipe();
    // SAFETY: the child only loads, writes and reads pipes, then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let code = match load::load(&policy) {
            Ok(_) if getppid_errno() == 1 => 0,
            _ => 1,
        };
        write_byte(ready_wr);
        read_byte(done_rd);
        // SAFETY: ends the child without the harness's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    read_byte(ready_rd);
    // PTRACE_GET_SECCOMP_METADATA: the flags the kernel kept (LOG only).
    let dumped = syscage_linux::dump::dump_pid(pid);
    write_byte(done_wr);
    assert_eq!(wait(pid), Ended::Exit(0));
    match dumped {
        Ok(d) => {
            assert_eq!(d.filters.len(), 1, "{:?}", d.filters);
            assert!(d.filters[0].flags.contains(FilterFlags::LOG));
        }
        Err(e) => not_checked(&format!("reading the filter back: {e}")),
    }
}

#[test]
fn a_policy_without_arch_is_refused_before_installing() {
    let mut p = Policy::init(Action::Allow).unwrap();
    p.set_arches(Vec::new()).unwrap();
    let ended = in_child(|| match load::load(&p) {
        Err(LoadError::NoArch) if status::read_self().unwrap().filters.unwrap_or(0) == 0 => 0,
        _ => 1,
    });
    assert_eq!(ended, Ended::Exit(0));
}
