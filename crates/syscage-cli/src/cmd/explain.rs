//! `syscage explain`: what a filter decides, per architecture and action.

use super::input;
use serde_json::json;
use syscage::analyze::explain::{explain, Item};

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
        let item = |i: &Item| match i {
            Item::Syscalls(names) => json!({"syscalls": names}),
            Item::When {
                syscall,
                conditions,
            } => json!({"syscall": syscall, "when": conditions}),
            Item::Default => json!({"default": true}),
            Item::X32 => json!({"x32": true}),
            Item::Unknown(t) => json!({"numbers": t}),
            Item::SameNumbers => json!({"same_numbers_as_checked_arch": true}),
        };
        let groups = |gs: &[syscage::analyze::explain::Group]| {
            gs.iter()
                .map(|g| json!({"verdict": g.verdict, "items": g.items.iter().map(item).collect::<Vec<_>>()}))
                .collect::<Vec<_>>()
        };
        let out = json!({
            "source": loaded.source,
            "exact": table.is_exact(),
            "arches": e.arches.iter().map(|a| json!({"arch": a.name, "audit": a.audit, "groups": groups(&a.groups)})).collect::<Vec<_>>(),
            "other_arches": groups(&e.other),
        });
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        out!("{}", e.render(&loaded.source));
        if !table.is_exact() {
            outln!("\nNote: some paths do arithmetic on the input that syscage does not track; what is listed for them over-approximates.");
        }
    }
    Ok(0)
}
