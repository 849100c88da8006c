//! libseccomp's numbers: arch tokens (`SCMP_ARCH_*`), action values
//! (`SCMP_ACT_*`), comparison operators (`SCMP_CMP_*`), and syscall
//! numbers as the C API passes them (native numbers, `__PNR_*` pseudo
//! numbers for syscalls the native arch lacks, `-1` for tracers).

use crate::pnr::PSEUDO;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::policy::{multiplex, CmpOp};

/// `SCMP_ARCH_X32`: `EM_X86_64 | __AUDIT_ARCH_LE` (x32 shares x86_64's
/// audit id in `seccomp_data`, so libseccomp gives it a token of its own).
pub const TOKEN_X32: u32 = 0x4000_003e;

/// libseccomp's `__NR_SCMP_ERROR`.
pub const NR_SCMP_ERROR: i32 = -1;

/// libseccomp's `MAX_ERRNO` check: `SCMP_ACT_ERRNO(e)` needs `e < 4095`.
const LIBSECCOMP_MAX_ERRNO: u32 = 4095;

/// The arch of a token (`0` is `SCMP_ARCH_NATIVE`).
pub fn arch_of_token(token: u32) -> Option<Arch> {
    if token == 0 {
        return Some(Arch::native());
    }
    if token == TOKEN_X32 {
        return Some(Arch::X32);
    }
    Arch::ALL
        .iter()
        .copied()
        .find(|a| *a != Arch::X32 && a.audit() == token)
}

/// The token of an arch.
pub fn token_of_arch(arch: Arch) -> u32 {
    if arch == Arch::X32 {
        TOKEN_X32
    } else {
        arch.audit()
    }
}

/// `seccomp_arch_resolve_name`: libseccomp's own arch names only.
pub fn arch_of_name(name: &str) -> Option<Arch> {
    Arch::ALL.iter().copied().find(|a| a.name() == name)
}

/// An action value libseccomp 2.5.4 accepts (`sys_chk_seccomp_action`):
/// `TRAP` without data, `ERRNO` below 4095, any `TRACE` data.
pub fn action_of(value: u32) -> Option<Action> {
    let a = Action::from_ret_exact(value)?;
    match a {
        Action::Trap(0)
        | Action::KillProcess
        | Action::KillThread
        | Action::Log
        | Action::Allow
        | Action::UserNotif
        | Action::Trace(_) => Some(a),
        Action::Errno(e) if u32::from(e) < LIBSECCOMP_MAX_ERRNO => Some(a),
        _ => None,
    }
}

/// `struct scmp_arg_cmp`'s operator and data as a comparison
/// (`SCMP_CMP_MASKED_EQ` takes the mask in `datum_a`).
pub fn cmp_of(op: u32, a: u64, b: u64) -> Option<CmpOp> {
    Some(match op {
        1 => CmpOp::Ne(a),
        2 => CmpOp::Lt(a),
        3 => CmpOp::Le(a),
        4 => CmpOp::Eq(a),
        5 => CmpOp::Ge(a),
        6 => CmpOp::Gt(a),
        7 => CmpOp::MaskedEq { mask: a, value: b },
        _ => return None,
    })
}

/// A syscall as the C API names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiSyscall {
    /// `-1`, which tracers use to skip a syscall (`SCMP_FLTATR_API_TSKIP`).
    Skip,
    /// A known name (native number or pseudo number).
    Name(&'static str),
    /// A native number no table names.
    Number(u32),
}

/// Decodes a syscall number of the C API (see the module documentation).
pub fn syscall_of(nr: i32) -> Option<ApiSyscall> {
    if nr == -1 {
        return Some(ApiSyscall::Skip);
    }
    if nr >= 0 {
        return Some(match Arch::native().syscall_name(nr as u32) {
            Some(n) => ApiSyscall::Name(n),
            None => ApiSyscall::Number(nr as u32),
        });
    }
    pseudo_name(nr).map(ApiSyscall::Name)
}

/// The name of a pseudo syscall number.
pub fn pseudo_name(nr: i32) -> Option<&'static str> {
    PSEUDO.iter().find(|(_, n)| *n == nr).map(|(s, _)| *s)
}

/// `seccomp_syscall_resolve_name_arch`: the number of `name` on `arch`,
/// libseccomp's pseudo number when the arch lacks it.
pub fn resolve_name(arch: Arch, name: &str) -> i32 {
    // libseccomp's x86 resolver munges multiplexed syscalls to their
    // pseudo numbers (`abi_syscall_resolve_name_munge`).
    let muxed = multiplex::multiplexes(arch) && multiplex::multiplexer(name).is_some();
    if let Some(nr) = arch.syscall_nr(name).filter(|_| !muxed) {
        return nr as i32;
    }
    PSEUDO
        .iter()
        .find(|(s, _)| *s == name)
        .map_or(NR_SCMP_ERROR, |(_, n)| *n)
}

/// `seccomp_syscall_resolve_num_arch`: the name of `nr` on `arch`.
pub fn resolve_num(arch: Arch, nr: i32) -> Option<&'static str> {
    if nr >= 0 {
        arch.syscall_name(nr as u32)
    } else if multiplex::multiplexes(arch) {
        pseudo_name(nr).filter(|n| multiplex::multiplexer(n).is_some())
    } else {
        None
    }
}
