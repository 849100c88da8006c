//! The typed errors of installing and enforcing seccomp filters.

use syscage::action::Action;
use syscage::bpf::ValidateError;

/// Why a filter was not installed or a program was not run under it.
///
/// Every variant names what the kernel would have refused and why, instead
/// of passing on a bare `EINVAL`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel was built without seccomp (`CONFIG_SECCOMP`), or seccomp
    /// filter mode (`CONFIG_SECCOMP_FILTER`) is missing.
    #[error("this kernel has no seccomp {0} mode (CONFIG_SECCOMP / CONFIG_SECCOMP_FILTER)")]
    Unsupported(&'static str),
    /// The filter breaks a rule of the kernel's validator (`bpf_check_classic`,
    /// `seccomp_check_filter`).
    #[error("the kernel would refuse this filter: {0}")]
    Invalid(#[from] ValidateError),
    /// Stacking the filter would pass `MAX_INSNS_PER_PATH` (32768): the
    /// kernel counts every filter's eBPF length plus 4 per filter already
    /// installed (`ENOMEM`).
    #[error("stacked filters would count {} instructions for the kernel (each filter's eBPF length, 4 more per earlier filter), over its limit of 32768", total.map_or("too many".to_string(), |t| t.to_string()))]
    StackLimit {
        /// The kernel's count with the new filter, when known.
        total: Option<usize>,
    },
    /// The filter returns an action this kernel does not offer
    /// (`SECCOMP_GET_ACTION_AVAIL` said `EOPNOTSUPP`).
    #[error("the filter returns {0}, which this kernel does not offer (see /proc/sys/kernel/seccomp/actions_avail)")]
    ActionUnavailable(Action),
    /// A filter flag this kernel does not know.
    #[error("this kernel does not know the seccomp filter flag {0}")]
    FlagUnavailable(&'static str),
    /// A combination of flags the kernel refuses.
    #[error("seccomp flags: {0}")]
    BadFlags(&'static str),
    /// `PR_SET_NO_NEW_PRIVS` was not asked for and the caller lacks CAP_SYS_ADMIN.
    #[error("installing a filter without no_new_privs needs CAP_SYS_ADMIN")]
    NeedsNoNewPrivs,
    /// `SECCOMP_FILTER_FLAG_TSYNC` could not sync this thread.
    #[error("SECCOMP_FILTER_FLAG_TSYNC: thread {0} runs under a different filter stack and cannot be synchronised")]
    Tsync(i32),
    /// `seccomp(2)` reported success but the kernel shows no new filter
    /// (`Seccomp:`/`Seccomp_filters:` of `/proc/self/status`): something
    /// (an outer filter's `SECCOMP_RET_ERRNO` with data 0) faked the call.
    #[error("the filter is not in force although seccomp(2) reported success (Seccomp mode after: {}, Seccomp_filters before: {}, after: {}); something around syscage (an outer seccomp filter?) fakes seccomp(2)", show(*mode), show(*before), show(*after))]
    NotEnforced {
        /// `Seccomp:` after installing.
        mode: Option<u32>,
        /// `Seccomp_filters:` before.
        before: Option<u32>,
        /// `Seccomp_filters:` after.
        after: Option<u32>,
    },
    /// A user-notification listener already exists in this filter chain.
    #[error("SECCOMP_FILTER_FLAG_NEW_LISTENER: a filter of this process already has a listener")]
    ListenerBusy,
    /// A system call failed.
    #[error("{call}: {source}")]
    Sys {
        /// The call, e.g. `seccomp(SECCOMP_SET_MODE_FILTER)`.
        call: &'static str,
        /// The errno.
        source: std::io::Error,
    },
    /// The program to run could not be found or executed.
    #[error("cannot run {program}: {source}")]
    Exec {
        /// The program as given.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// Reading a file under `/proc` (or another kernel file) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file under `/proc` did not have the expected shape.
    #[error("{path}: {what}")]
    Parse {
        /// The file.
        path: String,
        /// What was expected.
        what: String,
    },
}

fn show(v: Option<u32>) -> String {
    v.map_or("unknown".to_string(), |v| v.to_string())
}

impl Error {
    /// A failed system call with the current `errno`.
    pub(crate) fn last(call: &'static str) -> Self {
        Error::Sys {
            call,
            source: std::io::Error::last_os_error(),
        }
    }

    /// The errno of a failed system call ([`Error::Sys`]).
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Sys { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// A failed system call with a given errno value.
    pub(crate) fn errno(call: &'static str, errno: i32) -> Self {
        Error::Sys {
            call,
            source: std::io::Error::from_raw_os_error(errno),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
