//! `syscage run`: run a program under a seccomp filter, built from a
//! profile (`--profile FILE|default`, the built-in default when nothing
//! else is asked), from `--allow` / `--deny` lists with `--action`, or
//! `--log` (SECCOMP_RET_LOG for everything, then a count of each syscall,
//! read back from the kernel's audit records). Audit names the caller by
//! pid only and speaks for the whole machine: as root, the kernel's fork
//! events give the program's process tree, and only its records count.
//!
//! Fails closed: a filter that cannot be built or installed stops the
//! program from starting (exit 2). The program's exit status is passed
//! through; a program killed by a signal makes syscage exit 128 + signal,
//! with a message naming the syscall when seccomp's SIGSYS killed it.

use super::input;
use anyhow::{anyhow, bail, Context};
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use syscage::action::Action;
use syscage::arch::{Arch, X32_SYSCALL_BIT};
use syscage::compile::{compile, CompileOptions};
use syscage::policy::{Policy, Rule, SyscallId};
use syscage::profile::{self, ResolveOptions};
use syscage_linux::audit::{Collected, Collector, Source};
use syscage_linux::install::{self, Flags, InstallOptions};
use syscage_linux::proc_events::{self, ForkWatch};
use syscage_linux::runner::{self, Enforcement, RunOutcome, SyscallStop, Termination};

/// Arguments of `syscage run`.
#[derive(clap::Args)]
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
    /// What refused syscalls get: errno:EPERM, errno:38, kill, kill-thread,
    /// trap, trap:N, log, trace:N.
    #[arg(long, default_value = "errno:EPERM", value_name = "A")]
    pub action: String,
    /// Architectures the filter covers (others are killed); default: the host's.
    #[arg(short = 'a', long = "arch", value_delimiter = ',', value_name = "A")]
    pub arch: Vec<String>,
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
    /// The program and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Parses an `--action` value.
pub fn parse_action(s: &str) -> anyhow::Result<Action> {
    let (name, data) = match s.split_once(':') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    let number = |d: &str| -> anyhow::Result<u16> {
        d.parse::<u16>()
            .map_err(|_| anyhow!("--action {s}: expected a number from 0 to 65535 after '{name}:'"))
    };
    let action = match (name.to_ascii_lowercase().as_str(), data) {
        ("errno", Some(d)) => Action::Errno(match profile::names::errno_number(&d.to_ascii_uppercase()) {
            Some(n) => n,
            None => number(d).map_err(|_| anyhow!("--action {s}: expected an errno name (EPERM) or number after 'errno:'"))?,
        }),
        ("errno", None) => Action::Errno(1),
        ("kill" | "kill-process" | "kill_process", None) => Action::KillProcess,
        ("kill-thread" | "kill_thread", None) => Action::KillThread,
        ("trap", None) => Action::Trap(0),
        ("trap", Some(d)) => Action::Trap(number(d)?),
        ("log", None) => Action::Log,
        ("allow", None) => Action::Allow,
        ("trace", Some(d)) => Action::Trace(number(d)?),
        ("trace", None) => Action::Trace(0),
        _ => bail!("--action {s}: expected errno:NAME|N, kill, kill-thread, trap[:N], log, trace:N or allow"),
    };
    Ok(action)
}

fn arches(args: &Args) -> anyhow::Result<Vec<Arch>> {
    if args.arch.is_empty() {
        return Ok(vec![Arch::native()]);
    }
    args.arch
        .iter()
        .map(|a| Arch::from_name(a).ok_or_else(|| anyhow!("--arch {a}: unknown architecture (expected x86_64, x86, x32, aarch64, arm, ...)")))
        .collect()
}

/// A syscall of `--allow`/`--deny`: a number, or a name some arch has.
fn syscall_id(flag: &str, s: &str, arches: &[Arch]) -> anyhow::Result<SyscallId> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        return Ok(SyscallId::Nr(n));
    }
    if let Some(hex) = s.strip_prefix("0x") {
        if let Ok(n) = u32::from_str_radix(hex, 16) {
            return Ok(SyscallId::Nr(n));
        }
    }
    if arches.iter().any(|a| a.syscall_nr(s).is_some()) {
        return Ok(SyscallId::Name(s.to_string()));
    }
    let names: Vec<&str> = arches.iter().map(|a| a.name()).collect();
    bail!("--{flag} {s}: unknown syscall on {}", names.join(", "))
}

/// The policy the options ask for.
pub fn build_policy(args: &Args) -> anyhow::Result<Policy> {
    let arches = arches(args)?;
    let action = parse_action(&args.action)?;
    let lists = !args.allow.is_empty() || !args.deny.is_empty();
    let use_profile = args.profile.is_some() || (!lists && !args.log);
    let mut policy = if use_profile {
        let name = args.profile.as_deref().unwrap_or("default");
        load_profile(
            name,
            if args.arch.is_empty() {
                Vec::new()
            } else {
                arches.clone()
            },
        )?
    } else {
        let default = if !args.allow.is_empty() {
            action
        } else {
            Action::Allow
        };
        let mut p = Policy::new(default);
        p.arches = arches.clone();
        p
    };
    let known: Vec<Arch> = policy.arches.clone();
    for s in &args.allow {
        policy.add_rule(Rule::new(syscall_id("allow", s, &known)?, Action::Allow));
    }
    for s in &args.deny {
        policy.add_rule(Rule::new(syscall_id("deny", s, &known)?, action));
    }
    if args.log {
        let to_log = |a: Action| if a == Action::Allow { Action::Log } else { a };
        policy.default_action = to_log(policy.default_action);
        for r in &mut policy.rules {
            r.action = to_log(r.action);
        }
        if let Some(u) = policy.unknown_action.as_mut() {
            *u = to_log(*u);
        }
    }
    Ok(policy)
}

/// Parses and resolves a profile file, or the built-in `default`.
pub fn load_profile(name: &str, arches: Vec<Arch>) -> anyhow::Result<Policy> {
    let (file, text) = if name == "default" {
        (
            "<built-in default profile>".to_string(),
            syscage::builtin::DEFAULT_PROFILE.to_string(),
        )
    } else {
        let text =
            std::fs::read_to_string(name).with_context(|| format!("cannot read profile {name}"))?;
        (name.to_string(), text)
    };
    if super::policy_file::is_policy(&file, text.as_bytes()) {
        return super::policy_file::parse(&file, &text).map_err(|e| anyhow!("{e}"));
    }
    let parsed = profile::parse(&text).map_err(|e| anyhow!("{file}:{e}"))?;
    let opts = ResolveOptions {
        caps: Vec::new(),
        ..ResolveOptions::docker(arches, input::running_kernel_or_6_0())
    };
    let (policy, _warnings) = parsed.to_policy(&opts).map_err(|e| anyhow!("{file}:{e}"))?;
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
    runner::find_program(&args.command[0]).map_err(|e| anyhow!("{e}"))?;
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
            flags: Flags {
                tsync: policy.attrs.tsync,
                log: policy.attrs.log,
                spec_allow: policy.attrs.spec_allow,
                ..Flags::default()
            },
            no_new_privs: policy.attrs.no_new_privs,
        };
        install::check(&prog, &opts).map_err(|e| anyhow!("{e}"))?;
        Enforcement::Filter {
            raw: install::raw_filter(&prog),
            opts,
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
    let code = outcome.termination.shell_code();
    Ok(code.clamp(0, 255) as u8)
}

/// `name (nr, arch)` for a syscall as the filter saw it.
pub fn describe_syscall(nr: u32, audit_arch: u32) -> String {
    let arch = match Arch::from_audit(audit_arch) {
        Some(Arch::X86_64) if nr & X32_SYSCALL_BIT != 0 => Some(Arch::X32),
        a => a,
    };
    match arch {
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
    if signal == libc::SIGSYS {
        match outcome.seccomp {
            Some(SyscallStop {
                nr,
                arch,
                trap_data: None,
            }) => eprintln!(
                "syscage: {program} was killed by seccomp (SIGSYS) at {}",
                describe_syscall(nr, arch)
            ),
            Some(SyscallStop {
                nr,
                arch,
                trap_data: Some(d),
            }) => eprintln!(
                "syscage: {program} was killed by SIGSYS from SECCOMP_RET_TRAP (data {d}) at {}",
                describe_syscall(nr, arch)
            ),
            None => eprintln!(
                "syscage: {program} was killed by SIGSYS (the syscall could not be recovered)"
            ),
        }
    } else if strict && signal == libc::SIGKILL {
        eprintln!("syscage: {program} was killed (SIGKILL) by strict mode, which allows only read, write, _exit and sigreturn: its execve was refused");
    }
}

/// Which audit records are the program's: audit names only a pid, and
/// records come from every process on the machine.
enum Owner {
    /// The program's process tree, rebuilt from the kernel's fork events.
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
    fn new(forks: Option<ForkWatch>, child: u32) -> Owner {
        match forks.map(ForkWatch::finish) {
            Some(log) if !log.overflowed => {
                Owner::Tree(log.descendants(child, Some(std::process::id())))
            }
            _ if !proc_events::in_initial_pid_namespace() => Owner::Everyone,
            _ => Owner::PidsFrom(child),
        }
    }

    fn owns(&self, pid: u32) -> bool {
        match self {
            Owner::Tree(tree) => tree.contains(&pid),
            Owner::PidsFrom(first) => pid >= *first,
            Owner::Everyone => true,
        }
    }
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
    let whose = match owner {
        Owner::Tree(_) => "",
        Owner::PidsFrom(_) => {
            "; without the process-events connector (root), processes started meanwhile by others count too"
        }
        Owner::Everyone => "; in a pid namespace, records of every process count",
    };
    eprintln!("syscage: {total} syscalls logged ({source}; {lost}{whose})");
    let mut rows: Vec<(&String, &u64)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    eprintln!("{:>8}  syscall", "count");
    for (name, n) in rows {
        eprintln!("{n:>8}  {name}");
    }
}
