//! `syscage_linux::dump` as a library: how a traced program ends, and the
//! filters streamed to the callback in order.
//!
//! One test function on purpose: `dump_command` waits for any child of
//! the process (`waitpid(-1)`), so no other test may run children beside it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use syscage_linux::dump::{dump_command, dump_pid, CommandOptions, ProgramEnd, SeccompMode};
use syscage_linux::tracee::StdinMode;

mod example_program;

fn testprog() -> PathBuf {
    example_program::build("install_filters")
}

fn argv(prog: &Path, args: &[&str]) -> Vec<OsString> {
    let mut v = vec![prog.as_os_str().to_owned()];
    v.extend(args.iter().map(OsString::from));
    v
}

#[test]
fn program_ends_and_streamed_filters() {
    let prog = testprog();
    let null = CommandOptions {
        stdin: StdinMode::Null,
        ..Default::default()
    };

    // Filters reach the callback in order, as they are installed.
    let mut streamed = Vec::new();
    let dump = dump_command(&argv(&prog, &["stacked", "3"]), &null, |f| {
        streamed.push((f.order, f.insns.len()))
    })
    .unwrap();
    assert_eq!(dump.end, ProgramEnd::Exited(0));
    // Tag t has t + 4 instructions (see the example).
    assert_eq!(streamed, vec![(1, 5), (2, 6), (3, 7)]);
    assert_eq!(dump.filters.len(), 3);

    // No filter: the exit code comes back.
    let dump = dump_command(&argv(&prog, &["none"]), &null, |_| {}).unwrap();
    assert_eq!(dump.end, ProgramEnd::Exited(3));
    assert!(dump.filters.is_empty());

    // Strict mode: the program leaves with exit(2), allowed in strict mode.
    let dump = dump_command(&argv(&prog, &["strict"]), &null, |_| {}).unwrap();
    assert_eq!(dump.end, ProgramEnd::Exited(0));
    assert_eq!(dump.filters[0].mode, SeccompMode::Strict);

    // The limit kills a program that would never end.
    let limited = CommandOptions {
        limit: Some(2),
        ..null
    };
    let start = Instant::now();
    let dump = dump_command(&argv(&prog, &["hang"]), &limited, |_| {}).unwrap();
    assert_eq!(dump.end, ProgramEnd::LimitReached);
    assert_eq!(dump.filters.len(), 2);
    assert!(start.elapsed() < Duration::from_secs(30));

    // The timeout kills it too, with every filter kept.
    let timed = CommandOptions {
        timeout: Some(Duration::from_millis(500)),
        ..null
    };
    let dump = dump_command(&argv(&prog, &["hang"]), &timed, |_| {}).unwrap();
    assert_eq!(dump.end, ProgramEnd::TimedOut);
    assert_eq!(dump.filters.len(), 4);

    // -p of this very test process: no filter.
    let me = dump_pid(std::process::id() as i32).unwrap();
    assert!(me.mode.is_none() && me.filters.is_empty());
}
