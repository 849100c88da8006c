//! The Docker / OCI seccomp profile as written: every field moby's
//! `profiles/seccomp` types and the OCI runtime-spec's `LinuxSeccomp` define,
//! plus Podman's `errno` / `defaultErrno` strings. Names stay names here;
//! [`super::select`] and [`super::translate`] give them meaning.

use crate::action::Action;
use crate::policy::CmpOp;
use std::fmt;

/// An action name (`SCMP_ACT_*`), before its data is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActionName {
    /// `SCMP_ACT_KILL` (kills the thread).
    Kill,
    /// `SCMP_ACT_KILL_THREAD`.
    KillThread,
    /// `SCMP_ACT_KILL_PROCESS`.
    KillProcess,
    /// `SCMP_ACT_TRAP`.
    Trap,
    /// `SCMP_ACT_ERRNO`.
    Errno,
    /// `SCMP_ACT_TRACE`.
    Trace,
    /// `SCMP_ACT_ALLOW`.
    Allow,
    /// `SCMP_ACT_LOG`.
    Log,
    /// `SCMP_ACT_NOTIFY`.
    Notify,
}

impl ActionName {
    /// Every action name, in the order of the runtime-spec.
    pub const ALL: [ActionName; 9] = [
        ActionName::Kill,
        ActionName::KillProcess,
        ActionName::KillThread,
        ActionName::Trap,
        ActionName::Errno,
        ActionName::Trace,
        ActionName::Allow,
        ActionName::Log,
        ActionName::Notify,
    ];

    /// The `SCMP_ACT_*` spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionName::Kill => "SCMP_ACT_KILL",
            ActionName::KillThread => "SCMP_ACT_KILL_THREAD",
            ActionName::KillProcess => "SCMP_ACT_KILL_PROCESS",
            ActionName::Trap => "SCMP_ACT_TRAP",
            ActionName::Errno => "SCMP_ACT_ERRNO",
            ActionName::Trace => "SCMP_ACT_TRACE",
            ActionName::Allow => "SCMP_ACT_ALLOW",
            ActionName::Log => "SCMP_ACT_LOG",
            ActionName::Notify => "SCMP_ACT_NOTIFY",
        }
    }

    /// Parses an `SCMP_ACT_*` name (exact spelling, as runc requires).
    pub fn from_name(s: &str) -> Option<ActionName> {
        ActionName::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the action carries 16 bits of data that `errnoRet` sets:
    /// ERRNO's errno and TRACE's message (runc's `SetReturnCode` ignores
    /// the number for every other action, TRAP included).
    pub const fn takes_data(self) -> bool {
        matches!(self, ActionName::Errno | ActionName::Trace)
    }

    /// The action, with runc's `getAction` rule for data: `errnoRet` when
    /// given, else EPERM (1) for ERRNO and TRACE; TRAP always carries 0.
    pub fn to_action(self, errno_ret: Option<u16>) -> Action {
        const EPERM: u16 = 1;
        let data = errno_ret.unwrap_or(EPERM);
        match self {
            ActionName::Kill | ActionName::KillThread => Action::KillThread,
            ActionName::KillProcess => Action::KillProcess,
            ActionName::Trap => Action::Trap(0),
            ActionName::Errno => Action::Errno(data),
            ActionName::Trace => Action::Trace(data),
            ActionName::Allow => Action::Allow,
            ActionName::Log => Action::Log,
            ActionName::Notify => Action::UserNotif,
        }
    }

    /// The name and `errnoRet` that denote `action` (`None` for actions
    /// without data; TRAP's data, which no profile can set, is dropped).
    pub fn from_action(action: Action) -> (ActionName, Option<u16>) {
        match action {
            Action::Allow => (ActionName::Allow, None),
            Action::Log => (ActionName::Log, None),
            Action::Trace(d) => (ActionName::Trace, Some(d)),
            Action::UserNotif => (ActionName::Notify, None),
            Action::Errno(d) => (ActionName::Errno, Some(d)),
            Action::Trap(_) => (ActionName::Trap, None),
            Action::KillThread => (ActionName::KillThread, None),
            Action::KillProcess => (ActionName::KillProcess, None),
        }
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison operator name (`SCMP_CMP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpName {
    /// `SCMP_CMP_NE`.
    Ne,
    /// `SCMP_CMP_LT`.
    Lt,
    /// `SCMP_CMP_LE`.
    Le,
    /// `SCMP_CMP_EQ`.
    Eq,
    /// `SCMP_CMP_GE`.
    Ge,
    /// `SCMP_CMP_GT`.
    Gt,
    /// `SCMP_CMP_MASKED_EQ`.
    MaskedEq,
}

impl OpName {
    /// Every operator.
    pub const ALL: [OpName; 7] = [
        OpName::Ne,
        OpName::Lt,
        OpName::Le,
        OpName::Eq,
        OpName::Ge,
        OpName::Gt,
        OpName::MaskedEq,
    ];

    /// The `SCMP_CMP_*` spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            OpName::Ne => "SCMP_CMP_NE",
            OpName::Lt => "SCMP_CMP_LT",
            OpName::Le => "SCMP_CMP_LE",
            OpName::Eq => "SCMP_CMP_EQ",
            OpName::Ge => "SCMP_CMP_GE",
            OpName::Gt => "SCMP_CMP_GT",
            OpName::MaskedEq => "SCMP_CMP_MASKED_EQ",
        }
    }

    /// Parses an `SCMP_CMP_*` name.
    pub fn from_name(s: &str) -> Option<OpName> {
        OpName::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The comparison, as runc builds it: `MASKED_EQ` takes `value` as the
    /// mask and `valueTwo` as the datum; the others compare with `value`.
    pub const fn to_cmp(self, value: u64, value_two: u64) -> CmpOp {
        match self {
            OpName::Ne => CmpOp::Ne(value),
            OpName::Lt => CmpOp::Lt(value),
            OpName::Le => CmpOp::Le(value),
            OpName::Eq => CmpOp::Eq(value),
            OpName::Ge => CmpOp::Ge(value),
            OpName::Gt => CmpOp::Gt(value),
            OpName::MaskedEq => CmpOp::MaskedEq {
                mask: value,
                value: value_two,
            },
        }
    }

    /// The operator, `value` and `valueTwo` that denote `op`.
    pub const fn from_cmp(op: CmpOp) -> (OpName, u64, u64) {
        match op {
            CmpOp::Eq(v) => (OpName::Eq, v, 0),
            CmpOp::Ne(v) => (OpName::Ne, v, 0),
            CmpOp::Lt(v) => (OpName::Lt, v, 0),
            CmpOp::Le(v) => (OpName::Le, v, 0),
            CmpOp::Gt(v) => (OpName::Gt, v, 0),
            CmpOp::Ge(v) => (OpName::Ge, v, 0),
            CmpOp::MaskedEq { mask, value } => (OpName::MaskedEq, mask, value),
        }
    }
}

/// A `seccomp(2)` filter flag name of the runtime-spec's `flags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlagName {
    /// `SECCOMP_FILTER_FLAG_TSYNC`.
    Tsync,
    /// `SECCOMP_FILTER_FLAG_LOG`.
    Log,
    /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`.
    SpecAllow,
    /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`.
    WaitKillableRecv,
}

impl FlagName {
    /// Every flag.
    pub const ALL: [FlagName; 4] = [
        FlagName::Tsync,
        FlagName::Log,
        FlagName::SpecAllow,
        FlagName::WaitKillableRecv,
    ];

    /// The `SECCOMP_FILTER_FLAG_*` spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlagName::Tsync => "SECCOMP_FILTER_FLAG_TSYNC",
            FlagName::Log => "SECCOMP_FILTER_FLAG_LOG",
            FlagName::SpecAllow => "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            FlagName::WaitKillableRecv => "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        }
    }

    /// Parses a flag name.
    pub fn from_name(s: &str) -> Option<FlagName> {
        FlagName::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// A kernel version `major.minor` (moby's `KernelVersion`; patch levels are ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelVersion {
    /// Kernel version (the `5` of 5.8).
    pub major: u32,
    /// Major revision (the `8` of 5.8).
    pub minor: u32,
}

impl KernelVersion {
    /// Parses `X.Y` with anything after it (`6.18.0-1-amd64`), as moby's
    /// `fmt.Sscanf(release, "%d.%d")` does.
    pub fn parse(s: &str) -> Option<KernelVersion> {
        let (major, rest) = s.split_once('.')?;
        let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some(KernelVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One argument condition (`LinuxSeccompArg`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArgCond {
    /// `index`: argument number, 0 to 5.
    pub index: u8,
    /// `value`.
    pub value: u64,
    /// `valueTwo` (the datum of `MASKED_EQ`; written when not 0).
    pub value_two: u64,
    /// `op`.
    pub op: OpName,
}

/// `includes` / `excludes` of a Docker rule (moby's `Filter`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    /// `arches`: moby arch names (`amd64`, `arm64`, `x86`, `s390x`, ...).
    pub arches: Vec<String>,
    /// `caps`: capability names (`CAP_SYS_ADMIN`, ...).
    pub caps: Vec<String>,
    /// `minKernel`.
    pub min_kernel: Option<KernelVersion>,
}

impl Filter {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.arches.is_empty() && self.caps.is_empty() && self.min_kernel.is_none()
    }
}

/// One entry of `syscalls` (moby's `Syscall`, the spec's `LinuxSyscall`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyscallEntry {
    /// `name` (moby's older single-name form).
    pub name: Option<String>,
    /// `names`.
    pub names: Vec<String>,
    /// `action`.
    pub action: ActionName,
    /// `errnoRet`.
    pub errno_ret: Option<u16>,
    /// Podman's `errno`: the errno by name (`EPERM`).
    pub errno: Option<String>,
    /// `args`.
    pub args: Vec<ArgCond>,
    /// `comment`.
    pub comment: Option<String>,
    /// `includes`.
    pub includes: Option<Filter>,
    /// `excludes`.
    pub excludes: Option<Filter>,
}

impl SyscallEntry {
    /// The syscall names of the entry (`name` or `names`).
    pub fn all_names(&self) -> Vec<&str> {
        self.name
            .iter()
            .chain(self.names.iter())
            .map(String::as_str)
            .collect()
    }

    /// The errno data of the action: `errnoRet`, else Podman's `errno` name.
    pub fn errno_value(&self) -> Option<u16> {
        self.errno_ret
            .or_else(|| self.errno.as_deref().and_then(super::names::errno_number))
    }

    /// The action, with runc's data rule.
    pub fn to_action(&self) -> Action {
        self.action.to_action(self.errno_value())
    }
}

/// One `archMap` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArchMapEntry {
    /// `architecture`: an `SCMP_ARCH_*` name.
    pub architecture: String,
    /// `subArchitectures` (`null` in some entries of moby's file).
    pub sub_architectures: Option<Vec<String>>,
}

/// A whole profile, in the Docker dialect (a superset of the OCI
/// `linux.seccomp` object).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    /// `defaultAction`.
    pub default_action: ActionName,
    /// `defaultErrnoRet`.
    pub default_errno_ret: Option<u16>,
    /// Podman's `defaultErrno`: the default errno by name.
    pub default_errno: Option<String>,
    /// `architectures`: `SCMP_ARCH_*` names.
    pub architectures: Vec<String>,
    /// `archMap`.
    pub arch_map: Vec<ArchMapEntry>,
    /// `syscalls`.
    pub syscalls: Vec<SyscallEntry>,
    /// `flags`.
    pub flags: Vec<FlagName>,
    /// `listenerPath`: the socket a user-notification agent listens on.
    pub listener_path: Option<String>,
    /// `listenerMetadata`: opaque data passed to that agent.
    pub listener_metadata: Option<String>,
}

impl Profile {
    /// An empty profile with a default action.
    pub fn new(default_action: ActionName) -> Profile {
        Profile {
            default_action,
            default_errno_ret: None,
            default_errno: None,
            architectures: Vec::new(),
            arch_map: Vec::new(),
            syscalls: Vec::new(),
            flags: Vec::new(),
            listener_path: None,
            listener_metadata: None,
        }
    }

    /// The default action with runc's data rule.
    pub fn default_action(&self) -> Action {
        let errno = self.default_errno_ret.or_else(|| {
            self.default_errno
                .as_deref()
                .and_then(super::names::errno_number)
        });
        self.default_action.to_action(errno)
    }
}
