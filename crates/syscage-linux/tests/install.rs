//! Installing filters on the real kernel, always in a forked child.

mod child;

use child::{in_child, not_checked, require_seccomp, Ended};
use syscage::action::Action;
use syscage::bpf::{Insn, Program};
use syscage_linux::error::Error;
use syscage_linux::install::{self, FilterFlags, InstallOptions};
use syscage_linux::status::{self, Mode};

const GETPPID: u32 = libc::SYS_getppid as u32;

/// `nr == target ? on : ALLOW` for any arch.
fn deny(target: u32, on: Action) -> Program {
    Program::new(vec![
        Insn::LdAbs(0),
        Insn::Jmp {
            cond: syscage::bpf::JmpCond::Eq,
            src: syscage::bpf::Src::K(target),
            jt: 0,
            jf: 1,
        },
        Insn::Ret(on.to_ret()),
        Insn::Ret(Action::Allow.to_ret()),
    ])
}

fn allow_all(len: usize) -> Program {
    let mut insns = vec![Insn::LdAbs(0); len - 1];
    insns.push(Insn::Ret(Action::Allow.to_ret()));
    Program::new(insns)
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[test]
fn errno_filter_is_enforced_in_the_child_only() {
    if !require_seccomp() {
        return;
    }
    let ended = in_child(|| {
        install::install(
            &deny(GETPPID, Action::Errno(13)),
            &InstallOptions::default(),
        )
        .unwrap();
        // SAFETY: getppid takes no argument.
        let r = unsafe { libc::syscall(libc::SYS_getppid) };
        if r == -1 && errno() == 13 {
            0
        } else {
            1
        }
    });
    assert_eq!(ended, Ended::Exit(0));
    let me = status::read(std::process::id()).unwrap();
    assert_eq!(
        me.mode,
        Some(Mode::Disabled),
        "the test process itself must stay unfiltered"
    );
}

#[test]
fn checks_name_what_the_kernel_would_refuse() {
    if !require_seccomp() {
        return;
    }
    let opts = InstallOptions::default();
    assert!(matches!(
        install::check(&Program::default(), &opts),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        install::check(&allow_all(4097), &opts),
        Err(Error::Invalid(_))
    ));
    let bad_load = Program::new(vec![Insn::LdAbs(64), Insn::Ret(0x7fff_0000)]);
    assert!(matches!(
        install::check(&bad_load, &opts),
        Err(Error::Invalid(_))
    ));
    install::check(&allow_all(4096), &opts).unwrap();
    let both = InstallOptions {
        flags: FilterFlags::TSYNC | FilterFlags::NEW_LISTENER,
        ..opts
    };
    assert!(matches!(
        install::check(&allow_all(2), &both),
        Err(Error::BadFlags(_))
    ));
    let killable = InstallOptions {
        flags: FilterFlags::WAIT_KILLABLE_RECV,
        ..opts
    };
    assert!(matches!(
        install::check(&allow_all(2), &killable),
        Err(Error::BadFlags(_))
    ));
}

#[test]
fn the_kernel_also_refuses_what_check_refuses() {
    if !require_seccomp() {
        return;
    }
    // The kernel's verdict on the flag combination check() refuses: EINVAL.
    let ended = in_child(|| {
        install::set_no_new_privs().unwrap();
        let raw = install::raw_filter(&allow_all(2));
        let fprog = libc::sock_fprog {
            len: 2,
            filter: raw.as_ptr() as *mut _,
        };
        let flags = libc::SECCOMP_FILTER_FLAG_TSYNC | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // SAFETY: fprog points at raw, alive during the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                flags,
                &fprog,
            )
        };
        if r == -1 && errno() == libc::EINVAL {
            0
        } else {
            1
        }
    });
    assert_eq!(ended, Ended::Exit(0));
}

/// Programs of `len` instructions of one shape, for the stacking limit.
fn shaped(len: usize, shape: u8) -> Program {
    use syscage::bpf::{AluOp, JmpCond, Src};
    let body = match shape {
        0 => Insn::LdAbs(0),
        1 => Insn::Jmp {
            cond: JmpCond::Eq,
            src: Src::K(1),
            jt: 0,
            jf: 0,
        },
        2 => Insn::Jmp {
            cond: JmpCond::Set,
            src: Src::K(0x8000_0000),
            jt: 0,
            jf: 0,
        },
        3 => Insn::Jmp {
            cond: JmpCond::Set,
            src: Src::K(1),
            jt: 1,
            jf: 0,
        },
        4 => Insn::Alu(AluOp::Div, Src::X),
        5 => Insn::Alu(AluOp::Lsh, Src::K(3)),
        6 => Insn::Tax,
        _ => Insn::Ret(Action::Allow.to_ret()),
    };
    let mut insns = vec![Insn::LdxImm(1)];
    insns.extend(std::iter::repeat_n(body, len - 3));
    // Shape 3 jumps over the next instruction: keep a RET after every jump target.
    insns.push(Insn::Ret(Action::Allow.to_ret()));
    insns.push(Insn::Ret(Action::Allow.to_ret()));
    Program::new(insns)
}

#[test]
fn stacked_limit_is_the_kernels_count() {
    if !require_seccomp() {
        return;
    }
    // For each shape: stack filters of 4096 while they fit, then find with our count the
    // longest 8th filter that fits; the kernel must take it and refuse one more.
    for shape in 0..8u8 {
        let ended = in_child(|| {
            let full = shaped(4096, shape);
            let mut stacked = 0;
            while install::check(&full, &InstallOptions::default()).is_ok() {
                install::install(&full, &InstallOptions::default()).unwrap();
                stacked += 1;
            }
            if stacked < 1 {
                return 4;
            }
            let fits = |len: usize| {
                install::check(&shaped(len, shape), &InstallOptions::default()).is_ok()
            };
            let Some(best) = (3..=4096).rev().find(|&l| fits(l)) else {
                return 1;
            };
            if best < 4096 {
                let raw = install::raw_filter(&shaped(best + 1, shape));
                let fprog = libc::sock_fprog {
                    len: raw.len() as u16,
                    filter: raw.as_ptr() as *mut _,
                };
                // SAFETY: fprog points at raw, alive during the call.
                let r = unsafe {
                    libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &fprog)
                };
                if !(r == -1 && errno() == libc::ENOMEM) {
                    return 2;
                }
            }
            match install::install(&shaped(best, shape), &InstallOptions::default()) {
                Ok(_) => 0,
                Err(_) => 3,
            }
        });
        assert_eq!(ended, Ended::Exit(0), "shape {shape}");
    }
}

#[test]
fn new_listener_returns_a_listener_fd() {
    if !require_seccomp() {
        return;
    }
    let ended = in_child(|| {
        let opts = InstallOptions {
            flags: FilterFlags::NEW_LISTENER,
            ..InstallOptions::default()
        };
        let got = install::install(&allow_all(2), &opts).unwrap();
        let Some(fd) = got.listener else { return 1 };
        let again = install::install(&allow_all(2), &opts);
        drop(fd);
        if matches!(again, Err(Error::ListenerBusy)) {
            0
        } else {
            2
        }
    });
    assert_eq!(ended, Ended::Exit(0));
}

#[test]
fn without_no_new_privs_as_root_keeps_nnp_off() {
    if !require_seccomp() {
        return;
    }
    if !install::has_cap_sys_admin() {
        return not_checked("keeping no_new_privs off needs CAP_SYS_ADMIN (run as root)");
    }
    let pid_status = in_child(|| {
        let opts = InstallOptions {
            no_new_privs: false,
            ..InstallOptions::default()
        };
        install::install(&allow_all(2), &opts).unwrap();
        let st = status::read_self().unwrap();
        if st.no_new_privs == Some(false) && st.mode == Some(Mode::Filter) {
            0
        } else {
            1
        }
    });
    assert_eq!(pid_status, Ended::Exit(0));
}

#[test]
fn strict_mode_allows_write_and_kills_the_rest() {
    if !require_seccomp() {
        return;
    }
    let ended = in_child(|| {
        install::install_strict().unwrap();
        // SAFETY: write of zero bytes to stdout, then getppid.
        unsafe {
            if libc::write(1, b"".as_ptr().cast(), 0) != 0 {
                libc::_exit(1)
            }
            libc::syscall(libc::SYS_getppid);
        }
        3
    });
    assert_eq!(ended, Ended::Signal(libc::SIGKILL));
}

#[test]
fn status_shows_mode_filters_and_nnp_of_another_process() {
    if !require_seccomp() {
        return;
    }
    let (tx_r, tx_w) = child::pipe();
    let (rx_r, rx_w) = child::pipe();
    // SAFETY: the child only installs filters and exchanges bytes, then exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        install::install(&allow_all(3), &InstallOptions::default()).unwrap();
        install::install(&allow_all(5), &InstallOptions::default()).unwrap();
        child::write_byte(tx_w);
        child::read_byte(rx_r);
        // SAFETY: plain exit of the child.
        unsafe { libc::_exit(0) };
    }
    child::read_byte(tx_r);
    let st = status::read(pid as u32).unwrap();
    child::write_byte(rx_w);
    child::wait(pid);
    assert_eq!(st.mode, Some(Mode::Filter));
    assert_eq!(st.filters, Some(2));
    assert_eq!(st.no_new_privs, Some(true));
    let _ = (tx_w, rx_r);
}

#[test]
fn every_filter_flag_is_accepted_by_the_kernel() {
    if !require_seccomp() {
        return;
    }
    let combos = [
        FilterFlags::TSYNC,
        FilterFlags::LOG,
        FilterFlags::SPEC_ALLOW,
        FilterFlags::NEW_LISTENER | FilterFlags::WAIT_KILLABLE_RECV,
        FilterFlags::TSYNC | FilterFlags::TSYNC_ESRCH | FilterFlags::NEW_LISTENER,
    ];
    for flags in combos {
        let ended = in_child(|| {
            let opts = InstallOptions {
                flags,
                ..InstallOptions::default()
            };
            match install::install(&allow_all(2), &opts) {
                Ok(got) if got.listener.is_some() == flags.contains(FilterFlags::NEW_LISTENER) => 0,
                Ok(_) => 1,
                Err(_) => 2,
            }
        });
        assert_eq!(ended, Ended::Exit(0), "{flags:?}");
    }
}
