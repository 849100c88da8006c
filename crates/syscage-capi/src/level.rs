//! libseccomp's API level (`seccomp_api_get/set`): what the kernel
//! supports, probed once, or what the caller pinned. Attributes and
//! actions newer than the level are refused as libseccomp refuses them.

use std::sync::atomic::{AtomicU32, Ordering};
use syscage::action::Action;
use syscage_linux::filter_flags::FilterFlags;
use syscage_linux::probe;

/// 0: not probed yet.
static LEVEL: AtomicU32 = AtomicU32::new(0);

/// The highest level of libseccomp 2.5.4.
pub const MAX_LEVEL: u32 = 6;

fn detect() -> u32 {
    let flag = probe::flag_available;
    let action = |a| probe::action_available(a).unwrap_or(false);
    let mut level = 1;
    if probe::has_seccomp_syscall() && flag(FilterFlags::TSYNC) {
        level = 2;
    }
    if level == 2 && flag(FilterFlags::LOG) && action(Action::Log) && action(Action::KillProcess) {
        level = 3;
    }
    if level == 3 && flag(FilterFlags::SPEC_ALLOW) {
        level = 4;
    }
    if level == 4 && flag(FilterFlags::NEW_LISTENER) && action(Action::UserNotif) {
        level = 5;
    }
    if level == 5 && flag(FilterFlags::TSYNC_ESRCH) {
        level = 6;
    }
    level
}

/// `seccomp_api_get`.
pub fn get() -> u32 {
    let l = LEVEL.load(Ordering::Relaxed);
    if l != 0 {
        return l;
    }
    let l = detect();
    LEVEL.store(l, Ordering::Relaxed);
    l
}

/// `seccomp_api_set`: 1 to 6, else `-EINVAL`.
pub fn set(level: u32) -> Result<(), i32> {
    if !(1..=MAX_LEVEL).contains(&level) {
        return Err(-libc::EINVAL);
    }
    LEVEL.store(level, Ordering::Relaxed);
    Ok(())
}

/// `seccomp_reset(NULL, …)`: libseccomp 2.5.4 resets its probe cache but
/// keeps a level already determined or pinned; so does this.
pub fn reset() {
    get();
}

/// Whether an action is usable at the current level
/// (`sys_chk_seccomp_action`).
pub fn action_ok(a: Action) -> bool {
    match a {
        Action::Log | Action::KillProcess => get() >= 3,
        Action::UserNotif => get() >= 5,
        _ => true,
    }
}

/// Whether a filter flag is usable at the current level
/// (`sys_chk_seccomp_flag`): TSYNC from 2, LOG from 3, SPEC_ALLOW from 4,
/// NEW_LISTENER from 5, TSYNC_ESRCH from 6; WAIT_KILLABLE_RECV (2.6) when
/// the kernel has it.
pub fn flag_ok(flag: FilterFlags) -> bool {
    let need = match flag {
        FilterFlags::TSYNC => 2,
        FilterFlags::LOG => 3,
        FilterFlags::SPEC_ALLOW => 4,
        FilterFlags::NEW_LISTENER => 5,
        FilterFlags::TSYNC_ESRCH => 6,
        _ => {
            return probe::flag_available(flag | FilterFlags::NEW_LISTENER);
        }
    };
    get() >= need
}
