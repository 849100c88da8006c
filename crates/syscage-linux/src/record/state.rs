//! What both recorders keep over one run and hand back at its end: the
//! calls seen, whether the program was exec'd, how its first process
//! ended, the signals passed on, and the progress callback.

use super::calls::{Calls, Reporter};
use super::signals::{self, Handlers};
use super::{Outcome, ProgramExit, Progress};
use std::collections::HashSet;

/// One recorded run, as far as it went.
pub(crate) struct RunState<'p> {
    /// The first process (the child that execs the program).
    pub root: libc::pid_t,
    /// Every call seen.
    pub calls: Calls,
    /// Whether the first process exec'd the program (ptrace: the exec
    /// event; notify: its `execve` call).
    pub exec_seen: bool,
    /// How the first process ended, once reaped.
    pub root_exit: Option<ProgramExit>,
    /// The caller's progress callback.
    pub progress: Reporter<'p>,
    /// Signals the recorder received and passed on.
    pub forwarded: Vec<libc::c_int>,
}

impl<'p> RunState<'p> {
    /// A run of `root` that has not started yet.
    pub(crate) fn new(
        root: libc::pid_t,
        with_args: bool,
        progress: Option<&'p mut dyn FnMut(&Progress)>,
    ) -> Self {
        RunState {
            root,
            calls: Calls::new(with_args),
            exec_seen: false,
            root_exit: None,
            progress: Reporter::new(progress),
            forwarded: Vec::new(),
        }
    }

    /// Passes the noted signals on ([`signals::pass_on`]); `program` holds
    /// the pids the recorder knows of the program.
    pub(crate) fn pass_on_signals(&mut self, handlers: &Handlers, program: &HashSet<libc::pid_t>) {
        let alive = self.root_exit.is_none();
        let passed = signals::pass_on(handlers, self.root, alive, program);
        self.forwarded.extend(passed);
    }

    /// Reports progress if it is time to ([`Reporter::tick`]).
    pub(crate) fn tick(&mut self, tasks: usize) {
        self.progress.tick(&self.calls, tasks);
    }

    /// What the run produced.
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome {
            recording: self.calls.recording(),
            exit: self.root_exit.unwrap_or(ProgramExit::Code(0)),
            forwarded_signals: self.forwarded.clone(),
        }
    }
}
