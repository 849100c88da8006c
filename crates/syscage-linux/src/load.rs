//! Loading a policy as libseccomp's `seccomp_load(ctx)` does: compile it
//! with syscage's compiler, prove the program equivalent to the policy (a
//! program that is not is never loaded), and install it on the calling
//! thread with what the policy's attributes ask for: no_new_privs
//! (`SCMP_FLTATR_CTL_NNP`), `SECCOMP_FILTER_FLAG_TSYNC`, `_LOG`,
//! `_SPEC_ALLOW`, and with a user-notification listener
//! (`SECCOMP_FILTER_FLAG_NEW_LISTENER`, with `_TSYNC_ESRCH` under TSYNC and
//! `_WAIT_KILLABLE_RECV` for `SCMP_FLTATR_CTL_WAITKILL`) when the policy
//! has a `SCMP_ACT_NOTIFY` action. The default, bad-arch and unknown-number
//! actions are compiled into the program.
//!
//! Installing changes the calling thread (with TSYNC, every thread) for
//! good: call it in a child or right before `execve`.

use crate::filter_flags::FilterFlags;
use crate::install::{self, InstallOptions, Installed};
use syscage::action::Action;
use syscage::analyze::verify::{prove, ProofError, VerifyError};
use syscage::bpf::{ByteOrder, Program};
use syscage::compile::{compile, CompileError, CompileOptions};
use syscage::policy::{Attributes, Policy};

/// Why a policy was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The policy names no arch (libseccomp's `-EINVAL`).
    #[error("the policy names no arch")]
    NoArch,
    /// The compiler refused the policy.
    #[error("cannot compile the policy: {0}")]
    Compile(#[from] CompileError),
    /// The compiled program does not do what the policy says (an internal
    /// error, libseccomp's `-EFAULT`): it is not loaded.
    #[error("the compiled filter is not equivalent to the policy: {0}")]
    NotEquivalent(VerifyError),
    /// Checking or installing the filter failed ([`install::install`]).
    #[error(transparent)]
    Install(#[from] crate::Error),
}

impl FilterFlags {
    /// The flags a policy's attributes ask for by themselves
    /// (`SCMP_FLTATR_CTL_TSYNC`, `_CTL_LOG`, `_CTL_SSB`); the listener
    /// flags depend on the filter ([`install_options`]).
    pub fn from_attributes(a: &Attributes) -> FilterFlags {
        let mut f = FilterFlags::empty();
        f.set(FilterFlags::TSYNC, a.tsync);
        f.set(FilterFlags::LOG, a.log);
        f.set(FilterFlags::SPEC_ALLOW, a.spec_allow);
        f
    }
}

/// Whether any action of `policy` is `SCMP_ACT_NOTIFY` (the filter then
/// needs a listener).
pub fn uses_notify(policy: &Policy) -> bool {
    std::iter::once(policy.bad_arch_action())
        .chain(policy.decided_actions())
        .any(|a| a == Action::UserNotif)
}

/// How `seccomp_load` installs `policy`: its attributes' flags and
/// no_new_privs, and, with `listener`, `NEW_LISTENER` (plus `TSYNC_ESRCH`
/// under TSYNC, as a listener fd and a thread id cannot both be returned,
/// and `WAIT_KILLABLE_RECV` when `SCMP_FLTATR_CTL_WAITKILL` is set).
pub fn install_options(policy: &Policy, listener: bool) -> InstallOptions {
    let a = policy.attributes();
    let mut flags = FilterFlags::from_attributes(a);
    if listener {
        flags |= FilterFlags::NEW_LISTENER;
        flags.set(FilterFlags::TSYNC_ESRCH, a.tsync);
        flags.set(FilterFlags::WAIT_KILLABLE_RECV, a.wait_kill);
    }
    InstallOptions {
        flags,
        no_new_privs: a.no_new_privs,
    }
}

/// `policy` compiled and proven equivalent, with the byte order of its
/// first arch (the order of the exported bytes). A proof that could not be
/// completed (lifting limits) is not a disproof, as for `syscage compile`.
pub fn proven_program(policy: &Policy) -> Result<(Program, ByteOrder), LoadError> {
    let order = policy
        .arches()
        .first()
        .map(|a| a.byte_order())
        .ok_or(LoadError::NoArch)?;
    let prog = compile(policy, &CompileOptions::default())?;
    match prove(policy, &prog, order) {
        Err(ProofError::Verify(e @ VerifyError::Mismatch(_))) => Err(LoadError::NotEquivalent(e)),
        _ => Ok((prog, order)),
    }
}

/// `seccomp_load(ctx)`: compiles `policy`, proves it, and installs it on
/// the calling thread as [`install_options`] says (a listener when it has
/// a `SCMP_ACT_NOTIFY` action); the listener, if any, is returned.
pub fn load(policy: &Policy) -> Result<Installed, LoadError> {
    load_with(policy, &install_options(policy, uses_notify(policy)))
}

/// [`load`] with the install options given (the C API asks for a listener
/// whenever a `SCMP_ACT_NOTIFY` rule was ever added, as libseccomp does).
pub fn load_with(policy: &Policy, opts: &InstallOptions) -> Result<Installed, LoadError> {
    let (prog, _) = proven_program(policy)?;
    Ok(install::install(&prog, opts)?)
}
