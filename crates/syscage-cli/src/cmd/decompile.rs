//! `syscage decompile`: a policy whose compiled filter is equivalent.

use super::input;
use syscage::analyze::decompile::decompile;
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

/// Arguments of `syscage decompile`.
#[derive(clap::Args)]
pub struct Args {
    /// Raw BPF file (or `-` for stdin), or a profile.
    pub file: String,
    /// Architecture the filter is for; default: host.
    #[arg(short, long)]
    pub arch: Option<String>,
    /// Output: a Docker profile, an OCI `linux.seccomp` object, or the
    /// policy's rules as text (which can say more than a profile can).
    #[arg(short, long, value_enum, default_value_t = Format::Docker)]
    pub format: Format,
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
}

/// Runs `syscage decompile`.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = input::arch(args.arch.as_deref())?;
    let loaded = input::load(&args.file, arch)?;
    if let Some(e) = syscage::analyze::lint::kernel_refusal(&loaded.program) {
        eprintln!(
            "{}: warning: the kernel would refuse this filter ({e}); analysing it anyway",
            args.file
        );
    }
    let table = input::lift_loaded(&loaded, &args.file)?;
    let policy = decompile(&table, &[arch]).map_err(|e| anyhow::anyhow!("{}: {e}", args.file))?;
    if args.format != Format::Text {
        let text = match args.format {
            Format::Docker => syscage::profile::write_docker(&policy),
            _ => syscage::profile::write_oci(&policy),
        }
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: the equivalent policy has no profile syntax ({e}); use -f text",
                args.file
            )
        })?;
        print!("{text}");
        // Profiles cannot say what happens to numbers the tables do not
        // know; runtimes decide (runc: ENOSYS, `syscage compile`'s default).
        eprintln!(
            "{}: note: {}",
            args.file,
            match policy.unknown_action {
                Some(a) => format!("syscall numbers unknown to the tables get {a}; compile with the ENOSYS stub (syscage compile's default) to keep that"),
                None => format!("syscall numbers unknown to the tables get the default action ({}); compile with --no-enosys to keep that", policy.default_action),
            }
        );
        return Ok(0);
    }
    println!("default: {}", policy.default_action);
    println!("bad arch: {}", policy.bad_arch_action);
    if let Some(u) = policy.unknown_action {
        println!("unknown syscalls: {u}");
    }
    println!(
        "arches: {}",
        policy
            .arches
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for r in &policy.rules {
        let name = match &r.syscall {
            SyscallId::Name(n) => n.clone(),
            SyscallId::Nr(n) => format!("{n:#x}"),
        };
        let on = r.arch.map_or(String::new(), |a| format!(" [{a}]"));
        let conds: Vec<String> = r.conditions.iter().map(condition).collect();
        let when = if conds.is_empty() {
            String::new()
        } else {
            format!(" when {}", conds.join(" && "))
        };
        println!("{name}{on}: {}{when}", r.action);
    }
    Ok(0)
}
