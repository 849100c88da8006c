//! Adding a runtime's measured syscalls to a profile (`--for RUNTIME`):
//! one `SCMP_ACT_ALLOW` entry whose `comment` says where it comes from, so
//! the JSON itself tells which entries are the runtime's and why.

use super::measure::RuntimeCalls;
use super::{names_entry, Runtime};
use std::collections::BTreeMap;
use syscage::profile::{ActionName, Profile, SyscallEntry};

/// What [`add_runtime_calls`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// Syscall names added, with the variants (`uid0`, `nnp,uid0`, ...) in
    /// which the runtime made them.
    pub added: BTreeMap<String, Vec<String>>,
    /// Names the runtime needs that the profile already allowed.
    pub present: Vec<String>,
    /// Names the runtime needs that an entry of the profile explicitly
    /// denies (kept denied: the profile says so on purpose).
    pub denied: Vec<String>,
}

/// The comment of the entry syscage adds.
pub fn comment(runtime: Runtime, version: &str) -> String {
    format!(
        "syscage --for {}: made by the runtime ({}) under the container's filter before it executes the workload; measured on this machine",
        runtime.name(),
        version.lines().next().unwrap_or("").trim()
    )
}

/// Adds to `profile` an `SCMP_ACT_ALLOW` entry for every syscall of
/// `calls` the profile does not already allow without conditions. A
/// profile whose default action is `SCMP_ACT_ALLOW` is left as it is.
pub fn add_runtime_calls(
    profile: &mut Profile,
    runtime: Runtime,
    version: &str,
    calls: &RuntimeCalls,
) -> Added {
    let mut out = Added::default();
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ((arch, nr), variants) in &calls.calls {
        let Some(name) = arch.syscall_name(*nr) else {
            continue;
        };
        let v = wanted.entry(name.to_string()).or_default();
        for variant in variants {
            if !v.contains(&variant.name()) {
                v.push(variant.name());
            }
        }
    }
    let allows_all = profile.default_action == ActionName::Allow;
    for (name, variants) in wanted {
        let entries: Vec<&SyscallEntry> = profile
            .syscalls
            .iter()
            .filter(|e| e.all_names().contains(&name.as_str()))
            .collect();
        if allows_all
            || entries
                .iter()
                .any(|e| e.action == ActionName::Allow && e.args.is_empty() && e.includes.is_none())
        {
            out.present.push(name);
        } else if entries.iter().any(|e| e.action != ActionName::Allow) {
            out.denied.push(name);
        } else {
            out.added.insert(name, variants);
        }
    }
    if !out.added.is_empty() {
        profile.syscalls.push(names_entry(
            out.added.keys().cloned().collect(),
            ActionName::Allow,
            Some(comment(runtime, version)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::bundle::Variant;
    use std::collections::BTreeSet;
    use syscage::arch::Arch;

    fn entry(names: &[&str], action: ActionName) -> SyscallEntry {
        names_entry(names.iter().map(|s| s.to_string()).collect(), action, None)
    }

    #[test]
    fn adds_what_is_missing_and_keeps_explicit_denials() {
        let a = Arch::X86_64;
        let mut calls = RuntimeCalls::default();
        for n in ["fstatfs", "getdents64", "write", "ptrace"] {
            calls.calls.insert(
                (a, a.syscall_nr(n).unwrap()),
                BTreeSet::from([Variant::ALL[0]]),
            );
        }
        let mut p = Profile::new(ActionName::Errno);
        p.syscalls.push(entry(&["write"], ActionName::Allow));
        p.syscalls.push(entry(&["ptrace"], ActionName::Errno));
        let added = add_runtime_calls(&mut p, Runtime::Runc, "runc version 1.1.5", &calls);
        assert_eq!(
            added.added.keys().collect::<Vec<_>>(),
            ["fstatfs", "getdents64"]
        );
        assert_eq!(added.present, ["write"]);
        assert_eq!(added.denied, ["ptrace"]);
        let last = p.syscalls.last().unwrap();
        assert_eq!(last.names, ["fstatfs", "getdents64"]);
        assert!(last
            .comment
            .as_deref()
            .unwrap()
            .contains("runc version 1.1.5"));
        let mut all = Profile::new(ActionName::Allow);
        assert!(add_runtime_calls(&mut all, Runtime::Runc, "v", &calls)
            .added
            .is_empty());
        assert!(all.syscalls.is_empty());
    }
}
