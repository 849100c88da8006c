//! `syscage compile`: a Docker / OCI seccomp profile, or a policy in
//! syscage's policy language (`*.policy`), to BPF.
//!
//! Rules are selected as moby does (host arch, capabilities, kernel) and
//! translated as runc + libseccomp 2.5 would build the filter; what they
//! silently drop is reported as a warning on stderr. Profile errors print
//! `FILE:LINE:COL: JSONPATH: message` and exit 2.

use super::flag_groups::{ArchList, Input, Output};
use super::input::located;
use super::rule_selection::RuleSelection;
use syscage::analyze::verify::{prove, ProofError, VerifyError};
use syscage::arch::Arch;
use syscage::asm::print::{disasm, DisasmOptions};
use syscage::compile::{compile, stats, CompileOptions};
use syscage::policy::Policy;
use syscage::profile;

/// Output formats of `syscage compile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Raw `struct sock_filter` bytes in the first arch's byte order.
    Raw,
    /// `unsigned char bpf[] = {...};`.
    #[value(name = "c-array", alias = "c_array")]
    CArray,
    /// seccomp-tools disassembly.
    Disasm,
    /// The resolved OCI `linux.seccomp` object (what a runtime receives).
    Json,
    /// The policy in syscage's policy language (what the filter decides).
    Policy,
}

/// Arguments of `syscage compile`.
#[derive(clap::Args)]
#[command(
    mut_arg("file", |a| a.value_name("PROFILE").help(
        "The profile (Docker dialect or OCI `linux.seccomp` JSON, or a `.policy` file in \
         syscage's policy language; `-` for stdin)"
    )),
    mut_arg("arch", |a| a.help(
        "Host arch(es) to compile for, each with its archMap sub-arches (default: this \
         machine's). Any spelling: amd64, x86_64, i386, x86, x32, aarch64, ..."
    )),
    mut_arg("output", |a| a.help("Write the output here instead of stdout")),
)]
pub struct Args {
    /// The profile.
    #[command(flatten)]
    pub profile: Input,
    /// `-a`.
    #[command(flatten)]
    pub arches: ArchList,
    /// `--cap`, `--kernel`.
    #[command(flatten)]
    pub select: RuleSelection,
    /// Output format (default: raw with -o, disasm on a terminal or pipe).
    #[arg(short = 'f', long = "format", value_enum)]
    pub format: Option<Format>,
    /// `-o`.
    #[command(flatten)]
    pub output: Output,
    /// Print statistics: length, instructions executed per syscall (mean,
    /// max, frequency-weighted), syscalls the kernel's action cache answers.
    #[arg(long)]
    pub stats: bool,
    /// Skip the proof of compilation (lifting the filter and checking it
    /// against the policy, about 2 ms for Docker's default profile).
    #[arg(long)]
    pub no_verify: bool,
    /// Do not add archMap sub-arches (x86 and x32 for x86_64, ...).
    #[arg(long)]
    pub no_sub_arches: bool,
    /// Do not return ENOSYS for syscall numbers unknown to the tables
    /// (runc's ENOSYS stub; without it they get the default action).
    #[arg(long)]
    pub no_enosys: bool,
    /// Add what this container runtime does under the container's filter
    /// before it executes the workload (measured on the installed runtime).
    #[arg(long = "for", value_enum, value_name = "RUNTIME")]
    pub for_runtime: Option<super::for_runtime::ForArg>,
}

/// Runs `syscage compile`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arches = args.arches.get()?;
    let file = args.profile.file.display().to_string();
    let text = args.profile.read_text()?;
    if super::policy_file::is_policy(&file, text.as_bytes()) {
        if !arches.is_empty() || args.select.given() {
            diagln!("{file}: a policy file names its arches itself (`arches`); -a, --cap and --kernel are for JSON profiles");
            return Ok(2);
        }
        let policy = match super::policy_file::parse(&file, &text) {
            Ok(p) => p,
            Err(e) => {
                diagln!("{e}");
                return Ok(2);
            }
        };
        return output(&args, &file, &policy, None);
    }
    let (mut profile, spans) = match profile::parse_with_spans(&text) {
        Ok(p) => p,
        Err(e) => {
            diagln!("{}", located(&file, &e));
            return Ok(2);
        }
    };
    if let Some(rt) = args.for_runtime {
        super::for_runtime::apply(&mut profile, rt.runtime(), &[], false)?;
    }
    let mut opts = args.select.resolve_options(arches.clone())?;
    opts.sub_arches = !args.no_sub_arches;
    opts.enosys_unknown = !args.no_enosys;
    let hosts = args.arches.or_native()?;

    let format = args.format.unwrap_or(if args.output.output.is_some() {
        Format::Raw
    } else {
        Format::Disasm
    });
    let (policy, warnings) = match profile.to_policy(&opts) {
        Ok(p) => p,
        Err(e) => {
            diagln!("{}", located(&file, &spans.locate(e)));
            return Ok(2);
        }
    };
    for w in &warnings {
        diagln!("{file}: warning: {w}");
    }

    let json = (format == Format::Json).then(|| {
        let objs: Vec<String> = hosts
            .iter()
            .map(|h| {
                profile
                    .resolve_oci(*h, &opts)
                    .to_json()
                    .trim_end()
                    .to_string()
            })
            .collect();
        if objs.len() == 1 {
            format!("{}\n", objs[0]).into_bytes()
        } else {
            format!("[\n{}\n]\n", objs.join(",\n")).into_bytes()
        }
    });
    output(&args, &file, &policy, json)
}

/// Compiles `policy` and writes it in the format asked for (`json`: the
/// resolved OCI objects of a JSON profile).
fn output(args: &Args, file: &str, policy: &Policy, json: Option<Vec<u8>>) -> anyhow::Result<u8> {
    let format = args.format.unwrap_or(if args.output.output.is_some() {
        Format::Raw
    } else {
        Format::Disasm
    });
    let hosts = args.arches.or_native()?;
    let program = if !matches!(format, Format::Json | Format::Policy) || args.stats {
        Some(compile(policy, &CompileOptions::default())?)
    } else {
        None
    };
    let main_arch = policy.arches().first().copied().unwrap_or(hosts[0]);
    if let (Some(p), false) = (&program, args.no_verify) {
        match prove(policy, p, main_arch.byte_order()) {
            Ok(()) => {}
            Err(ProofError::Verify(VerifyError::Mismatch(m))) => anyhow::bail!(
                "{file}: internal error, the compiled filter is not equivalent to the policy ({m}); nothing written. Please report this."
            ),
            Err(e) => diagln!("{file}: warning: the compiled filter is not proven equivalent to the policy: {e}"),
        }
    }
    let out: Vec<u8> = match format {
        Format::Json => match json {
            Some(j) => j,
            None => syscage::profile::write_oci(policy)
                .map_err(|e| anyhow::anyhow!("{file}: the policy has no OCI form ({e})"))?
                .into_bytes(),
        },
        Format::Policy => syscage::profile::lang::print(policy).into_bytes(),
        Format::Raw => program
            .as_ref()
            .map(|p| p.to_bytes(main_arch.byte_order()))
            .unwrap_or_default(),
        Format::CArray => syscage::asm::output::c_array(
            &program
                .as_ref()
                .map(|p| p.to_bytes(main_arch.byte_order()))
                .unwrap_or_default(),
        )
        .into_bytes(),
        Format::Disasm => {
            let raw = program.as_ref().map(|p| p.to_raw()).unwrap_or_default();
            disasm(&raw, main_arch, &DisasmOptions::default()).into_bytes()
        }
    };
    let report = match (&program, args.stats) {
        (Some(p), true) => Some(stats_text(p, policy.arches())),
        _ => None,
    };
    match &args.output.output {
        Some(path) => {
            crate::output::file::replace(path, &out)?;
            if let Some(r) = report {
                out!("{r}");
            }
        }
        None => {
            crate::output::stdout::write_bytes(&out);
            if let Some(r) = report {
                if format == Format::Raw {
                    diag!("{r}");
                } else {
                    out!("{r}");
                }
            }
        }
    }
    Ok(0)
}

fn stats_text(prog: &syscage::bpf::Program, arches: &[Arch]) -> String {
    let s = stats(prog, arches);
    let mut out = format!("program length: {} instructions\n", s.len);
    for a in &s.arches {
        out.push_str(&format!(
            "{}: executed over {} syscall numbers: mean {:.1}, max {}; over its {} syscalls: mean {:.1}, max {}; frequency-weighted mean {:.1}; answered by the action cache: {} of {} ({} decided by arch and nr alone)\n",
            a.arch, a.numbers, a.mean, a.max, a.known, a.known_mean, a.known_max, a.weighted_mean, a.cache_allow, a.known, a.const_paths
        ));
    }
    out
}
