//! `syscage explain`: what a filter decides, per architecture and action.

use super::input;
use syscage::analyze::explain::{explain, Explanation};

/// What `syscage explain --json` prints: the library's [`Explanation`]
/// (`arches`, `other_arches`) with the source and whether it is exact.
#[derive(serde::Serialize)]
struct ExplainJson<'a> {
    source: &'a str,
    exact: bool,
    #[serde(flatten)]
    explanation: &'a Explanation,
}

/// Arguments of `syscage explain`.
#[derive(clap::Args)]
pub struct Args {
    /// The filter or profile, and its arch.
    #[command(flatten)]
    pub target: input::Target,
    /// `--json`.
    #[command(flatten)]
    pub json: super::flag_groups::Json,
}

/// Runs `syscage explain`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let (arch, loaded, table) = args.target.lift()?;
    if let Some(e) = syscage::analyze::lint::kernel_refusal(&loaded.program) {
        diagln!(
            "{}: warning: the kernel would refuse this filter ({e}); analysing it anyway",
            args.target.file()
        );
    }
    let e = explain(
        &table,
        &[arch.audit()],
        &syscage::arch::params::syscall_params,
    );
    if args.json.json {
        let out = ExplainJson {
            source: &loaded.source,
            exact: table.is_exact(),
            explanation: &e,
        };
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        out!("{}", e.render(&loaded.source));
        if !table.is_exact() {
            outln!("\nNote: some paths do arithmetic on the input that syscage does not track; what is listed for them over-approximates.");
        }
    }
    Ok(0)
}
