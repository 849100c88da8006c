//! `syscage explain`: what a filter decides, per architecture and action.

use super::input;
use serde_json::json;
use syscage::analyze::explain::{explain, Item};

/// Arguments of `syscage explain`.
#[derive(clap::Args)]
pub struct Args {
    /// Raw BPF file (or `-` for stdin), or a Docker/OCI profile (compiled for ARCH).
    pub file: String,
    /// Architecture the filter is for (byte order, syscall names); default: host.
    #[arg(short, long)]
    pub arch: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `syscage explain`; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let arch = input::arch(args.arch.as_deref())?;
    let loaded = input::load(&args.file, arch)?;
    let table = input::lift_loaded(&loaded, &args.file)?;
    let e = explain(&table, &[arch.audit()], &|_| None);
    if args.json {
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
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", e.render(&loaded.source));
        if !table.is_exact() {
            println!("\nNote: some paths do arithmetic on the input that syscage does not track; what is listed for them over-approximates.");
        }
    }
    Ok(0)
}
