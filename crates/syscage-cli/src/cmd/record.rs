//! `syscage record`: run a program under ptrace and write the minimal
//! Docker/OCI profile that lets it do what it did: `ERRNO(EPERM)` by
//! default, `ALLOW` for every recorded syscall (with `--args`, only for the
//! recorded values of the risk-deciding arguments). Syscall numbers unknown
//! to the tables get `ENOSYS` when the profile is loaded (runc's stub, which
//! `syscage run` applies too).
//!
//! The profile goes to `-o OUT`, to `--append OUT` (merged with what OUT
//! already allows), or to stdout. `--summary` prints a table like
//! `strace -c` on stderr. Every decision the profile makes without a
//! recorded call behind it (signal returns, the `clone3` fallback) is
//! listed on stderr with its reason. A progress line is drawn on stderr
//! when it is a terminal. The program's exit status is passed through (128 + signal
//! when a signal killed it).

use super::input;
use anyhow::anyhow;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use syscage::action::Action;
use syscage::arch::Arch;
use syscage::policy::Policy;
use syscage::policy::Rule;
use syscage::profile::{self, ResolveOptions};
use syscage_linux::record::recording::{merge_policies, widen_to_every_arch};
use syscage_linux::record::{self, Options, Outcome, Progress, Reason, Recording, Via};

/// Output formats of `syscage record`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Docker's seccomp profile (`docker run --security-opt seccomp=FILE`).
    Docker,
    /// The OCI runtime-spec `linux.seccomp` object.
    Oci,
    /// syscage's policy language (`docs/policy-language.md`): exact, with
    /// what a run made on one arch allowed on that arch only.
    Policy,
}

/// `--via` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ViaArg {
    /// Notify where the kernel can, else ptrace.
    Auto,
    /// A `SECCOMP_RET_USER_NOTIF` listener.
    Notify,
    /// `SECCOMP_RET_TRACE` and ptrace.
    Ptrace,
}

/// Arguments of `syscage record`.
#[derive(clap::Args)]
#[command(mut_arg("output", |a| a.value_name("OUT").help("Write the profile to OUT (default: stdout)")))]
pub struct Args {
    /// `-o`.
    #[command(flatten)]
    pub output: super::flag_groups::Output,
    /// Profile format.
    #[arg(short = 'f', long = "format", value_enum, default_value = "docker")]
    pub format: Format,
    /// Also record the values of the arguments that decide the risk
    /// (socket family and type, namespace flags of clone/clone3/unshare,
    /// personality, prctl option, ioctl request, fcntl command, PROT_EXEC
    /// of mmap/mprotect) and allow only those.
    #[arg(long)]
    pub args: bool,
    /// Merge this run into the profile OUT (created if missing).
    #[arg(long, value_name = "OUT", conflicts_with = "output")]
    pub append: Option<PathBuf>,
    /// Print a table of the syscalls made (count, syscall, arch, first pid) on stderr.
    #[arg(long)]
    pub summary: bool,
    /// How syscalls reach the recorder: `notify` (a seccomp user-notification
    /// listener; no ptrace, fastest), `ptrace` (one ptrace stop per syscall;
    /// for programs that install a seccomp listener themselves, or kernels
    /// before 5.6), `auto` (notify where the kernel can).
    #[arg(long, value_enum, default_value = "auto")]
    pub via: ViaArg,
    /// Add what this container runtime does under the container's filter
    /// before it executes the program (measured on the installed runtime).
    #[arg(long = "for", value_enum, value_name = "RUNTIME")]
    pub for_runtime: Option<super::for_runtime::ForArg>,
    /// The program and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Runs `syscage record`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if let Some(runtime) = super::record_container::container_command(&args.command) {
        return super::record_container::run(&args, runtime);
    }
    let existing = match &args.append {
        Some(path) if path.exists() => Some(load(path)?),
        _ => None,
    };
    // Before the program runs, so that a bad path fails first and loses nothing.
    let destination = args.append.as_ref().or(args.output.output.as_ref());
    let out_file = destination
        .map(|p| crate::output::file::Replacement::create(p))
        .transpose()?;
    let options = Options {
        args: args.args,
        via: match args.via {
            ViaArg::Auto => Via::Auto,
            ViaArg::Notify => Via::Notify,
            ViaArg::Ptrace => Via::Ptrace,
        },
    };
    let outcome = if stderr_is_terminal() {
        let mut line = ProgressLine::default();
        let mut cb = |p: &Progress| line.draw(p);
        let r = record::record(&args.command, options, Some(&mut cb));
        line.clear();
        r
    } else {
        record::record(&args.command, options, None)
    }
    .map_err(|e| anyhow!("{e}"))?;

    let recording = &outcome.recording;
    // The profile formats cannot tie a rule to the arch it was seen on;
    // the policy language can.
    let (mut policy, widened) = match args.format {
        Format::Policy => (recording.to_policy(), Vec::new()),
        Format::Docker | Format::Oci => widen_to_every_arch(&recording.to_policy()),
    };
    if let Some(existing) = &existing {
        policy = merge_policies(existing, &policy);
    }
    let text = match args.format {
        Format::Docker => profile::write_docker(&policy),
        Format::Oci => profile::write_oci(&policy),
        Format::Policy => Ok(syscage::profile::lang::print(&policy)),
    }
    .map_err(|e| anyhow!("cannot write the profile: {e}"))?;
    let text = match args.for_runtime {
        Some(rt) => super::for_runtime::apply_text(&text, rt, args.summary)?,
        None => text,
    };

    for (arch, nr) in recording.unknown_numbers() {
        diagln!(
            "syscage: warning: syscall {nr} on {arch} is not in syscage's tables; the profile answers it with ENOSYS"
        );
    }
    for sig in &outcome.forwarded_signals {
        diagln!("syscage: passed signal {sig} on to the program");
    }
    match out_file {
        Some(file) => file.commit(text.as_bytes())?,
        None => crate::output::stdout::write_bytes(text.as_bytes()),
    }
    if args.summary {
        diag!("{}", summary(recording));
    }
    diag!("{}", unobserved(recording));
    if !widened.is_empty() {
        diagln!("{}", widening_warning(&widened));
    }
    if let Some(path) = destination {
        diagln!(
            "syscage: {} syscalls ({} distinct) recorded; profile {} {}",
            recording.total(),
            recording.calls.len(),
            if existing.is_some() {
                "merged into"
            } else {
                "written to"
            },
            path.display()
        );
    }
    Ok(exit_code(&outcome))
}

fn exit_code(outcome: &Outcome) -> u8 {
    outcome.exit.shell_code()
}

/// Reads a profile to merge into, as `syscage run` would load it.
fn load(path: &Path) -> anyhow::Result<Policy> {
    let text = input::read_text(path)?;
    let file = path.display().to_string();
    if super::policy_file::is_policy(&file, text.as_bytes()) {
        return super::policy_file::parse(&file, &text).map_err(|e| anyhow!("{e}"));
    }
    let parsed = profile::parse(&text).map_err(|e| anyhow!("{}:{e}", path.display()))?;
    let opts = ResolveOptions {
        caps: Vec::new(),
        ..ResolveOptions::docker(Vec::new(), input::running_kernel_or_6_0())
    };
    let (policy, _warnings) = parsed
        .to_policy(&opts)
        .map_err(|e| anyhow!("{}:{e}", path.display()))?;
    Ok(policy)
}

/// The `strace -c`-like table: calls, syscall, arch, first pid; most
/// frequent first.
pub fn summary(recording: &Recording) -> String {
    let mut rows: Vec<(u64, String, Arch, i32)> = recording
        .calls
        .iter()
        .map(|(&(arch, nr), s)| {
            let name = arch
                .syscall_name(nr)
                .map_or_else(|| format!("syscall_{nr}"), str::to_string);
            (s.count, name, arch, s.first_pid)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let mut out = String::new();
    out.push_str(&format!(
        "{:>10} {:<24} {:<8} {:>9}\n",
        "calls", "syscall", "arch", "first pid"
    ));
    out.push_str(&format!("{:->10} {:-<24} {:-<8} {:->9}\n", "", "", "", ""));
    for (count, name, arch, pid) in &rows {
        out.push_str(&format!(
            "{count:>10} {name:<24} {:<8} {pid:>9}\n",
            arch.name()
        ));
    }
    out.push_str(&format!("{:->10} {:-<24}\n", "", ""));
    out.push_str(&format!(
        "{:>10} total ({} distinct)\n",
        recording.total(),
        rows.len()
    ));
    out
}

/// The profile's decisions that no recorded call asked for, one line per
/// reason and arch: `syscage: not seen, allowed on x86_64: rt_sigreturn,
/// restart_syscall (the kernel enters it on a signal's timing ...)`.
pub fn unobserved(recording: &Recording) -> String {
    let mut groups: Vec<(Reason, Arch, Action, Vec<&str>)> = Vec::new();
    for u in recording.unobserved() {
        match groups
            .iter_mut()
            .find(|g| (g.0, g.1, g.2) == (u.reason, u.arch, u.action))
        {
            Some(g) => g.3.push(u.name),
            None => groups.push((u.reason, u.arch, u.action, vec![u.name])),
        }
    }
    let mut out = String::new();
    for (reason, arch, action, names) in groups {
        let what = match action {
            Action::Allow => "allowed".to_string(),
            other => format!("answered {other}"),
        };
        out.push_str(&format!(
            "syscage: not seen, {what} on {}: {} ({reason})\n",
            arch.name(),
            names.join(", ")
        ));
    }
    out
}

/// What the profile allows on every arch although the run made it on some
/// only (a program that used `int 0x80` next to 64-bit calls).
fn widening_warning(widened: &[Rule]) -> String {
    let mut by_arch: Vec<(Arch, Vec<String>)> = Vec::new();
    for rule in widened {
        let Some(arch) = rule.arch else { continue };
        let name = match &rule.syscall {
            syscage::policy::SyscallId::Name(n) => n.clone(),
            syscage::policy::SyscallId::Nr(nr) => nr.to_string(),
        };
        match by_arch.iter_mut().find(|(a, _)| *a == arch) {
            Some((_, names)) if !names.contains(&name) => names.push(name),
            Some(_) => {}
            None => by_arch.push((arch, vec![name])),
        }
    }
    let parts: Vec<String> = by_arch
        .into_iter()
        .map(|(arch, mut names)| {
            names.sort();
            let n = names.len();
            if n > 8 {
                names.truncate(8);
                names.push("…".to_string());
            }
            let what = if n == 1 { "syscall" } else { "syscalls" };
            format!("on {} only, {n} {what}: {}", arch.name(), names.join(", "))
        })
        .collect();
    format!(
        "syscage: warning: a Docker/OCI profile cannot tie a rule to the arch of the syscall (its includes.arches selects by the host's arch), so the profile allows on each of its architectures what the run made on one only (`-f policy` keeps them apart): {}",
        parts.join("; ")
    )
}

fn stderr_is_terminal() -> bool {
    crate::output::stderr::is_terminal()
}

/// The progress line on a terminal's stderr, drawn after the first second.
#[derive(Default)]
struct ProgressLine {
    drawn: bool,
}

impl ProgressLine {
    fn draw(&mut self, p: &Progress) {
        if p.elapsed.as_secs() < 1 {
            return;
        }
        self.drawn = true;
        diag!(
            "\r\x1b[Ksyscage record: {:.1}s, {} syscalls, {} distinct, {} tasks",
            p.elapsed.as_secs_f64(),
            p.syscalls,
            p.distinct,
            p.tasks
        );
    }

    fn clear(&mut self) {
        if self.drawn {
            diag!("\r\x1b[K");
        }
    }
}
