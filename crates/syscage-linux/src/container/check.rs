//! `syscage check`: a profile turned into one that logs, instead of
//! denying, every call it would deny (`SCMP_ACT_LOG`), so a container
//! starts under it and says what the profile lacks; and running a
//! container command under it with its audit records collected.
//!
//! `execve` and `execveat` are logged even where the profile allows them:
//! their records mark where the runtime hands over to the workload
//! ([`super::attribute::split_first_exec`]); they are reported as denied
//! only if the profile does not allow them.

use super::measure::collect;
use super::{names_entry, ContainerError};
use crate::audit::SeccompRecord;
use std::ffi::OsString;
use std::process::{Command, ExitStatus};
use syscage::profile::{ActionName, Profile};

/// The syscalls whose records mark the handover to the workload.
pub const EXEC_CALLS: [&str; 2] = ["execve", "execveat"];

/// The logging variant of `profile`: every action other than
/// `SCMP_ACT_ALLOW` and `SCMP_ACT_LOG`, the default action included,
/// becomes `SCMP_ACT_LOG`; `execve` and `execveat` get an entry of their
/// own that logs them. Also returns those of them `profile` allows
/// without conditions (their records are not denials).
pub fn logging_variant(profile: &Profile) -> (Profile, Vec<&'static str>) {
    let mut p = profile.clone();
    let exec_allowed: Vec<&'static str> = EXEC_CALLS
        .into_iter()
        .filter(|name| {
            profile.default_action == ActionName::Allow
                || profile.syscalls.iter().any(|e| {
                    e.action == ActionName::Allow
                        && e.args.is_empty()
                        && e.includes.as_ref().is_none_or(|f| f.is_empty())
                        && e.all_names().contains(name)
                })
        })
        .collect();
    if p.default_action != ActionName::Allow {
        p.default_action = ActionName::Log;
        p.default_errno_ret = None;
        p.default_errno = None;
    }
    for e in &mut p.syscalls {
        if e.action != ActionName::Allow {
            e.action = ActionName::Log;
            e.errno_ret = None;
            e.errno = None;
        }
        e.names.retain(|n| !EXEC_CALLS.contains(&n.as_str()));
        if e.name.as_deref().is_some_and(|n| EXEC_CALLS.contains(&n)) {
            e.name = None;
        }
    }
    p.syscalls
        .retain(|e| e.name.is_some() || !e.names.is_empty());
    p.syscalls.push(names_entry(
        EXEC_CALLS.iter().map(|s| s.to_string()).collect(),
        ActionName::Log,
        Some("syscage check: where the runtime hands over to the workload".into()),
    ));
    (p, exec_allowed)
}

/// Runs `cmd` (its stdio inherited) and collects the logging records of
/// the container it starts: of the processes it starts, or, when
/// `owned_by_daemon` (Docker), of the processes created while it ran.
pub fn run_logged(
    cmd: &[OsString],
    owned_by_daemon: bool,
) -> Result<(ExitStatus, Vec<SeccompRecord>), ContainerError> {
    let (program, args) = cmd
        .split_first()
        .ok_or_else(|| ContainerError::Unsupported("an empty command".into()))?;
    let mut status = None;
    let records =
        collect(owned_by_daemon, || {
            let shown = format!("{cmd:?}");
            let mut child = Command::new(program).args(args).spawn().map_err(|source| {
                ContainerError::Start {
                    command: shown.clone(),
                    source,
                }
            })?;
            let pid = child.id();
            status = Some(child.wait().map_err(|source| ContainerError::Start {
                command: shown,
                source,
            })?);
            Ok(pid)
        })?;
    let status = status.ok_or_else(|| ContainerError::Unsupported("no exit status".into()))?;
    Ok((status, records))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage::profile::SyscallEntry;

    fn entry(names: &[&str], action: ActionName) -> SyscallEntry {
        SyscallEntry {
            errno_ret: Some(1),
            ..names_entry(names.iter().map(|s| s.to_string()).collect(), action, None)
        }
    }

    #[test]
    fn denials_become_logs_and_exec_is_logged() {
        let mut p = Profile::new(ActionName::Errno);
        p.default_errno_ret = Some(1);
        p.syscalls
            .push(entry(&["read", "execve", "execveat"], ActionName::Allow));
        p.syscalls.push(entry(&["ptrace"], ActionName::Errno));
        p.syscalls.push(entry(&["execve"], ActionName::KillProcess));
        let (l, exec_allowed) = logging_variant(&p);
        assert_eq!(exec_allowed, ["execve", "execveat"]);
        assert_eq!(l.default_action, ActionName::Log);
        assert_eq!(l.default_errno_ret, None);
        assert_eq!(l.syscalls[0].names, ["read"]);
        assert_eq!(l.syscalls[0].action, ActionName::Allow);
        assert_eq!(l.syscalls[1].action, ActionName::Log);
        assert_eq!(l.syscalls[1].errno_ret, None);
        assert_eq!(l.syscalls.len(), 3, "the empty execve entry is gone");
        assert_eq!(l.syscalls[2].names, ["execve", "execveat"]);
        let mut only_execve = Profile::new(ActionName::Errno);
        only_execve
            .syscalls
            .push(entry(&["execve"], ActionName::Allow));
        assert_eq!(logging_variant(&only_execve).1, ["execve"]);
    }
}
