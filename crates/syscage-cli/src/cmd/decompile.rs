//! `syscage decompile`: a policy whose compiled filter is equivalent.

use super::input;
use syscage::analyze::decompile::decompile;
use syscage::analyze::diff::diff;
use syscage::analyze::lift::Limits;
use syscage::arch::Arch;
use syscage::policy::{CmpOp, Condition, SyscallId, Width};

fn condition(c: &Condition) -> String {
    let arg = match c.width {
        Width::Bits64 => format!("args[{}]", c.arg),
        Width::Bits32 => format!("(u32)args[{}]", c.arg),
    };
    match c.op {
        CmpOp::Eq(v) => format!("{arg} == {v:#x}"),
        CmpOp::Ne(v) => format!("{arg} != {v:#x}"),
        CmpOp::Lt(v) => format!("{arg} < {v:#x}"),
        CmpOp::Le(v) => format!("{arg} <= {v:#x}"),
        CmpOp::Gt(v) => format!("{arg} > {v:#x}"),
        CmpOp::Ge(v) => format!("{arg} >= {v:#x}"),
        CmpOp::MaskedEq { mask, value } => format!("({arg} & {mask:#x}) == {value:#x}"),
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Docker => "Docker",
        Format::Oci => "OCI",
        Format::Text => "text",
        Format::Policy => "policy",
    }
}

/// What a profile cannot say that the decompiled policy says, in the
/// user's terms (the writer's own refusals name a rule index).
fn inexpressible(policy: &syscage::policy::Policy) -> Option<String> {
    for r in policy.rules() {
        match (&r.syscall, r.arch) {
            (SyscallId::Nr(n), _) => {
                return Some(format!(
                    "it decides syscall number {n:#x} (no syscall table names it) apart from the other numbers the tables do not know, and a profile names syscalls only"
                ))
            }
            (SyscallId::Name(n), Some(a)) => {
                return Some(format!(
                    "it decides {n} on {a} unlike on the other arches it checks, and a profile's rules apply to every arch it lists"
                ))
            }
            _ => {}
        }
    }
    None
}

/// Compiles the written profile as runc would (Docker's resolution, the
/// ENOSYS stub, libseccomp's bad-arch action) and diffs the result with
/// the input filter. Err: what the profile format cannot say.
fn round_trip(
    text: &str,
    loaded: &input::Loaded,
    policy: &syscage::policy::Policy,
    arch: Arch,
    enosys: bool,
) -> Result<(), String> {
    let profile = syscage::profile::parse(text)
        .map_err(|e| format!("the written profile does not parse back ({e})"))?;
    let kernel = syscage::profile::KernelVersion::parse("6.12").expect("a version");
    let mut opts = syscage::profile::ResolveOptions::docker(vec![arch], kernel);
    opts.enosys_unknown = enosys;
    let (back, _) = profile
        .to_policy(&opts)
        .map_err(|e| format!("the written profile does not resolve ({e})"))?;
    let prog = syscage::compile::compile(&back, &syscage::compile::CompileOptions::default())
        .map_err(|e| format!("the written profile does not compile ({e})"))?;
    let diffs = diff(&loaded.program, &prog, loaded.order, &Limits::default())
        .map_err(|e| format!("the compiled profile cannot be compared ({e})"))?;
    let Some(first) = diffs.first() else {
        return Ok(());
    };
    // Name what the format cannot say, where it is one of the known gaps.
    if back.bad_arch_action() != policy.bad_arch_action() {
        let what = if policy.bad_arch_action().permits() {
            "allows unlisted arches".to_string()
        } else {
            format!("gives unlisted arches {}", policy.bad_arch_action())
        };
        return Err(format!(
            "it {what}, and a profile cannot say what unlisted arches get (runc gives them {})",
            back.bad_arch_action()
        ));
    }
    if back.unknown_action() != policy.unknown_action() {
        let theirs = policy.unknown_action().unwrap_or(policy.default_action());
        let runc = back.unknown_action().unwrap_or(back.default_action());
        return Err(format!(
            "it gives syscall numbers the tables do not know {theirs}, and runc's ENOSYS stub gives them {runc}"
        ));
    }
    Err(format!(
        "compiled as runc would, it differs from the filter ({} differences), e.g. {}: {} in the filter, {} from the profile",
        diffs.len(),
        super::diff::describe(first, loaded.order),
        super::diff::verdict(first.left),
        super::diff::verdict(first.right),
    ))
}

/// Arguments of `syscage decompile`.
#[derive(clap::Args)]
#[command(
    mut_arg("file", |a| a.help("Raw BPF file (or `-` for stdin), or a profile")),
    mut_arg("arch", |a| a.help("Architecture the filter is for; default: host")),
)]
pub struct Args {
    /// The filter.
    #[command(flatten)]
    pub input: super::flag_groups::Input,
    /// `-a`.
    #[command(flatten)]
    pub arch: super::flag_groups::OneArch,
    /// Output: a Docker profile, an OCI `linux.seccomp` object, or the
    /// policy's rules as text, or syscage's policy language (the default:
    /// it says everything a policy says, and `syscage compile` reads it).
    #[arg(short, long, value_enum, default_value_t = Format::Policy)]
    pub format: Format,
    /// For docker/oci: check equivalence for a runtime that does not add
    /// runc's ENOSYS stub (libseccomp alone, `syscage compile --no-enosys`)
    /// instead of as runc enforces the profile.
    #[arg(long)]
    pub no_enosys: bool,
}

/// Output formats of `syscage decompile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Docker / moby profile JSON.
    Docker,
    /// OCI runtime-spec `linux.seccomp` JSON.
    Oci,
    /// One line per rule.
    Text,
    /// syscage's policy language (`*.policy`).
    Policy,
}

/// Runs `syscage decompile`.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = args.arch.get()?;
    let file = args.input.file.display().to_string();
    let loaded = input::load(&file, arch)?;
    if let Some(e) = syscage::analyze::lint::kernel_refusal(&loaded.program) {
        diagln!(
            "{}: warning: the kernel would refuse this filter ({e}); analysing it anyway",
            file
        );
    }
    let table = input::lift_loaded(&loaded, &file)?;
    let policy = decompile(&table, &[arch]).map_err(|e| anyhow::anyhow!("{}: {e}", file))?;
    if args.format == Format::Policy {
        outln!(
            "# {}: decompiled by syscage, proven to decide like the filter",
            loaded.source
        );
        out!("{}", syscage::profile::lang::print(&policy));
        return Ok(0);
    }
    if args.format != Format::Text {
        if let Some(why) = inexpressible(&policy) {
            anyhow::bail!(
                "{}: the filter has no equivalent {} profile: {why}; nothing written",
                file,
                format_name(args.format)
            );
        }
        let text = match args.format {
            Format::Docker => syscage::profile::write_docker(&policy),
            _ => syscage::profile::write_oci(&policy),
        }
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: the filter has no equivalent {} profile: {e}",
                file,
                format_name(args.format)
            )
        })?;
        let enosys = !args.no_enosys;
        if let Err(why) = round_trip(&text, &loaded, &policy, arch, enosys) {
            let hint = if enosys && round_trip(&text, &loaded, &policy, arch, false).is_ok() {
                " (it is equivalent where no ENOSYS stub is added: libseccomp alone, `syscage compile --no-enosys`; decompile with --no-enosys for that)"
            } else {
                ""
            };
            anyhow::bail!(
                "{}: the filter has no equivalent {} profile: {why}{hint}; nothing written",
                file,
                format_name(args.format)
            );
        }
        out!("{text}");
        diagln!(
            "{}: note: proven equivalent when enforced {}",
            file,
            if enosys {
                "as runc does (libseccomp's filter behind runc's ENOSYS stub, which returns ENOSYS for syscall numbers the tables do not know unless the default action allows or is ENOSYS)"
            } else {
                "without an ENOSYS stub (libseccomp alone, `syscage compile --no-enosys`); runc adds one and then returns ENOSYS for syscall numbers the tables do not know"
            }
        );
        return Ok(0);
    }
    outln!("default: {}", policy.default_action());
    outln!("bad arch: {}", policy.bad_arch_action());
    if let Some(u) = policy.unknown_action() {
        outln!("unknown syscalls: {u}");
    }
    outln!(
        "arches: {}",
        policy
            .arches()
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for r in policy.rules() {
        let on = r.arch.map_or(String::new(), |a| format!(" [{a}]"));
        outln!("{}{on}: {}", syscall_text(&r.syscall), rule_text(r));
    }
    for n in policy.number_ranges() {
        let on = n.arch.map_or(String::new(), |a| format!(" [{a}]"));
        outln!(
            "unnamed numbers {:#x}..={:#x}{on}: {}",
            n.lo,
            n.hi,
            n.action
        );
    }
    for r in policy.other_rules() {
        outln!(
            "other arches, number {}: {}",
            syscall_text(&r.syscall),
            rule_text(r)
        );
    }
    Ok(0)
}

/// A rule's syscall in the text view: its name, or its number in hex.
fn syscall_text(id: &SyscallId) -> String {
    match id {
        SyscallId::Name(n) => n.clone(),
        SyscallId::Nr(n) => format!("{n:#x}"),
    }
}

/// A rule's action and conditions in the text view: `ALLOW when …`.
fn rule_text(r: &syscage::policy::Rule) -> String {
    let conds: Vec<String> = r.conditions.iter().map(condition).collect();
    if conds.is_empty() {
        r.action.to_string()
    } else {
        format!("{} when {}", r.action, conds.join(" && "))
    }
}
