//! Which audit records are a program's: audit names the caller by pid
//! only, and records come from every process of the machine.

use crate::proc_events::{self, ForkWatch};
use std::collections::HashSet;

/// The processes whose records count, as well as the kernel lets syscage
/// know them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Owner {
    /// The program's process tree, rebuilt from the kernel's fork events
    /// (the process-events connector, root only).
    Tree(HashSet<u32>),
    /// Without the process-events connector: every pid from the program's
    /// on (pids grow until they wrap), which also takes in processes that
    /// others started meanwhile.
    PidsFrom(u32),
    /// In a pid namespace, records carry outer pids syscage cannot map:
    /// every record.
    Everyone,
}

impl Owner {
    /// The owner of a program started as `child`, from the fork events
    /// `forks` watched while it ran (if they could be watched).
    pub fn new(forks: Option<ForkWatch>, child: u32) -> Owner {
        match forks.map(ForkWatch::finish) {
            Some(log) if !log.overflowed => {
                Owner::Tree(log.descendants(child, Some(std::process::id())))
            }
            _ if !proc_events::in_initial_pid_namespace() => Owner::Everyone,
            _ => Owner::PidsFrom(child),
        }
    }

    /// Whether a record of `pid` is the program's.
    pub fn owns(&self, pid: u32) -> bool {
        match self {
            Owner::Tree(tree) => tree.contains(&pid),
            Owner::PidsFrom(first) => pid >= *first,
            Owner::Everyone => true,
        }
    }

    /// What a count of records takes in beyond the program, for a
    /// message; empty for [`Owner::Tree`].
    pub fn caveat(&self) -> &'static str {
        match self {
            Owner::Tree(_) => "",
            Owner::PidsFrom(_) => {
                "; without the process-events connector (root), processes started meanwhile by others count too"
            }
            Owner::Everyone => "; in a pid namespace, records of every process count",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_owner_counts_its_pids() {
        let tree = Owner::Tree([10, 12].into_iter().collect());
        assert!(tree.owns(12) && !tree.owns(11));
        assert_eq!(tree.caveat(), "");
        let from = Owner::PidsFrom(100);
        assert!(from.owns(100) && from.owns(5000) && !from.owns(99));
        assert!(Owner::Everyone.owns(1));
        assert!(Owner::Everyone.caveat().contains("pid namespace"));
    }
}
