//! `syscage run`: run a program under a seccomp filter, built from a
//! profile (`--profile FILE|default`, the built-in default when nothing
//! else is asked), from `--allow` / `--deny` lists with `--action`, or
//! `--log` (SECCOMP_RET_LOG for everything, then a count of each syscall,
//! read back from the kernel's audit records). Audit names the caller by
//! pid only and speaks for the whole machine: as root, the kernel's fork
//! events give the program's process tree, and only its records count.
//!
//! Fails closed: a filter that cannot be built or installed, or that the
//! kernel does not show in force after installing, stops the program from
//! starting (exit 2). Termination signals sent to syscage are passed on to
//! the program. The program's exit status is passed
//! through; a program killed by a signal makes syscage exit 128 + signal,
//! with a message naming the syscall when seccomp's SIGSYS killed it.

use super::input;
use super::rule_selection::RuleSelection;
use anyhow::{anyhow, bail};
use std::collections::BTreeMap;
use std::ffi::OsString;
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{lists, Policy};
use syscage::profile;
use syscage_linux::audit::{Collected, Collector, Owner, Source};
use syscage_linux::denials::{Denials, Routing};
use syscage_linux::install::{self, FilterFlags, InstallOptions};
use syscage_linux::proc_events::ForkWatch;
use syscage_linux::runner::{self, Enforcement, RunOutcome, SyscallStop, Termination};
use syscage_linux::startup;

/// Arguments of `syscage run`.
#[derive(clap::Args)]
#[command(mut_arg("arch", |a| a.value_name("A").help(
    "Architectures the filter covers (others are killed); default: the host's"
)))]
pub struct Args {
    /// Profile: a Docker/OCI JSON file, or `default` for the built-in one
    /// (used when no other filter option is given).
    #[arg(long, value_name = "FILE|default")]
    pub profile: Option<String>,
    /// Syscalls (names or numbers) to allow; others get `--action`.
    #[arg(long, value_delimiter = ',', value_name = "S,...")]
    pub allow: Vec<String>,
    /// Syscalls (names or numbers) to refuse with `--action`; others are allowed.
    #[arg(long, value_delimiter = ',', value_name = "S,...")]
    pub deny: Vec<String>,
    /// What refused syscalls of --allow/--deny get: errno:EPERM (the
    /// default), errno:38, kill, kill-thread, trap, trap:N, log, trace:N.
    /// Not with --profile, whose rules carry their own actions.
    #[arg(long, value_name = "A")]
    pub action: Option<String>,
    /// `-a`.
    #[command(flatten)]
    pub arch: super::flag_groups::ArchList,
    /// Strict mode (SECCOMP_MODE_STRICT): only read, write, _exit and
    /// sigreturn, so the kernel kills the program's execve itself.
    #[arg(long)]
    pub strict: bool,
    /// SECCOMP_RET_LOG for everything (or for what the filter allows); when
    /// the program ends, print each syscall it and its children made, with
    /// its count. Records are read as the audit daemon, beside auditd, or
    /// (without root) from the rate-limited kernel log, which says how many
    /// it lost.
    #[arg(long)]
    pub log: bool,
    /// Profile rule selection (`--cap`, `--kernel`), as `syscage compile`.
    #[command(flatten)]
    pub select: RuleSelection,
    /// The program and its arguments. SIGINT, SIGTERM, SIGHUP and SIGQUIT
    /// sent to syscage are passed on to it (one from the terminal already
    /// reached it), and syscage exits with its status: 128 + N when signal
    /// N killed it.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Parses an `--action` value ([`Action::parse_spec`]).
pub fn parse_action(s: &str) -> anyhow::Result<Action> {
    Action::parse_spec(s).map_err(|e| anyhow!("--action {s}: {e}"))
}

fn arches(args: &Args) -> anyhow::Result<Vec<Arch>> {
    args.arch.or_native()
}

/// The policy the options ask for.
pub fn build_policy(args: &Args) -> anyhow::Result<Policy> {
    let arches = arches(args)?;
    if let (Some(a), Some(p)) = (&args.action, &args.profile) {
        bail!("--action {a} with --profile {p}: a profile's rules carry their own actions (defaultAction, each rule's action); --action is for --allow/--deny lists");
    }
    let action = parse_action(args.action.as_deref().unwrap_or("errno:EPERM"))?;
    let has_lists = !args.allow.is_empty() || !args.deny.is_empty();
    let use_profile = args.profile.is_some() || (!has_lists && !args.log);
    if !use_profile && args.select.given() {
        bail!("--cap and --kernel select a profile's rules; they need --profile");
    }
    let mut policy = if use_profile {
        let name = args.profile.as_deref().unwrap_or("default");
        load_profile(
            name,
            if args.arch.is_empty() {
                Vec::new()
            } else {
                arches.clone()
            },
            &args.select,
        )?
    } else {
        let default = lists::default_action(!args.allow.is_empty(), action);
        let mut p = Policy::init(default)?;
        p.set_arches(arches.iter().copied())?;
        p
    };
    let open = lists::add_lists(&mut policy, &args.allow, &args.deny, action)
        .map_err(|e| anyhow!("--{} {e}", e.list()))?;
    for o in open {
        diagln!(
            "syscage: warning: --deny {}: {} still allowed and can do what {} does",
            o.word,
            o.open.join(", "),
            o.name
        );
    }
    if args.log {
        let to_log = |a: Action| if a == Action::Allow { Action::Log } else { a };
        policy.map_actions(to_log)?;
    }
    Ok(policy)
}

/// Parses and resolves a profile file, or the built-in `default`, with
/// the rule selection `compile` would use; prints the warnings of
/// resolving as `compile` does.
pub fn load_profile(
    name: &str,
    arches: Vec<Arch>,
    select: &RuleSelection,
) -> anyhow::Result<Policy> {
    let (file, text) = if name == "default" {
        (
            "<built-in default profile>".to_string(),
            syscage::builtin::DEFAULT_PROFILE.to_string(),
        )
    } else {
        let text = input::read_text(name)?;
        (name.to_string(), text)
    };
    if super::policy_file::is_policy(&file, text.as_bytes()) {
        return super::policy_file::parse(&file, &text).map_err(|e| anyhow!("{e}"));
    }
    let (parsed, spans) =
        profile::parse_with_spans(&text).map_err(|e| anyhow!(input::located(&file, &e)))?;
    let opts = match select.kernel {
        Some(_) => select.resolve_options(arches)?,
        // No /proc: run the program anyway, as with a recent kernel.
        None => RuleSelection {
            kernel: Some(input::running_kernel_or_6_0()),
            ..select.clone()
        }
        .resolve_options(arches)?,
    };
    let (policy, warnings) = parsed
        .to_policy(&opts)
        .map_err(|e| anyhow!(input::located(&file, &spans.locate(e))))?;
    // The built-in profile covers every arch, so it names syscalls some
    // arches lack; its warnings are known and say nothing about the user's input.
    if name != "default" {
        for w in &warnings {
            diagln!("{file}: warning: {w}");
        }
    }
    Ok(policy)
}

/// Runs `syscage run`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if let Err(e) = syscage_linux::probe::seccomp_mode() {
        let program = args.command[0].to_string_lossy();
        // ENOSYS: no prctl(2) at all, as a filter emulating an old kernel says.
        if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
            bail!("this kernel has no seccomp (CONFIG_SECCOMP); not running {program}");
        }
        bail!("seccomp is refused here (prctl(PR_GET_SECCOMP): {e}); not running {program}");
    }
    let path = runner::find_program(&args.command[0]).map_err(|e| anyhow!("{e}"))?;
    let mut unnamed = None;
    let enforcement = if args.strict {
        if args.profile.is_some() || !args.allow.is_empty() || !args.deny.is_empty() || args.log {
            bail!("--strict takes no filter options (strict mode is not a filter)");
        }
        Enforcement::Strict
    } else {
        let policy = build_policy(&args)?;
        let prog = compile(&policy, &CompileOptions::default())
            .map_err(|e| anyhow!("cannot compile the filter: {e}"))?;
        let opts = InstallOptions {
            flags: FilterFlags::from_attributes(policy.attributes()),
            no_new_privs: policy.attributes().no_new_privs,
        };
        check_startup(&prog, &path, &args.command[0].to_string_lossy())?;
        install::check(&prog, &opts).map_err(|e| anyhow!("{e}"))?;
        let routing = match Routing::for_policy(&policy, &prog, &opts) {
            Ok(r) => r,
            Err(why) => {
                unnamed = Some(why);
                None
            }
        };
        Enforcement::Filter {
            raw: install::raw_filter(&prog),
            opts,
            routing,
        }
    };
    let collector = if args.log {
        let records = Collector::start().map_err(|e| {
            anyhow!(
                "--log: cannot read audit records: {e} (as root syscage reads them from the \
                 audit netlink socket; otherwise the kernel log must be readable: \
                 sysctl kernel.dmesg_restrict=0)"
            )
        })?;
        Some((records, ForkWatch::start().ok()))
    } else {
        None
    };
    let mut outcome = runner::run(&args.command, &enforcement, true).map_err(|e| anyhow!("{e}"))?;
    if let Some((c, forks)) = collector {
        let collected = c.finish();
        let owner = Owner::new(forks, outcome.pid);
        print_log(&collected, &owner);
        if outcome.seccomp.is_none() {
            // The audit record of the kill names the syscall when ptrace could not
            // (a thread other than the main one was killed).
            outcome.seccomp = collected
                .records
                .iter()
                .find(|r| {
                    let kill = matches!(
                        Action::from_ret(r.code),
                        Action::KillThread | Action::KillProcess
                    );
                    kill && r.sig == libc::SIGSYS as u32 && owner.owns(r.pid)
                })
                .map(|r| SyscallStop {
                    nr: r.syscall,
                    arch: r.arch,
                    trap_data: None,
                });
        }
    }
    report_death(&args.command[0].to_string_lossy(), &outcome, args.strict);
    report_denials(&outcome.denials, unnamed);
    let code = outcome.termination.shell_code();
    Ok(code.clamp(0, 255) as u8)
}

/// `name (nr, arch)` for a syscall as the filter saw it.
pub fn describe_syscall(nr: u32, audit_arch: u32) -> String {
    match Arch::classify(audit_arch, nr).map(|(a, _)| a) {
        Some(a) => match a.syscall_name(nr) {
            Some(name) => format!("{name} ({nr}, {})", a.name()),
            None => format!("syscall {nr} ({})", a.name()),
        },
        None => format!("syscall {nr} (arch {audit_arch:#x})"),
    }
}

fn report_death(program: &str, outcome: &RunOutcome, strict: bool) {
    let Termination::Signaled { signal, .. } = outcome.termination else {
        return;
    };
    if signal == libc::SIGSYS && outcome.exec_seen == Some(false) && !strict {
        let at = outcome
            .seccomp
            .map_or("a syscall it could not recover".to_string(), |s| {
                describe_syscall(s.nr, s.arch)
            });
        diagln!(
            "syscage: {program} never started: the filter killed syscage's child at {at}, after installing and before execve (syscage reads /proc/self/status then to check the filter is in force; allow what it names)"
        );
        return;
    }
    if signal == libc::SIGSYS {
        match outcome.seccomp {
            Some(SyscallStop {
                nr,
                arch,
                trap_data: None,
            }) => diagln!(
                "syscage: {program} was killed by seccomp (SIGSYS) at {}",
                describe_syscall(nr, arch)
            ),
            Some(SyscallStop {
                nr,
                arch,
                trap_data: Some(d),
            }) => diagln!(
                "syscage: {program} was killed by SIGSYS from SECCOMP_RET_TRAP (data {d}) at {}",
                describe_syscall(nr, arch)
            ),
            None => diagln!(
                "syscage: {program} was killed by SIGSYS (the syscall could not be recovered)"
            ),
        }
    } else if strict && signal == libc::SIGKILL {
        diagln!("syscage: {program} was killed (SIGKILL) by strict mode, which allows only read, write, _exit and sigreturn: its execve was refused");
    }
}

/// Refuses a filter no program can start or end under, and warns about
/// one that refuses the dynamic loader's calls (see [`startup`]).
fn check_startup(
    prog: &syscage::bpf::Program,
    path: &std::path::Path,
    program: &str,
) -> anyhow::Result<()> {
    let s = startup::check(prog, Arch::native(), path);
    let named = |calls: &[(&str, Action)]| {
        calls
            .iter()
            .map(|(n, a)| format!("{n} ({})", a.refusal_words()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !s.fatal.is_empty() {
        bail!(
            "the filter refuses {}: {program} cannot start (execve) or end (exit_group) under it; allow them",
            named(&s.fatal)
        );
    }
    if !s.loader.is_empty() {
        diagln!(
            "syscage: warning: the filter refuses {}, which {program}'s loader {} makes before main: it will likely not start",
            named(&s.loader),
            s.interpreter.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// Names what the filter refused with an errno, one line each, or says
/// plainly why it cannot.
fn report_denials(denials: &Denials, unnamed: Option<&str>) {
    let why = match (denials, unnamed) {
        (_, Some(why)) | (&Denials::NotNamed(why), _) => why,
        (Denials::NotAsked, None) => return,
        (Denials::Named(list), None) => {
            for d in list {
                let errno = match profile::names::errno_name(d.errno) {
                    Some(name) => format!("{name} ({})", d.errno),
                    None => format!("errno {}", d.errno),
                };
                let times = if d.count == 1 {
                    "once".to_string()
                } else {
                    format!("{} times", d.count)
                };
                diagln!(
                    "syscage: refused {} with {errno}, {times}, first by pid {} ({})",
                    describe_syscall(d.nr, d.arch),
                    d.first_pid,
                    d.first_comm
                );
            }
            return;
        }
    };
    diagln!("syscage: syscalls refused with an errno are not named: {why}");
}

fn print_log(collected: &Collected, owner: &Owner) {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for r in &collected.records {
        if !owner.owns(r.pid) {
            continue;
        }
        total += 1;
        *counts
            .entry(describe_syscall(r.syscall, r.arch))
            .or_default() += 1;
    }
    let source = match collected.source {
        Source::Netlink => "audit netlink socket",
        Source::ReadLog => "audit netlink socket, read-only log group",
        Source::Kmsg => "kernel log, rate-limited",
    };
    let lost = match collected.lost {
        Some(0) => "none lost".to_string(),
        Some(n) if collected.source == Source::Kmsg => {
            format!("{n} lost to the kernel's rate limit")
        }
        Some(n) => format!("at most {n} lost by the kernel's audit backlog"),
        None => "an unknown number lost".to_string(),
    };
    let whose = owner.caveat();
    diagln!("syscage: {total} syscalls logged ({source}; {lost}{whose})");
    let mut rows: Vec<(&String, &u64)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    diagln!("{:>8}  syscall", "count");
    for (name, n) in rows {
        diagln!("{n:>8}  {name}");
    }
}
