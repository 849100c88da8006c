//! libseccomp's multiplexer rewriting (`abi_rule_add` in libseccomp's
//! `syscalls.c`, used by its x86 arch): on 32-bit x86 the socket and SysV
//! IPC syscalls are also reachable through `socketcall(2)` / `ipc(2)`, with
//! the call number in argument 0 and the real arguments in memory, out of
//! the filter's reach. A rule for such a syscall therefore also becomes a
//! rule for the multiplexer with `arg0 == call`, its own argument-0
//! condition replaced by that check, its other conditions kept as written.
//!
//! [`Policy::rule_add`] rewrites; [`Policy::rule_add_exact`] refuses a
//! rule with conditions that would need rewriting, as
//! `seccomp_rule_add_exact` does (`-EINVAL`).

use super::{CmpOp, Condition, Policy, PolicyError, Rule, SyscallId};
use crate::action::Action;
use crate::arch::Arch;

/// The socket calls of `socketcall(2)`, in call-number order (`SYS_SOCKET`
/// is 1).
const SOCKET_CALLS: [&str; 20] = [
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "getsockname",
    "getpeername",
    "socketpair",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "sendmsg",
    "recvmsg",
    "accept4",
    "recvmmsg",
    "sendmmsg",
];

/// The SysV IPC calls of `ipc(2)` with their call numbers (`SEMOP` is 1).
const IPC_CALLS: [(&str, u64); 12] = [
    ("semop", 1),
    ("semget", 2),
    ("semctl", 3),
    ("semtimedop", 4),
    ("msgsnd", 11),
    ("msgrcv", 12),
    ("msgget", 13),
    ("msgctl", 14),
    ("shmat", 21),
    ("shmdt", 22),
    ("shmget", 23),
    ("shmctl", 24),
];

/// The multiplexer (`"socketcall"` or `"ipc"`) and call number through
/// which `name` is also reachable on arches that multiplex (x86), if any.
pub fn multiplexer(name: &str) -> Option<(&'static str, u64)> {
    if let Some(i) = SOCKET_CALLS.iter().position(|n| *n == name) {
        return Some(("socketcall", i as u64 + 1));
    }
    IPC_CALLS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, call)| ("ipc", call))
}

/// The syscall `call` of multiplexer `muxer` stands for (the inverse of
/// [`multiplexer`]).
pub fn demultiplex(muxer: &str, call: u64) -> Option<&'static str> {
    match muxer {
        "socketcall" => SOCKET_CALLS.get((call as usize).checked_sub(1)?).copied(),
        "ipc" => IPC_CALLS.iter().find(|(_, c)| *c == call).map(|(n, _)| *n),
        _ => None,
    }
}

/// Whether libseccomp 2.5 rewrites socket and IPC calls on `arch`
/// (`.rule_add = abi_rule_add` in its `arch-*.c`): x86, 32-bit MIPS (o32),
/// the PowerPCs and s390x.
pub const fn multiplexes(arch: Arch) -> bool {
    matches!(
        arch,
        Arch::X86
            | Arch::Mips
            | Arch::Mipsel
            | Arch::Ppc
            | Arch::Ppc64
            | Arch::Ppc64le
            | Arch::S390x
    )
}

/// The multiplexer rule libseccomp adds for `name` with `conditions`, if
/// `name` is multiplexed: argument 0 checked against the call number, the
/// other conditions kept.
pub fn multiplexed_conditions(
    name: &str,
    conditions: &[Condition],
) -> Option<(&'static str, Vec<Condition>)> {
    let (muxer, call) = multiplexer(name)?;
    let mut conds = vec![Condition::new32(0, CmpOp::Eq(call))];
    conds.extend(conditions.iter().copied().filter(|c| c.arg != 0));
    Some((muxer, conds))
}

impl Policy {
    /// The rules `rule_add` adds besides `rule` itself: on each
    /// multiplexing arch of the policy, the multiplexer's rule.
    fn multiplexed_rules(&self, rule: &Rule) -> Vec<Rule> {
        let SyscallId::Name(name) = &rule.syscall else {
            return Vec::new();
        };
        let Some((muxer, conds)) = multiplexed_conditions(name, &rule.conditions) else {
            return Vec::new();
        };
        self.arches
            .iter()
            .filter(|a| multiplexes(**a) && rule.arch.is_none_or(|r| r == **a))
            .map(|&a| Rule {
                syscall: SyscallId::Name(muxer.to_string()),
                action: rule.action,
                conditions: conds.clone(),
                arch: Some(a),
            })
            .collect()
    }

    /// `seccomp_rule_add_exact`: like [`Policy::rule_add`], but refuses
    /// what libseccomp cannot add exactly as written: a rule for a
    /// multiplexed syscall with conditions while a multiplexing arch is in
    /// the policy (`-EINVAL`), and any rule while the policy has more than
    /// one arch (`-EOPNOTSUPP`).
    pub fn rule_add_exact(
        &mut self,
        action: Action,
        syscall: impl Into<SyscallId>,
        conditions: &[Condition],
    ) -> Result<&mut Self, PolicyError> {
        if self.arches.len() > 1 {
            return Err(PolicyError::ExactMultiArch);
        }
        let syscall = syscall.into();
        if let SyscallId::Name(name) = &syscall {
            if !conditions.is_empty()
                && multiplexer(name).is_some()
                && self.arches.iter().any(|a| multiplexes(*a))
            {
                return Err(PolicyError::ExactMultiplexed(name.clone()));
            }
        }
        self.rule_add(action, syscall, conditions)
    }

    /// Pushes a validated rule and, on multiplexing arches, the
    /// multiplexer's rule (see the module documentation).
    pub(super) fn push_rewritten(&mut self, rule: Rule) {
        let extra = self.multiplexed_rules(&rule);
        self.rules.push(rule);
        self.rules.extend(extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_invert() {
        assert_eq!(multiplexer("socket"), Some(("socketcall", 1)));
        assert_eq!(multiplexer("sendmmsg"), Some(("socketcall", 20)));
        assert_eq!(multiplexer("shmctl"), Some(("ipc", 24)));
        assert_eq!(multiplexer("read"), None);
        for n in SOCKET_CALLS.iter().chain(IPC_CALLS.iter().map(|(n, _)| n)) {
            let (m, c) = multiplexer(n).unwrap();
            assert_eq!(demultiplex(m, c), Some(*n));
        }
        assert_eq!(demultiplex("socketcall", 0), None);
    }

    #[test]
    fn rule_add_rewrites_on_x86_only() {
        let mut p = Policy::init(Action::Allow).unwrap();
        p.set_arches(vec![Arch::X86_64, Arch::X86]).unwrap();
        p.rule_add(
            Action::Errno(1),
            "socket",
            &[
                Condition::new(0, CmpOp::Eq(2)),
                Condition::new(1, CmpOp::Eq(1)),
            ],
        )
        .unwrap();
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.rules[1].syscall, SyscallId::Name("socketcall".into()));
        assert_eq!(p.rules[1].arch, Some(Arch::X86));
        assert_eq!(
            p.rules[1].conditions,
            vec![
                Condition::new32(0, CmpOp::Eq(1)),
                Condition::new(1, CmpOp::Eq(1))
            ]
        );
        assert_eq!(
            p.rule_add_exact(Action::Errno(1), "socket", &[])
                .unwrap_err(),
            PolicyError::ExactMultiArch
        );
        p.set_arches(vec![Arch::X86]).unwrap();
        assert_eq!(
            p.rule_add_exact(Action::Errno(1), "bind", &[Condition::new(1, CmpOp::Eq(1))])
                .unwrap_err(),
            PolicyError::ExactMultiplexed("bind".into())
        );
        p.set_arches(vec![Arch::X86_64]).unwrap();
        let n = p.rules.len();
        p.rule_add_exact(Action::Errno(1), "bind", &[Condition::new(1, CmpOp::Eq(1))])
            .unwrap();
        assert_eq!(p.rules.len(), n + 1);
    }
}
