//! Seccomp actions (`SECCOMP_RET_*`), their order of severity and their
//! 32-bit encoding in a filter's return value.

use std::fmt;

/// `SECCOMP_RET_KILL_PROCESS`.
pub const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_KILL_THREAD` (also `SECCOMP_RET_KILL`).
pub const SECCOMP_RET_KILL_THREAD: u32 = 0x0000_0000;
/// `SECCOMP_RET_TRAP`.
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_ERRNO`.
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_USER_NOTIF`.
pub const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_TRACE`.
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_LOG`.
pub const SECCOMP_RET_LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ALLOW`.
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ACTION_FULL`: mask of the action bits.
pub const SECCOMP_RET_ACTION_FULL: u32 = 0xffff_0000;
/// `SECCOMP_RET_DATA`: mask of the data bits.
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;

/// What the kernel does with a syscall, as a filter decides it
/// (libseccomp's `SCMP_ACT_*`, OCI's `SCMP_ACT_*` names).
///
/// The derived order is by severity: `KillProcess` is the greatest, so the
/// kernel's "most severe wins" is [`Ord::max`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Allow the syscall (`SCMP_ACT_ALLOW`).
    Allow,
    /// Allow and log it (`SCMP_ACT_LOG`).
    Log,
    /// Notify a ptrace tracer with this message (`SCMP_ACT_TRACE(msg)`).
    Trace(u16),
    /// Ask the user-space notification listener (`SCMP_ACT_NOTIFY`).
    UserNotif,
    /// Fail with this errno (`SCMP_ACT_ERRNO(errno)`).
    Errno(u16),
    /// Send SIGSYS with this value in `si_errno` (`SCMP_ACT_TRAP`).
    Trap(u16),
    /// Kill the calling thread (`SCMP_ACT_KILL_THREAD`, `SCMP_ACT_KILL`).
    KillThread,
    /// Kill the whole process (`SCMP_ACT_KILL_PROCESS`).
    KillProcess,
}

impl Action {
    /// One action of each kind (data 0), most severe first: the kernel's
    /// `SECCOMP_RET_*` list.
    pub const ALL: [Action; 8] = [
        Action::KillProcess,
        Action::KillThread,
        Action::Trap(0),
        Action::Errno(0),
        Action::UserNotif,
        Action::Trace(0),
        Action::Log,
        Action::Allow,
    ];

    /// Severity rank, 0 for `Allow` up to 7 for `KillProcess`.
    pub const fn severity(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Log => 1,
            Action::Trace(_) => 2,
            Action::UserNotif => 3,
            Action::Errno(_) => 4,
            Action::Trap(_) => 5,
            Action::KillThread => 6,
            Action::KillProcess => 7,
        }
    }

    /// The filter return value (`SECCOMP_RET_*` | data).
    pub const fn to_ret(self) -> u32 {
        match self {
            Action::Allow => SECCOMP_RET_ALLOW,
            Action::Log => SECCOMP_RET_LOG,
            Action::Trace(d) => SECCOMP_RET_TRACE | d as u32,
            Action::UserNotif => SECCOMP_RET_USER_NOTIF,
            Action::Errno(d) => SECCOMP_RET_ERRNO | d as u32,
            Action::Trap(d) => SECCOMP_RET_TRAP | d as u32,
            Action::KillThread => SECCOMP_RET_KILL_THREAD,
            Action::KillProcess => SECCOMP_RET_KILL_PROCESS,
        }
    }

    /// Decodes a filter return value as the kernel does: an action value the
    /// kernel does not know is treated as `KILL_PROCESS`
    /// (`__seccomp_filter`'s default case). Data bits of actions that take
    /// none are dropped; use [`Action::from_ret_exact`] to see them.
    pub const fn from_ret(ret: u32) -> Action {
        let data = (ret & SECCOMP_RET_DATA) as u16;
        match ret & SECCOMP_RET_ACTION_FULL {
            SECCOMP_RET_KILL_PROCESS => Action::KillProcess,
            SECCOMP_RET_KILL_THREAD => Action::KillThread,
            SECCOMP_RET_TRAP => Action::Trap(data),
            SECCOMP_RET_ERRNO => Action::Errno(data),
            SECCOMP_RET_USER_NOTIF => Action::UserNotif,
            SECCOMP_RET_TRACE => Action::Trace(data),
            SECCOMP_RET_LOG => Action::Log,
            SECCOMP_RET_ALLOW => Action::Allow,
            _ => Action::KillProcess,
        }
    }

    /// The action's name in the kernel's
    /// `/proc/sys/kernel/seccomp/actions_avail` and `actions_logged`.
    pub const fn sysctl_name(self) -> &'static str {
        match self {
            Action::KillProcess => "kill_process",
            Action::KillThread => "kill_thread",
            Action::Trap(_) => "trap",
            Action::Errno(_) => "errno",
            Action::UserNotif => "user_notif",
            Action::Trace(_) => "trace",
            Action::Log => "log",
            Action::Allow => "allow",
        }
    }

    /// The action as what happened to a refused call, for messages:
    /// `EPERM`, `killed`, `SIGSYS`, … A notify or trace action is named
    /// with what the kernel does when nobody listens (`ENOSYS`).
    pub fn refusal_words(self) -> String {
        match self {
            Action::Errno(e) => crate::profile::names::errno_name(e)
                .map_or_else(|| format!("errno {e}"), str::to_string),
            Action::KillProcess | Action::KillThread => "killed".to_string(),
            Action::Trap(_) => "SIGSYS".to_string(),
            Action::UserNotif => "notify, nobody listening: ENOSYS".to_string(),
            Action::Trace(_) => "trace, no tracer: ENOSYS".to_string(),
            other => other.to_string(),
        }
    }

    /// Decodes a return value only when it is exactly the encoding of an
    /// action (known action bits, no stray data bits).
    pub fn from_ret_exact(ret: u32) -> Option<Action> {
        let a = Action::from_ret(ret);
        (a.to_ret() == ret).then_some(a)
    }

    /// The libseccomp / OCI name, e.g. `SCMP_ACT_ERRNO`.
    pub const fn scmp_name(self) -> &'static str {
        match self {
            Action::Allow => "SCMP_ACT_ALLOW",
            Action::Log => "SCMP_ACT_LOG",
            Action::Trace(_) => "SCMP_ACT_TRACE",
            Action::UserNotif => "SCMP_ACT_NOTIFY",
            Action::Errno(_) => "SCMP_ACT_ERRNO",
            Action::Trap(_) => "SCMP_ACT_TRAP",
            Action::KillThread => "SCMP_ACT_KILL_THREAD",
            Action::KillProcess => "SCMP_ACT_KILL_PROCESS",
        }
    }

    /// The data carried in the low 16 bits, if the action has any.
    pub const fn data(self) -> Option<u16> {
        match self {
            Action::Trace(d) | Action::Errno(d) | Action::Trap(d) => Some(d),
            _ => None,
        }
    }

    /// Whether the syscall goes ahead (`ALLOW` or `LOG`).
    pub const fn permits(self) -> bool {
        matches!(self, Action::Allow | Action::Log)
    }
}

impl PartialOrd for Action {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Action {
    /// By severity; between two actions of one kind, by data (as the
    /// kernel's signed comparison of whole return values would not, this is
    /// only a tie-break that keeps the order total).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.severity()
            .cmp(&other.severity())
            .then(self.data().cmp(&other.data()))
    }
}

/// Why [`Action::parse_spec`] refused a spelling.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseActionError {
    /// A number after `trap:` or `trace:` that is not 0 to 65535.
    #[error("expected a number from 0 to 65535 after '{0}:'")]
    BadNumber(String),
    /// Neither an errno name nor a number after `errno:`.
    #[error("expected an errno name (EPERM) or number after 'errno:'")]
    BadErrno,
    /// Not an action this syntax names.
    #[error("expected errno:NAME|N, kill, kill-thread, trap[:N], log, trace:N or allow")]
    Unknown,
}

impl Action {
    /// Parses an action as a command line spells it: `errno` (EPERM),
    /// `errno:NAME` or `errno:N`, `kill` (`kill-process`), `kill-thread`,
    /// `trap[:N]`, `log`, `trace[:N]`, `allow`; names in any case.
    pub fn parse_spec(s: &str) -> Result<Action, ParseActionError> {
        let (name, data) = match s.split_once(':') {
            Some((n, d)) => (n, Some(d)),
            None => (s, None),
        };
        let number = |d: &str| {
            d.parse::<u16>()
                .map_err(|_| ParseActionError::BadNumber(name.to_string()))
        };
        Ok(match (name.to_ascii_lowercase().as_str(), data) {
            ("errno", Some(d)) => Action::Errno(
                match crate::profile::names::errno_number(&d.to_ascii_uppercase()) {
                    Some(n) => n,
                    None => number(d).map_err(|_| ParseActionError::BadErrno)?,
                },
            ),
            ("errno", None) => Action::Errno(1),
            ("kill" | "kill-process" | "kill_process", None) => Action::KillProcess,
            ("kill-thread" | "kill_thread", None) => Action::KillThread,
            ("trap", None) => Action::Trap(0),
            ("trap", Some(d)) => Action::Trap(number(d)?),
            ("log", None) => Action::Log,
            ("allow", None) => Action::Allow,
            ("trace", Some(d)) => Action::Trace(number(d)?),
            ("trace", None) => Action::Trace(0),
            _ => return Err(ParseActionError::Unknown),
        })
    }
}

/// As JSON, an action is its seccomp-tools spelling (its `Display`:
/// `ALLOW`, `ERRNO(1)`, `KILL_PROCESS`, ...): one vocabulary for every
/// JSON output.
impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Action {
    /// seccomp-tools spelling: `ALLOW`, `ERRNO(1)`, `KILL_PROCESS`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Allow => f.write_str("ALLOW"),
            Action::Log => f.write_str("LOG"),
            Action::Trace(d) => write!(f, "TRACE({d})"),
            Action::UserNotif => f.write_str("USER_NOTIF"),
            Action::Errno(d) => write!(f, "ERRNO({d})"),
            Action::Trap(d) => write!(f, "TRAP({d})"),
            Action::KillThread => f.write_str("KILL"),
            Action::KillProcess => f.write_str("KILL_PROCESS"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parse_spec_reads_the_command_line_spellings() {
        assert_eq!(Action::parse_spec("errno"), Ok(Action::Errno(1)));
        assert_eq!(Action::parse_spec("errno:enosys"), Ok(Action::Errno(38)));
        assert_eq!(Action::parse_spec("ERRNO:13"), Ok(Action::Errno(13)));
        assert_eq!(Action::parse_spec("kill"), Ok(Action::KillProcess));
        assert_eq!(Action::parse_spec("kill_thread"), Ok(Action::KillThread));
        assert_eq!(Action::parse_spec("trap:7"), Ok(Action::Trap(7)));
        assert_eq!(Action::parse_spec("trace"), Ok(Action::Trace(0)));
        assert_eq!(Action::parse_spec("allow"), Ok(Action::Allow));
        assert_eq!(
            Action::parse_spec("errno:ENOPE"),
            Err(ParseActionError::BadErrno)
        );
        assert_eq!(
            Action::parse_spec("trap:70000"),
            Err(ParseActionError::BadNumber("trap".into()))
        );
        assert_eq!(Action::parse_spec("log:1"), Err(ParseActionError::Unknown));
    }

    use super::*;

    #[test]
    fn severity_matches_kernel_signed_order() {
        // The kernel keeps the return value whose action, as s32, is lowest.
        for a in Action::ALL {
            for b in Action::ALL {
                let sa = (a.to_ret() & SECCOMP_RET_ACTION_FULL) as i32;
                let sb = (b.to_ret() & SECCOMP_RET_ACTION_FULL) as i32;
                assert_eq!(a.cmp(&b), sb.cmp(&sa), "{a} vs {b}");
                assert_eq!(Action::from_ret(a.to_ret()), a);
            }
        }
        assert_eq!(Action::from_ret(0x1234_0000), Action::KillProcess);
        assert_eq!(Action::from_ret_exact(0x7fff_0001), None);
    }

    #[test]
    fn refusal_words_name_what_happened() {
        assert_eq!(Action::Errno(1).refusal_words(), "EPERM");
        assert_eq!(Action::Errno(4000).refusal_words(), "errno 4000");
        assert_eq!(Action::KillThread.refusal_words(), "killed");
        assert_eq!(Action::Trap(3).refusal_words(), "SIGSYS");
    }
}
