//! # syscage-linux
//!
//! The Linux side of syscage: installing seccomp filters, probing what the
//! kernel supports, ptrace (record, dump) and process status. All of
//! syscage's `unsafe` lives in this crate, each block with a `// SAFETY:`
//! comment.
//!
//! Modules: [`load`] (a policy compiled, proven and installed with its
//! attributes, as `seccomp_load`), [`install`] (`seccomp(2)`, strict mode, no_new_privs and
//! the checks the kernel would make), [`probe`] (available actions, flags,
//! notification sizes), [`status`] (`/proc/PID/status`), [`notify`]
//! (user-notification listener), [`pidfd`] (`pidfd_open`, `pidfd_getfd`), [`audit`] (SECCOMP_RET_LOG records),
//! [`proc_events`] (the forks of a program, to attribute audit records),
//! [`shared_memory`] (memory shared with a forked child),
//! [`runner`] (run a program under a filter), with [`enforced`] (the
//! filter checked in force), [`denials`] (refused syscalls named through a
//! listener), [`startup`] (can the program start under the filter) and
//! [`forward`] (termination signals passed on), [`record`] (learn a
//! program's syscalls under ptrace), [`dump`] (extract filters),
//! [`tracee`] (the ptrace plumbing `record`, `dump` and `run` share),
//! [`fork_exec`] (starting a program in a forked child), [`container`]
//! (what container runtimes do under the container's filter; recording and
//! checking containers through them), [`filter_flags`] (the
//! `SECCOMP_FILTER_FLAG_*` word), [`error`].

#![warn(missing_docs)]

pub mod audit;
pub mod container;
pub mod denials;
pub mod dump;
pub mod enforced;
pub mod error;
pub mod filter_flags;
pub mod fork_exec;
pub mod forward;
pub mod install;
pub mod limits;
pub mod load;
mod netlink;
pub mod notify;
pub mod pidfd;
pub mod probe;
pub mod proc_events;
pub mod record;
pub mod runner;
pub mod shared_memory;
pub mod startup;
pub mod status;
pub mod syscall_counter;
pub mod tracee;

pub use error::{Error, Result};
