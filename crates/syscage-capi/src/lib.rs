//! A drop-in `libseccomp.so.2`: libseccomp 2.5.4's public C API
//! (`/usr/include/seccomp.h`) over syscage's policy model, compiler and
//! proof of equivalence, and `syscage-linux`'s loader.
//!
//! Built as `libseccomp.so` with soname `libseccomp.so.2`; put it (or a
//! `libseccomp.so.2` link to it) first on `LD_LIBRARY_PATH` and programs
//! linked against libseccomp use it unchanged.
//!
//! Every entry point catches panics (a panic returns the function's error
//! value, never unwinds into C). Return values are libseccomp's: negative
//! errno in the same cases (`src/api.c` of libseccomp 2.5.4).
//!
//! Left out, returning `-EOPNOTSUPP`: nothing of 2.5.4's API. From 2.6,
//! `seccomp_export_bpf_mem` and `SCMP_FLTATR_CTL_WAITKILL` are provided;
//! `seccomp_notify_addfd`, `seccomp_precompute` and the transaction calls
//! are not exported. `seccomp_export_pfc` describes the policy (arches,
//! syscalls, rules) in libseccomp's pseudo-code style, not the order of
//! the BPF program's checks.

mod ctx;
mod db;
mod export;
mod level;
mod load;
mod notify;
mod pnr;
mod tokens;

use ctx::{Ctx, ScmpArgCmp};
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tokens::{arch_of_name, arch_of_token, token_of_arch, NR_SCMP_ERROR};

pub use load::{ScmpNotif, ScmpNotifResp};
pub use notify::*;

/// Runs `f`, turning a panic into `fail`.
fn guard<T>(fail: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fail)
}

/// `Ok(())` → 0, `Err(e)` → e.
fn rc(r: Result<(), i32>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// The context behind a `scmp_filter_ctx`, if not NULL and valid.
///
/// # Safety
/// `ctx` is NULL or a pointer returned by [`seccomp_init`] and not released.
unsafe fn ctx_mut<'a>(ctx: *mut c_void) -> Option<&'a mut Ctx> {
    // SAFETY: per the contract, a non-NULL ctx is a live Box<Ctx> from
    // seccomp_init, used by one thread at a time (as libseccomp requires).
    unsafe { ctx.cast::<Ctx>().as_mut() }
}

/// `struct scmp_version`.
#[repr(C)]
pub struct ScmpVersion {
    /// Major.
    pub major: c_uint,
    /// Minor.
    pub minor: c_uint,
    /// Micro.
    pub micro: c_uint,
}

/// The libseccomp version whose API this library implements.
static VERSION: ScmpVersion = ScmpVersion {
    major: 2,
    minor: 5,
    micro: 4,
};

/// `seccomp_version`: 2.5.4, the API implemented.
#[no_mangle]
pub extern "C" fn seccomp_version() -> *const ScmpVersion {
    &VERSION
}

/// `seccomp_api_get`.
#[no_mangle]
pub extern "C" fn seccomp_api_get() -> c_uint {
    guard(1, level::get)
}

/// `seccomp_api_set`.
#[no_mangle]
pub extern "C" fn seccomp_api_set(level: c_uint) -> c_int {
    guard(-libc::EFAULT, || rc(level::set(level)))
}

/// `seccomp_init`: NULL for an invalid default action.
#[no_mangle]
pub extern "C" fn seccomp_init(def_action: u32) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        level::get();
        match tokens::action_of(def_action).filter(|a| level::action_ok(*a)) {
            Some(a) => Box::into_raw(Box::new(Ctx::new(a))).cast(),
            None => std::ptr::null_mut(),
        }
    })
}

/// `seccomp_reset`: NULL resets the library's global state (the API level).
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_reset(ctx: *mut c_void, def_action: u32) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }) else {
            level::reset();
            return 0;
        };
        match tokens::action_of(def_action).filter(|a| level::action_ok(*a)) {
            Some(a) => {
                *c = Ctx::new(a);
                0
            }
            None => -libc::EINVAL,
        }
    })
}

/// `seccomp_release`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`]; it is freed.
#[no_mangle]
pub unsafe extern "C" fn seccomp_release(ctx: *mut c_void) {
    guard((), || {
        if !ctx.is_null() {
            // SAFETY: a live Box<Ctx> from seccomp_init, released once.
            drop(unsafe { Box::from_raw(ctx.cast::<Ctx>()) });
        }
    })
}

/// `seccomp_merge`: on success `ctx_src` is released.
///
/// # Safety
/// Both are NULL or live contexts from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_merge(ctx_dst: *mut c_void, ctx_src: *mut c_void) -> c_int {
    guard(-libc::EFAULT, || {
        if ctx_dst == ctx_src {
            // libseccomp: a valid context collides with itself on its arches.
            // SAFETY: forwarded contract.
            return match unsafe { ctx_mut(ctx_dst) } {
                Some(c) if c.valid() => -libc::EEXIST,
                _ => -libc::EINVAL,
            };
        }
        // SAFETY: forwarded contract; distinct pointers.
        let (Some(d), Some(s)) = (unsafe { ctx_mut(ctx_dst) }, unsafe { ctx_mut(ctx_src) }) else {
            return -libc::EINVAL;
        };
        if !d.valid() || !s.valid() {
            return -libc::EINVAL;
        }
        let r = d.merge(s.clone());
        if r.is_ok() {
            // SAFETY: the source is consumed on success, as libseccomp does.
            drop(unsafe { Box::from_raw(ctx_src.cast::<Ctx>()) });
        }
        rc(r)
    })
}

/// `seccomp_arch_resolve_name`: 0 when unknown.
///
/// # Safety
/// `arch_name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_resolve_name(arch_name: *const c_char) -> u32 {
    guard(0, || {
        if arch_name.is_null() {
            return 0;
        }
        // SAFETY: a NUL-terminated string per the contract.
        let name = unsafe { CStr::from_ptr(arch_name) };
        name.to_str()
            .ok()
            .and_then(arch_of_name)
            .map_or(0, token_of_arch)
    })
}

/// `seccomp_arch_native`.
#[no_mangle]
pub extern "C" fn seccomp_arch_native() -> u32 {
    token_of_arch(syscage::arch::Arch::native())
}

/// `seccomp_arch_exist`: 0 if present, `-EEXIST` if not.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_exist(ctx: *mut c_void, arch_token: u32) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let (Some(c), Some(a)) = (unsafe { ctx_mut(ctx) }, arch_of_token(arch_token)) else {
            return -libc::EINVAL;
        };
        if c.has_arch(a) {
            0
        } else {
            -libc::EEXIST
        }
    })
}

/// `change` (`Ctx::arch_add`, `Ctx::arch_remove`) on the context and
/// the arch named by `arch_token` (`SCMP_ARCH_*`, 0 for the native one):
/// `-EINVAL` for a NULL context or an unknown token.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
unsafe fn arch_change(
    ctx: *mut c_void,
    arch_token: u32,
    change: fn(&mut Ctx, syscage::arch::Arch) -> Result<(), ctx::Errno>,
) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let (Some(c), Some(a)) = (unsafe { ctx_mut(ctx) }, arch_of_token(arch_token)) else {
            return -libc::EINVAL;
        };
        rc(change(c, a))
    })
}

/// `seccomp_arch_add`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_add(ctx: *mut c_void, arch_token: u32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { arch_change(ctx, arch_token, Ctx::arch_add) }
}

/// `seccomp_arch_remove`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_arch_remove(ctx: *mut c_void, arch_token: u32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { arch_change(ctx, arch_token, Ctx::arch_remove) }
}

/// `seccomp_load`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_load(ctx: *mut c_void) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        match unsafe { ctx_mut(ctx) } {
            Some(c) if c.valid() => rc(load::load(c)),
            _ => -libc::EINVAL,
        }
    })
}

/// `seccomp_attr_get`.
///
/// # Safety
/// `ctx` is NULL or a live context; `value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn seccomp_attr_get(
    ctx: *mut c_void,
    attr: c_uint,
    value: *mut u32,
) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }).filter(|c| c.valid()) else {
            return -libc::EINVAL;
        };
        match load::attr_get(c, attr) {
            Ok(v) => {
                if value.is_null() {
                    return -libc::EINVAL;
                }
                // SAFETY: non-NULL and writable per the contract.
                unsafe { value.write(v) };
                0
            }
            Err(e) => e,
        }
    })
}

/// `seccomp_attr_set`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_attr_set(ctx: *mut c_void, attr: c_uint, value: u32) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }).filter(|c| c.valid()) else {
            return -libc::EINVAL;
        };
        rc(load::attr_set(c, attr, value))
    })
}

/// `seccomp_syscall_resolve_num_arch`: a `malloc`'d name, or NULL.
#[no_mangle]
pub extern "C" fn seccomp_syscall_resolve_num_arch(arch_token: u32, num: c_int) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        let Some(name) = arch_of_token(arch_token).and_then(|a| tokens::resolve_num(a, num)) else {
            return std::ptr::null_mut();
        };
        // The caller frees it with free(3): allocate with malloc.
        // SAFETY: malloc of len+1 bytes, then a copy of the name and a NUL.
        unsafe {
            let p = libc::malloc(name.len() + 1).cast::<c_char>();
            if !p.is_null() {
                std::ptr::copy_nonoverlapping(name.as_ptr().cast::<c_char>(), p, name.len());
                p.add(name.len()).write(0);
            }
            p
        }
    })
}

/// The name behind a C string pointer.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
unsafe fn name_of<'a>(name: *const c_char) -> Option<&'a str> {
    if name.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated per the contract.
    unsafe { CStr::from_ptr(name) }.to_str().ok()
}

/// `seccomp_syscall_resolve_name_arch`: `__NR_SCMP_ERROR` when unknown.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_resolve_name_arch(
    arch_token: u32,
    name: *const c_char,
) -> c_int {
    guard(NR_SCMP_ERROR, || {
        // SAFETY: forwarded contract.
        match (arch_of_token(arch_token), unsafe { name_of(name) }) {
            (Some(a), Some(n)) => tokens::resolve_name(a, n),
            _ => NR_SCMP_ERROR,
        }
    })
}

/// `seccomp_syscall_resolve_name_rewrite`: on x86, a multiplexed
/// syscall's multiplexer.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_resolve_name_rewrite(
    arch_token: u32,
    name: *const c_char,
) -> c_int {
    guard(NR_SCMP_ERROR, || {
        // SAFETY: forwarded contract.
        let (Some(a), Some(n)) = (arch_of_token(arch_token), unsafe { name_of(name) }) else {
            return NR_SCMP_ERROR;
        };
        let nr = tokens::resolve_name(a, n);
        if nr < -1 && syscage::policy::multiplex::multiplexes(a) {
            if let Some((m, _)) = syscage::policy::multiplex::multiplexer(n) {
                return tokens::resolve_name(a, m);
            }
        }
        nr
    })
}

/// `seccomp_syscall_resolve_name`: on the native arch.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_resolve_name(name: *const c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { seccomp_syscall_resolve_name_arch(0, name) }
}

/// `seccomp_syscall_priority`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_syscall_priority(
    ctx: *mut c_void,
    syscall: c_int,
    priority: u8,
) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }).filter(|c| c.valid()) else {
            return -libc::EINVAL;
        };
        if (-99..=-1).contains(&syscall) && !(syscall == -1 && c.attrs.api_tskip) {
            return -libc::EINVAL;
        }
        c.priorities.retain(|(s, _)| *s != syscall);
        c.priorities.push((syscall, priority));
        0
    })
}

/// The shared body of the `_array` entry points.
///
/// # Safety
/// `ctx` is NULL or live; `arg_array` is NULL or points at `arg_cnt` items.
unsafe fn rule_add(
    ctx: *mut c_void,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    arg_array: *const ScmpArgCmp,
    strict: bool,
) -> c_int {
    guard(-libc::EFAULT, || {
        if arg_cnt as usize > ctx::ARG_COUNT_MAX || (arg_cnt > 0 && arg_array.is_null()) {
            return -libc::EINVAL;
        }
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }) else {
            return -libc::EINVAL;
        };
        let args: &[ScmpArgCmp] = if arg_cnt == 0 {
            &[]
        } else {
            // SAFETY: non-NULL, arg_cnt (≤ 6) readable items per the contract.
            unsafe { std::slice::from_raw_parts(arg_array, arg_cnt as usize) }
        };
        if tokens::action_of(action).is_some_and(|a| !level::action_ok(a)) {
            return -libc::EINVAL;
        }
        rc(c.rule_add(action, syscall, args, strict))
    })
}

/// `seccomp_rule_add_array` (`seccomp_rule_add` is the C shim's).
///
/// # Safety
/// `ctx` is NULL or live; `arg_array` is NULL or points at `arg_cnt` items.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rule_add_array(
    ctx: *mut c_void,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    arg_array: *const ScmpArgCmp,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { rule_add(ctx, action, syscall, arg_cnt, arg_array, false) }
}

/// `seccomp_rule_add_exact_array` (`seccomp_rule_add_exact` is the C shim's).
///
/// # Safety
/// `ctx` is NULL or live; `arg_array` is NULL or points at `arg_cnt` items.
#[no_mangle]
pub unsafe extern "C" fn seccomp_rule_add_exact_array(
    ctx: *mut c_void,
    action: u32,
    syscall: c_int,
    arg_cnt: c_uint,
    arg_array: *const ScmpArgCmp,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { rule_add(ctx, action, syscall, arg_cnt, arg_array, true) }
}

/// `seccomp_export_pfc`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_export_pfc(ctx: *mut c_void, fd: c_int) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }).filter(|c| c.valid()) else {
            return -libc::EINVAL;
        };
        let text = export::pfc(c);
        rc(load::write_all(c, fd, text.as_bytes()))
    })
}

/// `seccomp_export_bpf`.
///
/// # Safety
/// `ctx` is NULL or a live context from [`seccomp_init`].
#[no_mangle]
pub unsafe extern "C" fn seccomp_export_bpf(ctx: *mut c_void, fd: c_int) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }).filter(|c| c.valid()) else {
            return -libc::EINVAL;
        };
        match export::bpf(c) {
            Ok(bytes) => rc(load::write_all(c, fd, &bytes)),
            Err(e) => e,
        }
    })
}

/// `seccomp_export_bpf_mem` (libseccomp 2.6): with `buf` NULL, only the
/// size; `-ERANGE` when `*len` is too small.
///
/// # Safety
/// `ctx` is NULL or live; `len` is NULL or read/writable; `buf` is NULL or
/// writable for `*len` bytes.
#[no_mangle]
pub unsafe extern "C" fn seccomp_export_bpf_mem(
    ctx: *mut c_void,
    buf: *mut c_void,
    len: *mut usize,
) -> c_int {
    guard(-libc::EFAULT, || {
        // SAFETY: forwarded contract.
        let Some(c) = (unsafe { ctx_mut(ctx) }).filter(|c| c.valid()) else {
            return -libc::EINVAL;
        };
        if len.is_null() {
            return -libc::EINVAL;
        }
        let bytes = match export::bpf(c) {
            Ok(b) => b,
            Err(e) => return e,
        };
        let mut r = 0;
        // SAFETY: len is non-NULL and readable/writable; buf holds *len bytes.
        unsafe {
            if !buf.is_null() {
                if bytes.len() > *len {
                    r = -libc::ERANGE;
                } else {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len());
                }
            }
            *len = bytes.len();
        }
        r
    })
}
